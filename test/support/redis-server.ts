/**
 * Starts a throwaway redis-server (the reference implementation, Debian's 7.0.15) for tests.
 *
 *   const redis = await startRedis();   // { port, pid, stop() }
 *   ...
 *   await redis.stop();
 *
 * Each server gets a free port on 127.0.0.1, its own temp dir, no persistence, and is killed
 * (SIGTERM, then SIGKILL) by pid on stop() or when the test process exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StartRedisOptions {
  /** redis-server binary (default: $REDIS_SERVER or `redis-server` on PATH). */
  binary?: string;
  /** Extra command-line config, e.g. ['--stream-node-max-entries', '10']. */
  args?: string[];
  /** Give up waiting for PING after this long (default 10000 ms). */
  startTimeoutMs?: number;
}

export interface RedisHandle {
  port: number;
  pid: number;
  /** Version string reported by `redis-server --version` (e.g. "7.0.15"). */
  version: string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) {
      try {
        if (child.pid) process.kill(child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

function resolveBinary(explicit?: string): string {
  const bin = explicit ?? process.env.REDIS_SERVER ?? 'redis-server';
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `redis-server not found or not runnable (${bin}): ${probe.error?.message ?? probe.stderr}. ` +
        'The conformance tests need the reference server: run scripts/ensure-deps.sh',
    );
  }
  return bin;
}

function versionOf(bin: string): string {
  const out = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  const m = /v=([0-9.]+)/.exec(out);
  return m ? m[1] : 'unknown';
}

/** Asks the OS for a free port by binding to port 0 on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One PING over a fresh TCP connection; resolves true on +PONG. */
function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' });
    let buf = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('*1\r\n$4\r\nPING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startOnce(
  bin: string,
  port: number,
  dir: string,
  extra: string[],
  timeoutMs: number,
): Promise<{ child: ChildProcess; output: () => string } | { collision: boolean; output: string }> {
  const child = spawn(
    bin,
    [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--dir', dir,
      '--logfile', '',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d.toString()));
  child.stderr!.on('data', (d) => (out += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  live.add(child);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) {
      live.delete(child);
      return { collision: /address already in use|Could not create server TCP/i.test(out), output: out };
    }
    if (await ping(port)) return { child, output: () => out };
    await sleep(20);
  }
  killHard(child);
  live.delete(child);
  throw new Error(`redis-server did not answer PING on port ${port} within ${timeoutMs} ms:\n${out}`);
}

function killHard(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(child.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisHandle> {
  const bin = resolveBinary(opts.binary);
  const version = versionOf(bin);
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'rivulet-redis-'));
  let lastOutput = '';
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      const port = await freePort();
      const r = await startOnce(bin, port, dir, opts.args ?? [], opts.startTimeoutMs ?? 10000);
      if ('child' in r) {
        const child = r.child;
        const pid = child.pid!;
        let stopped: Promise<void> | undefined;
        const stop = (): Promise<void> =>
          (stopped ??= (async () => {
            if (child.exitCode === null && child.signalCode === null) {
              const exited = new Promise<void>((res) => child.once('exit', () => res()));
              try {
                process.kill(pid, 'SIGTERM');
              } catch {
                /* gone */
              }
              const t = setTimeout(() => killHard(child), 3000);
              await exited;
              clearTimeout(t);
            }
            live.delete(child);
            if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
          })());
        return { port, pid, version, stop };
      }
      lastOutput = r.output;
      if (!r.collision) break;
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`could not start redis-server:\n${lastOutput}`);
}

/**
 * Test support for the Rivulet TCP server (hosts/node): builds dist/server/cli.js once per test
 * process, starts servers as child processes on a port the OS picks (`--port 0`, read back from the
 * "Listening on" log line), and stops them by pid.
 *
 *   const srv = await startRivulet({ args: ['--appendfsync', 'always'] });
 *   ... srv.port ...
 *   await srv.stop();            // SIGTERM, expects exit code 0
 *   srv.kill9();                 // SIGKILL (crash tests)
 *   const again = await startRivulet({ dir: srv.dir });   // same data directory
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The checkout's build (what bin/rivulet runs). */
export const DIST_CLI = join(ROOT, 'dist/server/cli.js');
/**
 * The servers under test run from a private bundle (+ a copy of rivulet.wasm) in a temp dir, so a
 * concurrent `npm run build` (which empties dist/) or wasm rebuild cannot pull it away mid-run.
 */
let privateDir = '';
export let CLI = '';

/** Bundles hosts/node (once per process) into a private dir and into dist/server/. */
export function buildServer(): void {
  if (CLI) return;
  privateDir = mkdtempSync(join(tmpdir(), 'rivulet-cli-'));
  for (const args of [['--outdir', privateDir, '--copy-wasm'], []]) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build-server.mjs'), ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build-server failed:\n${r.stdout}${r.stderr}`);
  }
  if (!existsSync(join(privateDir, 'rivulet.wasm'))) throw new Error('no rivulet.wasm to test with: run npm run build');
  CLI = join(privateDir, 'server/cli.js');
  process.once('exit', () => rmSync(privateDir, { recursive: true, force: true }));
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) {
    try {
      process.kill(c.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

/** SIGKILLs every server this process started that is still running (afterAll of each file). */
export async function killAll(): Promise<void> {
  const waits: Array<Promise<unknown>> = [];
  for (const c of live) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    waits.push(new Promise((r) => c.once('exit', r)));
    try {
      process.kill(c.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await Promise.all(waits);
}

const tempDirs: string[] = [];
export function tempDir(prefix = 'rivulet-srv-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}
export async function cleanupTempDirs(): Promise<void> {
  await killAll();
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface Rivulet {
  port: number;
  pid: number;
  dir: string;
  child: ChildProcess;
  /** Everything the server printed so far (stdout + stderr). */
  output(): string;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL; resolves when the process is gone. */
  kill9(): Promise<void>;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string | null>;
}

export interface StartOptions {
  /** Data directory (default: a new temp dir). */
  dir?: string;
  /** Extra command-line arguments. */
  args?: string[];
  /** Override every argument (no --port 0 / --dir added). */
  rawArgs?: string[];
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Starts `node dist/server/cli.js serve --port 0 --dir <dir> ...args` and waits until it listens. */
export async function startRivulet(opts: StartOptions = {}): Promise<Rivulet> {
  buildServer();
  const dir = opts.dir ?? tempDir();
  const args = opts.rawArgs ?? ['serve', '--port', '0', '--dir', dir, ...(opts.args ?? [])];
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? dir,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d.toString()));
  child.stderr!.on('data', (d) => (out += d.toString()));
  const exited = new Promise<number | string | null>((res) =>
    child.once('exit', (code, sig) => {
      live.delete(child);
      res(code ?? sig);
    }),
  );
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start within ${opts.timeoutMs ?? 20000} ms:\n${out}`)), opts.timeoutMs ?? 20000);
    const check = () => {
      const m = /Listening on [^\n]*:(\d+) \(TCP\)/.exec(out);
      if (m && out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    };
    child.stdout!.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
  return {
    port,
    pid: child.pid!,
    dir,
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      process.kill(child.pid!, 'SIGTERM');
      const t = setTimeout(() => {
        try {
          process.kill(child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 10000);
      const code = await exited;
      clearTimeout(t);
      return typeof code === 'number' ? code : null;
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
  };
}

/** Runs the CLI to completion (e.g. --help, a start-up that must fail). */
export function runCli(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): { code: number | null; out: string } {
  buildServer();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: opts.cwd, timeout: opts.timeoutMs ?? 20000 });
  return { code: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

/** redis-cli -p port args... → stdout (throws on a non-zero exit). */
export function redisCli(port: number, args: string[], input?: string): string {
  const r = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', input, timeout: 20000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A python3 that can `import redis` (Debian python3-redis lives in /usr/bin/python3). */
export function findPythonWithRedis(): string {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import redis'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  throw new Error('no python3 with the redis module: apt-get install python3-redis (or pip install redis)');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function exists(p: string): boolean {
  return existsSync(p);
}

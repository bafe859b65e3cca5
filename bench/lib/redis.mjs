// The redis-server comparator: started on a free loopback port chosen at run time, no persistence,
// stopped by pid. Plus redis-benchmark / CPU-time helpers used by several suites.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log } from './common.mjs';

const require = createRequire(import.meta.url);

export function haveBinary(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0 ? r.stdout.trim() : null;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** utime+stime of a process in seconds (from /proc; clock ticks are 100/s on Linux). */
export function cpuSeconds(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (+f[11] + +f[12]) / 100;
  } catch {
    return NaN;
  }
}

/** Resident set size of a process in bytes. */
export function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? +m[1] * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Waits until something answers PING on the port. */
async function waitPing(port, timeoutMs = 10000) {
  const t0 = Date.now();
  for (;;) {
    const r = spawnSync('redis-cli', ['-p', String(port), 'PING'], { encoding: 'utf8' });
    if (r.stdout && r.stdout.trim() === 'PONG') return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`nothing answered PING on port ${port}`);
    await sleep(20);
  }
}

const live = new Set();
process.once('exit', () => {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
});

/**
 * Starts a server process (redis-server or the Rivulet server) and waits for PING.
 * Returns { port, pid, startMs, stop() } — stop() sends SIGTERM to that pid, then SIGKILL.
 */
export async function startServer(cmd, args, port, { name = cmd, env } = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  live.add(child.pid);
  const exited = new Promise((r) => child.once('exit', r));
  const t0 = Date.now();
  try {
    await Promise.race([
      waitPing(port),
      exited.then((code) => {
        throw new Error(`${name} exited (${code}) before answering: ${stderr.slice(-500)}`);
      }),
    ]);
  } catch (e) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {}
    live.delete(child.pid);
    throw e;
  }
  const startMs = Date.now() - t0;
  return {
    port,
    pid: child.pid,
    startMs,
    async stop() {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {}
      const t = setTimeout(() => {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {}
      }, 3000);
      await exited;
      clearTimeout(t);
      live.delete(child.pid);
    },
  };
}

/** A throwaway redis-server (no persistence) on a free loopback port. */
export async function startRedis(extra = []) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rivulet-bench-redis-'));
  const srv = await startServer(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', '', ...extra],
    port,
    { name: 'redis-server' },
  );
  const stop = srv.stop;
  srv.stop = async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return srv;
}

/** The redis-server of this run: the one run.mjs started (env), or a private one. */
export async function redisForSuite() {
  if (process.env.RIVULET_BENCH_REDIS_PORT) {
    return { port: +process.env.RIVULET_BENCH_REDIS_PORT, pid: +process.env.RIVULET_BENCH_REDIS_PID, stop: async () => {} };
  }
  if (!haveBinary('redis-server')) return null;
  log('  (starting a private redis-server)');
  return startRedis();
}

export function ioredis(port) {
  const Redis = require('ioredis');
  return new Redis({ port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1 });
}

export function cli(port, ...args) {
  const r = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export function infoField(port, section, field) {
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(cli(port, 'INFO', section));
  return m ? m[1].trim() : null;
}

/** commandstats usec_per_call of one command (after CONFIG RESETSTAT). */
export function usecPerCall(port, cmd) {
  const m = new RegExp(`cmdstat_${cmd.toLowerCase()}:calls=(\\d+),usec=(\\d+),usec_per_call=([0-9.]+)`).exec(cli(port, 'INFO', 'commandstats'));
  return m ? { calls: +m[1], usec: +m[2], usecPerCall: +m[3] } : null;
}

/**
 * One redis-benchmark run: returns { rps, cpuUsPerOp } (server CPU from /proc/pid/stat when pid is
 * known). `cmd` is the command as separate args.
 */
export function redisBenchmark(port, pid, { n, clients, pipeline, cmd }) {
  const c0 = pid ? cpuSeconds(pid) : NaN;
  const r = spawnSync(
    'redis-benchmark',
    ['-h', '127.0.0.1', '-p', String(port), '-n', String(n), '-c', String(clients), '-P', String(pipeline), '--csv', ...cmd],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const c1 = pid ? cpuSeconds(pid) : NaN;
  if (r.status !== 0) throw new Error(`redis-benchmark failed: ${r.stderr || r.stdout}`);
  const lines = r.stdout.trim().split('\n');
  const last = lines[lines.length - 1].split('","').map((s) => s.replace(/"/g, ''));
  const rps = parseFloat(last[1]);
  return { rps, cpuUsPerOp: ((c1 - c0) * 1e6) / n };
}

// §6 the Node RESP server (hosts/node, `rivulet serve`) vs redis-server under redis-benchmark XADD,
// 50 clients, P1 / P16 / P64, rounds interleaved; server CPU per op from /proc/<pid>/stat.
// The server is taken from $RIVULET_SERVER_CLI, else dist/server/cli.js, else hosts/node/cli.ts
// bundled on the fly with esbuild into a temp dir. No persistence on either side.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FULL, ROOT, RUNS, emit, log, stats, wasmPath } from '../lib/common.mjs';
import { SENSOR_XADD } from '../lib/data.mjs';
import { cli, freePort, redisBenchmark, redisForSuite, rssBytes, startServer } from '../lib/redis.mjs';

const N = { 1: FULL ? 300_000 : 100_000, 16: FULL ? 1_000_000 : 500_000, 64: FULL ? 1_000_000 : 500_000 };
const CLIENTS = 50;

async function serverCli(tmp) {
  if (process.env.RIVULET_SERVER_CLI) return { path: process.env.RIVULET_SERVER_CLI, how: '$RIVULET_SERVER_CLI' };
  const dist = join(ROOT, 'dist/server/cli.js');
  if (existsSync(dist)) return { path: dist, how: 'dist/server/cli.js' };
  const src = join(ROOT, 'hosts/node/cli.ts');
  if (!existsSync(src)) return null;
  const esbuild = await import('esbuild');
  const out = join(tmp, 'cli.mjs');
  await esbuild.build({ entryPoints: [src], outfile: out, bundle: true, format: 'esm', platform: 'node', target: 'node18', logLevel: 'error' });
  return { path: out, how: 'hosts/node/cli.ts bundled with esbuild' };
}

const tmp = mkdtempSync(join(tmpdir(), 'rivulet-bench-server-'));
const redis = await redisForSuite();
let riv = null;
let rivInfo = null;
let rivError = null;
try {
  rivInfo = await serverCli(tmp);
  if (rivInfo) {
    const port = await freePort();
    riv = await startServer(
      process.execPath,
      [rivInfo.path, 'serve', '--port', String(port), '--appendonly', 'no', '--save', '', '--dir', tmp, '--loglevel', 'warning'],
      port,
      { name: 'rivulet serve', env: { ...process.env, RIVULET_WASM: wasmPath() } },
    );
  } else rivError = 'no server found (hosts/node/cli.ts missing)';
} catch (e) {
  rivError = String(e.message || e).slice(0, 300);
  log(`  rivulet server not available: ${rivError}`);
}

const out = {};
const push = (k, v) => (out[k] ??= []).push(v);
const targets = [];
if (redis) targets.push(['redis', redis]);
if (riv) targets.push(['riv', riv]);
// warm-up both (JIT of the Node server)
for (const [, s] of targets) redisBenchmark(s.port, s.pid, { n: 100_000, clients: CLIENTS, pipeline: 16, cmd: SENSOR_XADD });
for (let r = 0; r < RUNS; r++) {
  for (const P of [1, 16, 64]) {
    for (const [name, s] of targets) {
      cli(s.port, 'DEL', 's');
      const x = redisBenchmark(s.port, s.pid, { n: N[P], clients: CLIENTS, pipeline: P, cmd: SENSOR_XADD });
      push(`${name}_p${P}`, x.rps);
      push(`${name}_p${P}_cpu_us`, x.cpuUsPerOp);
    }
    log(`  round ${r + 1} P${P}: ${targets.map(([n]) => `${n} ${Math.round(out[`${n}_p${P}`][r]).toLocaleString('en')}/s`).join(', ')}`);
  }
}
if (riv) push('riv_rss_after', rssBytes(riv.pid));
if (redis) push('redis_rss_after', rssBytes(redis.pid));
await riv?.stop();
await redis?.stop();
rmSync(tmp, { recursive: true, force: true });
emit({
  suite: 'server',
  params: { N, CLIENTS, server: rivInfo?.how ?? null, serverError: rivError },
  res: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, stats(v)])),
});

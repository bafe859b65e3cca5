// §9 footprint: .wasm size (raw, gzip, brotli), compile / instantiate / first-reply time in a cold
// process, and under wasm3 (from the wasm3 suite); comparators: ioredis-mock (package + dependency
// size, require + first reply) and redis-server (binary size, spawn → first PONG, RSS when idle).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { BENCH, ROOT, RUNS, emit, log, now, secSince, stats, wasmPath } from '../lib/common.mjs';
import { freePort, haveBinary, rssBytes } from '../lib/redis.mjs';
import { spawn } from 'node:child_process';

const require = createRequire(import.meta.url);
const COLD = Math.max(5, RUNS * 2);

function dirSize(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  let s = 0;
  for (const n of readdirSync(p)) s += dirSize(join(p, n));
  return s;
}

/** Installed size of a package and its runtime dependencies (each counted once). */
function packageClosureSize(name, from = ROOT, seen = new Map()) {
  let pj;
  try {
    pj = require.resolve(`${name}/package.json`, { paths: [from] });
  } catch {
    // packages whose exports hide package.json: walk up from the main file
    let d = dirname(require.resolve(name, { paths: [from] }));
    while (!existsSync(join(d, 'package.json'))) d = dirname(d);
    pj = join(d, 'package.json');
  }
  const dir = realpathSync(dirname(pj));
  if (seen.has(dir)) return seen;
  seen.set(dir, dirSize(dir));
  const deps = JSON.parse(readFileSync(pj, 'utf8')).dependencies ?? {};
  for (const d of Object.keys(deps)) packageClosureSize(d, dir, seen);
  return seen;
}

function cold(which) {
  const r = spawnSync(process.execPath, [join(BENCH, 'suites/footprint-one.mjs'), which], { encoding: 'utf8' });
  const line = r.stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
  if (!line) throw new Error(`footprint-one ${which}: ${r.stderr}`);
  return JSON.parse(line.slice(9));
}

function pingOnce(port) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('error', () => resolve(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

async function redisStart() {
  const port = await freePort();
  const t0 = now();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--logfile', ''], { stdio: 'ignore' });
  while (!(await pingOnce(port))) await new Promise((r) => setTimeout(r, 1));
  const ms = secSince(t0) * 1e3;
  const rss = rssBytes(child.pid);
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  await exited;
  return { ms, rss };
}

const wasm = readFileSync(wasmPath());
const distJs = readdirSync(join(ROOT, 'dist'))
  .filter((n) => n.endsWith('.js') && n !== 'wasm-inline.js')
  .reduce((s, n) => s + statSync(join(ROOT, 'dist', n)).size, 0);
const res = {
  wasm_bytes: wasm.length,
  wasm_gzip: gzipSync(wasm, { level: 9 }).length,
  wasm_brotli: brotliCompressSync(wasm, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  dist_js_bytes: distJs,
};
const mock = packageClosureSize('ioredis-mock');
res.mock_closure_bytes = [...mock.values()].reduce((a, b) => a + b, 0);
res.mock_closure_packages = mock.size;
const redisBin = haveBinary('redis-server') ? spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim() : null;
if (redisBin) res.redis_binary_bytes = statSync(realpathSync(redisBin)).size;

const acc = {};
for (let i = 0; i < COLD; i++) {
  for (const [k, v] of Object.entries(cold('rivulet'))) (acc[`riv_${k}`] ??= []).push(v);
  for (const [k, v] of Object.entries(cold('mock'))) (acc[`mock_${k}`] ??= []).push(v);
  if (redisBin) {
    const r = await redisStart();
    (acc.redis_start_ms ??= []).push(r.ms);
    (acc.redis_rss ??= []).push(r.rss);
  }
}
// warm instantiate (module already compiled): what a second engine in the same process costs
const module = new WebAssembly.Module(wasm);
const warm = [];
for (let i = 0; i < 50; i++) {
  const t = now();
  const inst = new WebAssembly.Instance(module, { env: { abort() {} } });
  inst.exports.rv_scratch_ptr();
  warm.push(secSince(t) * 1e3);
}
acc.riv_warm_instantiate_ms = warm;
log(`  wasm ${res.wasm_bytes} B (gzip ${res.wasm_gzip}), compile ${stats(acc.riv_compileMs).median.toFixed(2)} ms, instantiate ${stats(acc.riv_instantiateMs).median.toFixed(2)} ms`);
emit({ suite: 'footprint', params: { COLD }, res: { ...res, ...Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, stats(v)])) } });

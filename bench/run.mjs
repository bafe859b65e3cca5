#!/usr/bin/env node
// Rivulet side-by-side benchmarks: `npm run bench` (quick, < 5 min) or `npm run bench -- --full`.
//
// Every figure in one run, against its comparators measured in the same run (naive JS, ioredis-mock,
// redis-server on a loopback port chosen now, the Node server host, wasm3), as medians of several
// rounds, printed as one table (metric, Rivulet, each comparator, ratios, goal, met?) and written to
// bench/results/<quick|full>.md + .json + SVG charts. See bench/README.md.
//
// Options: --full            all sizes (10M-entry scaling), more rounds and larger samples
//          --runs N          rounds per figure (default 3 quick, 5 full)
//          --only a,b        run only these suites (xadd, range, groups, memory, server, scaling, wasm3, footprint)
//          --out DIR         where to write results (default bench/results)
//          --render FILE     only re-render table, Markdown and charts from a saved <mode>.json
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BENCH, ROOT, wasmInfo, wasmPath } from './lib/common.mjs';
import { haveBinary, startRedis } from './lib/redis.mjs';
import { buildRows, renderConsole, renderMarkdown, renderCharts } from './lib/report.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const value = (name) => {
  const i = argv.findIndex((a) => a === name || a.startsWith(name + '='));
  if (i < 0) return undefined;
  return argv[i].includes('=') ? argv[i].split('=').slice(1).join('=') : argv[i + 1];
};
if (flag('--help') || flag('-h')) {
  console.log(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1, 14).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const FULL = flag('--full');
const RUNS = value('--runs') ? +value('--runs') : FULL ? 5 : 3;
const ALL = ['xadd', 'range', 'groups', 'memory', 'scaling', 'wasm3', 'footprint', 'server'];
const ONLY = value('--only') ? value('--only').split(',').map((s) => s.trim()) : ALL;
for (const s of ONLY) if (!ALL.includes(s)) throw new Error(`unknown suite ${s} (have: ${ALL.join(', ')})`);
const OUT = value('--out') ?? join(BENCH, 'results');
const MODE = FULL ? 'full' : 'quick';

function writeResults(info, results) {
  const rows = buildRows(results);
  console.log('\n' + renderConsole(rows, info));
  mkdirSync(OUT, { recursive: true });
  const charts = renderCharts(results, info.mode);
  for (const [file, svg] of Object.entries(charts)) writeFileSync(join(OUT, file), svg);
  writeFileSync(join(OUT, `${info.mode}.json`), JSON.stringify({ info, results }, null, 1));
  writeFileSync(join(OUT, `${info.mode}.md`), renderMarkdown(rows, info, results, Object.keys(charts)));
  console.log(`\nwritten: ${join(OUT, info.mode + '.md').slice(ROOT.length + 1)}, ${info.mode}.json, ${Object.keys(charts).length} SVG charts (${info.totalSeconds}s total)`);
}

if (value('--render')) {
  const { info, results } = JSON.parse(readFileSync(value('--render'), 'utf8'));
  writeResults(info, results);
  process.exit(0);
}

if (!existsSync(join(ROOT, 'dist/bindings/entry.node.js')) || !existsSync(wasmPath())) {
  console.error('bench: build first (npm run build)');
  process.exit(1);
}

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function python() {
  const venv = join(ROOT, '.venv-wasm3/bin/python');
  for (const p of [venv, 'python3']) {
    if (p === venv && !existsSync(p)) continue;
    if (spawnSync(p, ['-c', 'import wasm3'], { encoding: 'utf8' }).status === 0) return p;
  }
  return null;
}

function machine() {
  const cpus = os.cpus();
  let distro = '';
  try {
    distro = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {}
  const py = python();
  const head = sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['-C', ROOT, 'status', '--porcelain', '--', 'assembly', 'bindings']);
  return {
    date: new Date().toISOString(),
    cpu: `${cpus.length} × ${cpus[0]?.model ?? '?'}`,
    ram: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${distro || os.type()} (${os.type()} ${os.release()} ${os.arch()})`,
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    node: process.version,
    redis: haveBinary('redis-server')?.match(/v=([0-9.]+)/)?.[1] ?? 'not installed',
    redisBenchmark: haveBinary('redis-benchmark') ? 'yes' : 'no',
    python: py ? sh(py, ['-c', 'import sys, importlib.metadata as m; print("Python", sys.version.split()[0], "+ pywasm3", m.version("pywasm3"))']) : 'pywasm3 not available',
    git: head ? `${head}${dirty ? ' + uncommitted changes in assembly/ or bindings/' : ''}` : 'n/a',
    wasm: wasmInfo(),
    mode: MODE,
    runs: RUNS,
  };
}

/** Runs one suite in its own process; its stderr is shown as progress, its @@RESULT line returned. */
function runSuite(name, cmd, args, env) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    console.error(`▶ ${name}`);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      process.stderr.write(d);
    });
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('@@RESULT '));
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      if (code !== 0 || !line) {
        console.error(`✖ ${name} failed (exit ${code}) after ${secs}s`);
        resolve({ suite: name, error: (err || out).trim().split('\n').slice(-6).join(' | ').slice(0, 600) });
      } else {
        console.error(`✔ ${name} (${secs}s)`);
        resolve({ ...JSON.parse(line.slice(9)), seconds: +secs });
      }
    });
  });
}

const info = machine();
console.error(`Rivulet bench (${MODE}, ${RUNS} rounds) on ${info.cpu}, ${info.ram}, ${info.os}, Node ${info.node}, Redis ${info.redis}`);
console.error(`wasm: ${info.wasm.path} ${info.wasm.bytes} B sha256:${info.wasm.sha256}; git ${info.git}`);

let redis = null;
const cleanup = async () => {
  if (redis) {
    const r = redis;
    redis = null;
    await r.stop();
  }
};
process.on('SIGINT', async () => {
  await cleanup();
  process.exit(130);
});
if (haveBinary('redis-server')) {
  redis = await startRedis();
  console.error(`redis-server pid ${redis.pid} on 127.0.0.1:${redis.port}`);
} else console.error('redis-server not installed: Redis columns will be empty');

const env = {
  RIVULET_BENCH_OPTS: JSON.stringify({ full: FULL, runs: RUNS }),
  ...(redis ? { RIVULET_BENCH_REDIS_PORT: String(redis.port), RIVULET_BENCH_REDIS_PID: String(redis.pid) } : {}),
};
const node = (suite) => [process.execPath, ['--max-old-space-size=12288', join(BENCH, 'suites', `${suite}.mjs`)]];
const results = {};
const t0 = Date.now();
for (const s of ONLY) {
  if (s === 'wasm3') {
    const py = python();
    if (!py) {
      results.wasm3 = { suite: 'wasm3', error: 'pywasm3 not installed' };
      continue;
    }
    results.wasm3 = await runSuite('wasm3', py, [join(BENCH, 'suites/wasm3_bench.py'), wasmPath(), String(RUNS), FULL ? '50000' : '10000', FULL ? '400000' : '80000'], env);
  } else {
    const [cmd, args] = node(s);
    results[s] = await runSuite(s, cmd, args, env);
  }
}
await cleanup();
info.totalSeconds = Math.round((Date.now() - t0) / 1000);
info.loadavg += ` (at end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')})`;

writeResults(info, results);

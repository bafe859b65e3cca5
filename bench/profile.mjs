#!/usr/bin/env node
// Where the time goes: CPU profiles of the benchmark's hot loops with engine function names.
//
//   node bench/profile.mjs [scenario ...] [--top N] [--callgrind]
//
// 1. Compiles assembly/ with the release settings of asconfig.json plus a name section (asc --debug)
//    into a temp dir — the repository's build/ is not touched; the code is the same as the release
//    build, only named.
// 2. Runs each scenario (bench/profile-scenario.mjs) with the V8 CPU profiler on around its timed loop
//    only (node:inspector; set-up such as loading 1M entries is excluded) and aggregates self time
//    per function and per layer: JS bindings (by file), JS GC, wasm runtime (allocator / GC / maps /
//    strings), RESP parser, dispatch, command layer, stream core, reply writer.
// 3. --callgrind: instructions per XADD under wasm3 (pywasm3), from two valgrind --tool=callgrind runs
//    of different lengths (the difference cancels start-up), plus the top wasm3 interpreter functions.
//
// Default scenarios: xadd-typed xadd-rawfeed ping-rawfeed feed-empty xrange100 xrange100-raw seek groups.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH, ROOT } from './lib/common.mjs';

const argv = process.argv.slice(2);
const topN = argv.includes('--top') ? +argv[argv.indexOf('--top') + 1] : 14;
const callgrind = argv.includes('--callgrind');
let scenarios = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--top');
if (!scenarios.length) scenarios = ['xadd-typed', 'xadd-rawfeed', 'ping-rawfeed', 'feed-empty', 'xrange100', 'xrange100-raw', 'seek', 'groups'];

const tmp = mkdtempSync(join(tmpdir(), 'rivulet-profile-'));
const wasm = join(tmp, 'rivulet.named.wasm');
console.log(`compiling a named release build → ${wasm}`);
const asc = spawnSync(process.execPath, [join(ROOT, 'node_modules/assemblyscript/bin/asc.js'), 'assembly/index.ts', '--config', 'asconfig.json', '--target', 'release', '--debug', '-o', wasm, '-t', join(tmp, 'rivulet.named.wat')], { cwd: ROOT, encoding: 'utf8' });
if (asc.status !== 0 || !existsSync(wasm)) {
  console.error(asc.stderr);
  process.exit(1);
}

function layer(fn, url) {
  if (url.startsWith('wasm://')) {
    if (/^~lib\/rt\/(tlsf|itcms|tcms|stub)|^~lib\/rt\/__|__new|__visit|__collect|__alloc|__free|__renew|__link|__pin|__unpin/.test(fn)) return 'wasm: allocator + GC (~lib/rt)';
    if (/^~lib\/(map|set|util\/hash)/.test(fn)) return 'wasm: Map/Set/hash (~lib)';
    if (/^~lib\/(string|util\/string|util\/number|number)/.test(fn)) return 'wasm: strings (~lib)';
    if (/^~lib\/(array|staticarray|typedarray|arraybuffer|memory|util\/memory)/.test(fn)) return 'wasm: arrays/memory (~lib)';
    if (/^~lib/.test(fn)) return 'wasm: other ~lib';
    if (/assembly\/resp\/(parser|args)/.test(fn)) return 'wasm: RESP parse + Args';
    if (/assembly\/resp\/(writer|command-writer)/.test(fn)) return 'wasm: reply writer';
    if (/assembly\/server\//.test(fn)) return 'wasm: server (dispatch, blocking, effects)';
    if (/assembly\/commands\//.test(fn)) return 'wasm: command layer';
    if (/assembly\/core\//.test(fn)) return 'wasm: stream core (blocks, ids, groups)';
    if (/assembly\/util\//.test(fn)) return 'wasm: util (buffers, numbers)';
    if (/assembly\/index/.test(fn)) return 'wasm: ABI (index.ts)';
    return 'wasm: other';
  }
  if (fn === '(garbage collector)') return 'JS: V8 garbage collector';
  if (fn === '(program)' || fn === '(idle)' || fn === '(root)') return 'other: (program)';
  if (url.includes('/dist/')) return `JS bindings: ${url.split('/').pop()}`;
  if (url.includes('/bench/')) return 'JS: benchmark loop';
  return 'JS: node/V8 builtins';
}

function analyze(dir) {
  const p = JSON.parse(readFileSync(dir, 'utf8'));
  const dt = new Map();
  for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) || 0) + (p.timeDeltas[i] || 0));
  const self = new Map();
  const layers = new Map();
  let total = 0;
  for (const n of p.nodes) {
    const t = dt.get(n.id) || 0;
    if (!t) continue;
    const { functionName: fn, url } = n.callFrame;
    if (fn === '(idle)') continue;
    total += t;
    const key = url.startsWith('wasm://') ? fn : `${fn || '(anonymous)'} ${url.split('/').pop()}`;
    self.set(key, (self.get(key) || 0) + t);
    const l = layer(fn, url);
    layers.set(l, (layers.get(l) || 0) + t);
  }
  return { total, self: [...self].sort((a, b) => b[1] - a[1]), layers: [...layers].sort((a, b) => b[1] - a[1]) };
}

for (const sc of scenarios) {
  const dir = join(tmp, `${sc}.cpuprofile`);
  const r = spawnSync(process.execPath, [join(BENCH, 'profile-scenario.mjs'), sc, wasm], { encoding: 'utf8', env: { ...process.env, PROFILE_OUT: dir } });
  if (r.status !== 0) {
    console.error(`${sc}: failed\n${r.stderr}`);
    continue;
  }
  const res = JSON.parse(r.stdout.trim().split('\n').pop());
  const a = analyze(dir);
  const perOp = (t) => ((t / a.total) * res.perOpUs * 1000).toFixed(0).padStart(6) + ' ns/op';
  console.log(`\n=== ${sc}: ${res.ops.toLocaleString('en')} ops, ${res.perOpUs.toFixed(3)} µs/op under the profiler`);
  console.log('  by layer:');
  for (const [k, t] of a.layers) if (t / a.total >= 0.005) console.log(`    ${((100 * t) / a.total).toFixed(1).padStart(5)}%  ${perOp(t)}  ${k}`);
  console.log(`  top ${topN} functions (self time):`);
  for (const [k, t] of a.self.slice(0, topN)) console.log(`    ${((100 * t) / a.total).toFixed(1).padStart(5)}%  ${perOp(t)}  ${k}`);
}

if (callgrind) {
  // the real interpreter binary (python3 may be a pyenv shim script, which valgrind would trace instead)
  const pyCmd = existsSync(join(ROOT, '.venv-wasm3/bin/python')) ? join(ROOT, '.venv-wasm3/bin/python') : 'python3';
  const py = spawnSync(pyCmd, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  const run = (n) => {
    const out = join(tmp, `cg.${n}.out`);
    const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, py, join(BENCH, 'suites/wasm3_bench.py'), wasm, '--xadd-only', String(n)], { encoding: 'utf8' });
    const m = /Collected : (\d+)/.exec(r.stderr);
    if (!m) throw new Error(`callgrind failed: ${r.stderr.slice(-500)}`);
    return { ir: +m[1], out };
  };
  console.log('\n=== wasm3 (pywasm3) under callgrind: XADD, 500 per rv_feed');
  const a = run(5000);
  const b = run(25000);
  console.log(`  instructions per XADD: ${((b.ir - a.ir) / 20000).toFixed(0)} (${a.ir.toLocaleString('en')} for 5k, ${b.ir.toLocaleString('en')} for 25k)`);
  const ann = spawnSync('callgrind_annotate', ['--threshold=95', b.out], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const lines = ann.stdout.split('\n').filter((l) => /^\s*[\d,]+ \(/.test(l)).slice(0, topN);
  console.log('  top functions (interpreter ops, inclusive of nothing; self instructions):');
  for (const l of lines) console.log('    ' + l.trim().slice(0, 150));
}
rmSync(tmp, { recursive: true, force: true });

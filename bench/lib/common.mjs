// Shared helpers for bench/: timing, statistics, result protocol, loading the engine.
// Everything here is benchmark-only code; nothing in the package imports it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const BENCH = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(BENCH, '..');

/** Options passed from run.mjs to a suite through the environment (JSON). */
export const OPTS = (() => {
  try {
    return JSON.parse(process.env.RIVULET_BENCH_OPTS || '{}');
  } catch {
    return {};
  }
})();
export const FULL = !!OPTS.full;
/** Number of measured rounds per figure (median reported). */
export const RUNS = OPTS.runs ?? (FULL ? 5 : 3);

export const now = () => process.hrtime.bigint();
export const secSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;

/** Progress to stderr (stdout carries the JSON result). */
export function log(...a) {
  process.stderr.write(a.join(' ') + '\n');
}

export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length & 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** { median, min, max, n, samples } of a list of numbers. */
export function stats(xs) {
  const s = xs.filter((x) => Number.isFinite(x));
  return { median: median(s), min: Math.min(...s), max: Math.max(...s), n: s.length, samples: s };
}

/** A suite's result: printed as one line `@@RESULT <json>` on stdout, parsed by run.mjs. */
export function emit(result) {
  process.stdout.write('@@RESULT ' + JSON.stringify(result) + '\n');
}

/** The wasm the benchmark runs: build/rivulet.wasm (the build output), else dist/bindings/rivulet.wasm. */
export function wasmPath() {
  if (process.env.RIVULET_WASM) return resolve(process.env.RIVULET_WASM);
  for (const p of [join(ROOT, 'build/rivulet.wasm'), join(ROOT, 'dist/bindings/rivulet.wasm')]) if (existsSync(p)) return p;
  throw new Error('bench: no rivulet.wasm (run npm run build)');
}

export function wasmInfo() {
  const p = wasmPath();
  const bytes = readFileSync(p);
  return { path: p.slice(ROOT.length + 1), bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex').slice(0, 12) };
}

/** The package's Node entry (dist/). */
export async function bindings() {
  const p = join(ROOT, 'dist/bindings/entry.node.js');
  if (!existsSync(p)) throw new Error('bench: dist/bindings/entry.node.js missing (run npm run build)');
  return import(pathToFileURL(p).href);
}

/** A fresh engine running wasmPath(). */
export async function engine(options = {}) {
  const b = await bindings();
  const e = await b.createEngine({ wasm: readFileSync(wasmPath()), ...options });
  return { b, e };
}

/** Runs fn(n) once as warm-up with `warm` iterations, then returns seconds for `n`. */
export function timed(fn, n) {
  const t0 = now();
  fn(n);
  return secSince(t0);
}

export async function timedAsync(fn, n) {
  const t0 = now();
  await fn(n);
  return secSince(t0);
}

/** Repeats the comparison `rounds` times, interleaving the contenders so drift hits all alike. */
export async function interleave(rounds, contenders) {
  const out = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [k, fn] of Object.entries(contenders)) {
      const v = await fn(r);
      if (v !== undefined && v !== null) out[k].push(v);
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, stats(v)]));
}

/** Deterministic PRNG (mulberry32) so every contender gets the same data. */
export function prng(seed = 1) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gc() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
}

export function heapUsed() {
  gc();
  return process.memoryUsage().heapUsed;
}

/** Stream ID "ms-seq" → [ms, seq] numbers (sequence numbers here stay far below 2^53). */
export function parseId(id) {
  const d = id.indexOf('-');
  return [+id.slice(0, d), +id.slice(d + 1)];
}

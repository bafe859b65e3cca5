// One cold start in a fresh process: node bench/suites/footprint-one.mjs <rivulet|mock>
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { emit, now, secSince, wasmPath, bindings } from '../lib/common.mjs';

const which = process.argv[2];
if (which === 'rivulet') {
  const t0 = now();
  const b = await bindings();
  const tImport = secSince(t0);
  const bytes = readFileSync(wasmPath());
  let t = now();
  const module = await WebAssembly.compile(bytes);
  const compileMs = secSince(t) * 1e3;
  t = now();
  const inst = await WebAssembly.instantiate(module, { env: { abort() { throw new Error('abort'); } } });
  inst.exports.rv_scratch_ptr();
  const instantiateMs = secSince(t) * 1e3;
  t = now();
  const e = await b.createEngine({ wasm: module });
  const c = e.connect();
  if (c.call('PING') !== 'PONG') throw new Error('no PONG');
  const engineMs = secSince(t) * 1e3;
  // first reply from nothing: import + compile + instantiate + connect + PING
  emit({ importMs: tImport * 1e3, compileMs, instantiateMs, engineFromModuleMs: engineMs, firstReplyMs: secSince(t0) * 1e3 - 0, rss: process.memoryUsage().rss });
} else {
  const require = createRequire(import.meta.url);
  const t0 = now();
  const RedisMock = require('ioredis-mock');
  const importMs = secSince(t0) * 1e3;
  const t = now();
  const r = new RedisMock();
  if ((await r.ping()) !== 'PONG') throw new Error('no PONG');
  emit({ importMs, engineFromModuleMs: secSince(t) * 1e3, firstReplyMs: secSince(t0) * 1e3, rss: process.memoryUsage().rss });
}

// §1 in-process XADD, one call per entry, and §2 batched XADD (many entries per boundary crossing):
// Rivulet (typed API, call, callRaw, pipeline, raw feed, and the typed rv_xadd_batch fast path
// engine.xaddBatch when the build has it) vs naive JS vs ioredis-mock vs redis-server
// (ioredis from this process, redis-benchmark P16/P64 with 50 clients). Rounds are interleaved.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { FULL, RUNS, emit, engine, interleave, log, now, secSince, wasmPath } from '../lib/common.mjs';
import { SENSOR_XADD, repeatResp } from '../lib/data.mjs';
import { NaiveStream } from '../lib/naive.mjs';
import { ioredis, redisBenchmark, redisForSuite } from '../lib/redis.mjs';

const require = createRequire(import.meta.url);
const N = FULL ? 1_000_000 : 200_000; // one-call XADDs per round per contender
const MOCK_N = 10_000; // ioredis-mock: its XADD is O(n); anchors quote the 0 → 10k segment
const IOREDIS_AWAIT_N = FULL ? 100_000 : 20_000;
const IOREDIS_BATCH_N = FULL ? 1_000_000 : 200_000;
const RB_N = FULL ? 1_000_000 : 500_000;

const { b } = await engine();
const module = new WebAssembly.Module(readFileSync(wasmPath()));
const fresh = () => b.createEngine({ wasm: module });
const T = 'temperature', H = 'humidity';

// ---- Rivulet, one call per entry
async function rivTyped() {
  const e = await fresh();
  const c = e.connect();
  const f = { temperature: '23.5', humidity: '65' };
  const t0 = now();
  for (let i = 0; i < N; i++) c.xadd('s', f);
  const dt = secSince(t0);
  if (c.xlen('s') !== N) throw new Error('xadd count mismatch');
  e.close();
  return N / dt;
}
async function rivCall() {
  const e = await fresh();
  const c = e.connect();
  const t0 = now();
  for (let i = 0; i < N; i++) c.call('XADD', 's', '*', T, '23.5', H, '65');
  const dt = secSince(t0);
  e.close();
  return N / dt;
}
async function rivCallRaw() {
  const e = await fresh();
  const c = e.connect();
  const t0 = now();
  for (let i = 0; i < N; i++) c.callRaw('XADD', 's', '*', T, '23.5', H, '65');
  const dt = secSince(t0);
  e.close();
  return N / dt;
}

// ---- Rivulet, batched
const BATCH = 1000;
const batchCmds = Array.from({ length: BATCH }, () => SENSOR_XADD);
async function rivPipeline(raw) {
  const e = await fresh();
  const c = e.connect();
  const t0 = now();
  for (let i = 0; i < N; i += BATCH) raw ? c.pipelineRaw(batchCmds) : c.pipeline(batchCmds);
  const dt = secSince(t0);
  if (c.xlen('s') !== N) throw new Error('pipeline count mismatch');
  e.close();
  return N / dt;
}
// The engine's own ceiling from JS: pre-encoded RESP, as many commands per rv_feed as fit in scratch.
const PER_FEED = 800; // 800 × 63 B ≈ 50 KB < 64 KiB scratch
const feedBytes = repeatResp(SENSOR_XADD, PER_FEED);
async function rivRawFeed() {
  const e = await fresh();
  const raw = e.raw;
  raw.open(1000);
  const n = Math.ceil(N / PER_FEED) * PER_FEED;
  const t0 = now();
  for (let i = 0; i < n; i += PER_FEED) {
    raw.scratch().set(feedBytes);
    raw.feed(1000, feedBytes.length, Date.now());
    while (raw.read(1000) > 0);
  }
  const dt = secSince(t0);
  e.close();
  return n / dt;
}

// ---- Rivulet typed fast path (rv_xadd_batch: no RESP; engine.xaddBatch), when this build has it
// 4000 rows per call: with rows smaller than 16 bytes (ours are 14) the bindings pack more than 4096
// rows into one crossing, and their IDs (16 bytes each) no longer fit the 64 KiB scratch region —
// see the report (rv_xadd_batch copies count × 16 bytes into scratch without a bound).
const BATCH_ROWS = 4000;
const rows = Array.from({ length: BATCH_ROWS }, () => ['23.5', '65']);
const oneRow = [['23.5', '65']];
const hasBatch = typeof (await fresh()).xaddBatch === 'function';
async function rivXaddBatch(perCall) {
  const e = await fresh();
  const c = e.connect();
  const fields = [T, H];
  const t0 = now();
  if (perCall === 1) for (let i = 0; i < N; i++) e.xaddBatch(c, 's', fields, oneRow);
  else for (let i = 0; i < N; i += BATCH_ROWS) e.xaddBatch(c, 's', fields, rows);
  const dt = secSince(t0);
  if (c.xlen('s') !== N) throw new Error('xaddBatch count mismatch');
  e.close();
  return N / dt;
}
// The fast path's ceiling: one pre-built rv_xadd_batch frame (as many rows as fit), fed repeatedly.
async function rivRawBatch() {
  const e = await fresh();
  const c = e.connect();
  const raw = e.raw;
  const enc = new TextEncoder();
  const parts = [];
  const u32 = (v) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, true); return b; };
  const str = (x) => { const b = enc.encode(x); parts.push(u32(b.length), b); };
  str('s');
  parts.push(u32(2));
  str(T);
  str(H);
  const per = 3000;
  parts.push(u32(per));
  for (let i = 0; i < per; i++) str('23.5'), str('65');
  const frame = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) frame.set(p, o), (o += p.length);
  const n = Math.ceil(N / per) * per;
  const t0 = now();
  for (let i = 0; i < n; i += per) {
    raw.scratch().set(frame);
    if (raw.xaddBatch(c.id, frame.length, Date.now()) !== per) throw new Error('rv_xadd_batch failed');
  }
  const dt = secSince(t0);
  e.close();
  return n / dt;
}

// ---- naive JS
function naive() {
  const st = new NaiveStream();
  const t0 = now();
  for (let i = 0; i < N; i++) st.xadd([T, '23.5', H, '65']);
  return N / secSince(t0);
}

// ---- ioredis-mock
const RedisMock = require('ioredis-mock');
async function mock(batch) {
  const r = new RedisMock();
  await r.del('s');
  const add = () => r.xadd('s', '*', T, '23.5', H, '65');
  const t0 = now();
  if (!batch) for (let i = 0; i < MOCK_N; i++) await add();
  else
    for (let i = 0; i < MOCK_N; i += 1000) {
      const ps = [];
      for (let j = 0; j < 1000; j++) ps.push(add());
      await Promise.all(ps);
    }
  const dt = secSince(t0);
  r.disconnect?.();
  return MOCK_N / dt;
}

// ---- redis-server
const redis = await redisForSuite();
let rc = null;
if (redis) {
  rc = ioredis(redis.port);
  await rc.ping();
}
const add = () => rc.xadd('s', '*', T, '23.5', H, '65');
async function ioAwait() {
  await rc.del('s');
  const t0 = now();
  for (let i = 0; i < IOREDIS_AWAIT_N; i++) await add();
  return IOREDIS_AWAIT_N / secSince(t0);
}
async function ioBatch() {
  await rc.del('s');
  const t0 = now();
  for (let i = 0; i < IOREDIS_BATCH_N; i += 1000) {
    const ps = [];
    for (let j = 0; j < 1000; j++) ps.push(add());
    await Promise.all(ps);
  }
  return IOREDIS_BATCH_N / secSince(t0);
}
async function ioPipeline() {
  await rc.del('s');
  const t0 = now();
  for (let i = 0; i < IOREDIS_BATCH_N; i += 10000) {
    const p = rc.pipeline();
    for (let j = 0; j < 10000; j++) p.xadd('s', '*', T, '23.5', H, '65');
    await p.exec();
  }
  return IOREDIS_BATCH_N / secSince(t0);
}
function rb(P) {
  return async () => {
    await rc.flushall();
    return redisBenchmark(redis.port, redis.pid, { n: RB_N, clients: 50, pipeline: P, cmd: ['XADD', 's', '*', T, '23.5', H, '65'] }).rps;
  };
}

// warm-up (JIT, allocator) — not measured
log('  warm-up');
{
  const e = await fresh();
  const c = e.connect();
  for (let i = 0; i < 50000; i++) c.xadd('w', { temperature: '23.5', humidity: '65' });
  for (let i = 0; i < 50000; i++) c.call('XADD', 'w', '*', T, '23.5', H, '65');
  for (let i = 0; i < 20000; i++) c.callRaw('XADD', 'w', '*', T, '23.5', H, '65');
  for (let i = 0; i < 20; i++) c.pipeline(batchCmds), c.pipelineRaw(batchCmds);
  if (hasBatch) {
    for (let i = 0; i < 20000; i++) e.xaddBatch(c, 'w', [T, H], oneRow);
    for (let i = 0; i < 10; i++) e.xaddBatch(c, 'w', [T, H], rows);
  }
  e.close();
  const st = new NaiveStream();
  for (let i = 0; i < 200000; i++) st.xadd([T, '23.5', H, '65']);
  if (rc) for (let i = 0; i < 2000; i++) await add();
}

const contenders = {
  riv_typed: rivTyped,
  riv_call: rivCall,
  riv_callraw: rivCallRaw,
  riv_pipeline: () => rivPipeline(false),
  riv_pipelineraw: () => rivPipeline(true),
  riv_rawfeed: rivRawFeed,
  ...(hasBatch ? { riv_xaddbatch1: () => rivXaddBatch(1), riv_xaddbatch: () => rivXaddBatch(BATCH_ROWS), riv_rawbatch: rivRawBatch } : {}),
  naive,
  mock_await: () => mock(false),
  mock_batch: () => mock(true),
};
if (rc) {
  Object.assign(contenders, {
    ioredis_await: ioAwait,
    ioredis_batch: ioBatch,
    ioredis_pipeline: ioPipeline,
    rb_p16: rb(16),
    rb_p64: rb(64),
  });
}
log(`  ${RUNS} interleaved rounds: ${Object.keys(contenders).join(', ')}`);
const res = await interleave(RUNS, {
  ...Object.fromEntries(
    Object.entries(contenders).map(([k, fn]) => [
      k,
      async (r) => {
        const v = await fn();
        log(`    round ${r + 1} ${k}: ${Math.round(v).toLocaleString('en')} /s`);
        return v;
      },
    ]),
  ),
});
if (rc) {
  await rc.flushall();
  rc.disconnect();
}
await redis?.stop();
emit({ suite: 'xadd', params: { N, MOCK_N, IOREDIS_AWAIT_N, IOREDIS_BATCH_N, RB_N, BATCH, PER_FEED, BATCH_ROWS, hasBatch }, res });

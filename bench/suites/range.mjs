// §3 XRANGE COUNT 100 / XREVRANGE COUNT 10 into JS objects on a 1M-entry stream, from the start and
// from a mid-stream seek: Rivulet (typed xrange → {id, fields}; callRaw = engine + copy only) vs naive
// JS (binary search + slice) vs redis-server (ioredis, one client; and server-side usec_per_call)
// vs ioredis-mock (10k entries only: it cannot reach 1M, see perf-anchors.md §2).
import { createRequire } from 'node:module';
import { FULL, RUNS, emit, engine, log, now, parseId, secSince, stats } from '../lib/common.mjs';
import { SENSOR_XADD, repeatResp } from '../lib/data.mjs';
import { NaiveStream } from '../lib/naive.mjs';
import { cli, ioredis, redisBenchmark, redisForSuite, usecPerCall } from '../lib/redis.mjs';

const require = createRequire(import.meta.url);
const SIZE = 1_000_000;
const CALLS = FULL ? 20000 : 5000; // per query per round (in-process)
const REDIS_CALLS = FULL ? 5000 : 2000;

function midOf(first, last) {
  return `${Math.floor((parseId(first)[0] + parseId(last)[0]) / 2)}-0`;
}

// ---- Rivulet: 1M entries fed as RESP, many commands per feed (as a loader would)
const { e } = await engine();
{
  const raw = e.raw;
  raw.open(1000);
  const chunk = repeatResp(SENSOR_XADD, 800);
  for (let i = 0; i < SIZE; i += 800) {
    raw.scratch().set(chunk);
    raw.feed(1000, chunk.length, Date.now());
    while (raw.read(1000) > 0);
  }
  raw.close(1000);
}
const c = e.connect();
if (c.xlen('s') !== SIZE) throw new Error('rivulet load failed');
const rMid = midOf(c.xrange('s', '-', '+', { count: 1 })[0].id, c.xrevrange('s', '+', '-', { count: 1 })[0].id);

// ---- naive JS: 1M entries
const naive = new NaiveStream();
for (let i = 0; i < SIZE; i++) naive.xadd(['temperature', '23.5', 'humidity', '65']);
const nMid = midOf(naive.entries[0].id, naive.entries[SIZE - 1].id);

const queries = {
  xrange_first_100: { riv: () => c.xrange('s', '-', '+', { count: 100 }), raw: () => c.callRaw('XRANGE', 's', '-', '+', 'COUNT', '100'), naive: () => naive.range('-', 100), redis: ['XRANGE', 's', '-', '+', 'COUNT', '100'], n: 100 },
  xrevrange_last_10: { riv: () => c.xrevrange('s', '+', '-', { count: 10 }), raw: () => c.callRaw('XREVRANGE', 's', '+', '-', 'COUNT', '10'), naive: () => naive.revrange(10), redis: ['XREVRANGE', 's', '+', '-', 'COUNT', '10'], n: 10 },
  xrange_mid_100: { riv: () => c.xrange('s', rMid, '+', { count: 100 }), raw: () => c.callRaw('XRANGE', 's', rMid, '+', 'COUNT', '100'), naive: () => naive.range(nMid, 100), redis: 'mid100', n: 100 },
  xrange_mid_10: { riv: () => c.xrange('s', rMid, '+', { count: 10 }), raw: () => c.callRaw('XRANGE', 's', rMid, '+', 'COUNT', '10'), naive: () => naive.range(nMid, 10), redis: 'mid10', n: 10 },
};

function usPerCall(fn, calls) {
  let sink = 0;
  const t0 = now();
  for (let i = 0; i < calls; i++) sink += fn().length;
  const dt = secSince(t0);
  if (sink === 0) throw new Error('empty range');
  return (dt * 1e6) / calls;
}

// warm-up
for (const q of Object.values(queries)) {
  usPerCall(q.riv, 2000);
  usPerCall(q.raw, 1000);
  usPerCall(q.naive, 2000);
}

const samples = {};
const push = (k, v) => (samples[k] ??= []).push(v);
for (let r = 0; r < RUNS; r++) {
  for (const [name, q] of Object.entries(queries)) {
    push(`riv_${name}`, usPerCall(q.riv, CALLS));
    push(`rivraw_${name}`, usPerCall(q.raw, CALLS));
    push(`naive_${name}`, usPerCall(q.naive, CALLS));
  }
  log(`  round ${r + 1}: rivulet ${Object.keys(queries).map((k) => samples[`riv_${k}`][r].toFixed(1)).join(' / ')} µs`);
}
e.close();
naive.entries.length = 0;

// ---- ioredis-mock at 10k entries (the most it reaches in reasonable time)
{
  const RedisMock = require('ioredis-mock');
  const m = new RedisMock();
  for (let i = 0; i < 10000; i += 1000) {
    const ps = [];
    for (let j = 0; j < 1000; j++) ps.push(m.xadd('s', '*', 'temperature', '23.5', 'humidity', '65'));
    await Promise.all(ps);
  }
  for (let r = 0; r < RUNS; r++) {
    const k = 100;
    let t0 = now();
    for (let i = 0; i < k; i++) await m.xrange('s', '-', '+', 'COUNT', 100);
    push('mock10k_xrange_first_100', (secSince(t0) * 1e6) / k);
    t0 = now();
    for (let i = 0; i < k; i++) await m.xrevrange('s', '+', '-', 'COUNT', 10);
    push('mock10k_xrevrange_last_10', (secSince(t0) * 1e6) / k);
  }
}

// ---- redis-server: 1M entries loaded as in perf-anchors.md §1b
const redis = await redisForSuite();
if (redis) {
  const rc = ioredis(redis.port);
  await rc.flushall();
  redisBenchmark(redis.port, redis.pid, { n: SIZE, clients: 50, pipeline: 64, cmd: SENSOR_XADD });
  const len = await rc.xlen('s');
  if (len !== SIZE) throw new Error(`redis load: xlen ${len}`);
  const first = (await rc.xrange('s', '-', '+', 'COUNT', 1))[0][0];
  const last = (await rc.xrevrange('s', '+', '-', 'COUNT', 1))[0][0];
  const mid = midOf(first, last);
  const cmdOf = (q) => (q.redis === 'mid100' ? ['XRANGE', 's', mid, '+', 'COUNT', '100'] : q.redis === 'mid10' ? ['XRANGE', 's', mid, '+', 'COUNT', '10'] : q.redis);
  // ioredis returns [[id, [f, v, …]], …]; shape into the same {id, fields} objects as the typed API
  const toObjs = (reply) =>
    reply.map(([id, fl]) => {
      const fields = {};
      for (let i = 0; i < fl.length; i += 2) fields[fl[i]] = fl[i + 1];
      return { id, fields };
    });
  for (const q of Object.values(queries)) for (let i = 0; i < 200; i++) await rc.call(...cmdOf(q));
  for (let r = 0; r < RUNS; r++) {
    for (const [name, q] of Object.entries(queries)) {
      const cmd = cmdOf(q);
      cli(redis.port, 'CONFIG', 'RESETSTAT');
      const t0 = now();
      for (let i = 0; i < REDIS_CALLS; i++) toObjs(await rc.call(...cmd));
      push(`redis_${name}`, (secSince(t0) * 1e6) / REDIS_CALLS);
      push(`redissrv_${name}`, usecPerCall(redis.port, cmd[0]).usecPerCall);
    }
    log(`  round ${r + 1}: redis (ioredis) ${Object.keys(queries).map((k) => samples[`redis_${k}`][r].toFixed(1)).join(' / ')} µs`);
  }
  await rc.flushall();
  rc.disconnect();
  await redis.stop();
}

emit({
  suite: 'range',
  params: { SIZE, CALLS, REDIS_CALLS, rivMid: rMid, naiveMid: nMid },
  res: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)])),
});

// One memory measurement in a fresh process (run with node --expose-gc):
//   node --expose-gc bench/suites/memory-one.mjs <rivulet|naive|naive_const|mock|redis> <sensor|bus> <n>
// Prints @@RESULT { bytesPerEntry..., } — see memory.mjs.
import { createRequire } from 'node:module';
import { emit, engine, heapUsed, gc } from '../lib/common.mjs';
import { SENSOR_FIELDS, busEntries, flat, respChunks, repeatResp } from '../lib/data.mjs';
import { NaiveStream } from '../lib/naive.mjs';
import { cli, infoField, ioredis, redisBenchmark } from '../lib/redis.mjs';

const require = createRequire(import.meta.url);
const [impl, kind, nArg] = process.argv.slice(2);
const n = +nArg;
const rss = () => process.memoryUsage().rss;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (impl === 'rivulet') {
  const { e } = await engine();
  const raw = e.raw;
  const input = kind === 'sensor' ? null : respChunks('bus', busEntries(n));
  const sensorChunk = kind === 'sensor' ? repeatResp(['XADD', 's', '*', ...SENSOR_FIELDS], 800) : null;
  raw.open(1000);
  gc();
  const u0 = e.usedMemory();
  const l0 = raw.exports.memory.buffer.byteLength;
  const r0 = rss();
  let fed = 0;
  const feed = (bytes) => {
    raw.scratch().set(bytes);
    raw.feed(1000, bytes.length, Date.now());
    while (raw.read(1000) > 0);
  };
  if (sensorChunk) for (; fed < n; fed += 800) feed(sensorChunk);
  else for (const ch of input) feed(ch);
  const c = e.connect();
  const key = kind === 'sensor' ? 's' : 'bus';
  const len = c.xlen(key);
  if (len !== n) throw new Error(`rivulet ${kind}: xlen ${len} != ${n}`);
  gc();
  emit({
    impl, kind, n,
    usedMemory: (e.usedMemory() - u0) / n,
    linearMemory: (raw.exports.memory.buffer.byteLength - l0) / n,
    rss: (rss() - r0) / n,
    linearTotal: raw.exports.memory.buffer.byteLength,
  });
} else if (impl === 'naive' || impl === 'naive_const') {
  // values as fresh flat strings (what a parser hands over) or, naive_const, shared literals
  // baseline first: the value strings created below are counted as owned by the stream (as in
  // perf-anchors.md §3); the input arrays themselves are dropped before the second reading
  const h0 = heapUsed();
  const r0 = rss();
  let inputs =
    kind === 'bus'
      ? busEntries(n)
      : impl === 'naive_const'
        ? null
        : Array.from({ length: n }, () => ['temperature', flat('23.5'), 'humidity', flat('65')]);
  const st = new NaiveStream();
  if (inputs) for (let i = 0; i < n; i++) st.xadd(inputs[i].slice());
  else for (let i = 0; i < n; i++) st.xadd(['temperature', '23.5', 'humidity', '65']);
  inputs = null; // the value strings stay alive through the stream's copies of the field arrays
  const h1 = heapUsed();
  emit({ impl, kind, n, heap: (h1 - h0) / n, rss: (rss() - r0) / n, keep: st.entries.length });
} else if (impl === 'mock') {
  const RedisMock = require('ioredis-mock');
  const r = new RedisMock();
  await r.xadd('warm', '*', 'a', '1');
  await r.del('warm');
  const h0 = heapUsed();
  let entries = kind === 'bus' ? busEntries(n) : null;
  for (let i = 0; i < n; i++) {
    if (entries) await r.xadd('bus', '*', ...entries[i]);
    else await r.xadd('s', '*', 'temperature', flat('23.5'), 'humidity', flat('65'));
  }
  entries = null;
  const h1 = heapUsed();
  emit({ impl, kind, n, heap: (h1 - h0) / n });
} else if (impl === 'redis') {
  const port = +process.env.RIVULET_BENCH_REDIS_PORT;
  const pid = +process.env.RIVULET_BENCH_REDIS_PID;
  const um = () => +infoField(port, 'memory', 'used_memory');
  const rc = ioredis(port);
  await rc.flushall();
  cli(port, 'MEMORY', 'PURGE');
  await sleep(500);
  const b0 = um();
  let key;
  if (kind === 'sensor') {
    key = 's';
    redisBenchmark(port, pid, { n, clients: 1, pipeline: 64, cmd: ['XADD', 's', '*', ...SENSOR_FIELDS] });
  } else {
    key = 'bus';
    const entries = busEntries(n);
    for (let i = 0; i < n; i += 10000) {
      const p = rc.pipeline();
      for (let j = i; j < Math.min(n, i + 10000); j++) p.xadd('bus', '*', ...entries[j]);
      await p.exec();
    }
  }
  await sleep(500);
  const b1 = um();
  const len = await rc.xlen(key);
  if (len !== n) throw new Error(`redis ${kind}: xlen ${len}`);
  const usage = +(await rc.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  await rc.flushall();
  rc.disconnect();
  emit({ impl, kind, n, usedMemory: (b1 - b0) / n, memoryUsage: usage / n });
}

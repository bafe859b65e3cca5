// §4 consumer group loop: XREADGROUP COUNT 100 + XACK until 1M entries are delivered and acked.
// Rivulet (conn.call, decoded replies) vs naive JS group (cursor + pending Map) vs redis-server
// (ioredis, await XACK before the next read, as perf-anchors.md §1d). ioredis-mock has no groups.
import { FULL, RUNS, emit, engine, log, now, secSince, stats } from '../lib/common.mjs';
import { SENSOR_XADD, repeatResp } from '../lib/data.mjs';
import { NaiveGroup, NaiveStream } from '../lib/naive.mjs';
import { cpuSeconds, ioredis, redisBenchmark, redisForSuite } from '../lib/redis.mjs';

const SIZE = 1_000_000;
const { b } = await engine();
const { readFileSync } = await import('node:fs');
const { wasmPath } = await import('../lib/common.mjs');
const module = new WebAssembly.Module(readFileSync(wasmPath()));
const chunk = repeatResp(SENSOR_XADD, 800);

async function rivulet() {
  const e = await b.createEngine({ wasm: module });
  const raw = e.raw;
  raw.open(1000);
  for (let i = 0; i < SIZE; i += 800) {
    raw.scratch().set(chunk);
    raw.feed(1000, chunk.length, Date.now());
    while (raw.read(1000) > 0);
  }
  const c = e.connect();
  c.call('XGROUP', 'CREATE', 's', 'g', '0');
  let got = 0;
  const t0 = now();
  for (;;) {
    const r = c.call('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '100', 'STREAMS', 's', '>');
    if (!r) break;
    const es = r[0][1];
    if (!es.length) break;
    got += es.length;
    const ids = new Array(es.length);
    for (let i = 0; i < es.length; i++) ids[i] = es[i][0];
    c.call('XACK', 's', 'g', ...ids);
  }
  const dt = secSince(t0);
  const pending = c.call('XPENDING', 's', 'g')[0];
  if (got !== SIZE || pending !== 0) throw new Error(`rivulet group loop: got ${got}, pending ${pending}`);
  e.close();
  return got / dt;
}

function naive() {
  const st = new NaiveStream();
  for (let i = 0; i < SIZE; i++) st.xadd(['temperature', '23.5', 'humidity', '65']);
  const g = new NaiveGroup(st);
  let got = 0;
  const t0 = now();
  for (;;) {
    const es = g.read('c1', 100);
    if (!es.length) break;
    got += es.length;
    g.ack(es.map((x) => x.id));
  }
  const dt = secSince(t0);
  if (g.pel.size !== 0 || got !== SIZE) throw new Error('naive group loop');
  return got / dt;
}

const redis = await redisForSuite();
const rc = redis ? ioredis(redis.port) : null;
let redisCpu = [];
async function redisLoop() {
  await rc.flushall();
  redisBenchmark(redis.port, redis.pid, { n: SIZE, clients: 50, pipeline: 64, cmd: SENSOR_XADD });
  await rc.xgroup('CREATE', 's', 'g', '0');
  const c0 = cpuSeconds(redis.pid);
  let got = 0;
  const t0 = now();
  for (;;) {
    const res = await rc.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 100, 'STREAMS', 's', '>');
    if (!res) break;
    const ids = res[0][1].map((x) => x[0]);
    if (!ids.length) break;
    got += ids.length;
    await rc.xack('s', 'g', ...ids);
  }
  const dt = secSince(t0);
  redisCpu.push(((cpuSeconds(redis.pid) - c0) * 1e6) / got);
  const pending = (await rc.xpending('s', 'g'))[0];
  if (got !== SIZE || pending !== 0) throw new Error(`redis group loop: got ${got} pending ${pending}`);
  return got / dt;
}

const out = { riv: [], naive: [], redis: [] };
for (let r = 0; r < RUNS; r++) {
  out.riv.push(await rivulet());
  out.naive.push(naive());
  if (rc) out.redis.push(await redisLoop());
  log(`  round ${r + 1}: rivulet ${Math.round(out.riv[r])}/s naive ${Math.round(out.naive[r])}/s redis ${Math.round(out.redis[r] ?? NaN)}/s`);
}
if (rc) {
  await rc.flushall();
  rc.disconnect();
}
await redis?.stop();
emit({
  suite: 'groups',
  params: { SIZE, COUNT: 100 },
  res: { riv: stats(out.riv), naive: stats(out.naive), redis: stats(out.redis), redis_cpu_us_per_entry: stats(redisCpu) },
});

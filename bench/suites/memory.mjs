// §5 memory per entry: sensor (1M entries) and bus (100k: UUID + ~125-byte JSON). Each figure comes
// from its own fresh process: Rivulet (INFO used_memory delta, wasm linear-memory delta), naive JS
// (V8 heapUsed delta after gc, node --expose-gc), ioredis-mock (heap, 10k entries only), redis-server
// (INFO used_memory delta after FLUSHALL + MEMORY PURGE; MEMORY USAGE).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BENCH, FULL, RUNS, emit, log, stats } from '../lib/common.mjs';
import { busEntries } from '../lib/data.mjs';
import { redisForSuite } from '../lib/redis.mjs';

const SENSOR_N = 1_000_000;
const BUS_N = 100_000;
const redis = await redisForSuite();

function one(impl, kind, n) {
  const env = { ...process.env };
  if (redis) Object.assign(env, { RIVULET_BENCH_REDIS_PORT: String(redis.port), RIVULET_BENCH_REDIS_PID: String(redis.pid) });
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', join(BENCH, 'suites/memory-one.mjs'), impl, kind, String(n)], {
    encoding: 'utf8',
    env,
    maxBuffer: 1 << 24,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
  if (!line) throw new Error(`memory-one ${impl} ${kind} failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice(9));
}

const jobs = [
  ['rivulet', 'sensor', SENSOR_N],
  ['rivulet', 'bus', BUS_N],
  ['naive', 'sensor', SENSOR_N],
  ['naive_const', 'sensor', SENSOR_N],
  ['naive', 'bus', BUS_N],
  ['mock', 'sensor', 10_000],
  ['mock', 'bus', 10_000],
];
if (redis) jobs.push(['redis', 'sensor', SENSOR_N], ['redis', 'bus', BUS_N]);

const acc = {};
for (let r = 0; r < RUNS; r++) {
  for (const [impl, kind, n] of jobs) {
    const res = one(impl, kind, n);
    for (const [k, v] of Object.entries(res)) if (typeof v === 'number' && k !== 'n') (acc[`${impl}_${kind}_${k}`] ??= []).push(v);
  }
  log(`  round ${r + 1}: rivulet sensor ${acc.rivulet_sensor_usedMemory[r].toFixed(2)} B, bus ${acc.rivulet_bus_usedMemory[r].toFixed(2)} B (used_memory)`);
}
await redis?.stop();
const bus = busEntries(BUS_N);
const valueBytes = bus.reduce((s, f) => s + f[1].length + f[3].length, 0) / BUS_N;
const payloadBytes = bus.reduce((s, f) => s + f[3].length, 0) / BUS_N;
emit({
  suite: 'memory',
  params: { SENSOR_N, BUS_N, busValueBytesPerEntry: valueBytes, busPayloadBytes: payloadBytes, sensorValueBytes: 6 },
  res: Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, stats(v)])),
});

// One profiling scenario (run by bench/profile.mjs under node --cpu-prof; usable alone):
//   node bench/profile-scenario.mjs <scenario> <wasm> [n]
// Scenarios: xadd-typed, xadd-call, xadd-callraw, xadd-pipeline, xadd-rawfeed, xadd-batch1, xadd-rawbatch,
//            ping-rawfeed, feed-empty,
//            xrange100, xrange100-raw, xrevrange10, seek, groups
// With PROFILE_OUT=<file> the timed loop (not the set-up) is recorded with the V8 CPU profiler.
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { SENSOR_XADD, repeatResp } from './lib/data.mjs';
import { bindings, now, secSince, parseId } from './lib/common.mjs';

const [scenario, wasm, nArg] = process.argv.slice(2);
const b = await bindings();
const e = await b.createEngine({ wasm: readFileSync(wasm) });
const c = e.connect();
const raw = e.raw;
const f = { temperature: '23.5', humidity: '65' };
const chunk = repeatResp(SENSOR_XADD, 800);
function load(n) {
  raw.open(1000);
  for (let i = 0; i < n; i += 800) {
    raw.scratch().set(chunk);
    raw.feed(1000, chunk.length, Date.now());
    while (raw.read(1000) > 0);
  }
  raw.close(1000);
}
const N = +nArg || 0;
let ops = 0;
let t0;
let session = null;
if (process.env.PROFILE_OUT) {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
}
let started = null;
const start = () => {
  if (session) started = session.post('Profiler.start');
  t0 = now();
};
switch (scenario) {
  case 'xadd-typed': {
    const n = N || 1_000_000;
    start();
    for (let i = 0; i < n; i++) c.xadd('s', f);
    ops = n;
    break;
  }
  case 'xadd-call': {
    const n = N || 1_000_000;
    start();
    for (let i = 0; i < n; i++) c.call('XADD', 's', '*', 'temperature', '23.5', 'humidity', '65');
    ops = n;
    break;
  }
  case 'xadd-callraw': {
    const n = N || 1_000_000;
    start();
    for (let i = 0; i < n; i++) c.callRaw('XADD', 's', '*', 'temperature', '23.5', 'humidity', '65');
    ops = n;
    break;
  }
  case 'xadd-pipeline': {
    const n = N || 2_000_000;
    const cmds = Array.from({ length: 1000 }, () => SENSOR_XADD);
    start();
    for (let i = 0; i < n; i += 1000) c.pipeline(cmds);
    ops = n;
    break;
  }
  case 'xadd-rawfeed': {
    const n = N || 3_000_000;
    load(800);
    start();
    load(n);
    ops = n;
    break;
  }
  case 'xadd-batch1': {
    // typed fast path, one entry per crossing
    const n = N || 1_000_000;
    const row = [['23.5', '65']];
    start();
    for (let i = 0; i < n; i++) e.xaddBatch(c, 's', ['temperature', 'humidity'], row);
    ops = n;
    break;
  }
  case 'xadd-rawbatch': {
    // typed fast path ceiling: one pre-built rv_xadd_batch frame of 3000 rows, fed repeatedly
    const per = 3000;
    const enc = new TextEncoder();
    const parts = [];
    const u32 = (v) => { const x = new Uint8Array(4); new DataView(x.buffer).setUint32(0, v, true); return x; };
    const str = (x) => { const y = enc.encode(x); parts.push(u32(y.length), y); };
    str('s'); parts.push(u32(2)); str('temperature'); str('humidity'); parts.push(u32(per));
    for (let i = 0; i < per; i++) str('23.5'), str('65');
    const frame = new Uint8Array(parts.reduce((k, p) => k + p.length, 0));
    let o = 0;
    for (const p of parts) frame.set(p, o), (o += p.length);
    const n = N || 6_000_000;
    start();
    for (let i = 0; i < n; i += per) {
      raw.scratch().set(frame);
      raw.xaddBatch(c.id, frame.length, Date.now());
    }
    ops = n;
    break;
  }
  case 'ping-rawfeed': {
    const n = N || 3_000_000;
    const pings = repeatResp(['PING'], 800);
    raw.open(1000);
    start();
    for (let i = 0; i < n; i += 800) {
      raw.scratch().set(pings);
      raw.feed(1000, pings.length, Date.now());
      while (raw.read(1000) > 0);
    }
    ops = n;
    break;
  }
  case 'feed-empty': {
    // the fixed cost of one crossing: PING through the whole host loop
    const n = N || 1_000_000;
    start();
    for (let i = 0; i < n; i++) c.callRaw('PING');
    ops = n;
    break;
  }
  case 'xrange100':
  case 'xrange100-raw':
  case 'xrevrange10':
  case 'seek': {
    load(1_000_000);
    const first = parseId(c.xrange('s', '-', '+', { count: 1 })[0].id)[0];
    const last = parseId(c.xrevrange('s', '+', '-', { count: 1 })[0].id)[0];
    const mid = `${Math.floor((first + last) / 2)}-0`;
    const n = N || (scenario === 'seek' ? 300_000 : 50_000);
    start();
    if (scenario === 'xrange100') for (let i = 0; i < n; i++) c.xrange('s', mid, '+', { count: 100 });
    else if (scenario === 'xrange100-raw') for (let i = 0; i < n; i++) c.callRaw('XRANGE', 's', mid, '+', 'COUNT', '100');
    else if (scenario === 'xrevrange10') for (let i = 0; i < n; i++) c.xrevrange('s', '+', '-', { count: 10 });
    else for (let i = 0; i < n; i++) c.callRaw('XRANGE', 's', `${first + ((i * 7919) % (last - first))}-0`, '+', 'COUNT', '1');
    ops = n;
    break;
  }
  case 'groups': {
    load(1_000_000);
    c.call('XGROUP', 'CREATE', 's', 'g', '0');
    start();
    for (;;) {
      const r = c.call('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '100', 'STREAMS', 's', '>');
      if (!r) break;
      const es = r[0][1];
      if (!es.length) break;
      ops += es.length;
      c.call('XACK', 's', 'g', ...es.map((x) => x[0]));
    }
    break;
  }
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
const dt = secSince(t0);
if (session) {
  await started;
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(process.env.PROFILE_OUT, JSON.stringify(profile));
}
console.log(JSON.stringify({ scenario, ops, seconds: dt, perOpUs: (dt * 1e6) / ops }));

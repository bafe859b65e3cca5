#!/usr/bin/env node
// Cost model of one in-process XADD (and one XRANGE COUNT 100) by subtraction: each step adds one
// layer of the path, measured in the same process, interleaved, median of rounds.
//
//   node bench/breakdown.mjs [--rounds N]
//
// XADD: encodeCommandInto alone → RawEngine feed of pre-encoded bytes, 800 per rv_feed (engine only)
// → 1 per rv_feed (+ crossing, status, rv_read) → conn.callRaw (+ host loop: encode, request queue,
// reply framing) → conn.call (+ decode) → conn.xadd (+ typed argument building).
import { readFileSync } from 'node:fs';
import { engine, median, now, secSince, wasmPath } from './lib/common.mjs';
import { SENSOR_XADD, repeatResp, resp } from './lib/data.mjs';

const rounds = process.argv.includes('--rounds') ? +process.argv[process.argv.indexOf('--rounds') + 1] : 7;
const { b } = await engine();
const module = new WebAssembly.Module(readFileSync(wasmPath()));
const e = await b.createEngine({ wasm: module });
const c = e.connect();
const raw = e.raw;
raw.open(1000);
const f = { temperature: '23.5', humidity: '65' };
const one = resp(SENSOR_XADD);
const many = repeatResp(SENSOR_XADD, 800);
const ping = resp(['PING']);
const pings = repeatResp(['PING'], 800);
const out = new Uint8Array(65536);
const N = 200_000;

const steps = {
  'encodeCommandInto(XADD args) only': () => {
    let s = 0;
    for (let i = 0; i < N; i++) s += b.encodeCommandInto(SENSOR_XADD, out, 0);
    return s;
  },
  'engine: XADD, 800 per rv_feed': () => {
    for (let i = 0; i < N; i += 800) {
      raw.scratch().set(many);
      raw.feed(1000, many.length, Date.now());
      while (raw.read(1000) > 0);
    }
  },
  'engine: PING, 800 per rv_feed': () => {
    for (let i = 0; i < N; i += 800) {
      raw.scratch().set(pings);
      raw.feed(1000, pings.length, Date.now());
      while (raw.read(1000) > 0);
    }
  },
  'engine + crossing: XADD, 1 per rv_feed': () => {
    for (let i = 0; i < N; i++) {
      raw.scratch().set(one);
      raw.feed(1000, one.length, Date.now());
      while (raw.read(1000) > 0);
    }
  },
  'engine + crossing: PING, 1 per rv_feed': () => {
    for (let i = 0; i < N; i++) {
      raw.scratch().set(ping);
      raw.feed(1000, ping.length, Date.now());
      while (raw.read(1000) > 0);
    }
  },
  'conn.callRaw(PING)': () => {
    for (let i = 0; i < N; i++) c.callRaw('PING');
  },
  'conn.callRaw(XADD …)': () => {
    for (let i = 0; i < N; i++) c.callRaw('XADD', 's', '*', 'temperature', '23.5', 'humidity', '65');
  },
  'conn.call(XADD …)': () => {
    for (let i = 0; i < N; i++) c.call('XADD', 's', '*', 'temperature', '23.5', 'humidity', '65');
  },
  'conn.xadd(s, {…})': () => {
    for (let i = 0; i < N; i++) c.xadd('s', f);
  },
};
const acc = Object.fromEntries(Object.keys(steps).map((k) => [k, []]));
for (const fn of Object.values(steps)) fn(); // warm-up
for (let r = 0; r < rounds; r++) {
  for (const [k, fn] of Object.entries(steps)) {
    const t0 = now();
    fn();
    acc[k].push((secSince(t0) * 1e9) / N);
  }
  c.call('DEL', 's');
  raw.feed(1000, 0, Date.now());
}
const m = Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, median(v)]));
console.log(`XADD path, ns per command (median of ${rounds} rounds, ${N.toLocaleString('en')} commands each)\n`);
for (const [k, v] of Object.entries(m)) console.log(`  ${v.toFixed(0).padStart(6)} ns  ${k}`);
const d = (a, b2) => (m[a] - m[b2]).toFixed(0).padStart(6);
console.log('\nby subtraction:');
console.log(`  ${m['engine: XADD, 800 per rv_feed'].toFixed(0).padStart(6)} ns  engine work per XADD (parse, dispatch, append, reply)`);
console.log(`  ${m['engine: PING, 800 per rv_feed'].toFixed(0).padStart(6)} ns    of which per-command fixed cost (PING: parse + dispatch + reply)`);
console.log(`  ${d('engine + crossing: XADD, 1 per rv_feed', 'engine: XADD, 800 per rv_feed')} ns  per rv_feed crossing (scratch set, rv_feed status, rv_read ×2, Date.now)`);
console.log(`  ${d('conn.callRaw(XADD …)', 'engine + crossing: XADD, 1 per rv_feed')} ns  host loop in the bindings (encode, PendingCall, receive/dispatch framing, slice)`);
console.log(`  ${m['encodeCommandInto(XADD args) only'].toFixed(0).padStart(6)} ns    of which encodeCommandInto`);
console.log(`  ${d('conn.call(XADD …)', 'conn.callRaw(XADD …)')} ns  reply decoding (decodeReply vs slice)`);
console.log(`  ${d('conn.xadd(s, {…})', 'conn.call(XADD …)')} ns  typed API (args array from the object, Object.keys, numbers → strings)`);
console.log(`  ${m['conn.xadd(s, {…})'].toFixed(0).padStart(6)} ns  total typed XADD → ${(1e9 / m['conn.xadd(s, {…})'] / 1e6).toFixed(2)} M ops/s`);
e.close();

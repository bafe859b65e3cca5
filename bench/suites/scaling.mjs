// §7 scaling: XADD rate (typed API, one call per entry) and XRANGE seek latency (random ID, COUNT 1,
// callRaw so only the seek and a one-entry reply are timed) at 10k, 100k, 1M and — full run — 10M
// entries, Rivulet vs naive JS (array + binary search on string IDs).
//
// One stream per size is built first (Rivulet: one engine per size; naive: one array per size); each
// round then visits every size in turn, so machine noise spreads over all sizes alike. The timed XADDs
// are undone (untimed XTRIM MAXLEN = size / splice) so each stream stays at its nominal size.
import { FULL, RUNS, emit, engine, log, now, parseId, prng, secSince, stats } from '../lib/common.mjs';
import { SENSOR_XADD, repeatResp } from '../lib/data.mjs';
import { NaiveStream } from '../lib/naive.mjs';

const SIZES = FULL ? [10_000, 100_000, 1_000_000, 10_000_000] : [10_000, 100_000, 1_000_000];
const CHUNK = 10_000; // XADDs timed per step, then trimmed away
const STEPS = FULL ? 10 : 6; // steps per round and size
const SEEKS = FULL ? 20_000 : 5_000;

const { b } = await engine();
const { readFileSync } = await import('node:fs');
const { wasmPath } = await import('../lib/common.mjs');
const module = new WebAssembly.Module(readFileSync(wasmPath()));
const chunk = repeatResp(SENSOR_XADD, 800);
const f = { temperature: '23.5', humidity: '65' };
const T = 'temperature', H = 'humidity';

async function buildRivulet(size) {
  const e = await b.createEngine({ wasm: module });
  const raw = e.raw;
  raw.open(1000);
  let len = 0;
  while (len + 800 <= size) {
    raw.scratch().set(chunk);
    raw.feed(1000, chunk.length, Date.now());
    while (raw.read(1000) > 0);
    len += 800;
  }
  raw.close(1000);
  const c = e.connect();
  while (len < size) c.xadd('s', f), len++;
  return { e, c, size };
}
function buildNaive(size) {
  const st = new NaiveStream();
  for (let i = 0; i < size; i++) st.xadd([T, '23.5', H, '65']);
  return st;
}

const seekIds = (first, last, rnd) => {
  const [a] = parseId(first);
  const [z] = parseId(last);
  return Array.from({ length: SEEKS }, () => `${a + Math.floor(rnd() * (z - a + 1))}-0`);
};

const riv = [];
const naive = [];
for (const size of SIZES) {
  riv.push(await buildRivulet(size));
  naive.push(buildNaive(size));
  log(`  built ${size.toLocaleString('en')} entries (Rivulet linear memory ${(riv[riv.length - 1].e.raw.exports.memory.buffer.byteLength / 2 ** 20).toFixed(0)} MiB)`);
}
// warm-up of the timed paths (on a throwaway stream)
{
  const w = await buildRivulet(1000);
  for (let i = 0; i < 30000; i++) w.c.xadd('w', f);
  for (let i = 0; i < 5000; i++) w.c.callRaw('XRANGE', 's', '0-0', '+', 'COUNT', '1');
  w.e.close();
  const n = buildNaive(1000);
  for (let i = 0; i < 200000; i++) n.xadd([T, '23.5', H, '65']);
  for (let i = 0; i < 5000; i++) n.range(n.entries[i % 1000].id, 1);
}

const res = {};
const push = (k, v) => (res[k] ??= []).push(v);
// XADD figures are medians over all 10k-XADD steps of all rounds (short windows are robust against
// the load spikes of a shared machine); seek figures are medians over rounds. Odd rounds visit the
// sizes in reverse order.
for (let r = 0; r < RUNS; r++) {
  const order = SIZES.map((_, i) => i);
  if (r & 1) order.reverse();
  for (const i of order) {
    const size = SIZES[i];
    const { c } = riv[i];
    const st = naive[i];
    for (let s = 0; s < STEPS; s++) {
      let t0 = now();
      for (let k = 0; k < CHUNK; k++) c.xadd('s', f);
      push(`riv_xadd_${size}`, CHUNK / secSince(t0));
      c.call('XTRIM', 's', 'MAXLEN', String(size));
      t0 = now();
      for (let k = 0; k < CHUNK; k++) st.xadd([T, '23.5', H, '65']);
      push(`naive_xadd_${size}`, CHUNK / secSince(t0));
      st.entries.splice(0, CHUNK);
    }
    if (c.xlen('s') !== size || st.entries.length !== size) throw new Error('size drifted');
    const rIds = seekIds(c.xrange('s', '-', '+', { count: 1 })[0].id, c.xrevrange('s', '+', '-', { count: 1 })[0].id, prng(1000 + r));
    let sink = 0;
    let t0 = now();
    for (const id of rIds) sink += c.callRaw('XRANGE', 's', id, '+', 'COUNT', '1').length;
    push(`riv_seek_${size}`, (secSince(t0) * 1e6) / SEEKS);
    const nIds = seekIds(st.entries[0].id, st.entries[size - 1].id, prng(1000 + r));
    t0 = now();
    for (const id of nIds) sink += st.range(id, 1).length;
    push(`naive_seek_${size}`, (secSince(t0) * 1e6) / SEEKS);
    if (!sink) throw new Error('no seeks');
  }
  log(`  round ${r + 1}: rivulet xadd ${SIZES.map((n) => Math.round(stats(res[`riv_xadd_${n}`].slice(-STEPS)).median / 1000) + 'k').join(' / ')}/s, seek ${SIZES.map((n) => res[`riv_seek_${n}`][r].toFixed(2)).join(' / ')} µs`);
}
for (const { e } of riv) e.close();
emit({ suite: 'scaling', params: { SIZES, CHUNK, STEPS, SEEKS }, res: Object.fromEntries(Object.entries(res).map(([k, v]) => [k, stats(v)])) });

// The page budget is a hard cap (util/heap.ts, scripts/grow-guard.mjs). A 16-page (1 MiB) budget with
// effects on, filled to OOM with XADDs and a consumer group with pending entries; then a SAVE (a full
// snapshot in 16–64 KiB parts), an AOF rewrite (a snapshot while writes go on), XRANGE of everything,
// a 4,096-row rv_xadd_batch and a blocked XREAD woken by a write. The module is loaded with its memory
// capped at 16 pages, so growing past the budget would trap; linear memory never shrinks, so its size
// at the end is its peak. The data is compared before and after (paged dumps). The same runs under
// wasm3 in test/wasm3/run_corpus.py (check_budget). RIVULET_TEST_WASM=../build/rivulet.debug.wasm runs
// it on the debug build (function names in a trap's stack).
import { describe, it, expect } from 'vitest';
import { readFile } from 'node:fs/promises';
import { RawEngine } from '../bindings/raw.ts';
import { FeedStatus } from '../bindings/abi.ts';
import { encodeCommand } from '../bindings/resp.ts';
import { call, load, dumpPaged, drainEffects } from './support/engine-dump.ts';
import { withMemoryMax } from './support/memory-limit.ts';

const BUDGET = 16;
const bytes = new Uint8Array(await readFile(new URL(process.env.RIVULET_TEST_WASM ?? '../build/rivulet.wasm', import.meta.url)));
const capped = await WebAssembly.compile(withMemoryMax(bytes, BUDGET));
const T0 = 1_700_000_000_000;
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const OOM = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

const pages = (raw: RawEngine) => raw.exports.memory.buffer.byteLength / 65536;

/** A small deterministic generator (parts of 16–64 KiB, which entries to touch). */
function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
}

/** An engine under a 16-page budget, effects on, filled to OOM; effects are drained into `aof`. */
async function filled(aof: Uint8Array[]) {
  const raw = await RawEngine.instantiate(capped);
  expect(raw.setPageBudget(BUDGET)).toBe(BUDGET);
  raw.effectsEnable(true);
  raw.open(1);
  let now = T0;
  call(raw, 1, ['XGROUP', 'CREATE', 'sensor', 'g', '$', 'MKSTREAM'], now);
  let added = 0;
  for (;;) {
    raw.feedBytes(1, encodeCommand(['XADD', 'sensor', '*', 'temperature', String(20 + (added % 10)), 'humidity', '65']), now++);
    const r = text(raw.readAll(1));
    drainEffects(raw, aof);
    if (r === OOM) break;
    expect(r).toMatch(/^\$/);
    added++;
    // consumers read as they go and acknowledge most: the group keeps entries pending
    if (added % 50 === 0) {
      call(raw, 1, ['XREADGROUP', 'GROUP', 'g', `c${added % 3}`, 'COUNT', '50', 'STREAMS', 'sensor', '>'], now);
      const pending = call(raw, 1, ['XPENDING', 'sensor', 'g', '-', '+', '40'], now) as string[][];
      if (pending.length > 0) call(raw, 1, ['XACK', 'sensor', 'g', ...pending.slice(0, 35).map((p) => p[0])], now);
      drainEffects(raw, aof);
    }
  }
  expect(added).toBeGreaterThan(3000);
  expect(pages(raw)).toBeLessThanOrEqual(BUDGET);
  return { raw, now, added };
}

/** A whole snapshot read in parts of 16–64 KiB; `between` runs after each part. */
function snapshot(raw: RawEngine, rand: () => number, between: (part: number) => void = () => {}): Uint8Array[] {
  expect(raw.snapshotBegin()).toBe(0);
  const parts: Uint8Array[] = [];
  for (let i = 0; ; i++) {
    const max = 16384 + Math.floor(rand() * 49152);
    const n = raw.snapshotRead(max);
    expect(n).toBeLessThanOrEqual(max);
    if (n === 0) break;
    parts.push(raw.scratch().slice(0, n));
    expect(pages(raw)).toBeLessThanOrEqual(BUDGET);
    between(i);
  }
  return parts;
}

describe('a 16-page budget is a hard cap', () => {
  it('holds through fill-to-OOM, SAVE, AOF rewrite, XRANGE of everything, a 4,096-row batch and a woken reader', async () => {
    const aof: Uint8Array[] = [];
    const { raw, now: t, added } = await filled(aof);
    let now = t;
    const rand = rng(7);
    const before = dumpPaged(raw, 1, now);
    expect(JSON.parse(before).db0.sensor.groups[0].pending).toBeGreaterThan(100);

    // SAVE: the snapshot alone rebuilds the dataset — in an engine with the same budget.
    const save = snapshot(raw, rand);
    const restored = await RawEngine.instantiate(capped);
    restored.setPageBudget(BUDGET);
    load(restored, save, now);
    restored.open(1);
    expect(dumpPaged(restored, 1, now)).toBe(before);
    expect(pages(restored)).toBeLessThanOrEqual(BUDGET);

    // The AOF of effects rebuilds it too.
    const replayed = await RawEngine.instantiate(capped);
    replayed.setPageBudget(BUDGET);
    load(replayed, aof, now);
    replayed.open(1);
    expect(dumpPaged(replayed, 1, now)).toBe(before);

    // XRANGE of everything: refused with the budget error (read it in pages instead); nothing changes.
    raw.feedBytes(1, encodeCommand(['XRANGE', 'sensor', '-', '+']), now);
    expect(text(raw.readAll(1))).toMatch(/^-ERR reply exceeds the memory budget of this engine; read in smaller pieces \(COUNT\)\r\n$/);
    expect(call(raw, 1, ['XRANGE', 'sensor', '-', '+', 'COUNT', '500'], now)).toHaveLength(500);

    // A 4,096-row batch at OOM: refused, nothing written.
    const batch = batchBytes(raw, 'sensor', ['temperature', 'humidity'], 4096);
    raw.scratch().set(batch);
    expect(raw.xaddBatch(1, batch.length, now)).toBe(-2);
    drainEffects(raw, aof);
    expect(dumpPaged(raw, 1, now)).toBe(before);

    // AOF rewrite: a snapshot while writes go on (acks, deletes, trims, reads; XADDs get OOM). The
    // snapshot plus the effects since its begin rebuild the dataset as it ends.
    const tail: Uint8Array[] = [];
    drainEffects(raw, aof);
    let refused = 0;
    const rewrite = snapshot(raw, rand, (i) => {
      now += 10;
      const first = call(raw, 1, ['XRANGE', 'sensor', '-', '+', 'COUNT', '3'], now) as string[][];
      if (first.length) call(raw, 1, ['XDEL', 'sensor', first[0][0]], now);
      const pending = call(raw, 1, ['XPENDING', 'sensor', 'g', '-', '+', '5'], now) as string[][];
      if (pending.length) call(raw, 1, ['XACK', 'sensor', 'g', pending[0][0]], now);
      call(raw, 1, ['XREADGROUP', 'GROUP', 'g', 'late', 'COUNT', '5', 'STREAMS', 'sensor', '>'], now);
      call(raw, 1, ['XCLAIM', 'sensor', 'g', 'late', '0', ...pending.slice(1, 3).map((p) => p[0])], now);
      if (i % 4 === 0) call(raw, 1, ['XTRIM', 'sensor', 'MINID', first.length ? first[first.length - 1][0] : '0'], now);
      raw.feedBytes(1, encodeCommand(['XADD', 'sensor', '*', 'temperature', '1', 'humidity', '2']), now);
      if (text(raw.readAll(1)) === OOM) refused++;
      drainEffects(raw, tail);
      expect(pages(raw)).toBeLessThanOrEqual(BUDGET);
    });
    expect(rewrite.length).toBeGreaterThan(3);
    const after = dumpPaged(raw, 1, now);
    expect(after).not.toBe(before);
    const rewritten = await RawEngine.instantiate(capped);
    rewritten.setPageBudget(BUDGET);
    load(rewritten, [...rewrite, ...tail], now);
    rewritten.open(1);
    expect(dumpPaged(rewritten, 1, now)).toBe(after);

    // A blocked XREAD, woken once a trim made room for an XADD.
    raw.open(2);
    expect(raw.feedBytes(2, encodeCommand(['XREAD', 'BLOCK', '0', 'STREAMS', 'sensor', '$']), now) & FeedStatus.BLOCKED).toBeTruthy();
    call(raw, 1, ['XTRIM', 'sensor', 'MAXLEN', String(Math.floor(added / 2))], now);
    const st = raw.feedBytes(1, encodeCommand(['XADD', 'sensor', '*', 'temperature', 'woke', 'humidity', '0']), now);
    const id = text(raw.readAll(1));
    expect(id).toMatch(/^\$\d+\r\n\d+-\d+\r\n$/);
    expect(st & FeedStatus.OTHERS_READY).toBeTruthy();
    expect(raw.readyNext()).toBe(2);
    expect(text(raw.readAll(2))).toContain('woke');
    drainEffects(raw, tail);

    console.log(`[budget] ${added} entries to OOM (${refused} XADDs refused during the rewrite); snapshot ${save.reduce((n, p) => n + p.length, 0)} B; memory ${pages(raw)} of ${BUDGET} pages`);
    expect(pages(raw)).toBeLessThanOrEqual(BUDGET);
  }, 300_000);

  it('runs rv_xadd_batch with effects on within the budget, or refuses a batch whole', async () => {
    const raw = await RawEngine.instantiate(capped);
    raw.setPageBudget(BUDGET);
    raw.effectsEnable(true);
    raw.open(1);
    const aof: Uint8Array[] = [];
    let added = 0;
    let refused = 0;
    const accepted = [0, 0, 0];
    for (let round = 0; round < 1000 && refused < 3; round++) {
      const rows = [4096, 1000, 250][refused];
      const batch = batchBytes(raw, 'sensor', ['temperature', 'humidity'], rows, round);
      raw.scratch().set(batch);
      const n = raw.xaddBatch(1, batch.length, T0 + round);
      drainEffects(raw, aof);
      expect(pages(raw)).toBeLessThanOrEqual(BUDGET);
      if (n === -2) { refused++; continue; }
      expect(n).toBe(rows);
      accepted[refused]++;
      added += n;
    }
    console.log(`[budget] batches of 4096/1000/250 rows accepted until refused: ${accepted.join('/')}, ${added} entries, ${pages(raw)} pages`);
    expect(refused).toBe(3);
    expect(added).toBeGreaterThan(8000);
    expect(call(raw, 1, ['XLEN', 'sensor'], T0)).toBe(added);
    // what was refused left nothing behind: the effects replay to the same stream
    const replayed = await RawEngine.instantiate(capped);
    replayed.setPageBudget(BUDGET);
    load(replayed, aof, T0);
    replayed.open(1);
    expect(dumpPaged(replayed, 1, T0)).toBe(dumpPaged(raw, 1, T0));
  }, 120_000);
});

/** rv_xadd_batch's scratch layout (assembly/server/fastpath.ts) for `count` sensor rows. */
function batchBytes(raw: RawEngine, key: string, fields: string[], count: number, salt = 0): Uint8Array {
  const enc = new TextEncoder();
  const parts: number[] = [];
  const put = (s: string) => {
    const b = enc.encode(s);
    parts.push(b.length & 255, (b.length >> 8) & 255, (b.length >> 16) & 255, b.length >>> 24, ...b);
  };
  const u32 = (n: number) => parts.push(n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24);
  put(key);
  u32(fields.length);
  for (const f of fields) put(f);
  u32(count);
  for (let i = 0; i < count; i++) for (let f = 0; f < fields.length; f++) put(String((i * 7 + f + salt) % 100));
  const out = Uint8Array.from(parts);
  if (out.length > raw.scratchCap) throw new Error('batch too large for scratch');
  return out;
}

// Snapshots by cursor (rv_snapshot_begin / rv_snapshot_read / rv_snapshot_abort): random writes
// interleaved with parts of random sizes. The snapshot alone must rebuild the dataset as it was at
// begin (BGSAVE), and the snapshot followed by the effects produced after begin must rebuild the
// dataset as it is at the end (AOF rewrite). Both are checked by loading into fresh engines and
// comparing full dumps (XRANGE and XINFO STREAM FULL of every stream, GET of every string).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import { RawEngine } from '../bindings/raw.ts';
import { call, load, dump, drainEffects, concat } from './support/engine-dump.ts';

const wasm = await WebAssembly.compile(await readFile(new URL('../build/rivulet.wasm', import.meta.url)));
const T0 = 1_700_000_000_000;
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

const engine = () => RawEngine.instantiate(wasm);

const key = fc.constantFrom('s', 't', 'u');
const group = fc.constantFrom('g1', 'g2');
const consumer = fc.constantFrom('alice', 'bob', 'carol');
/** IDs near the ones the clock makes (one ms per command from T0). */
const id = fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 2 })).map(([m, s]) => `${T0 + m}-${s}`);
const big = (n: number) => 'b'.repeat(n);

/** Writes for the dataset and for the time while a snapshot runs. */
const write: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(key, fc.constantFrom('a', 'b'), fc.constantFrom('1', 'x', '-7')).map(([k, f, v]) => ['XADD', k, '*', f, v, 'n', '2']) },
  { weight: 1, arbitrary: key.map((k) => ['XADD', k, '*', 'blob', big(20000)]) },
  { weight: 2, arbitrary: fc.tuple(key, fc.integer({ min: 0, max: 30 }), fc.constantFrom('~', '=')).map(([k, n, a]) => ['XADD', k, 'MAXLEN', a, String(n), '*', 'f', 'v']) },
  { weight: 3, arbitrary: fc.tuple(key, fc.array(id, { minLength: 1, maxLength: 6 })).map(([k, ids]) => ['XDEL', k, ...ids]) },
  { weight: 2, arbitrary: fc.tuple(key, fc.integer({ min: 0, max: 40 }), fc.constantFrom('~', '=')).map(([k, n, a]) => ['XTRIM', k, 'MAXLEN', a, String(n)]) },
  { weight: 1, arbitrary: fc.tuple(key, id).map(([k, i]) => ['XTRIM', k, 'MINID', i]) },
  { weight: 1, arbitrary: key.map((k) => ['DEL', k]) },
  { weight: 1, arbitrary: fc.tuple(key, key).map(([a, b]) => ['RENAME', a, b]) },
  { weight: 1, arbitrary: fc.constantFrom<string[]>(['FLUSHALL'], ['FLUSHDB'], ['SELECT', '1'], ['SELECT', '0']) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('k', 's'), fc.constantFrom('v', big(30000))).map(([k, v]) => ['SET', k, v]) },
  { weight: 2, arbitrary: fc.tuple(key, group).map(([k, g]) => ['XGROUP', 'CREATE', k, g, '0', 'MKSTREAM']) },
  { weight: 1, arbitrary: fc.tuple(key, group).map(([k, g]) => ['XGROUP', 'DESTROY', k, g]) },
  { weight: 1, arbitrary: fc.tuple(key, group, fc.constantFrom('$', '0', `${T0 + 50}-0`)).map(([k, g, i]) => ['XGROUP', 'SETID', k, g, i]) },
  { weight: 1, arbitrary: fc.tuple(key, group, consumer).map(([k, g, c]) => ['XGROUP', 'CREATECONSUMER', k, g, c]) },
  { weight: 1, arbitrary: fc.tuple(key, group, consumer).map(([k, g, c]) => ['XGROUP', 'DELCONSUMER', k, g, c]) },
  { weight: 4, arbitrary: fc.tuple(key, group, consumer, fc.integer({ min: 1, max: 8 })).map(([k, g, c, n]) => ['XREADGROUP', 'GROUP', g, c, 'COUNT', String(n), 'STREAMS', k, '>']) },
  { weight: 1, arbitrary: fc.tuple(key, group, consumer).map(([k, g, c]) => ['XREADGROUP', 'GROUP', g, c, 'COUNT', '3', 'STREAMS', k, '0']) },
  { weight: 2, arbitrary: fc.tuple(key, group, fc.array(id, { minLength: 1, maxLength: 4 })).map(([k, g, ids]) => ['XACK', k, g, ...ids]) },
  { weight: 2, arbitrary: fc.tuple(key, group, consumer, id).map(([k, g, c, i]) => ['XCLAIM', k, g, c, '0', i, 'FORCE']) },
  { weight: 1, arbitrary: fc.tuple(key, group, consumer, id).map(([k, g, c, i]) => ['XCLAIM', k, g, c, '0', i, 'RETRYCOUNT', '5', 'IDLE', '10']) },
  { weight: 1, arbitrary: fc.tuple(key, group, consumer).map(([k, g, c]) => ['XAUTOCLAIM', k, g, c, '0', '0', 'COUNT', '3']) },
  { weight: 1, arbitrary: fc.tuple(key, group, id, fc.constantFrom('FAIL', 'SILENT')).map(([k, g, i, m]) => ['XNACK', k, g, m, 'IDS', '1', i]) },
  { weight: 1, arbitrary: fc.tuple(key, group, id).map(([k, g, i]) => ['XACKDEL', k, g, 'IDS', '1', i]) },
  { weight: 1, arbitrary: fc.tuple(key, id).map(([k, i]) => ['XDELEX', k, 'DELREF', 'IDS', '1', i]) },
  // XSETID back below deleted entries, so that the next XADD gets an ID the snapshot would include.
  { weight: 1, arbitrary: fc.tuple(key, fc.integer({ min: 0, max: 300 })).map(([k, m]) => ['XSETID', k, `${T0 + m}-5`]) },
);

/** What happens next while the snapshot runs: a write, or one part of `size` bytes (mostly small, so
 *  that writes land between many parts). */
const step = fc.oneof(
  { weight: 3, arbitrary: write.map((w) => ({ w })) },
  { weight: 2, arbitrary: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 300 }) },
    { weight: 1, arbitrary: fc.integer({ min: 300, max: 70000 }) },
  ).map((size) => ({ size })) },
);

async function populated(setup: string[][]): Promise<{ a: RawEngine; now: number }> {
  const a = await engine();
  a.effectsEnable(true);
  a.open(1);
  let now = T0;
  for (let i = 0; i < 120; i++) call(a, 1, ['XADD', ['s', 't', 'u'][i % 3], '*', 'f', String(i), 'g', 'x'.repeat(i % 17)], now++);
  // groups with pending entries on every stream, some released to the group
  for (const k of ['s', 't', 'u']) {
    for (const g of ['g1', 'g2']) call(a, 1, ['XGROUP', 'CREATE', k, g, '0'], now++);
    for (const [g, c, n] of [['g1', 'alice', 6], ['g1', 'bob', 5], ['g2', 'carol', 8], ['g1', 'carol', 4]] as const) {
      call(a, 1, ['XREADGROUP', 'GROUP', g, c, 'COUNT', String(n), 'STREAMS', k, '>'], now++);
    }
    call(a, 1, ['XNACK', k, 'g1', 'FAIL', 'IDS', '1', `${T0 + (k === 's' ? 3 : k === 't' ? 4 : 5)}-0`], now++);
  }
  for (const c of setup) call(a, 1, c, now++);
  call(a, 1, ['SELECT', '0'], now);
  drainEffects(a, []);
  return { a, now };
}

describe('snapshots by cursor', () => {
  it('the snapshot rebuilds the dataset as of begin; snapshot + later effects rebuild the current one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(write, { maxLength: 40 }), fc.array(step, { minLength: 1, maxLength: 120 }), async (setup, steps) => {
        let { a, now } = await populated(setup);
        const atBegin = dump(a, 1, now);
        expect(a.snapshotBegin()).toBe(0);
        const snap: Uint8Array[] = [];
        const tail: Uint8Array[] = [];
        let done = false;
        for (const s of steps) {
          if ('w' in s) { call(a, 1, s.w, now++); drainEffects(a, tail); continue; }
          if (done) continue;
          const n = a.snapshotRead(s.size);
          expect(n).toBeLessThanOrEqual(Math.min(s.size, a.scratchCap));
          if (n === 0) done = true; else snap.push(a.scratch().slice(0, n));
        }
        // finish it while writes keep coming between parts
        for (let i = 0; !done; i++) {
          const n = a.snapshotRead(1 + ((i * 7919) % 3000));
          if (n === 0) done = true; else snap.push(a.scratch().slice(0, n));
          if (i % 3 === 0) { call(a, 1, ['XADD', 't', '*', 'late', String(i)], now++); drainEffects(a, tail); }
        }
        expect(a.snapshotRead(100)).toBe(-1);
        call(a, 1, ['SELECT', '0'], now);
        drainEffects(a, tail);
        const atEnd = dump(a, 1, now);
        const loadAt = now + 100_000;

        // (a) BGSAVE: the snapshot alone is the dataset as it was at begin.
        const b = await engine();
        load(b, snap, loadAt);
        b.open(1);
        expect(dump(b, 1, loadAt)).toBe(atBegin);

        // (b) AOF rewrite: snapshot + effects since begin is the dataset now.
        const c = await engine();
        load(c, [...snap, ...tail], loadAt);
        c.open(1);
        expect(dump(c, 1, loadAt)).toBe(atEnd);

        // The engine carries nothing over: a new snapshot is the dataset now.
        const again = a.readSnapshot();
        const d = await engine();
        load(d, [again], loadAt);
        d.open(1);
        expect(dump(d, 1, loadAt)).toBe(atEnd);
      }),
      { numRuns: RUNS },
    );
  }, 600_000);

  it('produces the same bytes whatever the part size when nothing is written meanwhile', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(write, { maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 70000 }), { minLength: 1, maxLength: 8 }), async (setup, sizes) => {
        const { a } = await populated(setup);
        const whole = a.readSnapshot();
        expect(a.snapshotBegin()).toBe(0);
        const parts: Uint8Array[] = [];
        for (let i = 0; ; i++) {
          const max = sizes[i % sizes.length];
          const n = a.snapshotRead(max);
          expect(n).toBeLessThanOrEqual(Math.min(max, a.scratchCap));
          if (n === 0) break;
          parts.push(a.scratch().slice(0, n));
        }
        expect(Buffer.from(concat(parts)).equals(Buffer.from(whole))).toBe(true);
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  }, 600_000);

  it('abort gives everything kept for the snapshot back, and a later snapshot is the current dataset', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(write, { maxLength: 30 }), fc.array(step, { minLength: 1, maxLength: 80 }), async (setup, steps) => {
        let { a, now } = await populated(setup);
        const usedBefore = a.usedMemory();
        expect(a.snapshotBegin()).toBe(0);
        expect(a.snapshotBegin()).toBe(-1);
        for (const s of steps) {
          if ('w' in s) call(a, 1, s.w, now++);
          else if (a.snapshotRead(s.size) === 0) break;
        }
        a.snapshotAbort();
        // With no writes, nothing kept for the snapshot stays accounted after the abort.
        if (!steps.some((s) => 'w' in s)) expect(a.usedMemory()).toBe(usedBefore);
        expect(a.snapshotRead(10)).toBe(-1);
        a.snapshotAbort(); // a no-op now
        call(a, 1, ['SELECT', '0'], now);
        const current = dump(a, 1, now);
        const b = await engine();
        load(b, [a.readSnapshot(1000)], now + 1000);
        b.open(1);
        expect(dump(b, 1, now + 1000)).toBe(current);
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  }, 600_000);

  it('keeps deleted, renamed and flushed keys for the snapshot and frees them once it is written', async () => {
    const setup = [['SET', 'k', 'v'], ['XGROUP', 'CREATE', 's', 'g', '0'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>']];
    // the same writes on a twin engine that takes no snapshot: memory must end up the same
    const [{ a }, { a: twin }] = [await populated(setup), await populated(setup)];
    const now = T0 + 10_000;
    const atBegin = dump(a, 1, now);
    dump(twin, 1, now);
    expect(a.snapshotBegin()).toBe(0);
    for (const e of [a, twin]) {
      call(e, 1, ['RENAME', 's', 's2'], now);
      call(e, 1, ['DEL', 't'], now);
      call(e, 1, ['XACK', 's2', 'g', ...(call(e, 1, ['XRANGE', 's2', '-', '+'], now) as string[][]).map((x) => x[0])], now);
      call(e, 1, ['FLUSHALL'], now);
    }
    // what the writes removed is still held (and counted) until the snapshot has written it
    expect(a.usedMemory() - twin.usedMemory()).toBeGreaterThan(120 * 20);
    const parts: Uint8Array[] = [];
    for (let n = a.snapshotRead(512); n > 0; n = a.snapshotRead(512)) parts.push(a.scratch().slice(0, n));
    const b = await engine();
    load(b, parts, now);
    b.open(1);
    expect(dump(b, 1, now)).toBe(atBegin);
    // written, it is freed
    expect(a.usedMemory()).toBe(twin.usedMemory());
  });

  it('leaves out an entry added below its last ID after XSETID moved the last ID back', async () => {
    // 9 and 10 deleted before the snapshot begins (its last ID stays 10-0) or after (it still has them)
    for (const deleteFirst of [true, false]) {
      for (const partsFirst of [0, 1, 3]) {
        const a = await engine();
        a.open(1);
        for (let i = 1; i <= 10; i++) call(a, 1, ['XADD', 's', `${i}-0`, 'f', 'x'.repeat(200)], T0);
        if (deleteFirst) expect(call(a, 1, ['XDEL', 's', '9-0', '10-0'], T0)).toBe(2);
        const atBegin = dump(a, 1, T0);
        expect(a.snapshotBegin()).toBe(0);
        const parts: Uint8Array[] = [];
        for (let p = 0; p < partsFirst; p++) parts.push(a.scratch().slice(0, a.snapshotRead(300)));
        if (!deleteFirst) expect(call(a, 1, ['XDEL', 's', '9-0', '10-0'], T0)).toBe(2);
        expect(call(a, 1, ['XSETID', 's', '8-5'], T0)).toBe('OK');
        expect(call(a, 1, ['XADD', 's', '8-6', 'late', 'y'], T0)).toBe('8-6');
        for (let n = a.snapshotRead(300); n > 0; n = a.snapshotRead(300)) parts.push(a.scratch().slice(0, n));
        const b = await engine();
        load(b, parts, T0);
        b.open(1);
        expect(dump(b, 1, T0)).toBe(atBegin);
      }
    }
  });
});

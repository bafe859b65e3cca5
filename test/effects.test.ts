// Persistence property: replaying an engine's effects into a fresh engine (as AOF loading does) and
// loading its snapshot both rebuild exactly the same dataset — same snapshot bytes, same replies.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import { RawEngine } from '../bindings/raw.ts';
import { encodeCommand } from '../bindings/resp.ts';

const wasm = await WebAssembly.compile(await readFile(new URL('../build/rivulet.wasm', import.meta.url)));
const T0 = 1_700_000_000_000;

async function engine(): Promise<RawEngine> {
  return RawEngine.instantiate(wasm);
}

function run(raw: RawEngine, conn: number, args: string[], now: number): Uint8Array {
  raw.feedBytes(conn, encodeCommand(args), now);
  return raw.readAll(conn);
}

function drainEffects(raw: RawEngine): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let n = raw.effectsRead(); n > 0; n = raw.effectsRead()) out.push(raw.scratch().slice(0, n));
  return out;
}

/** Feeds bytes on a loading connection at `now` (a restart happens later than the writes; XCLAIM TIME
 *  in the future would be clamped to now, as in Redis). Returns what the engine reports of the load
 *  (a loading connection's replies are dropped; its errors are counted in the record). */
function load(raw: RawEngine, chunks: Uint8Array[], now: number): string {
  raw.open(99);
  raw.setLoading(99, true);
  let total = 0;
  for (const c of chunks) {
    total += c.length;
    for (let at = 0; at < c.length; at += raw.scratchCap) {
      const part = c.subarray(at, Math.min(c.length, at + raw.scratchCap));
      raw.feedBytes(99, part, now);
      if (raw.readAll(99).length !== 0) throw new Error('a loading connection produced output');
    }
  }
  const st = raw.loadStatus(99)!;
  raw.setLoading(99, false);
  raw.close(99);
  const problems = [];
  if (st.errors) problems.push(`${st.errors} error(s), the first at ${st.firstErrorAt}: ${st.errorText}`);
  if (st.protocolErrorAt >= 0) problems.push(`invalid input at ${st.protocolErrorAt}: ${st.protocolErrorText}`);
  if (st.consumed !== total || st.pending || st.inMulti || st.nulTail) problems.push(`consumed ${st.consumed} of ${total} bytes`);
  return problems.join('; ');
}

const key = fc.constantFrom('s', 't');
const group = fc.constantFrom('g1', 'g2');
const consumer = fc.constantFrom('alice', 'bob');
const ms = fc.integer({ min: 1, max: 30 });
const command: fc.Arbitrary<string[]> = fc.oneof<fc.Arbitrary<string[]>[]>(
  fc.tuple(key, ms, fc.constantFrom('a', 'b'), fc.constantFrom('1', 'x')).map(([k, m, f, v]) => ['XADD', k, `${m}-*`, f, v]),
  fc.tuple(key, fc.integer({ min: 0, max: 5 })).map(([k, n]) => ['XADD', k, 'MAXLEN', '~', String(n), '*', 'f', 'v']),
  fc.tuple(key, fc.integer({ min: 0, max: 5 })).map(([k, n]) => ['XTRIM', k, 'MAXLEN', String(n)]),
  fc.tuple(key, ms).map(([k, m]) => ['XDEL', k, `${m}-0`]),
  fc.tuple(key, group).map(([k, g]) => ['XGROUP', 'CREATE', k, g, '0', 'MKSTREAM']),
  fc.tuple(key, group, consumer, fc.integer({ min: 1, max: 3 })).map(([k, g, c, n]) => ['XREADGROUP', 'GROUP', g, c, 'COUNT', String(n), 'STREAMS', k, '>']),
  fc.tuple(key, group, consumer).map(([k, g, c]) => ['XREADGROUP', 'GROUP', g, c, 'NOACK', 'STREAMS', k, '>']),
  fc.tuple(key, group, consumer).map(([k, g, c]) => ['XREADGROUP', 'GROUP', g, c, 'STREAMS', k, '0']),
  fc.tuple(key, group, ms).map(([k, g, m]) => ['XACK', k, g, `${m}-0`]),
  fc.tuple(key, group, consumer).map(([k, g, c]) => ['XAUTOCLAIM', k, g, c, '0', '0', 'COUNT', '2']),
  fc.tuple(key, group, consumer, ms).map(([k, g, c, m]) => ['XCLAIM', k, g, c, '0', `${m}-0`, 'FORCE']),
  fc.tuple(key, group, consumer).map(([k, g, c]) => ['XGROUP', 'DELCONSUMER', k, g, c]),
  fc.tuple(key, group, ms, fc.constantFrom('FAIL', 'SILENT', 'FATAL')).map(([k, g, m, mode]) => ['XNACK', k, g, mode, 'IDS', '1', `${m}-0`]),
  fc.tuple(key, group, consumer).map(([k, g, c]) => ['XREADGROUP', 'GROUP', g, c, 'CLAIM', '0', 'COUNT', '2', 'STREAMS', k, '>']),
  fc.tuple(key, fc.integer({ min: 0, max: 3 }), fc.constantFrom('DELREF', 'ACKED', 'KEEPREF')).map(([k, n, p]) => ['XTRIM', k, 'MAXLEN', String(n), p]),
  fc.tuple(key, ms, group).map(([k, m, g]) => ['XACKDEL', k, g, 'IDS', '1', `${m}-0`]),
  fc.tuple(key, group).map(([k, g]) => ['XGROUP', 'SETID', k, g, '$']),
  fc.tuple(key, ms).map(([k, m]) => ['XSETID', k, `${m + 100}-0`]),
  fc.tuple(key, fc.constantFrom('1', '3')).map(([k, db]) => ['SELECT', db]),
  fc.constant<string[]>(['SELECT', '0']),
  key.map((k) => ['DEL', k]),
  fc.tuple(key, fc.constantFrom('v', 'w')).map(([k, v]) => ['SET', `str-${k}`, v]),
  fc.constant<string[]>(['MULTI']),
  fc.constant<string[]>(['EXEC']),
);

async function snapshotOf(raw: RawEngine): Promise<string> {
  return new TextDecoder('latin1').decode(raw.readSnapshot());
}

describe('effects and snapshots', () => {
  it('replaying effects and loading a snapshot rebuild the same dataset', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (cmds) => {
        const a = await engine();
        a.effectsEnable(true);
        a.open(1);
        let now = T0;
        const effects: Uint8Array[] = [];
        for (const c of cmds) {
          run(a, 1, c, (now += 7));
          effects.push(...drainEffects(a));
        }
        if (run(a, 1, ['EXEC'], now).length === 0) throw new Error('no reply');
        effects.push(...drainEffects(a));
        const snapA = await snapshotOf(a);

        // AOF replay: the effect stream rebuilds the same state.
        const b = await engine();
        expect(load(b, effects, now + 1000)).toBe('');
        expect(await snapshotOf(b)).toBe(snapA);

        // Snapshot load: the snapshot rebuilds the same state, and re-snapshots to the same bytes.
        const c = await engine();
        expect(load(c, [Uint8Array.from(snapA, (ch) => ch.charCodeAt(0))], now + 1000)).toBe('');
        expect(await snapshotOf(c)).toBe(snapA);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 400) },
    );
  });
});

// What the engine reports so hosts need not probe or re-parse (docs/ABI.md, "Engine facts" and
// "Loading a file"), in-process; test/wasm3/run_corpus.py checks the same under wasm3:
// rv_load_status (replay by "feed chunks, then ask": clean files in any chunking, torn tails,
// corrupt middles, failing commands), rv_build_info, rv_auth_required, rv_dataset_stats, and that
// RawEngine mirrors every export.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { RawEngine } from '../bindings/raw.ts';
import { BUILD_INFO_SIZE, DATASET_STATS_SIZE, EXPORT_NAMES, FeedStatus, LOAD_ERROR_TEXT_MAX, LOAD_STATUS_SIZE, SNAPSHOT_FORMAT } from '../bindings/abi.ts';
import { decodeReply, encodeCommand } from '../bindings/resp.ts';

const wasm = await WebAssembly.compile(readFileSync(new URL('../build/rivulet.wasm', import.meta.url)));
const T0 = 1_700_000_000_000;

async function engine(): Promise<RawEngine> {
  const raw = await RawEngine.instantiate(wasm);
  raw.open(1);
  return raw;
}

function run(raw: RawEngine, conn: number, ...args: string[]): string {
  raw.feedBytes(conn, encodeCommand(args), T0);
  return Buffer.from(raw.readAll(conn)).toString('latin1');
}

const cmd = (...args: string[]) => Buffer.from(encodeCommand(args));
const cat = (...parts: Array<Buffer | string>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));

/** Feeds `bytes` on a fresh loading connection in pieces of `sizes` (cycled); returns the record. */
function load(raw: RawEngine, bytes: Uint8Array, sizes: number[] = [raw.scratchCap], conn = 7) {
  raw.open(conn);
  raw.setLoading(conn, true);
  let status = 0;
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const n = Math.max(1, Math.min(sizes[k % sizes.length], bytes.length - at));
    status |= raw.feedBytes(conn, bytes.subarray(at, at + n), T0);
    at += n;
  }
  const out = raw.readAll(conn);
  const st = raw.loadStatus(conn)!;
  return { st, status, out, close: () => (raw.setLoading(conn, false), raw.close(conn)) };
}

const GOOD = cat(
  cmd('XADD', 's', '1-1', 'f', 'v'),
  cmd('SELECT', '3'),
  cmd('XADD', 't', '5-0', 'a', 'b', 'c', 'd'),
  cmd('MULTI'),
  cmd('XADD', 't', '6-0', 'a', 'b'),
  cmd('XTRIM', 't', 'MAXLEN', '1'),
  cmd('EXEC'),
  cmd('SET', 'k', 'x'.repeat(3000)),
  cmd('XREAD', 'BLOCK', '0', 'STREAMS', 't', '$'), // never blocks while loading
  cmd('SELECT', '0'),
  cmd('XADD', 's', '2-1', 'f', 'v'),
);
const GOOD_COMMANDS = 11;

describe('rv_load_status', () => {
  it('a clean file: everything consumed, no replies to drain, no errors', async () => {
    const raw = await engine();
    const { st, status, out } = load(raw, GOOD);
    expect(out.length).toBe(0);
    expect(status & FeedStatus.OUTPUT).toBe(0);
    expect(status & FeedStatus.BLOCKED).toBe(0);
    expect(st).toEqual({
      consumed: GOOD.length, commands: GOOD_COMMANDS, pending: 0, multiStart: -1, errors: 0, firstErrorAt: -1,
      protocolErrorAt: -1, nulTail: 0, inMulti: 0, errorLen: 0, protocolErrorLen: 0, reserved: 0, errorText: '', protocolErrorText: '',
    });
    run(raw, 1, 'SELECT', '3');
    expect(run(raw, 1, 'XLEN', 't')).toBe(':1\r\n');
    expect(run(raw, 1, 'TYPE', 'k')).toBe('+string\r\n');
    run(raw, 1, 'SELECT', '0');
    expect(run(raw, 1, 'XLEN', 's')).toBe(':2\r\n');
    // the record's length: fixed part plus texts
    expect(raw.exports.rv_load_status(7)).toBe(LOAD_STATUS_SIZE);
    expect(raw.loadStatus(12345)).toBeNull();
  });

  it('the same record whatever the chunking', async () => {
    const want = load(await engine(), GOOD).st;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 8 }), async (sizes) => {
        expect(load(await engine(), GOOD, sizes).st).toEqual(want);
      }),
      { numRuns: 60 },
    );
  });

  it('torn tails: an incomplete command, a MULTI without EXEC, NUL bytes', async () => {
    const tail = '*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$3\r\n9-9\r\n$1\r\nf';
    let r = load(await engine(), cat(GOOD, tail), [100]);
    expect(r.st).toMatchObject({ consumed: GOOD.length, pending: tail.length, protocolErrorAt: -1, errors: 0, inMulti: 0, nulTail: 0 });

    const multi = cat(cmd('MULTI'), cmd('XADD', 's', '9-9', 'f', 'v'), cmd('XADD', 's', '9-10', 'f', 'v'));
    const raw = await engine();
    r = load(raw, cat(GOOD, multi), [33]);
    expect(r.st).toMatchObject({ consumed: GOOD.length + multi.length, inMulti: 1, multiStart: GOOD.length, errors: 0, pending: 0, protocolErrorAt: -1 });
    r.close();
    expect(run(raw, 1, 'XLEN', 's')).toBe(':2\r\n'); // queued, never run

    r = load(await engine(), cat(GOOD, Buffer.alloc(5000)), [999]);
    expect(r.st).toMatchObject({ consumed: GOOD.length, nulTail: 5000, pending: 0, protocolErrorAt: -1, errors: 0 });
  });

  it('a corrupt middle: invalid input stops the replay at its offset', async () => {
    const at = GOOD.indexOf('*7\r\n$4\r\nXADD\r\n$1\r\nt');
    for (const [bad, why] of [
      ['!', "Protocol error: expected '*', got '!'"],
      ['\x01', "Protocol error: expected '*', got byte 0x01"],
      ['$', "Protocol error: expected '*', got '$'"],
    ] as const) {
      const bytes = Buffer.from(GOOD);
      bytes.write(bad, at, 'latin1');
      const raw = await engine();
      const r = load(raw, bytes, [17]);
      expect(r.st).toMatchObject({ protocolErrorAt: at, protocolErrorText: why, consumed: at, errors: 0 });
      expect(r.status & FeedStatus.CLOSE).toBe(FeedStatus.CLOSE);
      r.close();
      run(raw, 1, 'SELECT', '3');
      expect(run(raw, 1, 'EXISTS', 't')).toBe(':0\r\n'); // nothing after it ran
    }
    // invalid RESP inside a command, and NUL bytes followed by more data
    for (const [bytes, badAt, why] of [
      [cat(GOOD, '*2\r\n$4\r\nXLEN\r\n$x\r\n', GOOD), GOOD.length, 'Protocol error: invalid bulk length'],
      [cat(GOOD, '*2\r\n+OK\r\n'), GOOD.length, "Protocol error: expected '$', got '+'"],
      [cat(GOOD, '*abc\r\n'), GOOD.length, 'Protocol error: invalid multibulk length'],
      [cat(GOOD, Buffer.alloc(100), GOOD), GOOD.length, 'Protocol error: NUL bytes followed by more data'],
    ] as const) {
      const r = load(await engine(), bytes, [64]);
      expect(r.st).toMatchObject({ protocolErrorAt: badAt, protocolErrorText: why, consumed: badAt, commands: GOOD_COMMANDS });
      expect(raw_length(r.st)).toBe(LOAD_STATUS_SIZE + why.length);
    }
  });

  it('failing commands: counted with the first offset and text; the replay goes on', async () => {
    const failing = cmd('XADD', 's', '1-0', 'f', 'v'); // not greater than 1-1
    const exec = cat(cmd('MULTI'), cmd('SET', 'k2', 'v'), cmd('XADD', 'k2', '*', 'f', 'v'), cmd('EXEC'));
    const after = cmd('XADD', 's', '3-1', 'f', 'v');
    const bytes = cat(GOOD, failing, exec, after);
    const raw = await engine();
    const r = load(raw, bytes, [50]);
    expect(r.st).toMatchObject({
      errors: 2, firstErrorAt: GOOD.length, protocolErrorAt: -1, consumed: bytes.length, commands: GOOD_COMMANDS + 6, inMulti: 0,
      errorText: 'ERR The ID specified in XADD is equal or smaller than the target stream top item',
    });
    r.close();
    expect(run(raw, 1, 'XLEN', 's')).toBe(':3\r\n');
    // the first error inside EXEC is reported at the EXEC's offset
    const r2 = load(await engine(), cat(GOOD, exec), [50]);
    expect(r2.st).toMatchObject({ errors: 1, firstErrorAt: GOOD.length + exec.length - cmd('EXEC').length });
    expect(r2.st.errorText).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    // long texts are cut at LOAD_ERROR_TEXT_MAX
    const r3 = load(await engine(), cmd('CONFIG', 'SET', 'x'.repeat(400), 'v'), [1000]);
    expect(r3.st.errors).toBe(1);
    expect(r3.st.errorLen).toBe(LOAD_ERROR_TEXT_MAX);
    expect(r3.st.errorText).toBe(`ERR Unknown option or number of arguments for CONFIG SET - '${'x'.repeat(400)}'`.slice(0, LOAD_ERROR_TEXT_MAX));
  });

  it('rv_set_loading(conn, 1) starts over; a normal connection answers as before', async () => {
    const raw = await engine();
    raw.open(7);
    raw.setLoading(7, true);
    raw.feedBytes(7, cmd('PING'), T0);
    expect(raw.loadStatus(7)!.commands).toBe(1);
    raw.setLoading(7, false);
    expect(raw.loadStatus(7)!.commands).toBe(1); // kept after loading ends
    expect(run(raw, 7, 'PING')).toBe('+PONG\r\n');
    raw.setLoading(7, true);
    expect(raw.loadStatus(7)).toMatchObject({ commands: 0, consumed: 0 });
    // never loaded: a record of nothing
    expect(raw.loadStatus(1)).toMatchObject({ commands: 0, consumed: 0, firstErrorAt: -1, protocolErrorAt: -1, multiStart: -1 });
  });
});

function raw_length(st: { errorLen: number; protocolErrorLen: number }): number {
  return LOAD_STATUS_SIZE + st.errorLen + st.protocolErrorLen;
}

describe('rv_build_info, rv_auth_required, rv_dataset_stats', () => {
  it('build info: the snapshot format and the hash snapshots carry', async () => {
    const raw = await engine();
    const info = raw.buildInfo();
    expect(info.snapshotFormat).toBe(SNAPSHOT_FORMAT);
    const hash = /BUILD_HASH = "([0-9a-f]+)"/.exec(readFileSync(new URL('../assembly/build-info.ts', import.meta.url), 'utf8'))![1];
    expect(info.hash).toBe(hash);
    // the records' sizes as the engine lays them out (offsetof) equal the table's
    expect(raw.exports.rv_build_info()).toBe(BUILD_INFO_SIZE + hash.length);
    expect(raw.exports.rv_dataset_stats()).toBe(DATASET_STATS_SIZE);
    const snap = raw.readSnapshot();
    const head = decodeReply(snap, 0, snap.length)!.value as string[];
    expect(head.map(String)).toEqual(['RIVULET.SNAPSHOT', String(SNAPSHOT_FORMAT), hash]);
  });

  it('auth required follows requirepass, as new connections see it', async () => {
    const raw = await engine();
    const newConnectionNeedsAuth = () => {
      raw.open(50);
      const r = run(raw, 50, 'PING');
      raw.close(50);
      return r.startsWith('-NOAUTH');
    };
    expect(raw.authRequired()).toBe(false);
    expect(newConnectionNeedsAuth()).toBe(false);
    run(raw, 1, 'CONFIG', 'SET', 'requirepass', 'pw');
    expect(raw.authRequired()).toBe(true);
    expect(newConnectionNeedsAuth()).toBe(true);
    run(raw, 1, 'CONFIG', 'SET', 'requirepass', '');
    expect(raw.authRequired()).toBe(false);
    expect(newConnectionNeedsAuth()).toBe(false);
  });

  it('dataset stats equal SCAN + TYPE + XLEN over every database', async () => {
    const op = fc.oneof(
      fc.tuple(fc.constant('XADD'), fc.integer({ min: 0, max: 15 }), fc.constantFrom('a', 'b', 'c')),
      fc.tuple(fc.constant('SET'), fc.integer({ min: 0, max: 15 }), fc.constantFrom('a', 'b', 'd')),
      fc.tuple(fc.constant('DEL'), fc.integer({ min: 0, max: 15 }), fc.constantFrom('a', 'b', 'c', 'd')),
      fc.tuple(fc.constant('XTRIM'), fc.integer({ min: 0, max: 15 }), fc.constantFrom('a', 'b', 'c')),
      fc.tuple(fc.constant('XDEL'), fc.integer({ min: 0, max: 15 }), fc.constantFrom('a', 'b', 'c')),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const raw = await engine();
        for (const [name, db, key] of ops) {
          run(raw, 1, 'SELECT', String(db));
          if (name === 'XADD') run(raw, 1, 'XADD', key, '*', 'f', 'v');
          else if (name === 'SET') run(raw, 1, 'SET', key, 'v');
          else if (name === 'DEL') run(raw, 1, 'DEL', key);
          else if (name === 'XTRIM') run(raw, 1, 'XTRIM', key, 'MAXLEN', '1');
          else run(raw, 1, 'XDEL', key, `${T0}-0`, `${T0}-1`);
        }
        let keys = 0, streamKeys = 0, streamEntries = 0;
        for (let db = 0; db < 16; db++) {
          run(raw, 1, 'SELECT', String(db));
          raw.feedBytes(1, encodeCommand(['SCAN', '0', 'COUNT', '1000']), T0);
          const out = raw.readAll(1);
          const [, names] = decodeReply(out, 0, out.length)!.value as [unknown, string[]];
          for (const k of names.map(String)) {
            keys++;
            if (run(raw, 1, 'TYPE', k) === '+stream\r\n') {
              streamKeys++;
              streamEntries += Number(run(raw, 1, 'XLEN', k).slice(1));
            }
          }
        }
        expect(raw.datasetStats()).toEqual({ keys, streamKeys, streamEntries });
      }),
      { numRuns: 40 },
    );
  });
});

describe('RawEngine mirrors every export', () => {
  it('one method (or scratch property) per export of the table', () => {
    const camel = (n: string) => n.slice(3).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const proto = RawEngine.prototype as unknown as Record<string, unknown>;
    const missing = EXPORT_NAMES.filter((n) => {
      if (n === 'rv_scratch_ptr' || n === 'rv_scratch_cap') return false; // scratchPtr / scratchCap
      return typeof proto[camel(n)] !== 'function';
    });
    expect(missing).toEqual([]);
  });
});

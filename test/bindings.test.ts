// The TypeScript bindings over the real build/rivulet.wasm: API shape, the sync/async reply rule,
// blocking reads woken by another connection, timeouts, AbortSignal, pipelines beyond the scratch
// region, large values, error replies, engine close, and the env.abort poisoning path.
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  Connection,
  ConnectionClosedError,
  createEngine,
  Engine,
  EngineClosedError,
  FeedStatus,
  loadModule,
  RawEngine,
  ReplyError,
  type RivuletExports,
  type StreamEntryPairs,
} from '../bindings/entry.node.ts';
import { createImports } from '../bindings/abi.ts';

const T0 = 1_700_000_000_000;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** An engine whose clock stands still at `now.value` until a test moves it. */
async function manualClockEngine(start = T0) {
  const now = { value: start };
  const engine = await createEngine({ clock: () => now.value });
  return { engine, now };
}

describe('API shape', () => {
  it('createEngine → connect → call / callRaw → close, as in the README', async () => {
    const { engine } = await manualClockEngine();
    expect(engine).toBeInstanceOf(Engine);
    expect(engine.raw).toBeInstanceOf(RawEngine);
    expect(engine.raw.scratchCap).toBe(65536);
    const conn = engine.connect();
    expect(conn).toBeInstanceOf(Connection);

    // non-blocking commands answer synchronously (and `await` works on them too)
    const id = conn.call('XADD', 's', '*', 'temp', '23.5');
    expect(id).toBe(`${T0}-0`);
    expect(await conn.call('XADD', 's', '*', 'temp', '24')).toBe(`${T0}-1`);

    const raw = await conn.callRaw('XRANGE', 's', '-', '+');
    expect(raw).toBeInstanceOf(Uint8Array);
    expect(dec.decode(raw)).toBe(
      `*2\r\n` +
        `*2\r\n$15\r\n${T0}-0\r\n*2\r\n$4\r\ntemp\r\n$4\r\n23.5\r\n` +
        `*2\r\n$15\r\n${T0}-1\r\n*2\r\n$4\r\ntemp\r\n$2\r\n24\r\n`,
    );
    expect(conn.call('XLEN', 's')).toBe(2);
    engine.close();
    expect(engine.closed).toBe(true);
  });

  it('connections are independent and ids are reused after close', async () => {
    const { engine } = await manualClockEngine();
    const a = engine.connect();
    const b = engine.connect();
    expect(a.id).not.toBe(b.id);
    expect(engine.connections).toBe(2);
    a.close();
    expect(a.closed).toBe(true);
    expect(() => a.call('XLEN', 's')).toThrow(ConnectionClosedError);
    const c = engine.connect();
    expect(c.id).toBe(a.id);
    expect(c.call('XLEN', 's')).toBe(0);
    engine.close();
  });

  it('concurrent createEngine calls share one compiled module', async () => {
    expect(loadModule()).toBe(loadModule());
    const [e1, e2] = await Promise.all([createEngine(), createEngine()]);
    e1.connect().xadd('only-in-e1', { a: 1 });
    expect(e2.connect().xlen('only-in-e1')).toBe(0);
    e1.close();
    e2.close();
  });

  it('rejects arguments that are not strings, numbers, bigints or bytes, before sending anything', async () => {
    const { engine } = await manualClockEngine();
    const conn = engine.connect();
    expect(() => conn.call('XADD', 's', '*', 'f', undefined as unknown as string)).toThrow(TypeError);
    expect(() => conn.pipeline([['XLEN', 's'], [{} as unknown as string]])).toThrow(TypeError);
    expect(conn.call('XLEN', 's')).toBe(0);
    engine.close();
  });
});

describe('typed stream helpers', () => {
  it('xadd / xrange / xrevrange / xlen / xdel / xtrim', async () => {
    const { engine, now } = await manualClockEngine();
    const c = engine.connect();
    expect(c.xadd('s', { temp: 23.5, unit: 'C' })).toBe(`${T0}-0`);
    expect(c.xadd('s', [['k', 'v1'], ['k', 'v2']])).toBe(`${T0}-1`);
    now.value += 5;
    expect(c.xadd('s', { n: 3 }, { id: `${T0 + 5}-7` })).toBe(`${T0 + 5}-7`);
    expect(c.xadd('missing', { a: 1 }, { nomkstream: true })).toBe(null);
    expect(c.xlen('missing')).toBe(0);

    expect(await c.xrange('s')).toEqual([
      { id: `${T0}-0`, fields: { temp: '23.5', unit: 'C' } },
      { id: `${T0}-1`, fields: { k: 'v2' } },
      { id: `${T0 + 5}-7`, fields: { n: '3' } },
    ]);
    expect((c.xrange('s', '-', '+', { fieldsArray: true }) as StreamEntryPairs[])[1]).toEqual({
      id: `${T0}-1`,
      fields: [
        ['k', 'v1'],
        ['k', 'v2'],
      ],
    });
    expect(c.xrange('s', `${T0}-1`, '+', { count: 1 })).toEqual([{ id: `${T0}-1`, fields: { k: 'v2' } }]);
    expect((c.xrevrange('s', '+', '-', { count: 2 }) as { id: string }[]).map((e) => e.id)).toEqual([
      `${T0 + 5}-7`,
      `${T0}-1`,
    ]);
    expect(c.xrange('nothing')).toEqual([]);

    expect(c.xdel('s', `${T0}-1`, '999-0')).toBe(1);
    expect(c.xlen('s')).toBe(2);
    expect(c.xtrim('s', { maxlen: 1 })).toBe(1);
    expect(c.xlen('s')).toBe(1);
    expect(c.xadd('s', { x: 1 }, { maxlen: 1 })).toBe(`${T0 + 5}-8`);
    expect(c.xlen('s')).toBe(1);
    expect(c.xtrim('s', { minid: `${T0 + 6}` })).toBe(1);
    expect(() => c.xtrim('s', {})).toThrow(TypeError);
    expect(() => c.xtrim('s', { maxlen: 1, minid: '1' })).toThrow(TypeError);
    engine.close();
  });

  it('keeps 64-bit sequence numbers exact as strings', async () => {
    const { engine } = await manualClockEngine();
    const c = engine.connect();
    const id = '5-18446744073709551614';
    expect(c.xadd('s', { a: 1 }, { id })).toBe(id);
    expect((c.xrange('s') as { id: string }[])[0].id).toBe(id);
    engine.close();
  });

  it('a field named __proto__ is kept as a plain field', async () => {
    const { engine } = await manualClockEngine();
    const c = engine.connect();
    c.xadd('s', [['__proto__', 'x']]);
    const [entry] = c.xrange('s') as { fields: Record<string, string> }[];
    expect(Object.keys(entry.fields)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(entry.fields)).toBe(Object.prototype);
    engine.close();
  });

  it('xread without BLOCK answers synchronously; null when nothing is new', async () => {
    const { engine } = await manualClockEngine();
    const c = engine.connect();
    expect(c.xread({ s: '0' })).toBe(null);
    c.xadd('s', { a: 1 });
    c.xadd('t', { b: 2 });
    expect(c.xread([['s', '0'], ['t', '0']], { count: 10 })).toEqual([
      { stream: 's', entries: [{ id: `${T0}-0`, fields: { a: '1' } }] },
      { stream: 't', entries: [{ id: `${T0}-0`, fields: { b: '2' } }] },
    ]);
    engine.close();
  });
});

describe('protocol and limits', () => {
  it('helpers read RESP3 replies too (HELLO 3 maps)', async () => {
    const { engine } = await manualClockEngine();
    const c = engine.connect();
    expect(c.call('HELLO', '3')).toBeInstanceOf(Map);
    c.xadd('s', { a: 1 });
    expect(c.xread({ s: '0' })).toEqual([{ stream: 's', entries: [{ id: `${T0}-0`, fields: { a: '1' } }] }]);
    const p = c.xread({ s: '$' }, { block: 0 });
    engine.connect().xadd('s', { b: 2 });
    expect(await p).toEqual([{ stream: 's', entries: [{ id: `${T0}-1`, fields: { b: '2' } }] }]);
    engine.close();
  });

  it('maxmemory: writes beyond it fail with OOM, reads keep working', async () => {
    const engine = await createEngine({ maxmemory: 1 << 20, clock: () => T0 });
    const c = engine.connect();
    const value = 'x'.repeat(1000);
    let added = 0;
    let oom: unknown = null;
    for (let i = 0; i < 5000 && oom === null; i++) {
      try {
        c.xadd('s', { value });
        added++;
      } catch (e) {
        oom = e;
      }
    }
    expect(oom).toBeInstanceOf(ReplyError);
    expect((oom as ReplyError).message).toBe("OOM command not allowed when used memory > 'maxmemory'.");
    expect(added).toBeGreaterThan(0);
    expect(c.xlen('s')).toBe(added);
    engine.close();
  });
});

describe('effects and engine-side closes', () => {
  it('onEffects receives every write restated with concrete IDs, before the call returns', async () => {
    const chunks: string[] = [];
    const engine = await createEngine({ clock: () => T0, onEffects: (b) => chunks.push(dec.decode(b)) });
    const c = engine.connect();
    c.xadd('s', { a: 1 });
    expect(chunks.join('')).toBe(
      `*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$15\r\n${T0}-0\r\n$1\r\na\r\n$1\r\n1\r\n`,
    );
    c.xlen('s');
    expect(chunks).toHaveLength(1); // reads produce none
    engine.close();
  });

  it('effects are drained even without a listener, so capped streams stay small', async () => {
    const engine = await createEngine({ clock: () => T0 });
    const c = engine.connect();
    const before = engine.usedMemory();
    c.pipeline(Array.from({ length: 20000 }, () => ['XADD', 's', 'MAXLEN', '10', '*', 'f', 'value-value-value']));
    expect(c.xlen('s')).toBe(10);
    expect(engine.usedMemory() - before).toBeLessThan(256 * 1024);
    engine.close();
  });

  it('CLIENT KILL from another connection closes a blocked connection: its read rejects', async () => {
    const { engine } = await manualClockEngine();
    const victim = engine.connect();
    const killer = engine.connect();
    const victimId = victim.call('CLIENT', 'ID') as number;
    const p = victim.xread({ s: '$' }, { block: 0 });
    expect(killer.call('CLIENT', 'KILL', 'ID', victimId)).toBe(1);
    await expect(p).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(victim.closed).toBe(true);
    expect(engine.connections).toBe(1);
    expect(killer.xadd('s', { a: 1 })).toBe(`${T0}-0`);
    engine.close();
  });
});

describe('blocking reads', () => {
  it('a blocked XREAD is a promise resolved by another connection’s XADD', async () => {
    const { engine } = await manualClockEngine();
    const reader = engine.connect();
    const writer = engine.connect();
    const pending = reader.xread({ s: '$' }, { block: 0 });
    expect(pending).toBeInstanceOf(Promise);

    // a command sent behind the blocked one waits for it, in order
    const behind = reader.call('XLEN', 's');
    expect(behind).toBeInstanceOf(Promise);

    const id = writer.xadd('s', { temp: '23.5' });
    expect(await pending).toEqual([{ stream: 's', entries: [{ id, fields: { temp: '23.5' } }] }]);
    expect(await behind).toBe(1);
    expect(reader.call('XLEN', 's')).toBe(1); // synchronous again
    engine.close();
  });

  it('wakes waiters in FIFO order, each with the entry', async () => {
    const { engine } = await manualClockEngine();
    const readers = [engine.connect(), engine.connect(), engine.connect()];
    const order: number[] = [];
    const waits = readers.map((r, i) =>
      (r.xread({ s: '$' }, { block: 0 }) as Promise<unknown>).then((v) => {
        order.push(i);
        return v;
      }),
    );
    engine.connect().xadd('s', { n: 1 });
    const results = await Promise.all(waits);
    expect(order).toEqual([0, 1, 2]);
    for (const r of results) expect(r).toEqual([{ stream: 's', entries: [{ id: `${T0}-0`, fields: { n: '1' } }] }]);
    engine.close();
  });

  it('BLOCK times out with null: with a manual clock through engine.tick()', async () => {
    const { engine, now } = await manualClockEngine();
    const c = engine.connect();
    const p = c.xread({ s: '$' }, { block: 100 });
    expect(p).toBeInstanceOf(Promise);
    now.value += 99;
    expect(engine.tick()).toBe(0);
    now.value += 1;
    expect(engine.tick()).toBe(1);
    expect(await p).toBe(null);
    engine.close();
  });

  it('BLOCK times out with null: through the engine timer with the real clock', async () => {
    const engine = await createEngine();
    const c = engine.connect();
    const t = Date.now();
    expect(await c.xread({ s: '$' }, { block: 60 })).toBe(null);
    expect(Date.now() - t).toBeGreaterThanOrEqual(55);
    engine.close();
  });

  it('an AbortSignal cancels a blocked read; the connection stays usable', async () => {
    const { engine } = await manualClockEngine();
    const reader = engine.connect();
    const writer = engine.connect();
    const ac = new AbortController();
    const p = reader.xread({ s: '$' }, { block: 0, signal: ac.signal });
    const behind = reader.call('XLEN', 's');
    ac.abort('no longer needed');
    const err = await (p as Promise<unknown>).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).name).toBe('AbortError');
    expect((err as AbortError).cause).toBe('no longer needed');
    expect(await behind).toBe(0);

    // not parked any more: the write does not go to the cancelled read, and the reader works
    writer.xadd('s', { a: 1 });
    expect(reader.call('XLEN', 's')).toBe(1);
    expect(reader.xread({ s: '0' })).toEqual([{ stream: 's', entries: [{ id: `${T0}-0`, fields: { a: '1' } }] }]);

    // an already aborted signal: nothing is sent
    expect(() => reader.xread({ s: '$' }, { block: 0, signal: AbortSignal.abort() })).toThrow(AbortError);
    expect(reader.call('XLEN', 's')).toBe(1);
    engine.close();
  });

  it('aborting a read queued behind another blocked read releases it when its turn comes', async () => {
    const { engine } = await manualClockEngine();
    const reader = engine.connect();
    const first = reader.xread({ s: '$' }, { block: 0 });
    const ac = new AbortController();
    const second = reader.xread({ s: '$' }, { block: 0, signal: ac.signal });
    const third = reader.call('XLEN', 's');
    ac.abort();
    await expect(second).rejects.toBeInstanceOf(AbortError);
    engine.connect().xadd('s', { a: 1 });
    expect(await first).toEqual([{ stream: 's', entries: [{ id: `${T0}-0`, fields: { a: '1' } }] }]);
    expect(await third).toBe(1);
    engine.close();
  });

  it('engine.close() rejects pending reads and later calls', async () => {
    const { engine } = await manualClockEngine();
    const a = engine.connect();
    const b = engine.connect();
    const p1 = a.xread({ s: '$' }, { block: 0 });
    const p2 = b.xread({ s: '$' }, { block: 5000 });
    engine.close();
    await expect(p1).rejects.toBeInstanceOf(EngineClosedError);
    await expect(p2).rejects.toBeInstanceOf(EngineClosedError);
    expect(() => a.call('XLEN', 's')).toThrow(EngineClosedError);
    expect(() => engine.connect()).toThrow(EngineClosedError);
    engine.close(); // idempotent
  });

  it('conn.close() rejects its own pending read only', async () => {
    const { engine } = await manualClockEngine();
    const a = engine.connect();
    const b = engine.connect();
    const pa = a.xread({ s: '$' }, { block: 0 });
    const pb = b.xread({ s: '$' }, { block: 0 });
    a.close();
    await expect(pa).rejects.toBeInstanceOf(ConnectionClosedError);
    engine.connect().xadd('s', { a: 1 });
    expect(await pb).toEqual([{ stream: 's', entries: [{ id: `${T0}-0`, fields: { a: '1' } }] }]);
    engine.close();
  });
});

describe('pipelines and large values', () => {
  it('a pipeline larger than the scratch region is sent in chunks and answered in order', async () => {
    const { engine } = await manualClockEngine();
    const c = engine.connect();
    const n = 3000;
    const payload = 'v'.repeat(40);
    const cmds = Array.from({ length: n }, (_, i) => ['XADD', 's', '*', 'i', String(i), 'p', payload]);
    const bytes = cmds.reduce((sum, cmd) => sum + cmd.join('').length + 8 * cmd.length, 0);
    expect(bytes).toBeGreaterThan(2 * engine.raw.scratchCap);
    const ids = c.pipeline(cmds) as string[];
    expect(ids).toHaveLength(n);
    expect(ids[0]).toBe(`${T0}-0`);
    expect(ids[n - 1]).toBe(`${T0}-${n - 1}`);
    expect(c.xlen('s')).toBe(n);

    const raws = c.pipelineRaw([['XLEN', 's'], ['XLEN', 'none']]) as Uint8Array[];
    expect(raws.map((r) => dec.decode(r))).toEqual([`:${n}\r\n`, ':0\r\n']);
    engine.close();
  });

  it('error replies inside a pipeline are values, not thrown', async () => {
    const { engine } = await manualClockEngine();
    const c = engine.connect();
    const [a, b, d] = c.pipeline([
      ['XADD', 's', '*', 'a', '1'],
      ['XADD', 's', '0-0', 'a', '1'],
      ['XLEN', 's'],
    ]) as [string, ReplyError, number];
    expect(a).toBe(`${T0}-0`);
    expect(b).toBeInstanceOf(ReplyError);
    expect(b.message).toBe('ERR The ID specified in XADD must be greater than 0-0');
    expect(d).toBe(1);
    engine.close();
  });

  it('a pipeline with a command larger than scratch feeds it in pieces', async () => {
    const { engine } = await manualClockEngine();
    const c = engine.connect();
    const big = 'b'.repeat(3 * 65536 + 17);
    const [id1, id2, len] = c.pipeline([
      ['XADD', 's', '*', 'small', '1'],
      ['XADD', 's', '*', 'big', big],
      ['XLEN', 's'],
    ]) as [string, string, number];
    expect([id1, id2, len]).toEqual([`${T0}-0`, `${T0}-1`, 2]);
    expect((c.xrange('s', id2, id2) as { fields: Record<string, string> }[])[0].fields.big).toBe(big);
    engine.close();
  });

  it('a 200 KB value round-trips exactly (text and bytes)', async () => {
    const { engine } = await manualClockEngine();
    const c = engine.connect();
    let text = '';
    while (text.length < 200 * 1024) text += 'Rivulet ✓ 流 ' + text.length + ' ';
    const id = c.xadd('s', { text }) as string;
    const [entry] = c.xrange('s') as { id: string; fields: Record<string, string> }[];
    expect(entry.id).toBe(id);
    expect(entry.fields.text).toBe(text);

    const bin = new Uint8Array(200 * 1024);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 7919) & 255;
    const binId = c.call('XADD', 'b', '*', 'blob', bin) as string;
    const raw = c.callRaw('XRANGE', 'b', '-', '+') as Uint8Array;
    const head = enc.encode(`*1\r\n*2\r\n$${binId.length}\r\n${binId}\r\n*2\r\n$4\r\nblob\r\n$${bin.length}\r\n`);
    expect(raw.length).toBe(head.length + bin.length + 2);
    expect(Buffer.from(raw.subarray(0, head.length)).equals(Buffer.from(head))).toBe(true);
    expect(Buffer.from(raw.subarray(head.length, head.length + bin.length)).equals(Buffer.from(bin))).toBe(true);
    engine.close();
  });
});

describe('errors', () => {
  it('error replies throw ReplyError with Redis’s exact message', async () => {
    const { engine } = await manualClockEngine();
    const c = engine.connect();
    const caught = (() => {
      try {
        c.call('XADD', 's', '0-0', 'a', '1');
      } catch (e) {
        return e;
      }
    })();
    expect(caught).toBeInstanceOf(ReplyError);
    expect((caught as ReplyError).message).toBe('ERR The ID specified in XADD must be greater than 0-0');
    expect((caught as ReplyError).code).toBe('ERR');
    expect(() => c.call('XRANGE', 's', 'nope', '+')).toThrow(
      'ERR Invalid stream ID specified as stream command argument',
    );
    c.xadd('s', { a: 1 }, { id: '5-0' });
    expect(() => c.xadd('s', { a: 1 }, { id: '5-0' })).toThrow(
      'ERR The ID specified in XADD is equal or smaller than the target stream top item',
    );
    // the connection is still fine
    expect(c.xlen('s')).toBe(1);
    // ... and `await` sees the same error as a rejection
    await expect((async () => await c.call('XADD', 's', '0-0', 'a', '1'))()).rejects.toThrow(ReplyError);
    engine.close();
  });

  it('env.abort: decodes the AssemblyScript message and location', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const put = (ptr: number, s: string) => {
      const view = new DataView(memory.buffer);
      view.setUint32(ptr - 4, s.length * 2, true);
      for (let i = 0; i < s.length; i++) view.setUint16(ptr + 2 * i, s.charCodeAt(i), true);
    };
    put(64, 'index out of range');
    put(256, 'assembly/core/stream.ts');
    let seen: Error | null = null;
    const imports = createImports(
      () => memory,
      (e) => (seen = e),
    );
    const abort = (imports.env as { abort: (...a: number[]) => void }).abort;
    expect(() => abort(64, 256, 12, 34)).toThrow(
      'rivulet engine abort: index out of range at assembly/core/stream.ts:12:34',
    );
    expect(seen).toBeInstanceOf(Error);
  });

  it('an engine abort poisons the instance: pending and later calls fail with it', async () => {
    // The real engine aborts only on a bug, so drive the host loop with exports whose rv_feed aborts
    // the way an AssemblyScript module would (through env.abort) once armed.
    const module = await loadModule();
    const instanceHolder: { exports?: RivuletExports } = {};
    let armed = false;
    const imports = createImports(
      () => instanceHolder.exports?.memory,
      () => {},
    );
    const instance = await WebAssembly.instantiate(module, imports);
    const real = instance.exports as unknown as RivuletExports;
    instanceHolder.exports = real;
    const exports: RivuletExports = {
      ...real,
      memory: real.memory,
      rv_feed(conn, len, now) {
        if (armed) (imports.env as { abort: (...a: number[]) => void }).abort(0, 0, 1, 2);
        return real.rv_feed(conn, len, now);
      },
    };
    const engine = new Engine(new RawEngine(exports), { clock: () => T0 });
    const a = engine.connect();
    const b = engine.connect();
    const pending = b.xread({ s: '$' }, { block: 0 });
    armed = true;
    expect(() => a.call('XLEN', 's')).toThrow(/^rivulet engine abort: {2}at :1:2$/);
    await expect(pending).rejects.toThrow('rivulet engine abort');
    expect(() => a.call('XLEN', 's')).toThrow('rivulet engine abort');
    expect(() => engine.connect()).toThrow('rivulet engine abort');
    expect(() => engine.raw.nextDeadline()).toThrow('rivulet engine abort');
    expect(engine.closed).toBe(true);
  });
});

describe('RawEngine (thin ABI layer)', () => {
  it('mirrors the exports: open / feed / read / readyNext / nextDeadline / unblock', async () => {
    const raw = await RawEngine.instantiate(await loadModule());
    expect(raw.open(7)).toBe(0);
    expect(raw.open(7)).toBe(-1);
    expect(raw.open(8)).toBe(0);
    raw.effectsEnable(true);

    const block = enc.encode('*6\r\n$5\r\nXREAD\r\n$5\r\nBLOCK\r\n$4\r\n1000\r\n$7\r\nSTREAMS\r\n$1\r\ns\r\n$1\r\n$\r\n');
    raw.scratch().set(block);
    expect(raw.feed(7, block.length, T0) & FeedStatus.BLOCKED).toBe(FeedStatus.BLOCKED);
    expect(raw.nextDeadline()).toBe(T0 + 1000);
    expect(raw.readyNext()).toBe(-1);

    expect(raw.unblock(7, 1)).toBe(1);
    expect(dec.decode(raw.readAll(7))).toBe('-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n');
    expect(raw.unblock(7, 0)).toBe(0);
    expect(raw.nextDeadline()).toBe(-1);

    const xadd = enc.encode('*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n');
    const st = raw.feedBytes(8, xadd, T0);
    expect(st & FeedStatus.OUTPUT).toBe(FeedStatus.OUTPUT);
    expect(dec.decode(raw.readAll(8))).toBe(`$15\r\n${T0}-0\r\n`);
    expect(raw.usedMemory()).toBeGreaterThan(0);
    expect(raw.dirty()).toBeGreaterThan(0);
    expect(dec.decode(raw.effectsRead() ? raw.scratch().slice(0, 200) : new Uint8Array())).toContain(`${T0}-0`);
    const snapshot = dec.decode(raw.readSnapshot());
    expect(snapshot).toContain('RIVULET.SNAPSHOT');
    expect(snapshot).toContain(`${T0}-0`);
    raw.close(7);
    raw.close(8);
  });
});

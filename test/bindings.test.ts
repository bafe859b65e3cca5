// The in-process API over the real build/rivulet.wasm: API shape, the sync/async reply rule, the
// manual clock and engine.tick(), the real-clock timer, onEffects, engine close, and the env.abort
// poisoning path. What a command does — on any host — is in the engine-semantics suites
// (test/engine/*.suite.ts, run in-process by test/engine/in-process.test.ts and over TCP by
// test/server/engine-suites.test.ts).
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

describe('the sync / async reply rule', () => {
  it('a command that does not block answers synchronously, typed helpers included', async () => {
    const { engine } = await manualClockEngine();
    const c = engine.connect();
    expect(c.xread({ s: '0' })).toBe(null);
    expect(c.xadd('s', { a: 1 })).toBe(`${T0}-0`);
    expect(c.xread({ s: '0' })).toEqual([{ stream: 's', entries: [{ id: `${T0}-0`, fields: { a: '1' } }] }]);
    expect(c.xgroupCreate('s', 'g', '0')).toBe('OK');
    expect(c.xreadgroup('g', 'c', { s: '>' })).toEqual([{ stream: 's', entries: [{ id: `${T0}-0`, fields: { a: '1' } }] }]);
    expect(c.pipeline([['XLEN', 's'], ['PING']])).toEqual([1, 'PONG']);
    engine.close();
  });

  it('a blocked read is a Promise, and so is a call behind it; synchronous again once served', async () => {
    const { engine } = await manualClockEngine();
    const reader = engine.connect();
    const writer = engine.connect();
    const pending = reader.xread({ s: '$' }, { block: 0 });
    expect(pending).toBeInstanceOf(Promise);
    const behind = reader.call('XLEN', 's');
    expect(behind).toBeInstanceOf(Promise);
    const id = writer.xadd('s', { temp: '23.5' });
    expect(id).toBe(`${T0}-0`);
    expect(await pending).toEqual([{ stream: 's', entries: [{ id, fields: { temp: '23.5' } }] }]);
    expect(await behind).toBe(1);
    expect(reader.call('XLEN', 's')).toBe(1); // synchronous again
    engine.close();
  });

  it('error replies throw synchronously; the same error is a rejection under await', async () => {
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
    expect(() => c.xgroupCreate('nope', 'g')).toThrow(/^ERR The XGROUP subcommand requires the key to exist/);
    await expect((async () => await c.call('XADD', 's', '0-0', 'a', '1'))()).rejects.toThrow(ReplyError);
    // an already aborted signal throws at once, before anything is sent
    expect(() => c.xread({ s: '$' }, { block: 0, signal: AbortSignal.abort() })).toThrow(AbortError);
    expect(c.call('PING')).toBe('PONG');
    engine.close();
  });

  it('woken readers settle in the order they blocked (FIFO)', async () => {
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
});

describe('options, effects and clocks', () => {
  it('maxmemory is CONFIG SET maxmemory at start', async () => {
    const engine = await createEngine({ maxmemory: 1 << 20 });
    expect(engine.connect().call('CONFIG', 'GET', 'maxmemory')).toEqual(['maxmemory', String(1 << 20)]);
    engine.close();
  });

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

  it('a connection closed by CLIENT KILL leaves the engine (engine.connections)', async () => {
    const { engine } = await manualClockEngine();
    const victim = engine.connect();
    const killer = engine.connect();
    const p = victim.xread({ s: '$' }, { block: 0 });
    expect(killer.call('CLIENT', 'KILL', 'ID', victim.id)).toBe(1);
    await expect(p).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(engine.connections).toBe(1);
    engine.close();
  });
});

describe('errors', () => {
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

// The typed XADD fast path (rv_xadd_batch): same results as XADD, many entries per crossing.
import { describe, it, expect } from 'vitest';
import { createEngine } from '../bindings/entry.node.ts';
import { ReplyError } from '../bindings/resp.ts';

const T0 = 1_700_000_000_000;

describe('xaddBatch (typed fast path)', () => {
  it('returns the IDs XADD * would generate and stores the same entries', async () => {
    let now = T0;
    const engine = await createEngine({ clock: () => now });
    const c = engine.connect();
    c.call('XADD', 's', '5-0', 'a', '1');
    const ids = engine.xaddBatch(c, 's', ['temp', 'hum'], [[21.5, 40], ['22', 'x'], ['é', '']]);
    expect(ids).toEqual([`${T0}-0`, `${T0}-1`, `${T0}-2`]);
    expect(c.call('XRANGE', 's', `${T0}-0`, '+')).toEqual([
      [`${T0}-0`, ['temp', '21.5', 'hum', '40']],
      [`${T0}-1`, ['temp', '22', 'hum', 'x']],
      [`${T0}-2`, ['temp', 'é', 'hum', '']],
    ]);
    now = T0 - 10; // the clock going back never produces smaller IDs
    expect(engine.xaddBatch(c, 's', ['t'], [[1]])).toEqual([`${T0}-3`]);
    expect(c.call('XINFO', 'STREAM', 's')).toBeTruthy();
    expect(c.call('XLEN', 's')).toBe(5);
  });

  it('spans several crossings when the rows exceed the scratch region', async () => {
    const engine = await createEngine({ clock: () => T0 });
    const c = engine.connect();
    const big = 'x'.repeat(1000);
    const rows = Array.from({ length: 300 }, (_, i) => [String(i), big]);
    const ids = engine.xaddBatch(c, 'big', ['n', 'blob'], rows);
    expect(ids.length).toBe(300);
    expect(new Set(ids).size).toBe(300);
    expect(c.call('XLEN', 'big')).toBe(300);
    const last = c.call('XREVRANGE', 'big', '+', '-', 'COUNT', '1') as [string, string[]][];
    expect(last[0][0]).toBe(ids[299]);
    expect(last[0][1]).toEqual(['n', '299', 'blob', big]);
  });

  it('splits more than 4096 small rows into several crossings (IDs must fit the scratch region)', async () => {
    const engine = await createEngine({ clock: () => T0 });
    const c = engine.connect();
    const ids = engine.xaddBatch(c, 's', ['v'], Array.from({ length: 10000 }, () => ['1']));
    expect(ids.length).toBe(10000);
    expect(ids[9999]).toBe(`${T0}-9999`);
    expect(c.call('XLEN', 's')).toBe(10000);
    expect(c.call('PING')).toBe('PONG');
  });

  it('wakes blocked readers and reports WRONGTYPE and OOM like XADD', async () => {
    const engine = await createEngine({ clock: () => T0 });
    const writer = engine.connect();
    const reader = engine.connect();
    const pending = reader.call('XREAD', 'BLOCK', '0', 'STREAMS', 'q', '$');
    engine.xaddBatch(writer, 'q', ['f'], [['v1'], ['v2']]);
    expect(await pending).toEqual([['q', [[`${T0}-0`, ['f', 'v1']], [`${T0}-1`, ['f', 'v2']]]]]);
    writer.call('SET', 'str', 'x');
    expect(() => engine.xaddBatch(writer, 'str', ['f'], [['v']])).toThrow(ReplyError);
    writer.call('CONFIG', 'SET', 'maxmemory', '1');
    expect(() => engine.xaddBatch(writer, 'q', ['f'], [['v']])).toThrow(/^OOM command not allowed/);
    writer.call('CONFIG', 'SET', 'maxmemory', '0');
    expect(writer.call('XLEN', 'q')).toBe(2);
  });

  it('emits one XADD effect per entry', async () => {
    const chunks: Uint8Array[] = [];
    const engine = await createEngine({ clock: () => T0, onEffects: (b) => chunks.push(b.slice()) });
    const c = engine.connect();
    engine.xaddBatch(c, 'e', ['f'], [['1'], ['2']]);
    const text = new TextDecoder().decode(Buffer.concat(chunks));
    expect(text).toContain(`*5\r\n$4\r\nXADD\r\n$1\r\ne\r\n$15\r\n${T0}-0\r\n$1\r\nf\r\n$1\r\n1\r\n`);
    expect(text).toContain(`${T0}-1`);
  });

  it('rejects a malformed batch without changing anything', async () => {
    const engine = await createEngine({ clock: () => T0 });
    const c = engine.connect();
    const raw = engine.raw;
    const bad = new Uint8Array([1, 0, 0, 0, 115, 1, 0, 0, 0, 1, 0, 0, 0, 102, 2, 0, 0, 0, 9, 0, 0, 0]);
    raw.scratch().set(bad);
    expect(raw.xaddBatch(c.id, bad.length, T0)).toBe(-3);
    expect(c.call('EXISTS', 's')).toBe(0);
  });
});

// Stream commands through the typed helpers and raw calls, against any host: decoded and exact
// RESP replies, the stream helpers' arguments and reply shapes, 64-bit IDs, RESP3, maxmemory,
// pipelines beyond the in-process scratch region, large values, and error replies.
import { describe, expect } from 'vitest';
import { ReplyError, type StreamEntryPairs } from '../../bindings/api.ts';
import { at, attempt, sessionTest, type EngineContext, type Session } from './context.ts';

/** The in-process engine's scratch region (test/bindings.test.ts checks the figure). */
const SCRATCH = 65536;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** The millisecond part of a stream ID. */
const msOf = (id: string) => Number(id.slice(0, id.indexOf('-')));
/** Whether stream ID `b` comes after `a`. */
const after = (a: string, b: string) => {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return bm > am || (bm === am && bs > as);
};

export function streamsSuite(ctx: EngineContext): void {
  const test = (name: string, fn: (s: Session) => Promise<void>) => sessionTest(ctx, name, fn);

  describe(`streams (${ctx.name}): calls and typed helpers`, () => {
    test('call answers decoded values, callRaw the exact RESP bytes; XADD * takes the host clock', async (s) => {
      const c = await s.connect();
      expect(await c.call('XADD', 's', '5-1', 'temp', '23.5')).toBe('5-1');
      expect(await c.call('XADD', 's', '5-2', 'temp', '24')).toBe('5-2');
      const raw = await c.callRaw('XRANGE', 's', '-', '+');
      expect(raw).toBeInstanceOf(Uint8Array);
      expect(dec.decode(raw)).toBe(
        `*2\r\n` + `*2\r\n$3\r\n5-1\r\n*2\r\n$4\r\ntemp\r\n$4\r\n23.5\r\n` + `*2\r\n$3\r\n5-2\r\n*2\r\n$4\r\ntemp\r\n$2\r\n24\r\n`,
      );
      expect(await c.call('XLEN', 's')).toBe(2);
      const id = (await c.call('XADD', 'auto', '*', 'a', '1')) as string;
      expect(id).toMatch(/^\d+-0$/);
      expect(msOf(id)).toEqual(at(s, s.now()));
    });

    test('xadd / xrange / xrevrange / xlen / xdel / xtrim', async (s) => {
      const c = await s.connect();
      const first = (await c.xadd('s', { temp: 23.5, unit: 'C' }))!;
      expect(first).toMatch(/^\d+-0$/);
      expect(msOf(first)).toEqual(at(s, s.now()));
      // IDs ahead of the clock: `*` then continues their sequence
      const F = msOf(first) + 60_000;
      expect(await c.xadd('s', [['k', 'v1'], ['k', 'v2']], { id: `${F}-1` })).toBe(`${F}-1`);
      expect(await c.xadd('s', { n: 3 }, { id: `${F}-7` })).toBe(`${F}-7`);
      expect(await c.xadd('missing', { a: 1 }, { nomkstream: true })).toBe(null);
      expect(await c.xlen('missing')).toBe(0);

      expect(await c.xrange('s')).toEqual([
        { id: first, fields: { temp: '23.5', unit: 'C' } },
        { id: `${F}-1`, fields: { k: 'v2' } },
        { id: `${F}-7`, fields: { n: '3' } },
      ]);
      expect(((await c.xrange('s', '-', '+', { fieldsArray: true })) as StreamEntryPairs[])[1]).toEqual({
        id: `${F}-1`,
        fields: [
          ['k', 'v1'],
          ['k', 'v2'],
        ],
      });
      expect(await c.xrange('s', `${F}-1`, '+', { count: 1 })).toEqual([{ id: `${F}-1`, fields: { k: 'v2' } }]);
      expect((await c.xrevrange('s', '+', '-', { count: 2 })).map((e) => e.id)).toEqual([`${F}-7`, `${F}-1`]);
      expect(await c.xrange('nothing')).toEqual([]);

      expect(await c.xdel('s', `${F}-1`, '999-0')).toBe(1);
      expect(await c.xlen('s')).toBe(2);
      expect(await c.xtrim('s', { maxlen: 1 })).toBe(1);
      expect(await c.xlen('s')).toBe(1);
      expect(await c.xadd('s', { x: 1 }, { maxlen: 1 })).toBe(`${F}-8`);
      expect(await c.xlen('s')).toBe(1);
      expect(await c.xtrim('s', { minid: `${F + 1}` })).toBe(1);
      await expect(attempt(() => c.xtrim('s', {}))).rejects.toThrow(TypeError);
      await expect(attempt(() => c.xtrim('s', { maxlen: 1, minid: '1' }))).rejects.toThrow(TypeError);
    });

    test('keeps 64-bit sequence numbers exact as strings', async (s) => {
      const c = await s.connect();
      const id = '5-18446744073709551614';
      expect(await c.xadd('s', { a: 1 }, { id })).toBe(id);
      expect((await c.xrange('s'))[0].id).toBe(id);
    });

    test('a field named __proto__ is kept as a plain field', async (s) => {
      const c = await s.connect();
      await c.xadd('s', [['__proto__', 'x']]);
      const [entry] = await c.xrange('s');
      expect(Object.keys(entry.fields)).toEqual(['__proto__']);
      expect(Object.getPrototypeOf(entry.fields)).toBe(Object.prototype);
    });

    test('xread without BLOCK: null when nothing is new, one item per stream that has entries', async (s) => {
      const c = await s.connect();
      expect(await c.xread({ s: '0' })).toBe(null);
      await c.xadd('s', { a: 1 }, { id: '1-1' });
      await c.xadd('t', { b: 2 }, { id: '2-1' });
      expect(await c.xread([['s', '0'], ['t', '0']], { count: 10 })).toEqual([
        { stream: 's', entries: [{ id: '1-1', fields: { a: '1' } }] },
        { stream: 't', entries: [{ id: '2-1', fields: { b: '2' } }] },
      ]);
    });
  });

  describe(`streams (${ctx.name}): protocol and limits`, () => {
    test('helpers read RESP3 replies too (HELLO 3 maps)', async (s) => {
      const c = await s.connect();
      const other = await s.connect();
      expect(await c.call('HELLO', '3')).toBeInstanceOf(Map);
      await c.xadd('s', { a: 1 }, { id: '1-1' });
      expect(await c.xread({ s: '0' })).toEqual([{ stream: 's', entries: [{ id: '1-1', fields: { a: '1' } }] }]);
      const p = c.xread({ s: '$' }, { block: 0 });
      await s.untilBlocked(c);
      await other.xadd('s', { b: 2 }, { id: '1-2' });
      expect(await p).toEqual([{ stream: 's', entries: [{ id: '1-2', fields: { b: '2' } }] }]);
    });

    test('maxmemory: writes beyond it fail with OOM, reads keep working', async (s) => {
      const c = await s.connect();
      expect(await c.call('CONFIG', 'SET', 'maxmemory', String(1 << 20))).toBe('OK');
      const value = 'x'.repeat(1000);
      let added = 0;
      let oom: unknown = null;
      for (let i = 0; i < 5000 && oom === null; i++) {
        try {
          await c.xadd('s', { value });
          added++;
        } catch (e) {
          oom = e;
        }
      }
      expect(oom).toBeInstanceOf(ReplyError);
      expect((oom as ReplyError).message).toBe("OOM command not allowed when used memory > 'maxmemory'.");
      expect(added).toBeGreaterThan(0);
      expect(await c.xlen('s')).toBe(added);
    });
  });

  describe(`streams (${ctx.name}): pipelines and large values`, () => {
    test('a pipeline larger than the scratch region is answered in order', async (s) => {
      const c = await s.connect();
      const n = 3000;
      const payload = 'v'.repeat(40);
      const cmds = Array.from({ length: n }, (_, i) => ['XADD', 's', '*', 'i', String(i), 'p', payload]);
      const bytes = cmds.reduce((sum, cmd) => sum + cmd.join('').length + 8 * cmd.length, 0);
      expect(bytes).toBeGreaterThan(2 * SCRATCH);
      const ids = (await c.pipeline(cmds)) as string[];
      expect(ids).toHaveLength(n);
      expect(ids[0]).toMatch(/^\d+-0$/);
      // each reply is its own command's: the entries, in order, carry i = 0 … n-1 under those IDs
      const entries = await c.xrange('s');
      expect(entries.map((e) => e.id)).toEqual(ids);
      expect(entries.map((e) => e.fields.i)).toEqual(cmds.map((cmd) => cmd[4]));
      expect(await c.xlen('s')).toBe(n);

      const raws = await c.pipelineRaw([
        ['XLEN', 's'],
        ['XLEN', 'none'],
      ]);
      expect(raws.map((r) => dec.decode(r))).toEqual([`:${n}\r\n`, ':0\r\n']);
    });

    test('error replies inside a pipeline are values, not thrown', async (s) => {
      const c = await s.connect();
      const [a, b, d] = (await c.pipeline([
        ['XADD', 's', '*', 'a', '1'],
        ['XADD', 's', '0-0', 'a', '1'],
        ['XLEN', 's'],
      ])) as [string, ReplyError, number];
      expect(a).toMatch(/^\d+-0$/);
      expect(b).toBeInstanceOf(ReplyError);
      expect(b.message).toBe('ERR The ID specified in XADD must be greater than 0-0');
      expect(d).toBe(1);
    });

    test('a pipeline with a command larger than the scratch region', async (s) => {
      const c = await s.connect();
      const big = 'b'.repeat(3 * SCRATCH + 17);
      const [id1, id2, len] = (await c.pipeline([
        ['XADD', 's', '*', 'small', '1'],
        ['XADD', 's', '*', 'big', big],
        ['XLEN', 's'],
      ])) as [string, string, number];
      expect(id1).toMatch(/^\d+-0$/);
      expect(after(id1, id2)).toBe(true);
      expect(len).toBe(2);
      expect((await c.xrange('s', id2, id2))[0].fields.big).toBe(big);
    });

    test('a 200 KB value round-trips exactly (text and bytes)', async (s) => {
      const c = await s.connect();
      let text = '';
      while (text.length < 200 * 1024) text += 'Rivulet ✓ 流 ' + text.length + ' ';
      const id = await c.xadd('s', { text });
      const [entry] = await c.xrange('s');
      expect(entry.id).toBe(id);
      expect(entry.fields.text).toBe(text);

      const bin = new Uint8Array(200 * 1024);
      for (let i = 0; i < bin.length; i++) bin[i] = (i * 7919) & 255;
      const binId = (await c.call('XADD', 'b', '*', 'blob', bin)) as string;
      const raw = await c.callRaw('XRANGE', 'b', '-', '+');
      const head = enc.encode(`*1\r\n*2\r\n$${binId.length}\r\n${binId}\r\n*2\r\n$4\r\nblob\r\n$${bin.length}\r\n`);
      expect(raw.length).toBe(head.length + bin.length + 2);
      expect(Buffer.from(raw.subarray(0, head.length)).equals(Buffer.from(head))).toBe(true);
      expect(Buffer.from(raw.subarray(head.length, head.length + bin.length)).equals(Buffer.from(bin))).toBe(true);
    });
  });

  describe(`streams (${ctx.name}): errors`, () => {
    test('error replies reject with ReplyError and Redis’s exact message', async (s) => {
      const c = await s.connect();
      const caught = await attempt(() => c.call('XADD', 's', '0-0', 'a', '1')).catch((e: unknown) => e);
      expect(caught).toBeInstanceOf(ReplyError);
      expect((caught as ReplyError).message).toBe('ERR The ID specified in XADD must be greater than 0-0');
      expect((caught as ReplyError).code).toBe('ERR');
      await expect(attempt(() => c.call('XRANGE', 's', 'nope', '+'))).rejects.toThrow('ERR Invalid stream ID specified as stream command argument');
      await c.xadd('s', { a: 1 }, { id: '5-0' });
      await expect(attempt(() => c.xadd('s', { a: 1 }, { id: '5-0' }))).rejects.toThrow(
        'ERR The ID specified in XADD is equal or smaller than the target stream top item',
      );
      // the connection is still fine
      expect(await c.xlen('s')).toBe(1);
    });
  });
}

// Blocking reads against any host: XREAD BLOCK woken by another connection's write (commands sent
// behind it wait their turn), every waiter served, timeouts, AbortSignal (also for a read queued
// behind another), a connection closed while blocked, CLIENT KILL of a blocked connection.
import { describe, expect } from 'vitest';
import { AbortError, ConnectionClosedError } from '../../bindings/api.ts';
import { attempt, sessionTest, track, type EngineContext, type Session } from './context.ts';

export function blockingSuite(ctx: EngineContext): void {
  const test = (name: string, fn: (s: Session) => Promise<void>) => sessionTest(ctx, name, fn);

  describe(`blocking reads (${ctx.name})`, () => {
    test('a blocked XREAD is a promise resolved by another connection’s XADD; commands behind it wait', async (s) => {
      const reader = await s.connect();
      const writer = await s.connect();
      const pending = reader.xread({ s: '$' }, { block: 0 });
      expect(pending).toBeInstanceOf(Promise);
      // a command sent behind the blocked one waits for it, in order
      const behind = track(reader.call('XLEN', 's'));
      await s.untilBlocked(reader);
      await s.settle();
      expect(behind.done).toBe(false);

      const id = await writer.xadd('s', { temp: '23.5' });
      expect(await pending).toEqual([{ stream: 's', entries: [{ id, fields: { temp: '23.5' } }] }]);
      expect(await behind.promise).toBe(1);
      expect(await reader.call('XLEN', 's')).toBe(1);
    });

    test('every waiter on a key gets the entry', async (s) => {
      const readers = [await s.connect(), await s.connect(), await s.connect()];
      const waits = [];
      for (const r of readers) {
        waits.push(r.xread({ s: '$' }, { block: 0 }));
        await s.untilBlocked(r);
      }
      const writer = await s.connect();
      await writer.xadd('s', { n: 1 }, { id: '1-1' });
      for (const w of waits) expect(await w).toEqual([{ stream: 's', entries: [{ id: '1-1', fields: { n: '1' } }] }]);
    });

    test('BLOCK times out with null once its time has passed', async (s) => {
      const BLOCK = 400;
      const early = s.clock === 'manual' ? 1 : s.slack; // how long before the deadline to look
      const c = await s.connect();
      const t0 = s.now();
      const p = track(c.xread({ s: '$' }, { block: BLOCK }));
      await s.untilBlocked(c);
      await s.advance(BLOCK - early);
      await s.settle();
      expect(p.done).toBe(false);
      await s.advance(early);
      expect(await p.promise).toBe(null);
      expect(s.now() - t0).toBeGreaterThanOrEqual(BLOCK);
      expect(await c.call('PING')).toBe('PONG');
    });

    test('an AbortSignal cancels a blocked read; the connection stays usable', async (s) => {
      const reader = await s.connect();
      const writer = await s.connect();
      const ac = new AbortController();
      const p = track(reader.xread({ s: '$' }, { block: 0, signal: ac.signal }));
      await s.untilBlocked(reader);
      const behind = reader.call('XLEN', 's');
      ac.abort('no longer needed');
      const err = await p.promise.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AbortError);
      expect((err as AbortError).name).toBe('AbortError');
      expect((err as AbortError).cause).toBe('no longer needed');
      expect(await behind).toBe(0);

      // not parked any more: the write does not go to the cancelled read, and the reader works
      await writer.xadd('s', { a: 1 }, { id: '1-1' });
      expect(await reader.call('XLEN', 's')).toBe(1);
      expect(await reader.xread({ s: '0' })).toEqual([{ stream: 's', entries: [{ id: '1-1', fields: { a: '1' } }] }]);

      // an already aborted signal: nothing is sent
      await expect(attempt(() => reader.xread({ s: '$' }, { block: 0, signal: AbortSignal.abort() }))).rejects.toThrow(AbortError);
      expect(await reader.call('XLEN', 's')).toBe(1);
    });

    test('aborting a read queued behind another blocked read releases it when its turn comes', async (s) => {
      const reader = await s.connect();
      const first = reader.xread({ s: '$' }, { block: 0 });
      await s.untilBlocked(reader);
      const ac = new AbortController();
      const second = reader.xread({ s: '$' }, { block: 0, signal: ac.signal });
      const third = reader.call('XLEN', 's');
      ac.abort();
      await expect(second).rejects.toBeInstanceOf(AbortError);
      await (await s.connect()).xadd('s', { a: 1 }, { id: '1-1' });
      expect(await first).toEqual([{ stream: 's', entries: [{ id: '1-1', fields: { a: '1' } }] }]);
      expect(await third).toBe(1);
    });

    test('closing a connection rejects its own pending read only', async (s) => {
      const a = await s.connect();
      const b = await s.connect();
      const pa = a.xread({ s: '$' }, { block: 0 });
      const pb = b.xread({ s: '$' }, { block: 0 });
      await s.untilBlocked(a);
      await s.untilBlocked(b);
      const closing = a.close();
      await expect(pa).rejects.toBeInstanceOf(ConnectionClosedError);
      await closing;
      expect(a.closed).toBe(true);
      await (await s.connect()).xadd('s', { a: 1 }, { id: '1-1' });
      expect(await pb).toEqual([{ stream: 's', entries: [{ id: '1-1', fields: { a: '1' } }] }]);
    });

    test('CLIENT KILL from another connection closes a blocked connection: its read rejects', async (s) => {
      const victim = await s.connect();
      const killer = await s.connect();
      const victimId = (await victim.call('CLIENT', 'ID')) as number;
      expect(victimId).toBe(victim.id);
      const p = victim.xread({ s: '$' }, { block: 0 });
      await s.untilBlocked(victim);
      expect(await killer.call('CLIENT', 'KILL', 'ID', victimId)).toBe(1);
      await expect(p).rejects.toBeInstanceOf(ConnectionClosedError);
      expect(victim.closed).toBe(true);
      // the host forgot it
      expect(await killer.call('CLIENT', 'LIST', 'ID', victimId)).toBe('');
      expect(await killer.xadd('s', { a: 1 }, { id: '1-1' })).toBe('1-1');
    });
  });
}

// Consumer-group semantics through the typed helpers, against any host: a work queue with
// competing consumers on several connections (ack, a crashed consumer's entries reclaimed once they
// have been idle long enough), blocking group reads (woken by another connection, FIFO, group
// destroyed, key deleted, AbortSignal, timeout), dead-lettering by delivery count, XREADGROUP CLAIM,
// the Redis 8.x helpers, and the same decoding after HELLO 3.
//
// Idle times are small (tens to hundreds of ms) so that a real clock can sleep them; under a manual
// clock every time is compared exactly (see `about` / `at` in context.ts).
import { describe, expect, it } from 'vitest';
import { AbortError, ReplyError, type GroupRead, type StreamEntry } from '../../bindings/api.ts';
import { about, at, attempt, sessionTest, track, withoutTimes, type Conn, type EngineContext, type Session } from './context.ts';

const ids = (reads: GroupRead[] | null) => (reads ?? []).flatMap((r) => r.entries.map((e) => e.id));

export function groupsSuite(ctx: EngineContext): void {
  const test = (name: string, fn: (s: Session) => Promise<void>) => sessionTest(ctx, name, fn);

  describe(`consumer groups (${ctx.name}): competing consumers on several connections`, () => {
    test('deliver, ack, crash, and reclaim with xautoclaim once the entries are idle long enough', async (s) => {
      const SHORT = 20;
      const LONG = 300; // a claim threshold well above SHORT + any scheduling delay
      const producer = await s.connect();
      const w1 = await s.connect();
      const w2 = await s.connect();
      const w3 = await s.connect();

      expect(await producer.xgroupCreate('jobs', 'workers', '$', { mkstream: true })).toBe('OK');
      await expect(attempt(() => producer.xgroupCreate('jobs', 'workers'))).rejects.toThrow('BUSYGROUP Consumer Group name already exists');
      for (let i = 1; i <= 6; i++) await producer.xadd('jobs', { job: i }, { id: `${i}-0` });

      // competing consumers: each read takes entries nobody in the group got yet
      const r1 = await w1.xreadgroup('workers', 'alice', { jobs: '>' }, { count: 2 });
      const r2 = await w2.xreadgroup('workers', 'bob', { jobs: '>' }, { count: 3 });
      expect(r1).toEqual([
        {
          stream: 'jobs',
          entries: [
            { id: '1-0', fields: { job: '1' } },
            { id: '2-0', fields: { job: '2' } },
          ],
        },
      ]);
      expect(ids(r2)).toEqual(['3-0', '4-0', '5-0']);

      // alice acks her work; bob crashes without acking
      expect(await w1.xack('jobs', 'workers', '1-0', '2-0', '99-0')).toBe(2);
      await w2.close();
      await s.advance(SHORT);
      expect(await w3.xpending('jobs', 'workers')).toEqual({
        count: 3,
        first: '3-0',
        last: '5-0',
        consumers: [{ name: 'bob', pending: 3 }],
      });
      expect(await w3.xpendingRange('jobs', 'workers', { count: 10 })).toEqual([
        { id: '3-0', consumer: 'bob', idle: about(s, SHORT), deliveries: 1 },
        { id: '4-0', consumer: 'bob', idle: about(s, SHORT), deliveries: 1 },
        { id: '5-0', consumer: 'bob', idle: about(s, SHORT), deliveries: 1 },
      ]);

      // not idle long enough yet
      expect(await w3.xautoclaim('jobs', 'workers', 'carol', LONG, '0-0')).toEqual({ next: '0-0', entries: [], deleted: [] });
      await s.advance(LONG);
      expect((await w3.xpendingRange('jobs', 'workers', { idle: LONG })).map((p) => p.id)).toEqual(['3-0', '4-0', '5-0']);
      // one of bob's entries was deleted meanwhile: reported, and dropped from the PEL
      await producer.xdel('jobs', '4-0');
      const claimed = await w3.xautoclaim('jobs', 'workers', 'carol', LONG, '0-0', { count: 10 });
      expect(claimed).toEqual({
        next: '0-0',
        entries: [
          { id: '3-0', fields: { job: '3' } },
          { id: '5-0', fields: { job: '5' } },
        ],
        deleted: ['4-0'],
      });
      expect(await w3.xpendingRange('jobs', 'workers', { consumer: 'carol' })).toEqual([
        { id: '3-0', consumer: 'carol', idle: about(s, 0), deliveries: 2 },
        { id: '5-0', consumer: 'carol', idle: about(s, 0), deliveries: 2 },
      ]);
      expect(await w3.xack('jobs', 'workers', '3-0', '5-0')).toBe(2);

      // the rest of the queue
      expect(ids(await w1.xreadgroup('workers', 'alice', { jobs: '>' }))).toEqual(['6-0']);
      expect(await w1.xreadgroup('workers', 'alice', { jobs: '>' })).toBe(null);
      await w1.xack('jobs', 'workers', '6-0');
      expect(await w3.xpending('jobs', 'workers')).toEqual({ count: 0, first: null, last: null, consumers: [] });

      // introspection
      expect(await w3.xinfoGroups('jobs')).toEqual([
        { name: 'workers', consumers: 3, pending: 0, lastDeliveredId: '6-0', entriesRead: 6, lag: 0 },
      ]);
      expect(await w3.xinfoConsumers('jobs', 'workers')).toEqual([
        { name: 'alice', pending: 0, idle: about(s, 0) },
        { name: 'bob', pending: 0, idle: about(s, SHORT + LONG) },
        { name: 'carol', pending: 0, idle: about(s, 0) },
      ]);
      const info = await w3.xinfoStream('jobs');
      expect(info).toMatchObject({
        length: 5,
        radixTreeKeys: 1,
        lastGeneratedId: '6-0',
        maxDeletedEntryId: '4-0',
        entriesAdded: 6,
        recordedFirstEntryId: '1-0',
        groups: 1,
        firstEntry: { id: '1-0', fields: { job: '1' } },
        lastEntry: { id: '6-0', fields: { job: '6' } },
      });
      expect(typeof info.radixTreeNodes).toBe('number');
    });

    test('history reads, deleted-but-pending entries, xclaim options and XGROUP management', async (s) => {
      const c = await s.connect();
      for (let i = 1; i <= 4; i++) await c.xadd('s', { n: i }, { id: `${i}-1` });
      await expect(attempt(() => c.xgroupCreate('nope', 'g'))).rejects.toThrow(/^ERR The XGROUP subcommand requires the key to exist/);
      expect(await c.xgroupCreate('s', 'g', '0', { entriesRead: 0 })).toBe('OK');
      expect(await c.xgroupCreateConsumer('s', 'g', 'idle-one')).toBe(1);
      expect(await c.xgroupCreateConsumer('s', 'g', 'idle-one')).toBe(0);
      await c.xreadgroup('g', 'a', [['s', '>']]);
      await c.xdel('s', '2-1');
      await s.advance(10);
      // history: the consumer's own pending entries after the ID; the deleted one has fields null
      expect(await c.xreadgroup('g', 'a', { s: '0' }, { count: 3 })).toEqual([
        {
          stream: 's',
          entries: [
            { id: '1-1', fields: { n: '1' } },
            { id: '2-1', fields: null },
            { id: '3-1', fields: { n: '3' } },
          ],
        },
      ]);
      expect(await c.xreadgroup('g', 'b', { s: '0' })).toEqual([{ stream: 's', entries: [] }]);
      expect(await c.xpendingRange('s', 'g', { start: '1-1', end: '1-1' })).toEqual([
        { id: '1-1', consumer: 'a', idle: about(s, 0), deliveries: 2 },
      ]);

      // xclaim: IDLE / RETRYCOUNT, JUSTID keeps the count, FORCE creates, LASTID moves the group
      expect(await c.xclaim('s', 'g', 'b', 0, ['1-1', '2-1'], { idle: 5000, retryCount: 7 })).toEqual([
        { id: '1-1', fields: { n: '1' } },
      ]);
      expect(await c.xpendingRange('s', 'g', { consumer: 'b' })).toEqual([
        { id: '1-1', consumer: 'b', idle: about(s, 5000), deliveries: 7 },
      ]);
      expect(await c.xclaim('s', 'g', 'c', 1000, ['1-1', '3-1', '4-1'], { justId: true, time: s.now() - 3000 })).toEqual(['1-1']);
      expect(await c.xpendingRange('s', 'g', { consumer: 'c' })).toEqual([
        { id: '1-1', consumer: 'c', idle: about(s, 3000), deliveries: 7 },
      ]);
      await c.xack('s', 'g', '4-1');
      expect(await c.xclaim('s', 'g', 'c', 0, ['4-1'], { force: true, justId: true, lastId: '9-9' })).toEqual(['4-1']);
      expect((await c.xinfoGroups('s'))[0].lastDeliveredId).toBe('9-9');
      expect(await c.xautoclaim('s', 'g', 'd', 0, '-', { count: 1, justId: true })).toEqual({ next: '3-1', entries: ['1-1'], deleted: [] });

      const full = await c.xinfoStream('s', { full: true, count: 2 });
      expect(full.entries.map((e) => e.id)).toEqual(['1-1', '3-1']);
      expect(full.groups).toHaveLength(1);
      const g = full.groups[0];
      expect(g).toMatchObject({ name: 'g', lastDeliveredId: '9-9', pelCount: 3 });
      expect(g.pending).toEqual([
        { id: '1-1', consumer: 'd', deliveryTime: at(s, s.now()), deliveries: 7 },
        { id: '3-1', consumer: 'a', deliveryTime: at(s, s.now()), deliveries: 2 },
      ]);
      expect(g.consumers.map((x) => [x.name, x.pelCount])).toEqual([
        ['a', 1],
        ['b', 0],
        ['c', 1],
        ['d', 1],
        ['idle-one', 0],
      ]);
      expect(g.consumers[0]).toMatchObject({ seenTime: at(s, s.now()), pending: [{ id: '3-1', deliveryTime: at(s, s.now()), deliveries: 2 }] });

      expect(await c.xgroupSetId('s', 'g', '0', { entriesRead: 0 })).toBe('OK');
      expect(await c.xgroupDelConsumer('s', 'g', 'a')).toBe(1);
      expect(await c.xgroupDelConsumer('s', 'g', 'nobody')).toBe(0);
      await expect(attempt(() => c.xgroupDelConsumer('s', 'nogroup', 'a'))).rejects.toThrow("NOGROUP No such consumer group 'nogroup' for key name 's'");
      await expect(attempt(() => c.xpending('s', 'nogroup'))).rejects.toThrow("NOGROUP No such key 's' or consumer group 'nogroup'");
      expect(await c.xgroupDestroy('s', 'g')).toBe(1);
      expect(await c.xgroupDestroy('s', 'g')).toBe(0);
      await expect(attempt(() => c.xreadgroup('g', 'a', { s: '>' }))).rejects.toThrow(
        "NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option",
      );
    });
  });

  describe(`consumer groups (${ctx.name}): blocking group reads`, () => {
    test('a blocked xreadgroup is a promise woken by an xadd from another connection', async (s) => {
      const producer = await s.connect();
      const consumer = await s.connect();
      await producer.xgroupCreate('q', 'g', '$', { mkstream: true });
      const p = consumer.xreadgroup('g', 'c1', { q: '>' }, { block: 0 });
      expect(p).toBeInstanceOf(Promise);
      const read = track(p);
      await s.untilBlocked(consumer);
      await s.settle();
      expect(read.done).toBe(false);
      await producer.xadd('q', { task: 'x' }, { id: '7-0' });
      expect(await p).toEqual([{ stream: 'q', entries: [{ id: '7-0', fields: { task: 'x' } }] }]);
      // delivered under the group: pending for c1
      expect(await producer.xpending('q', 'g')).toMatchObject({ count: 1, consumers: [{ name: 'c1', pending: 1 }] });
    });

    test('serves blocked consumers of one group in FIFO order, one entry each', async (s) => {
      const producer = await s.connect();
      await producer.xgroupCreate('q', 'g', '$', { mkstream: true });
      const conns = [await s.connect(), await s.connect(), await s.connect()];
      const waits = [];
      for (const [i, c] of conns.entries()) {
        waits.push(track(c.xreadgroup('g', `c${i + 1}`, { q: '>' }, { block: 0 })));
        await s.untilBlocked(c); // blocked in this order
      }
      await s.settle();
      expect(waits.map((w) => w.done)).toEqual([false, false, false]);

      await producer.xadd('q', { n: 1 }, { id: '1-0' });
      await waits[0].promise;
      await s.settle();
      expect(waits.map((w) => w.done)).toEqual([true, false, false]);
      await producer.xadd('q', { n: 2 }, { id: '2-0' });
      await waits[1].promise;
      await s.settle();
      expect(waits.map((w) => w.done)).toEqual([true, true, false]);
      await producer.xadd('q', { n: 3 }, { id: '3-0' });
      await waits[2].promise;
      expect(waits.map((w) => ids(w.value as GroupRead[]))).toEqual([['1-0'], ['2-0'], ['3-0']]);
      expect((await producer.xpendingRange('q', 'g')).map((p) => [p.id, p.consumer])).toEqual([
        ['1-0', 'c1'],
        ['2-0', 'c2'],
        ['3-0', 'c3'],
      ]);
    });

    test('XGROUP DESTROY while blocked rejects with NOGROUP; DEL of the key with UNBLOCKED', async (s) => {
      const admin = await s.connect();
      const a = await s.connect();
      const b = await s.connect();
      await admin.xgroupCreate('q', 'g1', '$', { mkstream: true });
      await admin.xgroupCreate('q', 'g2', '$');
      const pa = track(a.xreadgroup('g1', 'c', { q: '>' }, { block: 0 }));
      const pb = track(b.xreadgroup('g2', 'c', { q: '>' }, { block: 0 }));
      await s.untilBlocked(a);
      await s.untilBlocked(b);

      expect(await admin.xgroupDestroy('q', 'g1')).toBe(1);
      const errA = await pa.promise.catch((e: unknown) => e);
      expect(errA).toBeInstanceOf(ReplyError);
      expect((errA as ReplyError).message).toBe('NOGROUP the consumer group this client was blocked on no longer exists');
      expect((errA as ReplyError).code).toBe('NOGROUP');
      await s.settle();
      expect(pb.done).toBe(false); // the other group's reader is still waiting

      expect(await admin.call('DEL', 'q')).toBe(1);
      const errB = await pb.promise.catch((e: unknown) => e);
      expect(errB).toBeInstanceOf(ReplyError);
      expect((errB as ReplyError).message).toBe('UNBLOCKED the stream key no longer exists');

      // both connections stay usable
      expect(await a.xlen('q')).toBe(0);
      expect(await b.call('PING')).toBe('PONG');
    });

    test('an AbortSignal cancels a blocked xreadgroup; the entry goes to the next reader, not the aborted one', async (s) => {
      const producer = await s.connect();
      const a = await s.connect();
      const b = await s.connect();
      await producer.xgroupCreate('q', 'g', '$', { mkstream: true });
      const ac = new AbortController();
      const pa = track(a.xreadgroup('g', 'ca', { q: '>' }, { block: 0, signal: ac.signal }));
      await s.untilBlocked(a);
      const pb = track(b.xreadgroup('g', 'cb', { q: '>' }, { block: 0 }));
      await s.untilBlocked(b);
      ac.abort('shutdown');
      const err = await pa.promise.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AbortError);
      expect((err as AbortError).cause).toBe('shutdown');
      // once the aborted connection answers again, the host has let go of its read
      expect(await a.call('PING')).toBe('PONG');
      await producer.xadd('q', { n: 1 }, { id: '1-0' });
      expect(ids((await pb.promise) as GroupRead[])).toEqual(['1-0']);
      // nothing was delivered to ca (a blocked read that was never served creates no consumer) ...
      expect((await a.xinfoConsumers('q', 'g')).map((c) => c.name)).toEqual(['cb']);
      // ... and the aborted connection is usable (a history read does create the consumer)
      expect(await a.xreadgroup('g', 'ca', { q: '0' })).toEqual([{ stream: 'q', entries: [] }]);
      expect((await a.xinfoConsumers('q', 'g')).map((c) => [c.name, c.pending])).toEqual([
        ['ca', 0],
        ['cb', 1],
      ]);
      // an already-aborted signal fails at once, without sending anything
      await expect(attempt(() => a.xreadgroup('g', 'ca', { q: '>' }, { block: 0, signal: AbortSignal.abort() }))).rejects.toThrow(AbortError);
      expect(await a.call('PING')).toBe('PONG');
    });

    test('BLOCK times out with null once its time has passed', async (s) => {
      const BLOCK = 500;
      const early = s.clock === 'manual' ? 1 : s.slack; // how long before the deadline to look
      const c = await s.connect();
      await c.xgroupCreate('q', 'g', '$', { mkstream: true });
      const t0 = s.now();
      const p = track(c.xreadgroup('g', 'c', { q: '>' }, { block: BLOCK }));
      await s.untilBlocked(c);
      await s.advance(BLOCK - early);
      await s.settle();
      expect(p.done).toBe(false);
      await s.advance(early);
      expect(await p.promise).toBe(null);
      expect(s.now() - t0).toBeGreaterThanOrEqual(BLOCK);
    });
  });

  describe(`consumer groups (${ctx.name}): reliability patterns`, () => {
    test('dead-letters an entry after too many deliveries', async (s) => {
      const producer = await s.connect();
      const worker = await s.connect();
      await producer.xgroupCreate('jobs', 'g', '$', { mkstream: true });
      await producer.xadd('jobs', { job: 'ok' }, { id: '1-0' });
      await producer.xadd('jobs', { job: 'poison' }, { id: '2-0' });

      const MAX_DELIVERIES = 3;
      const VISIBILITY = 30;
      const processed: string[] = [];
      const deadLettered: string[] = [];
      // a worker loop: claim what timed out, read new work, process; the poison job always "fails"
      const runOnce = async () => {
        const { entries: retried } = await worker.xautoclaim('jobs', 'g', 'w', VISIBILITY, '0-0');
        const fresh = (await worker.xreadgroup('g', 'w', { jobs: '>' }))?.[0]?.entries ?? [];
        for (const e of [...retried, ...(fresh as StreamEntry[])]) {
          const [p] = await worker.xpendingRange('jobs', 'g', { start: e.id, end: e.id, count: 1 });
          if (p.deliveries > MAX_DELIVERIES) {
            await worker.xadd('jobs:dead', { ...e.fields, from: e.id, deliveries: p.deliveries }, { id: '*' });
            await worker.xack('jobs', 'g', e.id);
            deadLettered.push(e.id);
            continue;
          }
          if (e.fields.job === 'poison') continue; // crash: no ack, it times out and comes back
          processed.push(e.id);
          await worker.xack('jobs', 'g', e.id);
        }
      };
      for (let round = 0; round < 6; round++) {
        await runOnce();
        await s.advance(VISIBILITY);
      }
      expect(processed).toEqual(['1-0']);
      expect(deadLettered).toEqual(['2-0']);
      expect((await worker.xpending('jobs', 'g')).count).toBe(0);
      const dead = await worker.xrange('jobs:dead');
      expect(dead).toHaveLength(1);
      expect(dead[0].fields).toEqual({ job: 'poison', from: '2-0', deliveries: String(MAX_DELIVERIES + 1) });
    });

    test('xreadgroup claim returns idle pending entries first, with idle and deliveries, then new ones', async (s) => {
      // 1-0 and 2-0 are delivered GAP before 3-0, and claimed once idle MIN_IDLE (> GAP + delays)
      const GAP = 250;
      const MIN_IDLE = 400;
      const c = await s.connect();
      await c.xgroupCreate('s', 'g', '$', { mkstream: true });
      await c.xadd('s', { n: 1 }, { id: '1-0' });
      await c.xadd('s', { n: 2 }, { id: '2-0' });
      await c.xreadgroup('g', 'crashed', { s: '>' });
      await s.advance(GAP);
      await c.xadd('s', { n: 3 }, { id: '3-0' });
      await c.xadd('s', { n: 4 }, { id: '4-0' });

      // not idle enough: only new entries (never delivered before: idle 0, deliveries 0)
      expect(await c.xreadgroup('g', 'w', { s: '>' }, { count: 1, claim: MIN_IDLE })).toEqual([
        { stream: 's', entries: [{ id: '3-0', fields: { n: '3' }, idle: 0, deliveries: 0 }] },
      ]);
      await s.advance(GAP); // 1-0, 2-0 idle 2 GAP >= MIN_IDLE; 3-0 idle GAP < MIN_IDLE
      const r = await c.xreadgroup('g', 'w', { s: '>' }, { count: 3, claim: MIN_IDLE });
      expect(r).toEqual([
        {
          stream: 's',
          entries: [
            { id: '1-0', fields: { n: '1' }, idle: about(s, 2 * GAP), deliveries: 1 },
            { id: '2-0', fields: { n: '2' }, idle: about(s, 2 * GAP), deliveries: 1 },
            { id: '4-0', fields: { n: '4' }, idle: 0, deliveries: 0 },
          ],
        },
      ]);
      expect(await c.xpendingRange('s', 'g', { end: '2-0' })).toEqual([
        { id: '1-0', consumer: 'w', idle: about(s, 0), deliveries: 2 },
        { id: '2-0', consumer: 'w', idle: about(s, 0), deliveries: 2 },
      ]);
      expect(await c.xpending('s', 'g')).toEqual({ count: 4, first: '1-0', last: '4-0', consumers: [{ name: 'w', pending: 4 }] });
      // nothing idle and nothing new: null
      expect(await c.xreadgroup('g', 'w', { s: '>' }, { claim: MIN_IDLE })).toBe(null);
    });

    test('Redis 8.x helpers: xackdel, xdelex, xnack, xtrim / xadd policies, xcfgset and idempotent xadd', async (s) => {
      const c = await s.connect();
      await c.xgroupCreate('s', 'g1', '$', { mkstream: true });
      await c.xgroupCreate('s', 'g2', '$');
      for (let i = 1; i <= 5; i++) await c.xadd('s', { n: i }, { id: `${i}-0` });
      await c.xreadgroup('g1', 'a', { s: '>' });
      await c.xreadgroup('g2', 'b', { s: '>' }, { count: 2 });
      await c.xack('s', 'g2', '2-0');

      // ACKED deletes only what every group has delivered and none has pending: 1-0 is pending in g2,
      // 3-0 was never delivered to g2, 2-0 is done everywhere
      expect(await c.xackdel('s', 'g1', ['1-0', '2-0', '3-0', '9-0'], { policy: 'ACKED' })).toEqual([2, 1, 2, -1]);
      expect((await c.xrange('s')).map((e) => e.id)).toEqual(['1-0', '3-0', '4-0', '5-0']);
      expect(await c.xdelex('s', ['3-0', '8-0'], { policy: 'DELREF' })).toEqual([1, -1]);
      expect((await c.xpendingRange('s', 'g2')).map((p) => p.id)).toEqual(['1-0']);
      expect(await c.xdelex('s', ['4-0'])).toEqual([1]);
      await expect(attempt(() => c.xdelex('s', []))).rejects.toThrow(TypeError);
      await expect(attempt(() => c.xackdel('s', 'g1', ['1-0'], { policy: 'NOPE' as 'ACKED' }))).rejects.toThrow(TypeError);

      // xnack gives an entry back at once: the next CLAIM read takes it whatever min-idle is
      await s.advance(20);
      expect(await c.xnack('s', 'g1', 'FAIL', ['5-0', '7-0'])).toBe(1);
      const r = await c.xreadgroup('g1', 'other', { s: '>' }, { claim: 60_000 });
      expect(r![0].entries.map((e) => [e.id, e.idle, e.deliveries])).toEqual([['5-0', -1, 1]]);
      expect((await c.xpendingRange('s', 'g1', { start: '5-0', end: '5-0' }))[0]).toMatchObject({ consumer: 'other', deliveries: 2 });
      expect(await c.xnack('s', 'g1', 'SILENT', ['5-0'], { retryCount: 0 })).toBe(1);
      expect((await c.xpendingRange('s', 'g1', { start: '5-0', end: '5-0' }))[0].deliveries).toBe(0);
      await expect(attempt(() => c.xnack('s', 'nogroup', 'FATAL', ['5-0']))).rejects.toThrow(/^NOGROUP/);
      expect(await c.xnack('s', 'g1', 'FATAL', ['5-0'])).toBe(1);
      expect((await c.xpendingRange('s', 'g1', { start: '5-0', end: '5-0' }))[0].deliveries).toBeGreaterThan(1e18);

      // trimming with DELREF drops the trimmed entries (1-0, 5-0) from the PELs; 4-0, deleted earlier
      // with the default KEEPREF, stays pending in g1 as a dangling reference
      expect(await c.xtrim('s', { maxlen: 0, policy: 'DELREF' })).toBe(2);
      expect((await c.xpendingRange('s', 'g1')).map((p) => p.id)).toEqual(['4-0']);
      expect((await c.xpending('s', 'g2')).count).toBe(0);
      expect(await c.xadd('s', { n: 6 }, { id: '6-0', maxlen: 5, policy: 'KEEPREF' })).toBe('6-0');

      // idempotent production: a repeated (producer, id) is not added again
      expect(await c.xcfgset('s', { idmpDuration: 60, idmpMaxsize: 100 })).toBe('OK');
      const first = await c.xadd('s', { n: 7 }, { idmp: { producer: 'p1', id: 'msg-1' } });
      const again = await c.xadd('s', { n: 7 }, { idmp: { producer: 'p1', id: 'msg-1' } });
      expect(again).toBe(first);
      const auto1 = await c.xadd('s', { n: 8 }, { idmp: { producer: 'p2', auto: true } });
      expect(await c.xadd('s', { n: 8 }, { idmp: { producer: 'p2', auto: true } })).toBe(auto1);
      expect(await c.xlen('s')).toBe(3);
      const info = await c.xinfoStream('s');
      expect(info).toMatchObject({ idmpDuration: 60, idmpMaxsize: 100, pidsTracked: 2 });
      expect(info.iidsDuplicates).toBe(2);
      await expect(attempt(() => c.xcfgset('missing', { idmpDuration: 10 }))).rejects.toThrow('ERR no such key');
    });
  });

  describe(`consumer groups (${ctx.name}): RESP3`, () => {
    /**
     * Runs the same scripted calls on a RESP2 and a RESP3 connection, each on a fresh dataset; the
     * typed results must agree (times aside under a real clock: two runs cannot share them).
     */
    async function both(script: (c: Conn) => Promise<unknown[]>) {
      const out: unknown[][] = [];
      for (const resp3 of [false, true]) {
        const s = await ctx.open();
        try {
          const c = await s.connect();
          if (resp3) expect(await c.call('HELLO', '3')).toBeInstanceOf(Map);
          out.push(withoutTimes(s, await script(c)));
        } finally {
          await s.close();
        }
      }
      return out;
    }

    it('every group helper decodes RESP2 and RESP3 replies to the same values', async () => {
      const [r2, r3] = await both(async (c) => {
        await c.xgroupCreate('s', 'g', '$', { mkstream: true });
        for (let i = 1; i <= 3; i++) await c.xadd('s', { n: i }, { id: `${i}-0` });
        const res: unknown[] = [];
        res.push(await c.xreadgroup('g', 'a', { s: '>' }, { count: 2 }));
        res.push(await c.xreadgroup('g', 'a', { s: '>' }, { noack: true }));
        await c.xdel('s', '1-0');
        res.push(await c.xreadgroup('g', 'a', { s: '0' }));
        res.push(await c.xreadgroup('g', 'a', { s: '>' }));
        res.push(await c.xpending('s', 'g'));
        res.push(await c.xpendingRange('s', 'g', { consumer: 'a' }));
        res.push(await c.xclaim('s', 'g', 'b', 0, ['2-0']));
        res.push(await c.xautoclaim('s', 'g', 'b', 0, '0-0'));
        res.push(await c.xinfoStream('s'));
        res.push(await c.xinfoStream('s', { full: true }));
        res.push(await c.xinfoGroups('s'));
        res.push(await c.xinfoConsumers('s', 'g'));
        res.push(await c.xreadgroup('g', 'b', { s: '>' }, { claim: 0 }));
        res.push(await c.xackdel('s', 'g', ['2-0']));
        res.push(await c.xgroupDestroy('s', 'g'));
        return res;
      });
      expect(r3).toEqual(r2);
      // spot checks of the shapes
      expect(r2[2]).toEqual([
        {
          stream: 's',
          entries: [
            { id: '1-0', fields: null },
            { id: '2-0', fields: { n: '2' } },
          ],
        },
      ]);
      expect(r2[4]).toEqual({ count: 2, first: '1-0', last: '2-0', consumers: [{ name: 'a', pending: 2 }] });
    });

    it('RESP3 nulls: empty pending summary, unknown entries-read / lag, empty stream entries', async () => {
      const [r2, r3] = await both(async (c) => {
        await c.xgroupCreate('s', 'g', '$', { mkstream: true });
        await c.xadd('s', { a: 1 }, { id: '5-0' });
        await c.xadd('s', { a: 2 }, { id: '6-0' });
        await c.xdel('s', '6-0'); // a tombstone after the group: its lag cannot be known
        await c.xgroupSetId('s', 'g', '0');
        return [await c.xpending('s', 'g'), await c.xinfoGroups('s'), await c.xinfoStream('s', { full: true }), await c.xreadgroup('g', 'x', { s: '>' })];
      });
      expect(r3).toEqual(r2);
      expect(r2[0]).toEqual({ count: 0, first: null, last: null, consumers: [] });
      expect(r2[1]).toEqual([{ name: 'g', consumers: 0, pending: 0, lastDeliveredId: '0-0', entriesRead: null, lag: null }]);
    });
  });
}

// Typed consumer-group helpers over the real build/rivulet.wasm: a work queue with competing
// consumers on several connections of one engine (ack, a crashed consumer's entries reclaimed after
// the clock moves), blocking group reads (woken by another connection, FIFO, group destroyed, key
// deleted, AbortSignal), dead-lettering by delivery count, XREADGROUP CLAIM, the Redis 8.x helpers,
// and the same decoding after HELLO 3.
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  createEngine,
  ReplyError,
  type Awaitable,
  type Connection,
  type GroupRead,
  type StreamEntry,
} from '../bindings/entry.node.ts';

const T0 = 1_700_000_000_000;

/** An engine whose clock stands still at `now.value` until a test moves it. */
async function fakeClockEngine(start = T0) {
  const now = { value: start };
  const engine = await createEngine({ clock: () => now.value });
  return { engine, now };
}

/** A reply of a command that does not block: synchronous, as the bindings promise. */
function sync<T>(v: Awaitable<T>): T {
  if (v instanceof Promise) throw new Error('expected a synchronous reply');
  return v;
}

/** Lets queued promise callbacks run (a blocked read that should still be pending stays pending). */
const settle = () => new Promise((r) => setTimeout(r, 5));

/** Tracks whether a promise settled yet. */
function track<T>(p: Promise<T> | T) {
  const s = { done: false, value: undefined as T | undefined, error: undefined as unknown };
  Promise.resolve(p).then(
    (v) => {
      s.done = true;
      s.value = v;
    },
    (e) => {
      s.done = true;
      s.error = e;
    },
  );
  return s;
}

const ids = (reads: GroupRead[] | null) => (reads ?? []).flatMap((r) => r.entries.map((e) => e.id));

describe('work queue: competing consumers on several connections', () => {
  it('deliver, ack, crash, and reclaim with xautoclaim after the clock advances', async () => {
    const { engine, now } = await fakeClockEngine();
    const producer = engine.connect();
    const w1 = engine.connect();
    const w2 = engine.connect();
    const w3 = engine.connect();

    expect(producer.xgroupCreate('jobs', 'workers', '$', { mkstream: true })).toBe('OK');
    expect(() => producer.xgroupCreate('jobs', 'workers')).toThrow('BUSYGROUP Consumer Group name already exists');
    for (let i = 1; i <= 6; i++) producer.xadd('jobs', { job: i }, { id: `${i}-0` });

    // competing consumers: each read takes entries nobody in the group got yet
    const r1 = w1.xreadgroup('workers', 'alice', { jobs: '>' }, { count: 2 }) as GroupRead[];
    const r2 = w2.xreadgroup('workers', 'bob', { jobs: '>' }, { count: 3 }) as GroupRead[];
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
    expect(w1.xack('jobs', 'workers', '1-0', '2-0', '99-0')).toBe(2);
    w2.close();
    now.value += 1000;
    expect(w3.xpending('jobs', 'workers')).toEqual({
      count: 3,
      first: '3-0',
      last: '5-0',
      consumers: [{ name: 'bob', pending: 3 }],
    });
    expect(w3.xpendingRange('jobs', 'workers', { count: 10 })).toEqual([
      { id: '3-0', consumer: 'bob', idle: 1000, deliveries: 1 },
      { id: '4-0', consumer: 'bob', idle: 1000, deliveries: 1 },
      { id: '5-0', consumer: 'bob', idle: 1000, deliveries: 1 },
    ]);

    // not idle long enough yet
    expect(w3.xautoclaim('jobs', 'workers', 'carol', 60_000, '0-0')).toEqual({ next: '0-0', entries: [], deleted: [] });
    now.value += 60_000;
    expect(sync(w3.xpendingRange('jobs', 'workers', { idle: 60_000 })).map((p) => p.id)).toEqual(['3-0', '4-0', '5-0']);
    // one of bob's entries was deleted meanwhile: reported, and dropped from the PEL
    producer.xdel('jobs', '4-0');
    const claimed = w3.xautoclaim('jobs', 'workers', 'carol', 60_000, '0-0', { count: 10 });
    expect(claimed).toEqual({
      next: '0-0',
      entries: [
        { id: '3-0', fields: { job: '3' } },
        { id: '5-0', fields: { job: '5' } },
      ],
      deleted: ['4-0'],
    });
    expect(w3.xpendingRange('jobs', 'workers', { consumer: 'carol' })).toEqual([
      { id: '3-0', consumer: 'carol', idle: 0, deliveries: 2 },
      { id: '5-0', consumer: 'carol', idle: 0, deliveries: 2 },
    ]);
    expect(w3.xack('jobs', 'workers', '3-0', '5-0')).toBe(2);

    // the rest of the queue
    expect(ids(w1.xreadgroup('workers', 'alice', { jobs: '>' }) as GroupRead[])).toEqual(['6-0']);
    expect(w1.xreadgroup('workers', 'alice', { jobs: '>' })).toBe(null);
    w1.xack('jobs', 'workers', '6-0');
    expect(w3.xpending('jobs', 'workers')).toEqual({ count: 0, first: null, last: null, consumers: [] });

    // introspection (exact times: the clock is fake)
    expect(w3.xinfoGroups('jobs')).toEqual([
      { name: 'workers', consumers: 3, pending: 0, lastDeliveredId: '6-0', entriesRead: 6, lag: 0 },
    ]);
    expect(w3.xinfoConsumers('jobs', 'workers')).toEqual([
      { name: 'alice', pending: 0, idle: 0 },
      { name: 'bob', pending: 0, idle: 61_000 },
      { name: 'carol', pending: 0, idle: 0 },
    ]);
    const info = sync(w3.xinfoStream('jobs'));
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
    engine.close();
  });

  it('history reads, deleted-but-pending entries, xclaim options and XGROUP management', async () => {
    const { engine, now } = await fakeClockEngine();
    const c = engine.connect();
    for (let i = 1; i <= 4; i++) c.xadd('s', { n: i }, { id: `${i}-1` });
    expect(() => c.xgroupCreate('nope', 'g')).toThrow(/^ERR The XGROUP subcommand requires the key to exist/);
    expect(c.xgroupCreate('s', 'g', '0', { entriesRead: 0 })).toBe('OK');
    expect(c.xgroupCreateConsumer('s', 'g', 'idle-one')).toBe(1);
    expect(c.xgroupCreateConsumer('s', 'g', 'idle-one')).toBe(0);
    c.xreadgroup('g', 'a', [['s', '>']]);
    c.xdel('s', '2-1');
    now.value += 10;
    // history: the consumer's own pending entries after the ID; the deleted one has fields null
    expect(c.xreadgroup('g', 'a', { s: '0' }, { count: 3 })).toEqual([
      {
        stream: 's',
        entries: [
          { id: '1-1', fields: { n: '1' } },
          { id: '2-1', fields: null },
          { id: '3-1', fields: { n: '3' } },
        ],
      },
    ]);
    expect(c.xreadgroup('g', 'b', { s: '0' })).toEqual([{ stream: 's', entries: [] }]);
    expect(c.xpendingRange('s', 'g', { start: '1-1', end: '1-1' })).toEqual([
      { id: '1-1', consumer: 'a', idle: 0, deliveries: 2 },
    ]);

    // xclaim: IDLE / RETRYCOUNT, JUSTID keeps the count, FORCE creates, LASTID moves the group
    expect(c.xclaim('s', 'g', 'b', 0, ['1-1', '2-1'], { idle: 5000, retryCount: 7 })).toEqual([
      { id: '1-1', fields: { n: '1' } },
    ]);
    expect(c.xpendingRange('s', 'g', { consumer: 'b' })).toEqual([{ id: '1-1', consumer: 'b', idle: 5000, deliveries: 7 }]);
    expect(c.xclaim('s', 'g', 'c', 1000, ['1-1', '3-1', '4-1'], { justId: true, time: now.value - 3000 })).toEqual(['1-1']);
    expect(c.xpendingRange('s', 'g', { consumer: 'c' })).toEqual([{ id: '1-1', consumer: 'c', idle: 3000, deliveries: 7 }]);
    c.xack('s', 'g', '4-1');
    expect(c.xclaim('s', 'g', 'c', 0, ['4-1'], { force: true, justId: true, lastId: '9-9' })).toEqual(['4-1']);
    expect((c.xinfoGroups('s') as { lastDeliveredId: string }[])[0].lastDeliveredId).toBe('9-9');
    expect(c.xautoclaim('s', 'g', 'd', 0, '-', { count: 1, justId: true })).toEqual({ next: '3-1', entries: ['1-1'], deleted: [] });

    const full = sync(c.xinfoStream('s', { full: true, count: 2 }));
    expect(full.entries.map((e) => e.id)).toEqual(['1-1', '3-1']);
    expect(full.groups).toHaveLength(1);
    const g = full.groups[0];
    expect(g).toMatchObject({ name: 'g', lastDeliveredId: '9-9', pelCount: 3 });
    expect(g.pending).toEqual([
      { id: '1-1', consumer: 'd', deliveryTime: now.value, deliveries: 7 },
      { id: '3-1', consumer: 'a', deliveryTime: now.value, deliveries: 2 },
    ]);
    expect(g.consumers.map((x) => [x.name, x.pelCount])).toEqual([
      ['a', 1],
      ['b', 0],
      ['c', 1],
      ['d', 1],
      ['idle-one', 0],
    ]);
    expect(g.consumers[0]).toMatchObject({ seenTime: now.value, pending: [{ id: '3-1', deliveryTime: now.value, deliveries: 2 }] });

    expect(c.xgroupSetId('s', 'g', '0', { entriesRead: 0 })).toBe('OK');
    expect(c.xgroupDelConsumer('s', 'g', 'a')).toBe(1);
    expect(c.xgroupDelConsumer('s', 'g', 'nobody')).toBe(0);
    expect(() => c.xgroupDelConsumer('s', 'nogroup', 'a')).toThrow("NOGROUP No such consumer group 'nogroup' for key name 's'");
    expect(() => c.xpending('s', 'nogroup')).toThrow("NOGROUP No such key 's' or consumer group 'nogroup'");
    expect(c.xgroupDestroy('s', 'g')).toBe(1);
    expect(c.xgroupDestroy('s', 'g')).toBe(0);
    expect(() => c.xreadgroup('g', 'a', { s: '>' })).toThrow(
      "NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option",
    );
    engine.close();
  });
});

describe('blocking group reads', () => {
  it('a blocked xreadgroup is a promise woken by an xadd from another connection', async () => {
    const { engine } = await fakeClockEngine();
    const producer = engine.connect();
    const consumer = engine.connect();
    producer.xgroupCreate('q', 'g', '$', { mkstream: true });
    const p = consumer.xreadgroup('g', 'c1', { q: '>' }, { block: 0 });
    expect(p).toBeInstanceOf(Promise);
    await settle();
    expect(track(p).done).toBe(false);
    producer.xadd('q', { task: 'x' }, { id: '7-0' });
    expect(await p).toEqual([{ stream: 'q', entries: [{ id: '7-0', fields: { task: 'x' } }] }]);
    // delivered under the group: pending for c1
    expect(producer.xpending('q', 'g')).toMatchObject({ count: 1, consumers: [{ name: 'c1', pending: 1 }] });
    engine.close();
  });

  it('serves blocked consumers of one group in FIFO order, one entry each', async () => {
    const { engine } = await fakeClockEngine();
    const producer = engine.connect();
    producer.xgroupCreate('q', 'g', '$', { mkstream: true });
    const conns = [1, 2, 3].map(() => engine.connect());
    const waits = conns.map((c, i) => track(c.xreadgroup('g', `c${i + 1}`, { q: '>' }, { block: 0 })));
    await settle();
    expect(waits.map((w) => w.done)).toEqual([false, false, false]);

    producer.xadd('q', { n: 1 }, { id: '1-0' });
    await settle();
    expect(waits.map((w) => w.done)).toEqual([true, false, false]);
    producer.xadd('q', { n: 2 }, { id: '2-0' });
    await settle();
    expect(waits.map((w) => w.done)).toEqual([true, true, false]);
    producer.xadd('q', { n: 3 }, { id: '3-0' });
    await settle();
    expect(waits.map((w) => ids(w.value as GroupRead[]))).toEqual([['1-0'], ['2-0'], ['3-0']]);
    expect(
      sync(producer.xpendingRange('q', 'g')).map((p) => [p.id, p.consumer]),
    ).toEqual([
      ['1-0', 'c1'],
      ['2-0', 'c2'],
      ['3-0', 'c3'],
    ]);
    engine.close();
  });

  it('XGROUP DESTROY while blocked rejects with NOGROUP; DEL of the key with UNBLOCKED', async () => {
    const { engine } = await fakeClockEngine();
    const admin = engine.connect();
    const a = engine.connect();
    const b = engine.connect();
    admin.xgroupCreate('q', 'g1', '$', { mkstream: true });
    admin.xgroupCreate('q', 'g2', '$');
    const pa = a.xreadgroup('g1', 'c', { q: '>' }, { block: 0 }) as Promise<GroupRead[] | null>;
    const pb = b.xreadgroup('g2', 'c', { q: '>' }, { block: 0 }) as Promise<GroupRead[] | null>;
    const ea = pa.catch((e: unknown) => e);
    const eb = pb.catch((e: unknown) => e);

    expect(admin.xgroupDestroy('q', 'g1')).toBe(1);
    const errA = await ea;
    expect(errA).toBeInstanceOf(ReplyError);
    expect((errA as ReplyError).message).toBe('NOGROUP the consumer group this client was blocked on no longer exists');
    expect((errA as ReplyError).code).toBe('NOGROUP');
    await settle();
    expect(track(pb).done).toBe(false); // the other group's reader is still waiting

    expect(admin.call('DEL', 'q')).toBe(1);
    const errB = await eb;
    expect(errB).toBeInstanceOf(ReplyError);
    expect((errB as ReplyError).message).toBe('UNBLOCKED the stream key no longer exists');

    // both connections stay usable
    expect(a.xlen('q')).toBe(0);
    expect(b.call('PING')).toBe('PONG');
    engine.close();
  });

  it('an AbortSignal cancels a blocked xreadgroup; the entry goes to the next reader, not the aborted one', async () => {
    const { engine } = await fakeClockEngine();
    const producer = engine.connect();
    const a = engine.connect();
    const b = engine.connect();
    producer.xgroupCreate('q', 'g', '$', { mkstream: true });
    const ac = new AbortController();
    const pa = a.xreadgroup('g', 'ca', { q: '>' }, { block: 0, signal: ac.signal }) as Promise<unknown>;
    const pb = b.xreadgroup('g', 'cb', { q: '>' }, { block: 0 }) as Promise<GroupRead[] | null>;
    ac.abort('shutdown');
    const err = await pa.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).cause).toBe('shutdown');
    producer.xadd('q', { n: 1 }, { id: '1-0' });
    expect(ids(await pb)).toEqual(['1-0']);
    // nothing was delivered to ca (a blocked read that was never served creates no consumer) ...
    expect(sync(a.xinfoConsumers('q', 'g')).map((c) => c.name)).toEqual(['cb']);
    // ... and the aborted connection is usable (a history read does create the consumer)
    expect(a.xreadgroup('g', 'ca', { q: '0' })).toEqual([{ stream: 'q', entries: [] }]);
    expect(sync(a.xinfoConsumers('q', 'g')).map((c) => [c.name, c.pending])).toEqual([
      ['ca', 0],
      ['cb', 1],
    ]);
    // an already-aborted signal throws at once
    expect(() => a.xreadgroup('g', 'ca', { q: '>' }, { block: 0, signal: AbortSignal.abort() })).toThrow(AbortError);
    engine.close();
  });

  it('BLOCK times out with null under a fake clock (engine.tick)', async () => {
    const { engine, now } = await fakeClockEngine();
    const c = engine.connect();
    c.xgroupCreate('q', 'g', '$', { mkstream: true });
    const p = c.xreadgroup('g', 'c', { q: '>' }, { block: 500 });
    now.value += 499;
    engine.tick();
    await settle();
    expect(track(p).done).toBe(false);
    now.value += 1;
    engine.tick();
    expect(await p).toBe(null);
    engine.close();
  });
});

describe('reliability patterns', () => {
  it('dead-letters an entry after too many deliveries', async () => {
    const { engine, now } = await fakeClockEngine();
    const producer = engine.connect();
    const worker = engine.connect();
    producer.xgroupCreate('jobs', 'g', '$', { mkstream: true });
    producer.xadd('jobs', { job: 'ok' }, { id: '1-0' });
    producer.xadd('jobs', { job: 'poison' }, { id: '2-0' });

    const MAX_DELIVERIES = 3;
    const VISIBILITY = 30_000;
    const processed: string[] = [];
    const deadLettered: string[] = [];
    // a worker loop: claim what timed out, read new work, process; the poison job always "fails"
    const runOnce = () => {
      const { entries: retried } = sync(worker.xautoclaim('jobs', 'g', 'w', VISIBILITY, '0-0'));
      const fresh = (worker.xreadgroup('g', 'w', { jobs: '>' }) as GroupRead[] | null)?.[0]?.entries ?? [];
      for (const e of [...retried, ...(fresh as StreamEntry[])]) {
        const [p] = sync(worker.xpendingRange('jobs', 'g', { start: e.id, end: e.id, count: 1 }));
        if (p.deliveries > MAX_DELIVERIES) {
          worker.xadd('jobs:dead', { ...e.fields, from: e.id, deliveries: p.deliveries }, { id: '*' });
          worker.xack('jobs', 'g', e.id);
          deadLettered.push(e.id);
          continue;
        }
        if (e.fields.job === 'poison') continue; // crash: no ack, it times out and comes back
        processed.push(e.id);
        worker.xack('jobs', 'g', e.id);
      }
    };
    for (let round = 0; round < 6; round++) {
      runOnce();
      now.value += VISIBILITY;
    }
    expect(processed).toEqual(['1-0']);
    expect(deadLettered).toEqual(['2-0']);
    expect(sync(worker.xpending('jobs', 'g')).count).toBe(0);
    const dead = worker.xrange('jobs:dead') as StreamEntry[];
    expect(dead).toHaveLength(1);
    expect(dead[0].fields).toEqual({ job: 'poison', from: '2-0', deliveries: String(MAX_DELIVERIES + 1) });
    engine.close();
  });

  it('xreadgroup claim returns idle pending entries first, with idle and deliveries, then new ones', async () => {
    const { engine, now } = await fakeClockEngine();
    const c = engine.connect();
    c.xgroupCreate('s', 'g', '$', { mkstream: true });
    c.xadd('s', { n: 1 }, { id: '1-0' });
    c.xadd('s', { n: 2 }, { id: '2-0' });
    c.xreadgroup('g', 'crashed', { s: '>' });
    now.value += 10_000;
    c.xadd('s', { n: 3 }, { id: '3-0' });
    c.xadd('s', { n: 4 }, { id: '4-0' });

    // not idle enough: only new entries (never delivered before: idle 0, deliveries 0)
    expect(c.xreadgroup('g', 'w', { s: '>' }, { count: 1, claim: 20_000 })).toEqual([
      { stream: 's', entries: [{ id: '3-0', fields: { n: '3' }, idle: 0, deliveries: 0 }] },
    ]);
    now.value += 15_000; // 1-0, 2-0 idle 25 s; 3-0 idle 15 s
    const r = c.xreadgroup('g', 'w', { s: '>' }, { count: 3, claim: 20_000 });
    expect(r).toEqual([
      {
        stream: 's',
        entries: [
          { id: '1-0', fields: { n: '1' }, idle: 25_000, deliveries: 1 },
          { id: '2-0', fields: { n: '2' }, idle: 25_000, deliveries: 1 },
          { id: '4-0', fields: { n: '4' }, idle: 0, deliveries: 0 },
        ],
      },
    ]);
    expect(c.xpendingRange('s', 'g', { end: '2-0' })).toEqual([
      { id: '1-0', consumer: 'w', idle: 0, deliveries: 2 },
      { id: '2-0', consumer: 'w', idle: 0, deliveries: 2 },
    ]);
    expect(c.xpending('s', 'g')).toEqual({ count: 4, first: '1-0', last: '4-0', consumers: [{ name: 'w', pending: 4 }] });
    // nothing idle and nothing new: null
    expect(c.xreadgroup('g', 'w', { s: '>' }, { claim: 20_000 })).toBe(null);
    engine.close();
  });

  it('Redis 8.x helpers: xackdel, xdelex, xnack, xtrim / xadd policies, xcfgset and idempotent xadd', async () => {
    const { engine, now } = await fakeClockEngine();
    const c = engine.connect();
    c.xgroupCreate('s', 'g1', '$', { mkstream: true });
    c.xgroupCreate('s', 'g2', '$');
    for (let i = 1; i <= 5; i++) c.xadd('s', { n: i }, { id: `${i}-0` });
    c.xreadgroup('g1', 'a', { s: '>' });
    c.xreadgroup('g2', 'b', { s: '>' }, { count: 2 });
    c.xack('s', 'g2', '2-0');

    // ACKED deletes only what every group has delivered and none has pending: 1-0 is pending in g2,
    // 3-0 was never delivered to g2, 2-0 is done everywhere
    expect(c.xackdel('s', 'g1', ['1-0', '2-0', '3-0', '9-0'], { policy: 'ACKED' })).toEqual([2, 1, 2, -1]);
    expect(sync(c.xrange('s')).map((e) => e.id)).toEqual(['1-0', '3-0', '4-0', '5-0']);
    expect(c.xdelex('s', ['3-0', '8-0'], { policy: 'DELREF' })).toEqual([1, -1]);
    expect(sync(c.xpendingRange('s', 'g2')).map((p) => p.id)).toEqual(['1-0']);
    expect(c.xdelex('s', ['4-0'])).toEqual([1]);
    expect(() => c.xdelex('s', [])).toThrow(TypeError);
    expect(() => c.xackdel('s', 'g1', ['1-0'], { policy: 'NOPE' as 'ACKED' })).toThrow(TypeError);

    // xnack gives an entry back at once: the next CLAIM read takes it whatever min-idle is
    now.value += 100;
    expect(c.xnack('s', 'g1', 'FAIL', ['5-0', '7-0'])).toBe(1);
    const r = c.xreadgroup('g1', 'other', { s: '>' }, { claim: 60_000 }) as GroupRead[];
    expect(r[0].entries.map((e) => [e.id, e.idle, e.deliveries])).toEqual([['5-0', -1, 1]]);
    expect(sync(c.xpendingRange('s', 'g1', { start: '5-0', end: '5-0' }))[0]).toMatchObject({ consumer: 'other', deliveries: 2 });
    expect(c.xnack('s', 'g1', 'SILENT', ['5-0'], { retryCount: 0 })).toBe(1);
    expect(sync(c.xpendingRange('s', 'g1', { start: '5-0', end: '5-0' }))[0].deliveries).toBe(0);
    expect(() => c.xnack('s', 'nogroup', 'FATAL', ['5-0'])).toThrow(/^NOGROUP/);
    expect(c.xnack('s', 'g1', 'FATAL', ['5-0'])).toBe(1);
    expect(sync(c.xpendingRange('s', 'g1', { start: '5-0', end: '5-0' }))[0].deliveries).toBeGreaterThan(1e18);

    // trimming with DELREF drops the trimmed entries (1-0, 5-0) from the PELs; 4-0, deleted earlier
    // with the default KEEPREF, stays pending in g1 as a dangling reference
    expect(c.xtrim('s', { maxlen: 0, policy: 'DELREF' })).toBe(2);
    expect(sync(c.xpendingRange('s', 'g1')).map((p) => p.id)).toEqual(['4-0']);
    expect(sync(c.xpending('s', 'g2')).count).toBe(0);
    expect(c.xadd('s', { n: 6 }, { id: '6-0', maxlen: 5, policy: 'KEEPREF' })).toBe('6-0');

    // idempotent production: a repeated (producer, id) is not added again
    expect(c.xcfgset('s', { idmpDuration: 60, idmpMaxsize: 100 })).toBe('OK');
    const first = c.xadd('s', { n: 7 }, { idmp: { producer: 'p1', id: 'msg-1' } });
    const again = c.xadd('s', { n: 7 }, { idmp: { producer: 'p1', id: 'msg-1' } });
    expect(again).toBe(first);
    const auto1 = c.xadd('s', { n: 8 }, { idmp: { producer: 'p2', auto: true } });
    expect(c.xadd('s', { n: 8 }, { idmp: { producer: 'p2', auto: true } })).toBe(auto1);
    expect(c.xlen('s')).toBe(3);
    const info = sync(c.xinfoStream('s'));
    expect(info).toMatchObject({ idmpDuration: 60, idmpMaxsize: 100, pidsTracked: 2 });
    expect(info.iidsDuplicates).toBe(2);
    expect(() => c.xcfgset('missing', { idmpDuration: 10 })).toThrow('ERR no such key');
    engine.close();
  });
});

describe('RESP3', () => {
  /** Runs the same scripted calls on a RESP2 and a RESP3 connection; the typed results must agree. */
  async function both(script: (c: Connection) => unknown[]) {
    const out: unknown[][] = [];
    for (const resp3 of [false, true]) {
      const { engine } = await fakeClockEngine();
      const c = engine.connect();
      if (resp3) expect(c.call('HELLO', '3')).toBeInstanceOf(Map);
      out.push(script(c));
      engine.close();
    }
    return out;
  }

  it('every group helper decodes RESP2 and RESP3 replies to the same values', async () => {
    const [r2, r3] = await both((c) => {
      c.xgroupCreate('s', 'g', '$', { mkstream: true });
      for (let i = 1; i <= 3; i++) c.xadd('s', { n: i }, { id: `${i}-0` });
      const res: unknown[] = [];
      res.push(c.xreadgroup('g', 'a', { s: '>' }, { count: 2 }));
      res.push(c.xreadgroup('g', 'a', { s: '>' }, { noack: true }));
      c.xdel('s', '1-0');
      res.push(c.xreadgroup('g', 'a', { s: '0' }));
      res.push(c.xreadgroup('g', 'a', { s: '>' }));
      res.push(c.xpending('s', 'g'));
      res.push(c.xpendingRange('s', 'g', { consumer: 'a' }));
      res.push(c.xclaim('s', 'g', 'b', 0, ['2-0']));
      res.push(c.xautoclaim('s', 'g', 'b', 0, '0-0'));
      res.push(c.xinfoStream('s'));
      res.push(c.xinfoStream('s', { full: true }));
      res.push(c.xinfoGroups('s'));
      res.push(c.xinfoConsumers('s', 'g'));
      res.push(c.xreadgroup('g', 'b', { s: '>' }, { claim: 0 }));
      res.push(c.xackdel('s', 'g', ['2-0']));
      res.push(c.xgroupDestroy('s', 'g'));
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
    const [r2, r3] = await both((c) => {
      c.xgroupCreate('s', 'g', '$', { mkstream: true });
      c.xadd('s', { a: 1 }, { id: '5-0' });
      c.xadd('s', { a: 2 }, { id: '6-0' });
      c.xdel('s', '6-0'); // a tombstone after the group: its lag cannot be known
      c.xgroupSetId('s', 'g', '0');
      return [c.xpending('s', 'g'), c.xinfoGroups('s'), c.xinfoStream('s', { full: true }), c.xreadgroup('g', 'x', { s: '>' })];
    });
    expect(r3).toEqual(r2);
    expect(r2[0]).toEqual({ count: 0, first: null, last: null, consumers: [] });
    expect(r2[1]).toEqual([{ name: 'g', consumers: 0, pending: 0, lastDeliveredId: '0-0', entriesRead: null, lag: null }]);
  });
});

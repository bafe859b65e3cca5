/**
 * Typed consumer-group helpers on a connection (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM,
 * XAUTOCLAIM, XINFO, and the newer XACKDEL / XDELEX / XNACK / XCFGSET). Like the stream helpers they
 * only build arguments and reshape replies; every rule and every error is the engine's (error
 * replies come back unchanged as `ReplyError`, e.g. `NOGROUP …`, `BUSYGROUP …`).
 *
 * Replies are decoded from RESP2 and RESP3 alike (after `HELLO 3` maps arrive as maps and nulls as
 * `_`). Stream IDs are strings; counts, times and idle times are numbers (a count beyond 2^53, such
 * as the delivery count XNACK FATAL sets, is rounded to the nearest double).
 */
import type { CommandArg, RespValue } from './resp.js';
import {
  StreamCommands,
  checkPolicy,
  mapAwaitable,
  toEntry,
  type Awaitable,
  type CallOptions,
  type DeletionPolicy,
  type StreamEntry,
} from './streams.js';

// ---------------------------------------------------------------------------------------------
// types
// ---------------------------------------------------------------------------------------------

/** Options of {@link GroupCommands.xgroupCreate}. */
export interface XGroupCreateOptions {
  /** `MKSTREAM`: create an empty stream when the key does not exist. */
  mkstream?: boolean;
  /** `ENTRIESREAD n`: entries of the stream the group has already read (for `lag`); -1 = unknown. */
  entriesRead?: number;
}

/** Options of {@link GroupCommands.xgroupSetId}. */
export interface XGroupSetIdOptions {
  /** `ENTRIESREAD n`; omitted, Redis resets the counter to unknown. */
  entriesRead?: number;
}

/** The streams of a group read: each key with the ID to read after (`'>'` = never delivered). */
export type GroupStreams = Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;

/** Options of {@link GroupCommands.xreadgroup}. */
export interface XReadGroupOptions extends CallOptions {
  /** `COUNT n`: at most n entries per stream (claimed and new entries share it). */
  count?: number;
  /** `BLOCK ms`: wait up to ms milliseconds (0 = forever) for new entries (`>` reads only). */
  block?: number;
  /** `NOACK`: deliver without adding the entries to the pending lists. */
  noack?: boolean;
  /**
   * `CLAIM min-idle-ms` (Redis 8.4): first take over pending entries of the group idle at least this
   * long (oldest delivery first), then read new ones. Entries then carry `idle` and `deliveries`.
   */
  claim?: number;
}

/**
 * One entry delivered to a consumer. `fields` is null for an entry still pending in the consumer's
 * history but deleted from the stream. With `claim` (Redis 8.4) every entry also carries `idle` (ms
 * since its previous delivery; -1 for an entry released with XNACK) and `deliveries` (how many
 * times it was delivered before this read): 0 and 0 for new entries.
 */
export interface GroupEntry {
  id: string;
  fields: Record<string, string> | null;
  idle?: number;
  deliveries?: number;
}

/** The entries read from one stream by a group read. */
export interface GroupRead {
  stream: string;
  entries: GroupEntry[];
}

/** XPENDING summary: pending entries of a group. */
export interface PendingSummary {
  /** Number of pending entries. */
  count: number;
  /** Smallest / greatest pending ID (null when nothing is pending). */
  first: string | null;
  last: string | null;
  /** Consumers with pending entries, in name order. */
  consumers: { name: string; pending: number }[];
}

/** Options of {@link GroupCommands.xpendingRange}. */
export interface XPendingRangeOptions {
  /** Lowest ID (default `'-'`; `'(id'` = exclusive). */
  start?: string;
  /** Highest ID (default `'+'`). */
  end?: string;
  /** At most this many entries (default 100). */
  count?: number;
  /** `IDLE ms`: only entries idle at least this long. */
  idle?: number;
  /** Only this consumer's entries. */
  consumer?: string;
}

/** One pending entry (XPENDING extended form). */
export interface PendingEntry {
  id: string;
  consumer: string;
  /** Milliseconds since it was last delivered. */
  idle: number;
  /** Times it was delivered. */
  deliveries: number;
}

/** Options of {@link GroupCommands.xclaim}. */
export interface XClaimOptions {
  /** `IDLE ms`: set the entries' idle time (their delivery time becomes now − ms). */
  idle?: number;
  /** `TIME unix-ms`: set the delivery time. */
  time?: number;
  /** `RETRYCOUNT n`: set the delivery count. */
  retryCount?: number;
  /** `FORCE`: create pending entries for IDs no consumer has pending (if the entry exists). */
  force?: boolean;
  /** `JUSTID`: return IDs only, without incrementing delivery counts. */
  justId?: boolean;
  /** `LASTID id`: move the group's last-delivered ID forward to id. */
  lastId?: string;
}

/** Options of {@link GroupCommands.xautoclaim}. */
export interface XAutoClaimOptions {
  /** `COUNT n`: claim at most n entries (default 100). */
  count?: number;
  /** `JUSTID`: return IDs only, without incrementing delivery counts. */
  justId?: boolean;
}

/** XAUTOCLAIM's reply. */
export interface AutoClaimResult<E> {
  /** The cursor to pass as `start` next time; `'0-0'` when the scan reached the end. */
  next: string;
  /** The claimed entries (IDs with `justId`). */
  entries: E[];
  /** IDs that were pending but no longer exist in the stream (dropped from the PEL). */
  deleted: string[];
}

/** XINFO STREAM: fields every form has. */
export interface StreamInfoBase {
  length: number;
  radixTreeKeys: number;
  radixTreeNodes: number;
  lastGeneratedId: string;
  maxDeletedEntryId: string;
  entriesAdded: number;
  recordedFirstEntryId: string;
  /** Idempotent production state (Redis 8.6), present once the stream uses it. */
  idmpDuration?: number;
  idmpMaxsize?: number;
  pidsTracked?: number;
  iidsTracked?: number;
  iidsAdded?: number;
  iidsDuplicates?: number;
}

/** `XINFO STREAM key`. */
export interface StreamInfo extends StreamInfoBase {
  /** Number of consumer groups. */
  groups: number;
  firstEntry: StreamEntry | null;
  lastEntry: StreamEntry | null;
}

/** `XINFO STREAM key FULL`. */
export interface StreamInfoFull extends StreamInfoBase {
  entries: StreamEntry[];
  groups: GroupInfoFull[];
}

/** One group in `XINFO STREAM key FULL`. */
export interface GroupInfoFull {
  name: string;
  lastDeliveredId: string;
  entriesRead: number | null;
  lag: number | null;
  pelCount: number;
  pending: { id: string; consumer: string; deliveryTime: number; deliveries: number }[];
  consumers: ConsumerInfoFull[];
}

/** One consumer in `XINFO STREAM key FULL`. */
export interface ConsumerInfoFull {
  name: string;
  /** Unix ms of the consumer's last interaction. */
  seenTime: number;
  /** Unix ms of its last successful read or claim (Redis 7.2+ servers only). */
  activeTime?: number;
  pelCount: number;
  pending: { id: string; deliveryTime: number; deliveries: number }[];
}

/** Options of {@link GroupCommands.xinfoStream}. */
export interface XInfoStreamOptions {
  /** `FULL`: entries, groups, consumers and their pending lists. */
  full?: boolean;
  /** `COUNT n` with `full`: at most n entries / pending items per list (default 10, 0 = all). */
  count?: number;
}

/** One group in `XINFO GROUPS key`. */
export interface GroupInfo {
  name: string;
  consumers: number;
  pending: number;
  lastDeliveredId: string;
  /** Entries of the stream the group has read, null when unknown. */
  entriesRead: number | null;
  /** Entries not yet delivered to the group, null when unknown. */
  lag: number | null;
}

/** One consumer in `XINFO CONSUMERS key group`. */
export interface ConsumerInfo {
  name: string;
  pending: number;
  /** Milliseconds since the consumer's last interaction. */
  idle: number;
  /** Milliseconds since its last successful read or claim (Redis 7.2+ servers only). */
  inactive?: number;
}

/** XNACK modes (Redis 8.8): SILENT decrements the delivery count, FAIL keeps it, FATAL maxes it. */
export type NackMode = 'SILENT' | 'FAIL' | 'FATAL';

/** Options of {@link GroupCommands.xnack}. */
export interface XNackOptions {
  /** `RETRYCOUNT n`: set the delivery count instead. */
  retryCount?: number;
  /** `FORCE`: also release IDs that are not pending (creating unowned pending entries). */
  force?: boolean;
}

/** Options of {@link GroupCommands.xackdel} / {@link GroupCommands.xdelex}. */
export interface PolicyOptions {
  /** `KEEPREF` (default), `DELREF` or `ACKED`. */
  policy?: DeletionPolicy;
}

/** Options of {@link GroupCommands.xcfgset}. */
export interface XCfgSetOptions {
  /** `IDMP-DURATION s` (1–86400): how long a producer's IDs are remembered. */
  idmpDuration?: number;
  /** `IDMP-MAXSIZE n` (1–10000): IDs remembered per producer. */
  idmpMaxsize?: number;
}

// ---------------------------------------------------------------------------------------------
// reply decoding (RESP2 and RESP3)
// ---------------------------------------------------------------------------------------------

/** An integer reply as a number (bigints beyond 2^53 rounded; numeric strings parsed). */
function num(v: RespValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return Number(v);
  return NaN;
}

function numOrNull(v: RespValue): number | null {
  return v === null ? null : num(v);
}

function str(v: RespValue): string {
  return v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v);
}

function strOrNull(v: RespValue): string | null {
  return v === null ? null : str(v);
}

function list(v: RespValue): RespValue[] {
  return Array.isArray(v) ? v : [];
}

/** A RESP3 map or a RESP2 flat `[k1, v1, k2, v2, …]` array as a Map with string keys. */
function asMap(v: RespValue): Map<string, RespValue> {
  const out = new Map<string, RespValue>();
  if (v instanceof Map) {
    for (const [k, x] of v) out.set(str(k), x);
  } else if (Array.isArray(v)) {
    for (let i = 0; i + 1 < v.length; i += 2) out.set(str(v[i]), v[i + 1]);
  }
  return out;
}

/** `radix-tree-keys` → `radixTreeKeys`. */
function camel(k: string): string {
  return k.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function setKey(obj: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
  else obj[k] = v;
}

/**
 * A map reply as an object with camelCase keys: fields named in `convert` go through their
 * converter, other integers become numbers, other values stay as decoded (so fields a newer server
 * adds still come through).
 */
function toObject<T>(v: RespValue, convert: Record<string, (x: RespValue) => unknown>): T {
  const obj: Record<string, unknown> = {};
  for (const [k, x] of asMap(v)) {
    const f = Object.prototype.hasOwnProperty.call(convert, k) ? convert[k] : undefined;
    setKey(obj, camel(k), f ? f(x) : typeof x === 'bigint' ? Number(x) : x);
  }
  return obj as T;
}

function entryOrNull(v: RespValue): StreamEntry | null {
  return v === null ? null : (toEntry(v, false) as StreamEntry);
}

function entries(v: RespValue): StreamEntry[] {
  return list(v)
    .filter((x) => x !== null)
    .map((x) => toEntry(x, false) as StreamEntry);
}

/** `[id, fields | nil]` or, for entries taken by CLAIM, `[id, fields, idle, deliveries]`. */
function groupEntry(item: RespValue): GroupEntry {
  const a = item as RespValue[];
  const e: GroupEntry =
    a[1] === null ? { id: str(a[0]), fields: null } : (toEntry(a, false) as StreamEntry as GroupEntry);
  if (a.length >= 4) {
    e.idle = num(a[2]);
    e.deliveries = num(a[3]);
  }
  return e;
}

/** XREADGROUP's reply: RESP2 `[[key, entries], …]`, RESP3 a map key → entries, or null. */
function toGroupReads(reply: RespValue): GroupRead[] | null {
  if (reply === null) return null;
  const out: GroupRead[] = [];
  const pairs: [RespValue, RespValue][] =
    reply instanceof Map ? [...reply] : list(reply).map((x) => x as [RespValue, RespValue]);
  for (const [k, v] of pairs) out.push({ stream: str(k), entries: list(v).filter((x) => x !== null).map(groupEntry) });
  return out;
}

const STREAM_INFO_COMMON: Record<string, (x: RespValue) => unknown> = {
  'last-generated-id': str,
  'max-deleted-entry-id': str,
  'recorded-first-entry-id': str,
};

const STREAM_INFO: Record<string, (x: RespValue) => unknown> = {
  ...STREAM_INFO_COMMON,
  'first-entry': entryOrNull,
  'last-entry': entryOrNull,
};

const CONSUMER_FULL: Record<string, (x: RespValue) => unknown> = {
  name: str,
  pending: (x) =>
    list(x).map((p) => {
      const a = p as RespValue[];
      return { id: str(a[0]), deliveryTime: num(a[1]), deliveries: num(a[2]) };
    }),
};

const GROUP_FULL: Record<string, (x: RespValue) => unknown> = {
  name: str,
  'last-delivered-id': str,
  'entries-read': numOrNull,
  lag: numOrNull,
  pending: (x) =>
    list(x).map((p) => {
      const a = p as RespValue[];
      return { id: str(a[0]), consumer: str(a[1]), deliveryTime: num(a[2]), deliveries: num(a[3]) };
    }),
  consumers: (x) => list(x).map((c) => toObject<ConsumerInfoFull>(c, CONSUMER_FULL)),
};

const STREAM_INFO_FULL: Record<string, (x: RespValue) => unknown> = {
  ...STREAM_INFO_COMMON,
  entries,
  groups: (x) => list(x).map((g) => toObject<GroupInfoFull>(g, GROUP_FULL)),
};

const GROUP_INFO: Record<string, (x: RespValue) => unknown> = {
  name: str,
  'last-delivered-id': str,
  'entries-read': numOrNull,
  lag: numOrNull,
};

const CONSUMER_INFO: Record<string, (x: RespValue) => unknown> = { name: str };

function streamPairs(streams: GroupStreams): ReadonlyArray<readonly [string, string]> {
  return Array.isArray(streams)
    ? (streams as ReadonlyArray<readonly [string, string]>)
    : Object.entries(streams as Record<string, string>);
}

function pushIds(args: CommandArg[], ids: readonly string[], cmd: string): void {
  if (!Array.isArray(ids) || ids.length === 0) throw new TypeError(`rivulet: ${cmd} needs at least one ID`);
  args.push('IDS', ids.length, ...ids);
}

// ---------------------------------------------------------------------------------------------
// the helpers
// ---------------------------------------------------------------------------------------------

/**
 * The typed consumer-group commands every `Connection` has (on top of the stream helpers). Each
 * returns its result directly, or a Promise when the command waits (a BLOCK read, or a command
 * queued behind one on this connection); `await` works for both.
 *
 * ```ts
 * conn.xgroupCreate('jobs', 'workers', '0', { mkstream: true });
 * const batch = await conn.xreadgroup('workers', 'w1', { jobs: '>' }, { count: 10, block: 5000 });
 * for (const { stream, entries } of batch ?? []) {
 *   for (const e of entries) { handle(e.fields); conn.xack(stream, 'workers', e.id); }
 * }
 * ```
 */
export abstract class GroupCommands extends StreamCommands {
  /**
   * `XGROUP CREATE key group id [MKSTREAM] [ENTRIESREAD n]`: creates a group that will deliver the
   * entries after `id` (`'$'`, the default = only entries added from now on; `'0'` = all).
   * Returns `'OK'`; throws `BUSYGROUP …` when it exists.
   */
  xgroupCreate(key: string, group: string, id = '$', opts: XGroupCreateOptions = {}): Awaitable<string> {
    const args: CommandArg[] = ['XGROUP', 'CREATE', key, group, id];
    if (opts.mkstream) args.push('MKSTREAM');
    if (opts.entriesRead !== undefined) args.push('ENTRIESREAD', opts.entriesRead);
    return this.command(args) as Awaitable<string>;
  }

  /** `XGROUP SETID key group id [ENTRIESREAD n]`: moves the group's last-delivered ID. Returns `'OK'`. */
  xgroupSetId(key: string, group: string, id: string, opts: XGroupSetIdOptions = {}): Awaitable<string> {
    const args: CommandArg[] = ['XGROUP', 'SETID', key, group, id];
    if (opts.entriesRead !== undefined) args.push('ENTRIESREAD', opts.entriesRead);
    return this.command(args) as Awaitable<string>;
  }

  /**
   * `XGROUP DESTROY key group`: 1 when destroyed, 0 when there was no such group. Consumers blocked on
   * the group are woken with `NOGROUP the consumer group this client was blocked on no longer exists`.
   */
  xgroupDestroy(key: string, group: string): Awaitable<number> {
    return this.command(['XGROUP', 'DESTROY', key, group]) as Awaitable<number>;
  }

  /** `XGROUP CREATECONSUMER key group consumer`: 1 when created, 0 when it existed. */
  xgroupCreateConsumer(key: string, group: string, consumer: string): Awaitable<number> {
    return this.command(['XGROUP', 'CREATECONSUMER', key, group, consumer]) as Awaitable<number>;
  }

  /**
   * `XGROUP DELCONSUMER key group consumer`: deletes the consumer and its pending entries; returns how
   * many entries it had pending (0 for an unknown consumer).
   */
  xgroupDelConsumer(key: string, group: string, consumer: string): Awaitable<number> {
    return this.command(['XGROUP', 'DELCONSUMER', key, group, consumer]) as Awaitable<number>;
  }

  /**
   * `XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] [CLAIM min-idle] STREAMS key … id …`.
   * `'>'` reads entries never delivered to the group (and, with `claim`, first takes over entries
   * idle that long); any other ID re-reads this consumer's own pending entries after it (a pending
   * entry deleted from the stream comes back with `fields: null`). Returns one item per stream
   * served, or null when nothing was (or a BLOCK timed out). With `block` the call is a Promise
   * parked on the engine until a write satisfies it; `signal` cancels it (`AbortError`). A blocked
   * read rejects with `NOGROUP …` when its group is destroyed and `UNBLOCKED …` when the key is
   * deleted.
   */
  xreadgroup(
    group: string,
    consumer: string,
    streams: GroupStreams,
    opts: XReadGroupOptions = {},
  ): Awaitable<GroupRead[] | null> {
    const pairs = streamPairs(streams);
    const args: CommandArg[] = ['XREADGROUP', 'GROUP', group, consumer];
    if (opts.count !== undefined) args.push('COUNT', opts.count);
    if (opts.block !== undefined) args.push('BLOCK', opts.block);
    if (opts.noack) args.push('NOACK');
    if (opts.claim !== undefined) args.push('CLAIM', opts.claim);
    args.push('STREAMS');
    for (const [k] of pairs) args.push(k);
    for (const [, id] of pairs) args.push(id);
    return mapAwaitable(this.command(args, { signal: opts.signal }), toGroupReads);
  }

  /** `XACK key group id …`: how many of the IDs were pending (and are now acknowledged). */
  xack(key: string, group: string, ...ids: string[]): Awaitable<number> {
    return this.command(['XACK', key, group, ...ids]) as Awaitable<number>;
  }

  /** `XPENDING key group`: count, ID range and per-consumer counts of the group's pending entries. */
  xpending(key: string, group: string): Awaitable<PendingSummary> {
    return mapAwaitable(this.command(['XPENDING', key, group]), (r) => {
      const [count, first, last, consumers] = list(r);
      return {
        count: num(count),
        first: strOrNull(first),
        last: strOrNull(last),
        consumers: list(consumers).map((c) => {
          const [name, n] = c as RespValue[];
          return { name: str(name), pending: num(n) };
        }),
      };
    });
  }

  /**
   * `XPENDING key group [IDLE ms] start end count [consumer]`: the pending entries in an ID range, in ID
   * order, with owner, idle time and delivery count.
   */
  xpendingRange(key: string, group: string, opts: XPendingRangeOptions = {}): Awaitable<PendingEntry[]> {
    const args: CommandArg[] = ['XPENDING', key, group];
    if (opts.idle !== undefined) args.push('IDLE', opts.idle);
    args.push(opts.start ?? '-', opts.end ?? '+', opts.count ?? 100);
    if (opts.consumer !== undefined) args.push(opts.consumer);
    return mapAwaitable(this.command(args), (r) =>
      list(r).map((item) => {
        const [id, consumer, idle, deliveries] = item as RespValue[];
        return { id: str(id), consumer: str(consumer), idle: num(idle), deliveries: num(deliveries) };
      }),
    );
  }

  /**
   * `XCLAIM key group consumer min-idle id … [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID]
   * [LASTID id]`: takes over the given pending entries that have been idle at least `minIdle` ms.
   * Returns the claimed entries (entries deleted from the stream are dropped from the PEL and left
   * out), or their IDs with `justId`.
   */
  xclaim(key: string, group: string, consumer: string, minIdle: number, ids: readonly string[], opts?: XClaimOptions & { justId?: false }): Awaitable<StreamEntry[]>;
  xclaim(key: string, group: string, consumer: string, minIdle: number, ids: readonly string[], opts: XClaimOptions & { justId: true }): Awaitable<string[]>;
  xclaim(
    key: string,
    group: string,
    consumer: string,
    minIdle: number,
    ids: readonly string[],
    opts: XClaimOptions = {},
  ): Awaitable<StreamEntry[] | string[]> {
    const args: CommandArg[] = ['XCLAIM', key, group, consumer, minIdle, ...ids];
    if (opts.idle !== undefined) args.push('IDLE', opts.idle);
    if (opts.time !== undefined) args.push('TIME', opts.time);
    if (opts.retryCount !== undefined) args.push('RETRYCOUNT', opts.retryCount);
    if (opts.force) args.push('FORCE');
    if (opts.justId) args.push('JUSTID');
    if (opts.lastId !== undefined) args.push('LASTID', opts.lastId);
    const justId = !!opts.justId;
    return mapAwaitable(this.command(args), (r) =>
      justId ? list(r).filter((x) => x !== null).map(str) : entries(r),
    );
  }

  /**
   * `XAUTOCLAIM key group consumer min-idle start [COUNT n] [JUSTID]`: scans the group's pending
   * entries from `start` and takes over those idle at least `minIdle` ms. Returns the next cursor
   * (`'0-0'` at the end), the claimed entries (IDs with `justId`) and the pending IDs found deleted.
   */
  xautoclaim(key: string, group: string, consumer: string, minIdle: number, start: string, opts?: XAutoClaimOptions & { justId?: false }): Awaitable<AutoClaimResult<StreamEntry>>;
  xautoclaim(key: string, group: string, consumer: string, minIdle: number, start: string, opts: XAutoClaimOptions & { justId: true }): Awaitable<AutoClaimResult<string>>;
  xautoclaim(
    key: string,
    group: string,
    consumer: string,
    minIdle: number,
    start: string,
    opts: XAutoClaimOptions = {},
  ): Awaitable<AutoClaimResult<StreamEntry> | AutoClaimResult<string>> {
    const args: CommandArg[] = ['XAUTOCLAIM', key, group, consumer, minIdle, start];
    if (opts.count !== undefined) args.push('COUNT', opts.count);
    if (opts.justId) args.push('JUSTID');
    const justId = !!opts.justId;
    return mapAwaitable(this.command(args), (r) => {
      const [next, claimed, deleted] = list(r);
      return {
        next: str(next),
        entries: justId ? list(claimed).map(str) : entries(claimed),
        deleted: list(deleted).map(str),
      } as AutoClaimResult<StreamEntry> | AutoClaimResult<string>;
    });
  }

  /**
   * `XINFO STREAM key [FULL [COUNT n]]`: the stream's metadata, with `full` also its entries, groups,
   * consumers and pending lists. Keys are camelCased (`radix-tree-keys` → `radixTreeKeys`). Throws
   * `ERR no such key` for a missing key.
   */
  xinfoStream(key: string, opts?: XInfoStreamOptions & { full?: false }): Awaitable<StreamInfo>;
  xinfoStream(key: string, opts: XInfoStreamOptions & { full: true }): Awaitable<StreamInfoFull>;
  xinfoStream(key: string, opts: XInfoStreamOptions = {}): Awaitable<StreamInfo | StreamInfoFull> {
    const args: CommandArg[] = ['XINFO', 'STREAM', key];
    if (opts.full) {
      args.push('FULL');
      if (opts.count !== undefined) args.push('COUNT', opts.count);
    } else if (opts.count !== undefined) {
      throw new TypeError('rivulet: xinfoStream count needs full: true');
    }
    const full = !!opts.full;
    return mapAwaitable(this.command(args), (r) =>
      full ? toObject<StreamInfoFull>(r, STREAM_INFO_FULL) : toObject<StreamInfo>(r, STREAM_INFO),
    );
  }

  /** `XINFO GROUPS key`: the stream's groups in name order. */
  xinfoGroups(key: string): Awaitable<GroupInfo[]> {
    return mapAwaitable(this.command(['XINFO', 'GROUPS', key]), (r) =>
      list(r).map((g) => toObject<GroupInfo>(g, GROUP_INFO)),
    );
  }

  /** `XINFO CONSUMERS key group`: the group's consumers in name order. */
  xinfoConsumers(key: string, group: string): Awaitable<ConsumerInfo[]> {
    return mapAwaitable(this.command(['XINFO', 'CONSUMERS', key, group]), (r) =>
      list(r).map((c) => toObject<ConsumerInfo>(c, CONSUMER_INFO)),
    );
  }

  /**
   * `XACKDEL key group [KEEPREF|DELREF|ACKED] IDS n id …` (Redis 8.2): acknowledges and deletes in one
   * step. One code per ID: -1 not pending in the group (or no key / group), 1 acknowledged and
   * deleted, 2 acknowledged but kept because another group still references it (`ACKED`).
   */
  xackdel(key: string, group: string, ids: readonly string[], opts: PolicyOptions = {}): Awaitable<number[]> {
    const args: CommandArg[] = ['XACKDEL', key, group];
    if (opts.policy !== undefined) args.push(checkPolicy(opts.policy, 'xackdel'));
    pushIds(args, ids, 'xackdel');
    return mapAwaitable(this.command(args), (r) => list(r).map(num));
  }

  /**
   * `XDELEX key [KEEPREF|DELREF|ACKED] IDS n id …` (Redis 8.2): XDEL with a policy for group
   * references. One code per ID: -1 no such entry, 1 deleted, 2 kept because still referenced.
   */
  xdelex(key: string, ids: readonly string[], opts: PolicyOptions = {}): Awaitable<number[]> {
    const args: CommandArg[] = ['XDELEX', key];
    if (opts.policy !== undefined) args.push(checkPolicy(opts.policy, 'xdelex'));
    pushIds(args, ids, 'xdelex');
    return mapAwaitable(this.command(args), (r) => list(r).map(num));
  }

  /**
   * `XNACK key group SILENT|FAIL|FATAL IDS n id … [RETRYCOUNT n] [FORCE]` (Redis 8.8): gives pending
   * entries back to the group without acknowledging them, so the next CLAIM read or XAUTOCLAIM takes
   * them at once. Returns how many were released.
   */
  xnack(key: string, group: string, mode: NackMode, ids: readonly string[], opts: XNackOptions = {}): Awaitable<number> {
    if (mode !== 'SILENT' && mode !== 'FAIL' && mode !== 'FATAL') {
      throw new TypeError(`rivulet: xnack mode must be SILENT, FAIL or FATAL, not ${String(mode)}`);
    }
    const args: CommandArg[] = ['XNACK', key, group, mode];
    pushIds(args, ids, 'xnack');
    if (opts.retryCount !== undefined) args.push('RETRYCOUNT', opts.retryCount);
    if (opts.force) args.push('FORCE');
    return mapAwaitable(this.command(args), num);
  }

  /**
   * `XCFGSET key [IDMP-DURATION s] [IDMP-MAXSIZE n]` (Redis 8.6): configures idempotent production on
   * an existing stream (and clears the IDs it remembers). Returns `'OK'`.
   */
  xcfgset(key: string, opts: XCfgSetOptions): Awaitable<string> {
    const args: CommandArg[] = ['XCFGSET', key];
    if (opts.idmpDuration !== undefined) args.push('IDMP-DURATION', opts.idmpDuration);
    if (opts.idmpMaxsize !== undefined) args.push('IDMP-MAXSIZE', opts.idmpMaxsize);
    return this.command(args) as Awaitable<string>;
  }
}

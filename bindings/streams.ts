/**
 * Typed stream helpers on a connection: build the command's arguments, send them through
 * `command()`, and reshape the reply. No stream semantics live here — every rule (ID validation,
 * trimming, errors) is the engine's; its error replies come back unchanged as `ReplyError`.
 *
 * Stream IDs are always strings (`'1700000000000-0'`), so 64-bit sequence numbers stay exact.
 */
import type { CommandArg, RespValue } from './resp.js';

/** A value, or a Promise of it when the command had to wait (see `Connection`). `await` works for both. */
export type Awaitable<T> = T | Promise<T>;

/** Per-call options. */
export interface CallOptions {
  /** Cancels the call while it waits (blocked): it rejects with `AbortError`; the connection stays usable. */
  signal?: AbortSignal;
}

/** Applies `f` to a value now, or when its promise resolves. */
export function mapAwaitable<T, U>(v: Awaitable<T>, f: (value: T) => U): Awaitable<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}

/** Field/value pairs of a new entry: an object, or pairs when order or duplicate names matter. */
export type StreamFields =
  | Readonly<Record<string, string | number>>
  | ReadonlyArray<readonly [string, string | number]>;

/**
 * What happens to consumer-group references of the entries a command deletes (Redis 8.2):
 * `KEEPREF` (the default) leaves them in the PELs, dangling; `DELREF` removes them from every group's
 * PEL; `ACKED` deletes only entries that every group has delivered and none still has pending.
 */
export type DeletionPolicy = 'KEEPREF' | 'DELREF' | 'ACKED';

/**
 * Idempotent production (`XADD … IDMP producer id` / `IDMPAUTO producer`, Redis 8.6): a producer's
 * repeated message (same idempotent ID, or with `auto` the same content) is not added again; XADD
 * then returns the ID of the entry added the first time. Configured per stream with `xcfgset`.
 */
export type IdmpOptions = { producer: string; id: string } | { producer: string; auto: true };

/** Trimming, as in `XADD … [MAXLEN|MINID [=|~] threshold [LIMIT count]]` and `XTRIM`. */
export interface TrimOptions {
  /** Keep at most this many entries. */
  maxlen?: number;
  /** Evict entries with IDs lower than this. */
  minid?: string;
  /** `true` → `~` (whole nodes only, cheaper), `false` → `=`, unset → no operator (exact). */
  approx?: boolean;
  /** `LIMIT count`: cap on entries evicted per call (only with `approx`). */
  limit?: number;
  /** `KEEPREF | DELREF | ACKED` (Redis 8.2): what happens to group references of trimmed entries. */
  policy?: DeletionPolicy;
}

/** Options of {@link StreamCommands.xadd}. */
export interface XAddOptions extends TrimOptions {
  /** Explicit entry ID (`'5-1'`, `'5-*'`); default `'*'`. */
  id?: string;
  /** Do not create the stream when it is missing (`xadd` then returns null). */
  nomkstream?: boolean;
  /** `IDMP producer id` / `IDMPAUTO producer` (Redis 8.6): drop duplicates of a producer's messages. */
  idmp?: IdmpOptions;
}

/** An entry with its fields as an object (a repeated field name keeps its last value). */
export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
}

/** An entry with its fields as ordered pairs, exactly as stored (duplicates kept). */
export interface StreamEntryPairs {
  id: string;
  fields: [string, string][];
}

/** Options of {@link StreamCommands.xrange} / {@link StreamCommands.xrevrange}. */
export interface RangeOptions {
  /** `COUNT n`. */
  count?: number;
  /** Fields as ordered pairs ({@link StreamEntryPairs}) instead of an object. */
  fieldsArray?: boolean;
}

/** Options of {@link StreamCommands.xread}. */
export interface XReadOptions extends CallOptions {
  /** `COUNT n`: at most n entries per stream. */
  count?: number;
  /** `BLOCK ms`: wait up to ms milliseconds (0 = forever) for new entries. */
  block?: number;
  /** Fields as ordered pairs instead of an object. */
  fieldsArray?: boolean;
}

/** The entries read from one stream. */
export interface StreamRead<E = StreamEntry> {
  stream: string;
  entries: E[];
}

type FieldsArray = { fieldsArray: true };
type FieldsRecord = { fieldsArray?: false };

function setField(rec: Record<string, string>, k: string, v: string): void {
  if (k === '__proto__') Object.defineProperty(rec, k, { value: v, enumerable: true, writable: true, configurable: true });
  else rec[k] = v;
}

/** One `[id, [field, value, …]]` reply item as an entry (internal; shared with the group helpers). */
export function toEntry(item: RespValue, pairs: boolean): StreamEntry | StreamEntryPairs {
  const [id, flat] = item as [string, RespValue[] | null];
  const list = flat ?? [];
  if (pairs) {
    const fields: [string, string][] = [];
    for (let i = 0; i + 1 < list.length; i += 2) fields.push([list[i] as string, list[i + 1] as string]);
    return { id, fields };
  }
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) setField(fields, list[i] as string, list[i + 1] as string);
  return { id, fields };
}

function toEntries(reply: RespValue, pairs: boolean): (StreamEntry | StreamEntryPairs)[] {
  return ((reply as RespValue[] | null) ?? []).map((item) => toEntry(item, pairs));
}

/** XREAD's reply: RESP2 `[[key, entries], …]`, RESP3 a map key → entries, or null. */
function toStreamReads(reply: RespValue, pairs: boolean): StreamRead<StreamEntry | StreamEntryPairs>[] | null {
  if (reply === null) return null;
  const out: StreamRead<StreamEntry | StreamEntryPairs>[] = [];
  if (reply instanceof Map) {
    for (const [k, v] of reply) out.push({ stream: k as string, entries: toEntries(v, pairs) });
  } else {
    for (const item of reply as RespValue[]) {
      const [k, v] = item as [string, RespValue];
      out.push({ stream: k, entries: toEntries(v, pairs) });
    }
  }
  return out;
}

const POLICIES: readonly string[] = ['KEEPREF', 'DELREF', 'ACKED'];

/** Checks a {@link DeletionPolicy} (internal; shared with the group helpers). */
export function checkPolicy(policy: string, cmd: string): string {
  if (!POLICIES.includes(policy)) throw new TypeError(`rivulet: ${cmd} policy must be KEEPREF, DELREF or ACKED, not ${String(policy)}`);
  return policy;
}

function pushTrim(args: CommandArg[], opts: TrimOptions, required: boolean, cmd: string): void {
  const { maxlen, minid, approx, limit } = opts;
  if (maxlen !== undefined && minid !== undefined) {
    throw new TypeError(`rivulet: ${cmd} takes maxlen or minid, not both`);
  }
  if (maxlen === undefined && minid === undefined) {
    if (required) throw new TypeError(`rivulet: ${cmd} needs maxlen or minid`);
    return;
  }
  args.push(maxlen !== undefined ? 'MAXLEN' : 'MINID');
  if (approx !== undefined) args.push(approx ? '~' : '=');
  args.push(maxlen !== undefined ? maxlen : minid!);
  if (limit !== undefined) args.push('LIMIT', limit);
}

/**
 * The typed stream commands every {@link Connection} has. Each returns its result directly, or a
 * Promise when the command waits (a BLOCK read, or a command queued behind one on this connection).
 */
export abstract class StreamCommands {
  /** Runs one command (implemented by `Connection`). */
  abstract command(args: readonly CommandArg[], options?: CallOptions): Awaitable<RespValue>;

  /**
   * `XADD key [NOMKSTREAM] [KEEPREF|DELREF|ACKED] [IDMP producer id | IDMPAUTO producer]
   * [MAXLEN|MINID [=|~] threshold [LIMIT n]] <id|*> field value …`.
   * Returns the new entry's ID (with `idmp`, a duplicate returns the ID of the first one), or null
   * with `nomkstream` when the stream does not exist.
   */
  xadd(key: string, fields: StreamFields, opts: XAddOptions = {}): Awaitable<string | null> {
    const args: CommandArg[] = ['XADD', key];
    if (opts.nomkstream) args.push('NOMKSTREAM');
    if (opts.policy !== undefined) args.push(checkPolicy(opts.policy, 'xadd'));
    const idmp = opts.idmp;
    if (idmp !== undefined) {
      if ('auto' in idmp && idmp.auto) args.push('IDMPAUTO', idmp.producer);
      else if ('id' in idmp && typeof idmp.id === 'string') args.push('IDMP', idmp.producer, idmp.id);
      else throw new TypeError('rivulet: xadd idmp is { producer, id } or { producer, auto: true }');
    }
    pushTrim(args, opts, false, 'xadd');
    args.push(opts.id ?? '*');
    if (Array.isArray(fields)) {
      for (const [f, v] of fields as ReadonlyArray<readonly [string, string | number]>) args.push(f, v);
    } else {
      for (const f of Object.keys(fields)) args.push(f, (fields as Record<string, string | number>)[f]);
    }
    return this.command(args) as Awaitable<string | null>;
  }

  /** `XRANGE key start end [COUNT n]`: entries in ID order (`-` / `+` are the extremes). */
  xrange(key: string, start?: string, end?: string, opts?: RangeOptions & FieldsRecord): Awaitable<StreamEntry[]>;
  xrange(key: string, start: string, end: string, opts: RangeOptions & FieldsArray): Awaitable<StreamEntryPairs[]>;
  xrange(key: string, start = '-', end = '+', opts: RangeOptions = {}): Awaitable<(StreamEntry | StreamEntryPairs)[]> {
    return this.#range('XRANGE', key, start, end, opts);
  }

  /** `XREVRANGE key end start [COUNT n]`: entries in reverse ID order. */
  xrevrange(key: string, end?: string, start?: string, opts?: RangeOptions & FieldsRecord): Awaitable<StreamEntry[]>;
  xrevrange(key: string, end: string, start: string, opts: RangeOptions & FieldsArray): Awaitable<StreamEntryPairs[]>;
  xrevrange(key: string, end = '+', start = '-', opts: RangeOptions = {}): Awaitable<(StreamEntry | StreamEntryPairs)[]> {
    return this.#range('XREVRANGE', key, end, start, opts);
  }

  #range(cmd: string, key: string, a: string, b: string, opts: RangeOptions): Awaitable<(StreamEntry | StreamEntryPairs)[]> {
    const args: CommandArg[] = [cmd, key, a, b];
    if (opts.count !== undefined) args.push('COUNT', opts.count);
    const pairs = !!opts.fieldsArray;
    return mapAwaitable(this.command(args), (r) => toEntries(r, pairs));
  }

  /**
   * `XREAD [COUNT n] [BLOCK ms] STREAMS key … id …`. `streams` maps each key to the ID to read after
   * (`'$'` = only new entries, `'+'` = the last entry). Returns one item per stream that had entries,
   * or null when none had (or a BLOCK timed out). With `block` the call is a Promise parked on the
   * engine until a write satisfies it; `signal` cancels it (`AbortError`).
   */
  xread(streams: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>, opts?: XReadOptions & FieldsRecord): Awaitable<StreamRead<StreamEntry>[] | null>;
  xread(streams: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>, opts: XReadOptions & FieldsArray): Awaitable<StreamRead<StreamEntryPairs>[] | null>;
  xread(
    streams: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>,
    opts: XReadOptions = {},
  ): Awaitable<StreamRead<StreamEntry | StreamEntryPairs>[] | null> {
    const pairs = Array.isArray(streams)
      ? (streams as ReadonlyArray<readonly [string, string]>)
      : Object.entries(streams as Record<string, string>);
    const args: CommandArg[] = ['XREAD'];
    if (opts.count !== undefined) args.push('COUNT', opts.count);
    if (opts.block !== undefined) args.push('BLOCK', opts.block);
    args.push('STREAMS');
    for (const [k] of pairs) args.push(k);
    for (const [, id] of pairs) args.push(id);
    const asPairs = !!opts.fieldsArray;
    return mapAwaitable(this.command(args, { signal: opts.signal }), (r) => toStreamReads(r, asPairs));
  }

  /** `XLEN key`: number of entries (0 when the key does not exist). */
  xlen(key: string): Awaitable<number> {
    return this.command(['XLEN', key]) as Awaitable<number>;
  }

  /** `XDEL key id …`: how many entries were deleted. */
  xdel(key: string, ...ids: string[]): Awaitable<number> {
    return this.command(['XDEL', key, ...ids]) as Awaitable<number>;
  }

  /**
   * `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT n] [KEEPREF|DELREF|ACKED]`: how many entries were
   * evicted.
   */
  xtrim(key: string, opts: TrimOptions): Awaitable<number> {
    const args: CommandArg[] = ['XTRIM', key];
    pushTrim(args, opts, true, 'xtrim');
    if (opts.policy !== undefined) args.push(checkPolicy(opts.policy, 'xtrim'));
    return this.command(args) as Awaitable<number>;
  }
}

import { FeedStatus, UNBLOCK_TIMEOUT } from './abi.js';
import { xaddBatch } from './batch.js';
import { Connection, ConnState, type ConnHost } from './connection.js';
import { EngineClosedError, ConnectionClosedError } from './errors.js';
import { compileModule, type WasmSource } from './loader.js';
import { HostLoop } from './loop.js';
import { Persistence } from '../hosts/shared/persistence.js';
import { silentLog, type Logger } from '../hosts/shared/log.js';
import type { Storage } from '../hosts/shared/storage.js';
import type { FsyncPolicy } from '../hosts/shared/aof.js';
import { RawEngine } from './raw.js';
import type { CommandArg } from './resp.js';

/** Options of `createEngine()`. */
export interface EngineOptions {
  /** `maxmemory` in bytes, set with `CONFIG SET maxmemory` at start: writes beyond it answer OOM. */
  maxmemory?: number;
  /** The engine's only clock (ms since the epoch): XADD `*` IDs, BLOCK deadlines. Default `Date.now`. */
  clock?: () => number;
  /** The wasm to run instead of the entry's own: bytes, a compiled Module, or a fetch Response. */
  wasm?: WasmSource;
  /** Hard linear-memory budget in 64 KiB pages (`rv_set_page_budget`); 0 or unset = none. */
  pageBudget?: number;
  /**
   * Receives the engine's effects: every write restated as RESP commands with concrete values (XADD
   * with the generated ID, …), in execution order — what an AOF or a replica needs. Called
   * synchronously, before the reply of the command that caused them is delivered, with a fresh array
   * per chunk. Without it the effects are discarded (they must be drained either way: the engine
   * buffers them until read). An exception thrown here is reported asynchronously and does not
   * affect the engine.
   */
  onEffects?: (effects: Uint8Array) => void;
  /**
   * Where to persist (an AOF plus snapshots, the same files `rivulet serve` uses): the Node entry
   * makes one from `dir`; the browser entry from `storage: 'opfs'`. Without it the engine is in memory.
   */
  storage?: Storage;
  /** Log every write to the AOF (default true when persisting). */
  appendonly?: boolean;
  /** `always`: a write resolves only once it is on disk; `everysec` (default): synced once a second; `no`. */
  appendfsync?: FsyncPolicy;
  /** Snapshot save points: `[seconds, changes]` pairs (default none). */
  save?: Array<[number, number]>;
  /** Rewrite the AOF automatically once it is at least this big and doubled (default 64 MiB). */
  autoAofRewriteMinSize?: number;
  /** Where loading and persistence messages go (default: nowhere). */
  log?: Logger;
}

/**
 * The in-process host: {@link HostLoop} with a request queue ({@link ConnState}) as every
 * connection's sink. Internal: programs use {@link Engine} and {@link Connection}.
 *
 * Event-loop policy (Node): the loop's timer holds the process open only while some call is waiting
 * on the engine (a blocked read the program awaits) — like a socket with a request in flight, so a
 * pending `XREAD BLOCK 5000` resolves (with null) before the process exits, and a pending `BLOCK 0`
 * keeps it alive until a write, an abort, `conn.close()` or `engine.close()`. With nothing pending
 * the engine holds nothing, so an idle engine never keeps a process alive.
 */
export class InProcessHost implements ConnHost {
  readonly loop: HostLoop;
  readonly conns = new Map<number, ConnState>();

  constructor(loop: HostLoop) {
    this.loop = loop;
  }

  get raw(): RawEngine {
    return this.loop.raw;
  }

  get clock(): () => number {
    return this.loop.clock;
  }

  get failure(): unknown {
    return this.loop.failure;
  }

  /** Throws when the engine (or this connection) can take no more calls. */
  check(conn?: ConnState): void {
    this.loop.check();
    if (conn?.closed) throw new ConnectionClosedError();
  }

  open(): ConnState {
    const holder: { st?: ConnState } = {};
    const id = this.loop.open({
      write: (bytes) => void holder.st!.receive(bytes, bytes.length),
      settled: (status) => {
        const st = holder.st!;
        st.blocked = (status & FeedStatus.BLOCKED) !== 0;
        st.dispatch();
        // a request cancelled while queued has now blocked: release it at once
        if (st.blocked && st.headAborted()) this.loop.unblock(st.id, UNBLOCK_TIMEOUT);
      },
      closed: () => {
        this.conns.delete(id);
        holder.st!.failAll(new ConnectionClosedError('rivulet: connection closed by the engine'));
      },
      failed: (err) => {
        this.conns.delete(id);
        holder.st!.failAll(err);
      },
    });
    const st = (holder.st = new ConnState(id, this));
    this.conns.set(id, st);
    return st;
  }

  retain(): void {
    this.loop.retain();
  }

  release(): void {
    this.loop.release();
  }

  /** Encodes and feeds `cmds` on `conn` (requests already queued); replies reach its queue. */
  submit(conn: ConnState, cmds: readonly (readonly CommandArg[])[]): void {
    this.loop.submit(conn.id, cmds);
  }

  /** After a request was cancelled by its signal (already rejected). */
  afterAbort(conn: ConnState, wasHead: boolean): void {
    if (this.loop.failure !== null || conn.closed) return;
    // The head request is the one parked in the engine: answer it as a timeout and drop the reply.
    if (wasHead) this.loop.unblock(conn.id, UNBLOCK_TIMEOUT);
  }

  closeConnection(conn: ConnState): void {
    if (conn.closed) return;
    conn.failAll(new ConnectionClosedError());
    this.conns.delete(conn.id);
    this.loop.close(conn.id);
  }

  /** Delivers timeouts as of `now`. */
  tick(now: number): number {
    return this.loop.tick(now);
  }

  /**
   * Runs `rv_xadd_batch` for a connection with `len` bytes already in scratch; `collect` reads the IDs
   * from scratch before the loop drains anything else through it (and may throw the batch's error).
   */
  xaddBatch(conn: number, len: number, collect: (added: number) => void): void {
    let failure: unknown = undefined;
    this.loop.run(conn, (raw) => {
      try {
        collect(raw.xaddBatch(conn, len, this.loop.clock()));
      } catch (e) {
        failure = e;
      }
    });
    if (failure !== undefined) throw failure;
  }
}

/**
 * One Rivulet engine: a database of streams in one wasm instance, with any number of
 * {@link Connection}s. Create it with `createEngine()` (from `rivulet`, or `rivulet/slim` with your
 * own wasm).
 *
 * ```ts
 * import { createEngine } from 'rivulet';
 * const engine = await createEngine({ dir: './data' });   // durable: AOF + snapshots in ./data
 * const conn = engine.connect();
 * await conn.xadd('s', { temp: 23.5 });
 * await engine.close();                                   // flushes and syncs
 * ```
 *
 * Timeouts: the engine keeps one timer at its next BLOCK deadline. In Node that timer holds the
 * process open only while a call is waiting on the engine — like a socket with a request in flight:
 * a pending `XREAD BLOCK 5000` still resolves (null) before the process exits, and a pending
 * `BLOCK 0` keeps the process alive until a write, its AbortSignal, `conn.close()` or
 * `engine.close()`. An idle engine holds nothing.
 */
export class Engine {
  /** The thin ABI-level engine underneath (for hosts that move raw RESP bytes themselves). */
  readonly raw: RawEngine;
  /** The host loop driving it. */
  readonly loop: HostLoop;
  readonly #host: InProcessHost;
  #persistence: Persistence | null = null;
  #cron: ReturnType<typeof setInterval> | undefined = undefined;
  #closing: Promise<void> | null = null;

  /** Wraps an instantiated engine; `createEngine()` is the usual way to get one (and the only one with persistence). */
  constructor(raw: RawEngine, options: EngineOptions = {}) {
    this.raw = raw;
    this.loop = new HostLoop(raw, { clock: options.clock ?? Date.now });
    this.#host = new InProcessHost(this.loop);
    if (options.pageBudget) raw.setPageBudget(options.pageBudget);
    const onEffects = options.onEffects;
    if (onEffects && !options.storage) {
      this.loop.setDurability({
        effects: (chunk) => reportEffects(onEffects, chunk),
        commit: () => {},
        requests: () => {},
      });
    }
    if (options.maxmemory !== undefined) this.#configSet('maxmemory', String(options.maxmemory));
  }

  /** Persistence over `options.storage`: lock, load, AOF (createEngineWith calls it). */
  async open(options: EngineOptions): Promise<this> {
    if (!options.storage) return this;
    const onEffects = options.onEffects;
    this.#persistence = await Persistence.open(this.loop, {
      storage: options.storage,
      settings: {
        appendonly: options.appendonly ?? true,
        appendfsync: options.appendfsync ?? 'everysec',
        save: options.save ?? [],
        ...(options.autoAofRewriteMinSize !== undefined ? { autoAofRewriteMinSize: options.autoAofRewriteMinSize } : {}),
      },
      log: options.log ?? silentLog,
      owner: 'an in-process rivulet engine',
      tag: typeof process === 'object' && process?.pid ? process.pid : 'engine',
      onFatal: (msg) => {
        this.loop.shutdown(new Error(`rivulet: ${msg}`));
      },
      onEffects: onEffects ? (chunk) => reportEffects(onEffects, chunk) : undefined,
    });
    const p = this.#persistence;
    // everysec syncs, save points and automatic rewrites; the timer never holds the process open
    this.#cron = setInterval(() => p.cron(Date.now()), 100);
    (this.#cron as { unref?: () => void }).unref?.();
    return this;
  }

  #configSet(name: string, value: string): void {
    const conn = this.connect();
    try {
      conn.call('CONFIG', 'SET', name, value); // throws its ReplyError
    } finally {
      conn.close();
    }
  }

  /** Opens a new client connection (its own db, protocol, MULTI and blocking state). */
  connect(): Connection {
    return new Connection(this.#host.open());
  }

  /**
   * Delivers BLOCK timeouts as of `now` (default: the engine clock) and returns how many reads timed
   * out. The engine's own timer does this at each deadline; call it yourself with a manual clock.
   */
  tick(now: number = this.loop.clock()): number {
    return this.#host.tick(now);
  }

  /**
   * Typed fast path for producers: appends `rows` to stream `key` as `XADD key * field value ...`
   * entries sharing the field names `fields`, many per boundary crossing and without RESP, and
   * returns their IDs. Same rules as XADD (IDs, OOM, waking blocked readers, effects). The
   * connection must not be inside MULTI or blocked.
   */
  xaddBatch(conn: Connection, key: string, fields: readonly string[], rows: readonly (readonly (string | number)[])[]): string[] {
    return xaddBatch(this.#host, conn.id, key, fields, rows);
  }

  /** Bytes the engine accounts as used (INFO used_memory). */
  usedMemory(): number {
    this.loop.check();
    return this.raw.usedMemory();
  }

  /** Open connections. */
  get connections(): number {
    return this.#host.conns.size;
  }

  /** True after `close()`, or once the engine failed (an engine abort poisons the instance). */
  get closed(): boolean {
    return this.loop.failure !== null || this.#closing !== null;
  }

  /**
   * Closes the engine: with persistence, writes and syncs the AOF and releases the data directory;
   * pending calls reject with `EngineClosedError`; later calls throw it. Resolves when done.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    const p = this.#persistence;
    if (this.#cron !== undefined) clearInterval(this.#cron);
    this.#closing = (async () => {
      try {
        if (p && this.loop.failure === null) await p.close(false);
      } finally {
        if (this.loop.failure === null) this.loop.shutdown(new EngineClosedError());
        else if (p) await p.close(false).catch(() => {});
      }
    })();
    return this.#closing;
  }
}

/** Hands a copy of an effects chunk to the program; its exceptions never reach the engine. */
function reportEffects(onEffects: (effects: Uint8Array) => void, chunk: Uint8Array): void {
  try {
    onEffects(chunk.slice());
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

/**
 * Shared body of every entry's `createEngine`: the module comes from `options.wasm` when given, else
 * from the entry's own (cached) loader, else it is an error (`rivulet/slim`).
 */
export async function createEngineWith(
  defaultModule: (() => Promise<WebAssembly.Module>) | null,
  options: EngineOptions = {},
): Promise<Engine> {
  let module: WebAssembly.Module;
  if (options.wasm !== undefined) module = await compileModule(options.wasm);
  else if (defaultModule) module = await defaultModule();
  else throw new TypeError('rivulet/slim: createEngine({ wasm }) needs the rivulet.wasm bytes, Module or Response');
  return new Engine(await RawEngine.instantiate(module), options).open(options);
}

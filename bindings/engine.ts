import { FeedStatus, UNBLOCK_TIMEOUT } from './abi.js';
import { xaddBatch } from './batch.js';
import { Connection, ConnState } from './connection.js';
import { EngineClosedError, ConnectionClosedError } from './errors.js';
import { compileModule, type WasmSource } from './loader.js';
import { RawEngine } from './raw.js';
import { encodeCommand, encodeCommandInto, type CommandArg } from './resp.js';

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
}

/** Longest delay setTimeout takes (2^31 - 1 ms ≈ 24.8 days); longer ones are re-armed. */
const MAX_DELAY = 0x7fffffff;

type Timer = ReturnType<typeof setTimeout>;

/**
 * The host loop over one {@link RawEngine}: connection ids, feeding commands through the scratch
 * region, draining output, waking blocked connections after every write, and one timer at the
 * engine's next deadline. Internal: programs use {@link Engine} and {@link Connection}.
 *
 * Event-loop policy (Node): the timer holds the process open only while some call is waiting on the
 * engine (a blocked read the program awaits) — like a socket with a request in flight, so a pending
 * `XREAD BLOCK 5000` resolves (with null) before the process exits, and a pending `BLOCK 0` keeps it
 * alive until a write, an abort, `conn.close()` or `engine.close()`. With nothing pending the engine
 * holds nothing, so an idle engine never keeps a process alive and `close()` is not needed to exit.
 */
export class Host {
  readonly raw: RawEngine;
  readonly clock: () => number;
  readonly conns = new Map<number, ConnState>();
  #nextId = 0;
  #freeIds: number[] = [];
  #failure: unknown = null;
  /** Promises the program is waiting on (each pending blocked call). */
  #waiting = 0;
  #timer: Timer | undefined = undefined;
  #timerAt = NaN;
  #timerRef = false;
  /** Deadlines or the waiting count may have changed: re-arm at the end of the operation. */
  #dirty = false;
  /** The engine may have connections in its ready queue (OTHERS_READY, tick, unblock). */
  #mayBeReady = false;

  readonly #onEffects: ((effects: Uint8Array) => void) | undefined;
  readonly #hasEffects: boolean;
  readonly #hasStatus: boolean;

  constructor(raw: RawEngine, clock: () => number, onEffects?: (effects: Uint8Array) => void) {
    this.raw = raw;
    this.clock = clock;
    this.#onEffects = onEffects;
    this.#hasEffects = typeof raw.exports.rv_effects_read === 'function';
    // The engine produces effects only for hosts that consume them.
    if (onEffects && typeof raw.exports.rv_effects_enable === 'function') raw.effectsEnable(true);
    this.#hasStatus = typeof raw.exports.rv_status === 'function';
  }

  get failure(): unknown {
    return this.#failure;
  }

  /** Throws when the engine (or this connection) can take no more calls. */
  check(conn?: ConnState): void {
    if (this.#failure !== null) throw this.#failure;
    if (conn?.closed) throw new ConnectionClosedError();
  }

  open(): ConnState {
    this.check();
    for (;;) {
      const id = this.#freeIds.length ? this.#freeIds.pop()! : this.#nextId++;
      if (id > 0x7fffffff) throw new RangeError('rivulet: out of connection ids');
      try {
        if (this.raw.open(id) !== 0) continue; // in use inside the engine: take the next
      } catch (e) {
        throw this.#crash(e);
      }
      const st = new ConnState(id, this);
      this.conns.set(id, st);
      return st;
    }
  }

  retain(): void {
    if (this.#waiting++ > 0) return;
    try {
      this.#arm(); // take a ref on the event loop
    } catch (e) {
      this.#crash(e);
    }
  }

  release(): void {
    this.#waiting--;
    this.#dirty = true;
  }

  /** Encodes and feeds `cmds` on `conn` (requests already queued), then runs the wake-up loop. */
  submit(conn: ConnState, cmds: readonly (readonly CommandArg[])[]): void {
    try {
      const raw = this.raw;
      let scratch = raw.scratch();
      let off = 0;
      for (let i = 0; i < cmds.length && !conn.closed; i++) {
        const args = cmds[i];
        let n = encodeCommandInto(args, scratch, off);
        if (n < 0 && off > 0) {
          this.#feed(conn, off);
          off = 0;
          if (conn.closed) break;
          scratch = raw.scratch();
          n = encodeCommandInto(args, scratch, 0);
        }
        if (n < 0) {
          // larger than the scratch region: the engine buffers the partial frame between pieces
          const bytes = encodeCommand(args);
          for (let p = 0; p < bytes.length && !conn.closed; p += raw.scratchCap) {
            const piece = bytes.subarray(p, p + raw.scratchCap);
            raw.scratch().set(piece);
            this.#feed(conn, piece.length);
          }
          scratch = raw.scratch();
          continue;
        }
        off += n;
      }
      if (off > 0 && !conn.closed) this.#feed(conn, off);
      this.#settle();
    } catch (e) {
      throw this.#crash(e);
    }
  }

  /** After a request was cancelled by its signal (already rejected). */
  afterAbort(conn: ConnState, wasHead: boolean): void {
    if (this.#failure !== null || conn.closed) return;
    try {
      // The head request is the one parked in the engine: answer it as a timeout and drop the reply.
      if (wasHead && this.raw.unblock(conn.id, UNBLOCK_TIMEOUT)) {
        this.#mayBeReady = true;
        this.#woken(conn);
      }
      this.#dirty = true;
      this.#settle();
    } catch (e) {
      this.#crash(e); // rejects everything pending; nothing to throw to from an abort event
    }
  }

  closeConnection(conn: ConnState): void {
    if (conn.closed) return;
    conn.failAll(new ConnectionClosedError());
    this.conns.delete(conn.id);
    if (this.#failure !== null) return;
    try {
      this.raw.close(conn.id);
      this.#freeIds.push(conn.id);
      this.#dirty = true;
      this.#settle();
    } catch (e) {
      throw this.#crash(e);
    }
  }

  /** Delivers timeouts as of `now`. */
  tick(now: number): number {
    this.check();
    try {
      const n = this.raw.tick(now);
      this.#mayBeReady = true;
      this.#dirty = true;
      this.#settle();
      return n;
    } catch (e) {
      throw this.#crash(e);
    }
  }

  /** Engine closed by the program: reject everything, stop the timer, take no more calls. */
  shutdown(err: Error): void {
    if (this.#failure === null) this.#failure = err;
    this.#clearTimer();
    for (const c of this.conns.values()) c.failAll(err);
    this.conns.clear();
  }

  /** Feeds `len` scratch bytes and services the connection (output, blocked state, close). */
  #feed(conn: ConnState, len: number): void {
    const st = this.raw.feed(conn.id, len, this.clock());
    if (st < 0) return this.#closedByEngine(conn); // unknown to the engine
    if (st & FeedStatus.OUTPUT) this.#drain(conn);
    conn.blocked = (st & FeedStatus.BLOCKED) !== 0;
    conn.dispatch();
    if (st & FeedStatus.BLOCKED) this.#dirty = true;
    if (st & FeedStatus.OTHERS_READY) this.#mayBeReady = true;
    if (st & FeedStatus.CLOSE) {
      this.#closedByEngine(conn);
    } else if (conn.blocked && conn.headAborted()) {
      // a request cancelled while queued has now blocked: release it at once
      if (this.raw.unblock(conn.id, UNBLOCK_TIMEOUT)) {
        this.#mayBeReady = true;
        this.#woken(conn);
      }
    }
  }

  /** QUIT, a protocol error or CLIENT KILL: the replies already read were delivered; the rest fail. */
  #closedByEngine(conn: ConnState): void {
    conn.failAll(new ConnectionClosedError('rivulet: connection closed by the engine'));
    this.conns.delete(conn.id);
    this.raw.close(conn.id);
    this.#freeIds.push(conn.id);
    this.#dirty = true;
  }

  #drain(conn: ConnState): void {
    const raw = this.raw;
    let n: number;
    while ((n = raw.read(conn.id)) > 0) {
      conn.receive(raw.scratch(), n);
      if (n < raw.scratchCap) break; // rv_read hands out min(pending, cap): nothing is left
    }
  }

  /** A connection got its blocked reply: deliver it, then let the engine run what queued behind it. */
  #woken(conn: ConnState): void {
    this.#drain(conn);
    conn.blocked = false;
    conn.dispatch();
    if (this.#hasStatus && this.raw.status(conn.id) & FeedStatus.CLOSE) return this.#closedByEngine(conn);
    // Commands sent while it was blocked wait in the engine's input; an empty feed runs them (and
    // reports whether one blocked again). Harmless when the engine already ran them.
    if (conn.pending > 0) this.#feed(conn, 0);
    this.#dirty = true;
  }

  /** Serves every connection the engine reports ready (woken by a write, a timeout or an unblock). */
  #pump(): void {
    this.#mayBeReady = false;
    let id: number;
    while ((id = this.raw.readyNext()) >= 0) {
      const conn = this.conns.get(id);
      if (conn) this.#woken(conn);
    }
  }

  /** Drains the engine's effect buffer (to `onEffects`, or nowhere). */
  #effects(): void {
    // Effects exist only when onEffects turned them on: otherwise skip the crossing.
    if (!this.#hasEffects || !this.#onEffects) return;
    const raw = this.raw;
    let n: number;
    while ((n = raw.effectsRead()) > 0) {
      if (!this.#onEffects) continue;
      const chunk = raw.scratch().slice(0, n);
      try {
        this.#onEffects(chunk);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  /**
   * Runs `rv_xadd_batch` for a connection with `len` bytes already in scratch; `collect` reads the IDs
   * from scratch before the host drains anything else through it.
   */
  xaddBatch(conn: number, len: number, collect: (added: number) => void): void {
    this.check();
    const n = this.raw.xaddBatch(conn, len, this.clock());
    collect(n);
    this.#mayBeReady = true;
    this.#dirty = true;
    this.#settle();
  }

  #settle(): void {
    if (this.#mayBeReady) this.#pump();
    this.#effects();
    if (this.#dirty) {
      this.#dirty = false;
      this.#arm();
    }
  }

  /** Keeps one timer at the next deadline (ref'd only while a call is waiting). */
  #arm(): void {
    if (this.#failure !== null) return this.#clearTimer();
    const d = this.raw.nextDeadline();
    const ref = this.#waiting > 0;
    if (d < 0 && !ref) return this.#clearTimer();
    const at = d < 0 ? Infinity : d;
    if (this.#timer !== undefined && at === this.#timerAt) {
      if (ref !== this.#timerRef) this.#setRef(ref);
      return;
    }
    this.#clearTimer();
    const delay = d < 0 ? MAX_DELAY : Math.min(MAX_DELAY, Math.max(1, Math.ceil(d - this.clock())));
    this.#timer = setTimeout(this.#onTimer, delay);
    this.#timerAt = at;
    this.#setRef(ref);
  }

  #setRef(ref: boolean): void {
    this.#timerRef = ref;
    const t = this.#timer as { ref?: () => void; unref?: () => void } | undefined;
    if (t && typeof t === 'object') (ref ? t.ref : t.unref)?.call(t);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = NaN;
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = NaN;
    if (this.#failure !== null) return;
    try {
      this.raw.tick(this.clock());
      this.#pump();
      this.#effects();
      this.#arm();
    } catch (e) {
      this.#crash(e);
    }
  };

  /** The engine failed (abort, trap, corrupt output): poison it and reject everything pending. */
  #crash(e: unknown): unknown {
    this.raw.poison(e);
    const err = this.raw.failure;
    if (this.#failure === null) this.#failure = err;
    this.#clearTimer();
    for (const c of this.conns.values()) c.failAll(err);
    this.conns.clear();
    return err;
  }
}

/**
 * One Rivulet engine: a database of streams in one wasm instance, with any number of
 * {@link Connection}s. Create it with `createEngine()` (from `rivulet`, or `rivulet/slim` with your
 * own wasm).
 *
 * ```ts
 * import { createEngine } from 'rivulet';
 * const engine = await createEngine();
 * const conn = engine.connect();
 * await conn.xadd('s', { temp: 23.5 });
 * engine.close();
 * ```
 *
 * Timeouts: the engine keeps one timer at its next BLOCK deadline. In Node that timer holds the
 * process open only while a call is waiting on the engine — like a socket with a request in flight:
 * a pending `XREAD BLOCK 5000` still resolves (null) before the process exits, and a pending
 * `BLOCK 0` keeps the process alive until a write, its AbortSignal, `conn.close()` or
 * `engine.close()`. An idle engine holds nothing, so `close()` is not needed for a process to exit.
 */
export class Engine {
  /** The thin ABI-level engine underneath (for hosts that move raw RESP bytes themselves). */
  readonly raw: RawEngine;
  readonly #host: Host;

  /** Wraps an instantiated engine; `createEngine()` is the usual way to get one. */
  constructor(raw: RawEngine, options: EngineOptions = {}) {
    this.raw = raw;
    this.#host = new Host(raw, options.clock ?? Date.now, options.onEffects);
    if (options.pageBudget) raw.setPageBudget(options.pageBudget);
    if (options.maxmemory !== undefined) {
      const conn = this.connect();
      try {
        conn.call('CONFIG', 'SET', 'maxmemory', String(options.maxmemory)); // throws its ReplyError
      } finally {
        conn.close();
      }
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
  tick(now: number = this.#host.clock()): number {
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
    this.#host.check();
    return this.raw.usedMemory();
  }

  /** Open connections. */
  get connections(): number {
    return this.#host.conns.size;
  }

  /** True after `close()`, or once the engine failed (an engine abort poisons the instance). */
  get closed(): boolean {
    return this.#host.failure !== null;
  }

  /** Closes the engine: pending calls reject with `EngineClosedError`; later calls throw it. */
  close(): void {
    if (this.#host.failure === null) this.#host.shutdown(new EngineClosedError());
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
  return new Engine(await RawEngine.instantiate(module), options);
}

/**
 * The one host loop over a {@link RawEngine}, shared by every TypeScript host: the in-process
 * Engine, the Node RESP server and the browser worker (the C host mirrors it). One settle pass runs
 * after every engine call that can produce output:
 *
 *   1. collect: connections the engine reports ready (`rv_ready_next`: woken blocked readers,
 *      CLIENT KILL/UNBLOCK, timeouts) join the connections that were fed;
 *   2. effects: `rv_effects_read` until 0, each chunk to `durability.effects` (the AOF);
 *   3. commit: `durability.commit()` makes them durable as the fsync policy says; when it returns a
 *      Promise (an asynchronous storage), the replies of this pass are taken out of the engine and
 *      held until it resolves — no reply leaves before the write it acknowledges is persisted;
 *   4. requests: `rv_take_requests` (SAVE, BGSAVE, BGREWRITEAOF, SHUTDOWN, CONFIG changes) to
 *      `durability.requests`;
 *   5. deliver: each connection's output to its {@link Sink} (until the sink says stop: the rest
 *      stays in the engine until `resume`), then CLOSE is acted on;
 *   6. arm one timer at `rv_next_deadline()`, whose expiry runs `rv_tick` and another pass.
 *
 * `inline` settles at the end of each call (the in-process Engine: a reply is there when `call()`
 * returns); `deferred` settles once per scheduler turn (the server: one fsync covers every client
 * that wrote in that turn, like Redis's beforeSleep).
 */
import { FeedStatus } from './abi.js';
import { EngineClosedError } from './errors.js';
import { RawEngine } from './raw.js';
import { encodeCommand, encodeCommandInto, type CommandArg } from './resp.js';

/** A value or a Promise of it: synchronous storages stay synchronous end to end. */
export type Awaitable<T> = T | Promise<T>;

/** Where one connection's output goes (an in-process request queue, a socket, a MessagePort). */
export interface Sink {
  /**
   * Output bytes, in order. Unless `owned`, `bytes` is a view of the scratch region, valid only
   * during the call (copy it to keep it). Return false to stop: the rest stays in the engine until
   * {@link HostLoop.resume}.
   */
  write(bytes: Uint8Array, owned: boolean): boolean | void;
  /** After a delivery: the connection's status bits (BLOCKED tells whether it is parked). */
  settled?(status: number): void;
  /** The engine closed the connection (QUIT, protocol error, CLIENT KILL) after its last output. */
  closed(): void;
  /** The engine failed (abort, trap) or the loop was shut down: nothing more will come. */
  failed(err: unknown): void;
}

/** What a persisting host plugs into the loop (hosts/shared/persistence.ts implements it). */
export interface Durability {
  /** One chunk of effects (a scratch view: write or copy it now). */
  effects(chunk: Uint8Array): void;
  /** Makes the effects handed over so far durable per the fsync policy; replies wait for it. */
  commit(): Awaitable<void>;
  /**
   * Host requests raised by commands (`rv_take_requests` bits). A Promise holds this pass's
   * replies until it settles (SAVE answers once the snapshot is on disk).
   */
  requests(bits: number): Awaitable<void>;
}

/** Timers and deferral, injected so the loop runs in Node, a worker, or under a test clock. */
export interface Scheduler {
  setTimer(cb: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /** Whether a timer keeps the process alive (Node's ref/unref; a no-op elsewhere). */
  refTimer(handle: unknown, ref: boolean): void;
  /** Runs `cb` soon, after the current turn's other events (setImmediate / a resolved promise). */
  defer(cb: () => void): void;
}

/** Longest delay setTimeout takes (2^31 - 1 ms ≈ 24.8 days); longer ones are re-armed. */
const MAX_DELAY = 0x7fffffff;

export const defaultScheduler: Scheduler = {
  setTimer: (cb, ms) => setTimeout(cb, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  refTimer: (h, ref) => {
    const t = h as { ref?: () => void; unref?: () => void } | undefined;
    if (t && typeof t === 'object') (ref ? t.ref : t.unref)?.call(t);
  },
  defer: typeof setImmediate === 'function' ? (cb) => void setImmediate(cb) : (cb) => void Promise.resolve().then(cb),
};

export interface LoopOptions {
  clock?: () => number;
  scheduler?: Scheduler;
  /** `inline` (default): settle after each call; `deferred`: once per scheduler turn. */
  mode?: 'inline' | 'deferred';
  /**
   * Bytes per `rv_feed` when feeding raw input (`feed`): the engine runs every complete command of a
   * piece at once, so the piece size bounds the output one call can produce.
   */
  feedPiece?: number;
}

interface Conn {
  readonly id: number;
  readonly sink: Sink;
  /** Output taken out of the engine between input pieces, not delivered yet (copies). */
  queue: Uint8Array[];
  queued: number;
  /** Output is waiting in the engine because the sink said stop. */
  stalled: boolean;
  blocked: boolean;
  /** Delivered: the connection is gone (closed by the engine or the host). */
  gone: boolean;
}

/** Output taken out of the engine while an asynchronous commit is in flight. */
interface Held {
  conn: Conn;
  bytes: Uint8Array[];
  status: number;
}

interface Commit {
  resolved: boolean;
  held: Held[];
  done: Promise<void>;
}

export class HostLoop {
  readonly raw: RawEngine;
  readonly clock: () => number;
  readonly #sched: Scheduler;
  readonly #deferred: boolean;
  readonly #feedPiece: number;
  readonly #conns = new Map<number, Conn>();
  #nextId = 0;
  #freeIds: number[] = [];
  #failure: unknown = null;
  #durability: Durability | null = null;

  /** Connections to deliver to in the next settle pass. */
  #touched = new Set<Conn>();
  #mayBeReady = false;
  #settleQueued = false;
  /** Asynchronous commits in flight, oldest first; each holds the output of its pass. */
  #inFlight: Commit[] = [];

  /** Calls the program waits on (blocked reads): only then does the deadline timer hold the process. */
  #waiting = 0;
  #timer: unknown = undefined;
  #timerAt = NaN;
  #timerRef = false;
  #timerDirty = false;

  constructor(raw: RawEngine, options: LoopOptions = {}) {
    this.raw = raw;
    this.clock = options.clock ?? Date.now;
    this.#sched = options.scheduler ?? defaultScheduler;
    this.#deferred = options.mode === 'deferred';
    this.#feedPiece = Math.min(options.feedPiece ?? raw.scratchCap, raw.scratchCap);
  }

  /** The failure that stopped the loop (an engine abort, or shutdown), or null. */
  get failure(): unknown {
    return this.#failure;
  }

  get size(): number {
    return this.#conns.size;
  }

  /** Plugs in persistence: effects are turned on in the engine and flow to `d` from now on. */
  setDurability(d: Durability | null): void {
    this.#durability = d;
    this.raw.effectsEnable(d !== null);
  }

  /** Throws when the loop can take no more calls. */
  check(): void {
    if (this.#failure !== null) throw this.#failure;
  }

  /** Opens an engine connection delivering to `sink`; returns its id. */
  open(sink: Sink): number {
    this.check();
    for (;;) {
      const id = this.#freeIds.length ? this.#freeIds.pop()! : this.#nextId++;
      if (id > 0x7fffffff) throw new RangeError('rivulet: out of connection ids');
      try {
        if (this.raw.open(id) !== 0) continue; // in use inside the engine: take the next
      } catch (e) {
        throw this.#crash(e);
      }
      this.#conns.set(id, { id, sink, queue: [], queued: 0, stalled: false, blocked: false, gone: false });
      return id;
    }
  }

  /** The host closed a connection (socket closed, `conn.close()`): the engine forgets it. */
  close(id: number): void {
    const c = this.#conns.get(id);
    if (!c) return;
    this.#forget(c);
    if (this.#failure !== null) return;
    this.#guard(() => {
      this.raw.close(id);
      this.#timerDirty = true;
      this.#settleSoon();
    });
  }

  /**
   * Raw input bytes for a connection (socket data), fed in pieces. Returns how many bytes were
   * fed: fewer than given when the replies taken out meanwhile exceed `highWater` bytes (a client
   * that pipelines without reading): the host keeps the rest and feeds it once the sink drained.
   */
  feed(id: number, bytes: Uint8Array, highWater = Infinity): number {
    const c = this.#conns.get(id);
    if (!c) return bytes.length;
    let off = 0;
    this.#guard(() => {
      const raw = this.raw;
      const now = this.clock();
      while (off < bytes.length && !c.gone && c.queued < highWater) {
        const n = Math.min(this.#feedPiece, bytes.length - off);
        raw.scratch().set(bytes.subarray(off, off + n));
        this.#fed(c, raw.feed(id, n, now));
        off += n;
      }
      this.#settleSoon();
    });
    return c.gone ? bytes.length : off;
  }

  /** Bytes of output taken out of the engine for `id` and not yet accepted by its sink. */
  queuedBytes(id: number): number {
    return this.#conns.get(id)?.queued ?? 0;
  }

  /** Encodes `cmds` into scratch (many per crossing) and feeds them on `id`. */
  submit(id: number, cmds: readonly (readonly CommandArg[])[]): void {
    const c = this.#conns.get(id);
    if (!c) return;
    this.#guard(() => {
      const raw = this.raw;
      let scratch = raw.scratch();
      let off = 0;
      for (let i = 0; i < cmds.length && !c.gone; i++) {
        let n = encodeCommandInto(cmds[i], scratch, off);
        if (n < 0 && off > 0) {
          this.#fedScratch(c, off);
          off = 0;
          if (c.gone) break;
          scratch = raw.scratch();
          n = encodeCommandInto(cmds[i], scratch, 0);
        }
        if (n < 0) {
          // larger than the scratch region: the engine buffers the partial frame between pieces
          const bytes = encodeCommand(cmds[i]);
          for (let p = 0; p < bytes.length && !c.gone; p += raw.scratchCap) {
            const piece = bytes.subarray(p, p + raw.scratchCap);
            raw.scratch().set(piece);
            this.#fedScratch(c, piece.length);
          }
          scratch = raw.scratch();
          continue;
        }
        off += n;
      }
      if (off > 0 && !c.gone) this.#fedScratch(c, off);
      this.#settleSoon();
    });
  }

  /**
   * Runs `fn` against the engine (e.g. `rv_xadd_batch` with its input already in scratch) as one
   * write of connection `id`, then settles like a feed: wake-ups, effects, deliveries.
   */
  run<T>(id: number, fn: (raw: RawEngine) => T): T {
    this.check();
    const c = this.#conns.get(id);
    let out!: T;
    this.#guard(() => {
      out = fn(this.raw);
      if (c) this.#touched.add(c);
      this.#mayBeReady = true;
      this.#timerDirty = true;
      this.#settleSoon();
    });
    return out;
  }

  /** CLIENT UNBLOCK-style release of a parked connection (`rv_unblock`); true if it was blocked. */
  unblock(id: number, mode: number): boolean {
    const c = this.#conns.get(id);
    if (!c || this.#failure !== null) return false;
    let was = false;
    this.#guard(() => {
      was = this.raw.unblock(id, mode) !== 0;
      if (was) {
        this.#touched.add(c);
        this.#mayBeReady = true;
      }
      this.#timerDirty = true;
      this.#settleSoon();
    });
    return was;
  }

  /** Delivers BLOCK timeouts as of `now`; returns how many timed out. */
  tick(now: number = this.clock()): number {
    this.check();
    let n = 0;
    this.#guard(() => {
      n = this.raw.tick(now);
      this.#mayBeReady = true;
      this.#timerDirty = true;
      this.#settle();
    });
    return n;
  }

  /** A sink that said stop can take output again. */
  resume(id: number): void {
    const c = this.#conns.get(id);
    if (!c || !c.stalled) return;
    c.stalled = false;
    this.#touched.add(c);
    this.#settleSoon();
  }

  /** True while a connection has output left in the engine because its sink said stop. */
  isStalled(id: number): boolean {
    return this.#conns.get(id)?.stalled ?? false;
  }

  isBlocked(id: number): boolean {
    return this.#conns.get(id)?.blocked ?? false;
  }

  /** A call the program awaits started / ended: the deadline timer holds the process meanwhile. */
  retain(): void {
    if (this.#waiting++ > 0) return;
    this.#guard(() => this.#arm());
  }

  release(): void {
    this.#waiting--;
    this.#timerDirty = true;
  }

  /** Runs a settle pass now (deferred hosts call it at shutdown). */
  flush(): void {
    if (this.#failure !== null) return;
    this.#guard(() => this.#settle());
  }

  /** Resolves once every asynchronous commit in flight has completed and its replies went out. */
  async idle(): Promise<void> {
    while (this.#inFlight.length) await this.#inFlight[this.#inFlight.length - 1].done.catch(() => {});
  }

  /** Stops the loop: every sink gets `err`, the timer stops, later calls throw it. */
  shutdown(err: unknown = new EngineClosedError()): void {
    if (this.#failure === null) this.#failure = err;
    this.#clearTimer();
    const conns = [...this.#conns.values()];
    this.#conns.clear();
    for (const c of conns) {
      c.gone = true;
      c.sink.failed(err);
    }
  }

  // ---------------------------------------------------------------------------------------------

  #fedScratch(c: Conn, len: number): void {
    this.#fed(c, this.raw.feed(c.id, len, this.clock()));
  }

  #fed(c: Conn, st: number): void {
    if (st < 0) return this.#closedByEngine(c); // unknown to the engine
    c.blocked = (st & FeedStatus.BLOCKED) !== 0;
    this.#touched.add(c);
    if (st & FeedStatus.BLOCKED) this.#timerDirty = true;
    if (st & FeedStatus.OTHERS_READY) this.#mayBeReady = true;
    if (!(st & FeedStatus.OUTPUT)) return;
    if (!this.#deferred && !this.#durability && this.#inFlight.length === 0) {
      // nothing to persist first: deliver at once (the in-process fast path)
      this.#deliver(c);
      return;
    }
    // replies wait for the settle pass (after the commit), outside the engine so that one call's
    // output never piles up inside linear memory
    const raw = this.raw;
    let n: number;
    while ((n = raw.read(c.id)) > 0) {
      c.queue.push(raw.scratch().slice(0, n));
      c.queued += n;
    }
  }

  #settleSoon(): void {
    if (!this.#deferred) return this.#settle();
    if (this.#settleQueued) return;
    this.#settleQueued = true;
    this.#sched.defer(() => {
      this.#settleQueued = false;
      if (this.#failure === null) this.#guardAsync(() => this.#settle());
    });
  }

  #settle(): void {
    if (this.#mayBeReady) this.#collectReady();
    const d = this.#durability;
    let pending: Promise<void> | null = null;
    if (d) {
      const raw = this.raw;
      let n: number;
      while ((n = raw.effectsRead()) > 0) d.effects(raw.scratch().subarray(0, n));
      const r = d.commit();
      if (r instanceof Promise) pending = r;
      const req = raw.takeRequests();
      const q = req ? d.requests(req) : undefined;
      if (q instanceof Promise) pending = pending ? Promise.all([pending, q]).then(() => {}) : q;
    }
    if (pending || this.#inFlight.length) this.#holdTouched(pending ?? Promise.resolve());
    else {
      for (const c of this.#touched) this.#deliver(c);
      this.#touched.clear();
    }
    if (this.#mayBeReady) this.#settle(); // a delivery ran queued input that woke others
    if (this.#timerDirty) {
      this.#timerDirty = false;
      this.#arm();
    }
  }

  /** Takes the touched connections' output out of the engine and delivers it after `done`. */
  #holdTouched(done: Promise<void>): void {
    const held: Held[] = [];
    const raw = this.raw;
    for (const c of this.#touched) {
      if (c.gone) continue;
      const bytes = c.queue;
      c.queue = [];
      c.queued = 0;
      let n: number;
      while ((n = raw.read(c.id)) > 0) bytes.push(raw.scratch().slice(0, n));
      held.push({ conn: c, bytes, status: raw.status(c.id) });
    }
    this.#touched.clear();
    const entry: Commit = { resolved: false, held, done: Promise.resolve() };
    entry.done = done.then(
      () => {
        entry.resolved = true;
        if (this.#failure === null) this.#guardAsync(() => this.#releaseHeld());
      },
      (e) => {
        this.#crash(e);
      },
    );
    this.#inFlight.push(entry);
  }

  /** Delivers, in order, the held output of every completed commit at the head of the queue. */
  #releaseHeld(): void {
    while (this.#inFlight.length && this.#inFlight[0].resolved) {
      const head = this.#inFlight.shift()!;
      for (const h of head.held) {
        if (h.conn.gone) continue;
        for (const b of h.bytes) h.conn.sink.write(b, true);
        this.#afterDelivery(h.conn, h.status);
      }
    }
    if (this.#touched.size || this.#mayBeReady) this.#settle();
  }

  /** Like #guard, for callbacks nobody awaits: the failure reaches every sink. */
  #guardAsync(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#crash(e);
    }
  }

  #collectReady(): void {
    this.#mayBeReady = false;
    const raw = this.raw;
    let id: number;
    while ((id = raw.readyNext()) >= 0) {
      const c = this.#conns.get(id);
      if (!c) continue;
      if (c.blocked) {
        // commands sent while it was parked wait in the engine's input: an empty feed runs them
        c.blocked = false;
        const st = raw.feed(id, 0, this.clock());
        if (st >= 0) {
          c.blocked = (st & FeedStatus.BLOCKED) !== 0;
          if (st & FeedStatus.OTHERS_READY) this.#mayBeReady = true;
        }
      }
      this.#touched.add(c);
      this.#timerDirty = true;
    }
  }

  /** Moves a connection's output to its sink (until it says stop), then acts on its status. */
  #deliver(c: Conn): void {
    if (c.gone || c.stalled) return;
    while (c.queue.length) {
      const b = c.queue.shift()!;
      c.queued -= b.length;
      if (c.sink.write(b, true) === false) {
        c.stalled = true;
        return this.#afterDelivery(c, this.raw.status(c.id));
      }
    }
    const raw = this.raw;
    let n: number;
    while ((n = raw.read(c.id)) > 0) {
      if (c.sink.write(raw.scratch().subarray(0, n), false) === false) {
        c.stalled = true;
        break;
      }
      if (n < raw.scratchCap) break; // rv_read hands out min(pending, cap): nothing is left
    }
    this.#afterDelivery(c, raw.status(c.id));
  }

  #afterDelivery(c: Conn, st: number): void {
    c.blocked = (st & FeedStatus.BLOCKED) !== 0;
    if (st & FeedStatus.OUTPUT && !c.stalled && this.#inFlight.length === 0) {
      // more output arrived meanwhile (held delivery): take it on the next pass
      this.#touched.add(c);
    }
    c.sink.settled?.(st);
    if (st & FeedStatus.CLOSE && !(st & FeedStatus.OUTPUT) && c.queue.length === 0) this.#closedByEngine(c);
  }

  #closedByEngine(c: Conn): void {
    if (c.gone) return;
    this.#forget(c);
    this.raw.close(c.id);
    this.#timerDirty = true;
    c.sink.closed();
  }

  #forget(c: Conn): void {
    c.gone = true;
    this.#conns.delete(c.id);
    this.#touched.delete(c);
    this.#freeIds.push(c.id);
  }

  /** Keeps one timer at the next deadline (holding the process only while a call waits). */
  #arm(): void {
    if (this.#failure !== null) return this.#clearTimer();
    const d = this.raw.nextDeadline();
    const ref = this.#waiting > 0 || this.#deferred;
    if (d < 0 && !(this.#waiting > 0)) return this.#clearTimer();
    const at = d < 0 ? Infinity : d;
    if (this.#timer !== undefined && at === this.#timerAt) {
      if (ref !== this.#timerRef) this.#setRef(ref);
      return;
    }
    this.#clearTimer();
    const delay = d < 0 ? MAX_DELAY : Math.min(MAX_DELAY, Math.max(d <= this.clock() ? 0 : 1, Math.ceil(d - this.clock())));
    this.#timer = this.#sched.setTimer(this.#onTimer, delay);
    this.#timerAt = at;
    this.#setRef(ref);
  }

  #setRef(ref: boolean): void {
    this.#timerRef = ref;
    this.#sched.refTimer(this.#timer, ref);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#sched.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#timerAt = NaN;
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = NaN;
    if (this.#failure !== null) return;
    this.#guardAsync(() => {
      this.raw.tick(this.clock());
      this.#mayBeReady = true;
      this.#timerDirty = true;
      this.#settle();
    });
  };

  /** Runs `fn`; an exception is an engine failure (abort, trap): poison and stop everything. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      throw this.#crash(e);
    }
  }

  #crash(e: unknown): unknown {
    if (this.#failure !== null) return this.#failure;
    this.raw.poison(e);
    const err = this.raw.failure ?? e;
    this.shutdown(err);
    return err;
  }
}

import { AbortError, ConnectionClosedError } from './errors.js';
import { decodeReply, replyLength, ReplyError, type CommandArg, type RespValue } from './resp.js';
import { GroupCommands } from './groups.js';
import type { Awaitable, CallOptions } from './streams.js';

/**
 * What a {@link ConnState} needs of its host: the in-process host (engine.ts) feeds the engine
 * directly; the browser page (hosts/browser/client.ts) posts to the engine's worker.
 */
export interface ConnHost {
  /** Throws when the engine (or this connection) can take no more calls. */
  check(conn?: ConnState): void;
  /** Sends `cmds` on `conn` (their requests are already queued); replies reach its queue. */
  submit(conn: ConnState, cmds: readonly (readonly CommandArg[])[]): void;
  /** A call the program awaits started / ended. */
  retain(): void;
  release(): void;
  /** After a request was cancelled by its signal (already rejected); `wasHead`: it was the oldest. */
  afterAbort(conn: ConnState, wasHead: boolean): void;
  closeConnection(conn: ConnState): void;
}

/** How a request's reply is delivered. */
const DECODED = 0; // decoded; an error reply rejects / throws
const RAW = 1; // exact RESP bytes
const DECODED_ERRORS_AS_VALUES = 2; // decoded; an error reply is the value (pipelines)

/** One command sent on a connection, waiting for its one reply. */
class PendingCall {
  done = false;
  failed = false;
  value: unknown = undefined;
  /** Cancelled by its signal: already rejected; its reply, when it comes, is dropped. */
  aborted = false;
  resolve: ((v: unknown) => void) | undefined = undefined;
  reject: ((e: unknown) => void) | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  constructor(readonly kind: number) {}
}

/**
 * Host-side state of one engine connection: the FIFO of requests whose replies are still due and
 * the bytes read from the engine that do not yet form a whole reply. Replies are matched to requests
 * in order (RESP has one reply per command); RESP3 push frames are skipped. Used by the host loop
 * (engine.ts); not part of the public API.
 */
export class ConnState {
  /** Last known blocked state (from the latest `rv_feed` status of this connection). */
  blocked = false;
  closed = false;
  /** Unanswered requests, oldest first: a ring (power-of-two capacity) so the common one-at-a-time
   *  call never resizes an array. */
  #ring: (PendingCall | undefined)[] = new Array(8).fill(undefined);
  #head = 0;
  #count = 0;
  #out = new Uint8Array(1024);
  #start = 0;
  #end = 0;

  constructor(
    readonly id: number,
    readonly host: ConnHost,
  ) {}

  push(req: PendingCall): void {
    if (this.#count === this.#ring.length) {
      const old = this.#ring;
      const grown: (PendingCall | undefined)[] = new Array(old.length * 2).fill(undefined);
      for (let i = 0; i < this.#count; i++) grown[i] = old[(this.#head + i) & (old.length - 1)];
      this.#ring = grown;
      this.#head = 0;
    }
    this.#ring[(this.#head + this.#count) & (this.#ring.length - 1)] = req;
    this.#count++;
  }

  peek(): PendingCall | undefined {
    return this.#count === 0 ? undefined : this.#ring[this.#head];
  }

  #shift(): PendingCall | undefined {
    if (this.#count === 0) return undefined;
    const r = this.#ring[this.#head];
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#ring.length - 1);
    this.#count--;
    return r;
  }

  /** PendingCalls sent whose replies have not arrived (aborted ones included). */
  get pending(): number {
    return this.#count;
  }

  /** True when the oldest unanswered request was cancelled by its signal. */
  headAborted(): boolean {
    const r = this.peek();
    return r !== undefined && r.aborted;
  }

  /** Appends `n` bytes of engine output (from a scratch view). */
  receive(src: Uint8Array, n: number): void {
    let out = this.#out;
    if (this.#end + n > out.length) {
      const live = this.#end - this.#start;
      if (live + n <= out.length >>> 1) {
        out.copyWithin(0, this.#start, this.#end);
      } else {
        let cap = out.length * 2;
        while (cap < live + n) cap *= 2;
        const grown = new Uint8Array(cap);
        grown.set(out.subarray(this.#start, this.#end));
        this.#out = out = grown;
      }
      this.#start = 0;
      this.#end = live;
    }
    out.set(src.subarray(0, n), this.#end);
    this.#end += n;
  }

  /** Hands every complete reply in the buffer to the oldest waiting request. */
  dispatch(): void {
    const buf = this.#out;
    const end = this.#end;
    let start = this.#start;
    while (start < end) {
      const req = this.peek();
      if (buf[start] !== 62 /* '>' RESP3 push: not a reply */ && req !== undefined && !req.aborted && req.kind !== RAW) {
        // Decoding finds the reply's end itself: one pass over the bytes, not two.
        const d = decodeReply(buf, start, end);
        if (d === null) break;
        this.#shift();
        this.settle(req, req.kind === DECODED && d.value instanceof ReplyError, d.value);
        start = d.next;
        continue;
      }
      const n = replyLength(buf, start, end);
      if (n < 0) break;
      if (buf[start] !== 62) {
        const r = this.#shift();
        if (r !== undefined && !r.aborted) this.#deliver(r, buf, start, start + n);
      }
      start += n;
    }
    if (start === end) {
      this.#start = this.#end = 0;
      if (buf.length > 1 << 20) this.#out = new Uint8Array(1024); // do not pin a huge reply's buffer
    } else {
      this.#start = start;
    }
  }

  #deliver(req: PendingCall, buf: Uint8Array, start: number, end: number): void {
    if (req.kind === RAW) {
      this.settle(req, false, buf.slice(start, end));
      return;
    }
    const value = decodeReply(buf, start, end)!.value;
    this.settle(req, req.kind === DECODED && value instanceof ReplyError, value);
  }

  /** Completes a request (synchronously visible through `done`, or through its promise). */
  settle(req: PendingCall, failed: boolean, value: unknown): void {
    if (req.done) return;
    req.done = true;
    req.failed = failed;
    req.value = value;
    if (req.signal) {
      req.signal.removeEventListener('abort', req.onAbort!);
      req.signal = req.onAbort = undefined;
    }
    const { resolve, reject } = req;
    if (resolve) {
      req.resolve = req.reject = undefined;
      this.host.release();
      if (failed) reject!(value);
      else resolve(value);
    }
  }

  /** Rejects every unanswered request with `err` and marks the connection closed. */
  failAll(err: unknown): void {
    this.closed = true;
    let r: PendingCall | undefined;
    while ((r = this.#shift()) !== undefined) this.settle(r, true, err);
  }

  /** The value of a request: directly when done, else a promise (cancellable with `signal`). */
  result(req: PendingCall, signal: AbortSignal | undefined): unknown {
    if (req.done) {
      if (req.failed) throw req.value;
      return req.value;
    }
    return this.#promise(req, signal);
  }

  #promise(req: PendingCall, signal: AbortSignal | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      req.resolve = resolve;
      req.reject = reject;
      this.host.retain();
      if (signal) {
        req.signal = signal;
        req.onAbort = () => this.#abort(req, signal.reason);
        signal.addEventListener('abort', req.onAbort, { once: true });
      }
    });
  }

  #abort(req: PendingCall, reason: unknown): void {
    if (req.done) return;
    const wasHead = this.peek() === req;
    req.aborted = true;
    this.settle(req, true, new AbortError(reason));
    this.host.afterAbort(this, wasHead);
  }

  newPendingCall(kind: number): PendingCall {
    const r = new PendingCall(kind);
    this.push(r);
    return r;
  }
}

/** Checks a command's arguments before anything is sent (shared with remote.ts). */
export function checkArgs(args: readonly CommandArg[]): void {
  if (!Array.isArray(args) || args.length === 0) {
    throw new TypeError('rivulet: a command is a non-empty array of arguments');
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const t = typeof a;
    if (t !== 'string' && t !== 'number' && t !== 'bigint' && !(a instanceof Uint8Array)) {
      throw new TypeError(
        `rivulet: argument ${i} of ${String(args[0])} is ${a === null ? 'null' : t}; ` +
          'expected a string, number, bigint or Uint8Array',
      );
    }
  }
}

/**
 * One client connection to the engine, with its own selected db, protocol (HELLO 2/3), MULTI state
 * and blocking state — what a socket to redis-server would be.
 *
 * Every call returns the reply **directly** when the command does not block, and a **Promise** when
 * it blocks (XREAD/XREADGROUP BLOCK) or must wait behind a blocked command on this connection.
 * `await` works for both. Error replies are thrown (or rejected) as `ReplyError` carrying Redis's
 * exact message; in pipelines they are returned in place instead.
 *
 * ```ts
 * const conn = engine.connect();
 * const id = await conn.call('XADD', 's', '*', 'temp', '23.5');   // '1700000000000-0'
 * const raw = await conn.callRaw('XRANGE', 's', '-', '+');       // Uint8Array, exact RESP bytes
 * const next = conn.xread({ s: '$' }, { block: 0, signal });     // Promise, woken by a write
 * ```
 *
 * Typed helpers: the stream commands (`xadd`, `xrange`, `xread`, …, see `StreamCommands`) and the
 * consumer-group commands (`xgroupCreate`, `xreadgroup`, `xack`, `xpending`, `xclaim`,
 * `xautoclaim`, `xinfoStream`, …, see `GroupCommands`).
 */
export class Connection extends GroupCommands {
  readonly #state: ConnState;

  /** Use `engine.connect()`. */
  constructor(state: ConnState) {
    super();
    this.#state = state;
  }

  /** The connection id the engine knows this connection by. */
  get id(): number {
    return this.#state.id;
  }

  /** True once closed by `close()`, by the engine (QUIT, protocol error) or by `engine.close()`. */
  get closed(): boolean {
    return this.#state.closed;
  }

  /** Runs one command; the decoded reply (see `RespValue`), or a Promise of it when it blocks. */
  call(...args: CommandArg[]): Awaitable<RespValue> {
    return this.#one(args, DECODED, undefined) as Awaitable<RespValue>;
  }

  /** Runs one command; its reply as the exact RESP bytes, or a Promise of them when it blocks. */
  callRaw(...args: CommandArg[]): Awaitable<Uint8Array> {
    return this.#one(args, RAW, undefined) as Awaitable<Uint8Array>;
  }

  /**
   * Like {@link call} with the command as an array, plus options: `signal` cancels the call while it
   * waits (it then rejects with `AbortError`, and the connection stays usable).
   */
  command(args: readonly CommandArg[], options?: CallOptions): Awaitable<RespValue> {
    return this.#one(args, DECODED, options?.signal) as Awaitable<RespValue>;
  }

  /** Like {@link callRaw} with the command as an array, plus `signal`. */
  commandRaw(args: readonly CommandArg[], options?: CallOptions): Awaitable<Uint8Array> {
    return this.#one(args, RAW, options?.signal) as Awaitable<Uint8Array>;
  }

  /**
   * Sends many commands in as few engine crossings as possible (encoded back to back into the scratch
   * region, in chunks when they exceed it; a single command larger than the region is fed in pieces).
   * Returns the decoded replies in order; error replies are `ReplyError` values in the array, not
   * thrown. A Promise when any command blocks.
   */
  pipeline(commands: readonly (readonly CommandArg[])[]): Awaitable<RespValue[]> {
    return this.#batch(commands, DECODED_ERRORS_AS_VALUES) as Awaitable<RespValue[]>;
  }

  /** {@link pipeline} with each reply as its exact RESP bytes. */
  pipelineRaw(commands: readonly (readonly CommandArg[])[]): Awaitable<Uint8Array[]> {
    return this.#batch(commands, RAW) as Awaitable<Uint8Array[]>;
  }

  /** Closes the connection: pending calls reject with `ConnectionClosedError`. Idempotent. */
  close(): void {
    this.#state.host.closeConnection(this.#state);
  }

  #one(args: readonly CommandArg[], kind: number, signal: AbortSignal | undefined): unknown {
    checkArgs(args);
    const st = this.#state;
    st.host.check(st);
    if (signal?.aborted) throw new AbortError(signal.reason);
    const req = st.newPendingCall(kind);
    st.host.submit(st, [args]);
    return st.result(req, signal);
  }

  #batch(commands: readonly (readonly CommandArg[])[], kind: number): unknown {
    if (!Array.isArray(commands)) throw new TypeError('rivulet: pipeline() takes an array of commands');
    for (const c of commands) checkArgs(c);
    const st = this.#state;
    st.host.check(st);
    const reqs = commands.map(() => st.newPendingCall(kind));
    if (reqs.length) st.host.submit(st, commands);
    if (reqs.every((r) => r.done)) return reqs.map((r) => st.result(r, undefined));
    return Promise.all(
      reqs.map((r) => (!r.done ? st.result(r, undefined) : r.failed ? Promise.reject(r.value) : r.value)),
    );
  }
}

import {
  checkExports,
  createImports,
  FeedStatus,
  SnapshotStart,
  LOAD_STATUS_SIZE,
  BUILD_INFO_SIZE,
  readLoadStatus,
  readBuildInfo,
  readDatasetStats,
  type DatasetStats,
  type LoadStatus,
  type RivuletExports,
} from './abi.js';

/** A LoadStatus record (`rv_load_status`) with the texts that follow it decoded. */
export interface LoadReport extends LoadStatus {
  /** Text of the first error reply (without `-` and CRLF), '' when none. */
  errorText: string;
  /** Text of the protocol error, '' when none. */
  protocolErrorText: string;
}

/** The BuildInfo record (`rv_build_info`) with the build hash. */
export interface EngineBuildInfo {
  snapshotFormat: number;
  hash: string;
}

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/**
 * The low-level engine: one `rivulet.wasm` instance, its exports mirrored one to one
 * (wa-sqlite style). It adds only what every host needs anyway:
 *
 * - a scratch view that is re-derived whenever `memory.buffer` was replaced by growth
 *   ({@link RawEngine.scratch} — call it again after every wasm call instead of keeping the view);
 * - poisoning: once the engine aborted (`env.abort`) or trapped, every further call throws the
 *   same error, because the instance's state can no longer be trusted.
 *
 * ```ts
 * const raw = await RawEngine.instantiate(module);
 * raw.open(1);
 * const cmd = new TextEncoder().encode('*1\r\n$4\r\nPING\r\n');
 * raw.scratch().set(cmd);
 * raw.feed(1, cmd.length, Date.now());          // status bits (FeedStatus)
 * const n = raw.read(1);                         // "+PONG\r\n" is now in raw.scratch()[0..n)
 * ```
 *
 * Most programs want {@link Engine} / `createEngine()` instead, which drives this class.
 */
export class RawEngine {
  /** The instance's exports, unguarded (calling them directly bypasses poisoning). */
  readonly exports: RivuletExports;
  /** Byte offset of the scratch region in linear memory (fixed for the instance's life). */
  readonly scratchPtr: number;
  /** Size of the scratch region in bytes. */
  readonly scratchCap: number;

  #buffer: ArrayBuffer | null = null;
  #scratch: Uint8Array = new Uint8Array(0);
  #failure: unknown = null;

  /** Instantiates a compiled `rivulet.wasm` module. */
  static async instantiate(module: WebAssembly.Module): Promise<RawEngine> {
    const holder: { exports?: RivuletExports; engine?: RawEngine } = {};
    const imports = createImports(
      () => holder.exports?.memory,
      (err) => holder.engine?.poison(err),
    );
    const instance = await WebAssembly.instantiate(module, imports);
    holder.exports = checkExports(instance.exports);
    holder.engine = new RawEngine(holder.exports);
    return holder.engine;
  }

  /** Wraps exports that were instantiated elsewhere (their `env.abort` will not poison this object). */
  constructor(exports: RivuletExports) {
    this.exports = exports;
    this.scratchPtr = exports.rv_scratch_ptr();
    this.scratchCap = exports.rv_scratch_cap();
  }

  /** The error that made this instance unusable, or null. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Marks the instance unusable; every later call throws `err`. The first failure wins. */
  poison(err: unknown): void {
    if (this.#failure === null) this.#failure = err;
  }

  /** A view of the scratch region, valid until the next wasm call (memory may grow). */
  scratch(): Uint8Array {
    const buf = this.exports.memory.buffer as ArrayBuffer;
    if (buf !== this.#buffer) {
      this.#buffer = buf;
      this.#scratch = new Uint8Array(buf, this.scratchPtr, this.scratchCap);
    }
    return this.#scratch;
  }

  /** A view of all of linear memory, valid until the next wasm call. */
  memory(): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer);
  }

  #fail(err: unknown): never {
    this.poison(err);
    throw this.#failure;
  }

  #check(): void {
    if (this.#failure !== null) throw this.#failure;
  }

  /** Calls an export with the poisoning guard (the cold paths; feed/read are spelled out). */
  #call<A extends number[], R>(fn: (...args: A) => R, ...args: A): R {
    this.#check();
    try {
      return fn(...args);
    } catch (e) {
      this.#fail(e);
    }
  }

  /** `rv_feed`: `len` bytes were written to scratch; returns FeedStatus bits. */
  feed(conn: number, len: number, now: number): number {
    this.#check();
    try {
      return this.exports.rv_feed(conn, len, now);
    } catch (e) {
      this.#fail(e);
    }
  }

  /** `rv_read`: pending output → scratch; returns the byte count (0 = none left). */
  read(conn: number): number {
    this.#check();
    try {
      return this.exports.rv_read(conn);
    } catch (e) {
      this.#fail(e);
    }
  }

  /** `rv_open`: 0 = ok, -1 = id in use. */
  open(conn: number): number {
    return this.#call(this.exports.rv_open, conn);
  }

  /** `rv_close`. */
  close(conn: number): void {
    this.#call(this.exports.rv_close, conn);
  }

  /** `rv_ready_next`: a woken connection id, or -1. */
  readyNext(): number {
    return this.#call(this.exports.rv_ready_next);
  }

  /** `rv_tick`: times out blocked connections with deadline ≤ now; returns how many became ready. */
  tick(now: number): number {
    return this.#call(this.exports.rv_tick, now);
  }

  /** `rv_next_deadline`: earliest deadline of a blocked connection, or -1. */
  nextDeadline(): number {
    return this.#call(this.exports.rv_next_deadline);
  }

  /** `rv_unblock`: 1 if the connection was blocked. */
  unblock(conn: number, mode: number): number {
    return this.#call(this.exports.rv_unblock, conn, mode);
  }

  /** `rv_set_page_budget` (64 KiB pages, 0 = none). */
  setPageBudget(pages: number): number {
    return this.#call(this.exports.rv_set_page_budget, pages);
  }

  /** `rv_used_memory`. */
  usedMemory(): number {
    return this.#call(this.exports.rv_used_memory);
  }

  // Persistence and server hosting.

  /** `rv_status`: the connection's current status bits. */
  status(conn: number): number {
    return this.#call(this.exports.rv_status, conn);
  }

  /** `rv_set_loading`: the connection replays an AOF or snapshot. */
  setLoading(conn: number, on: boolean): void {
    this.#call(this.exports.rv_set_loading, conn, on ? 1 : 0);
  }

  /** `rv_xadd_batch`: entries added (IDs in scratch as u64 pairs) or a negative code. */
  xaddBatch(conn: number, len: number, now: number): number {
    return this.#call(this.exports.rv_xadd_batch, conn, len, now);
  }

  /** `rv_effects_enable`: effects are produced only after this is called with 1. */
  effectsEnable(on: boolean): void {
    this.#call(this.exports.rv_effects_enable, on ? 1 : 0);
  }

  /** `rv_effects_read`: pending effects → scratch; returns the byte count (0 = none). */
  effectsRead(): number {
    return this.#call(this.exports.rv_effects_read);
  }

  /** `rv_snapshot_begin`: a `SnapshotStart` (0 started, -1 one is already running, -2 not enough memory). */
  snapshotBegin(): number {
    return this.#call(this.exports.rv_snapshot_begin);
  }

  /** `rv_snapshot_read`: the next part (≤ min(max, scratch cap) bytes) → scratch; 0 when complete, -1 none running. */
  snapshotRead(max: number): number {
    return this.#call(this.exports.rv_snapshot_read, max);
  }

  /** `rv_snapshot_abort`: gives the running snapshot up. */
  snapshotAbort(): void {
    this.#call(this.exports.rv_snapshot_abort);
  }

  /** `rv_dirty`: changes since start. */
  dirty(): number {
    return this.#call(this.exports.rv_dirty);
  }

  /** `rv_take_requests`: SAVE/BGSAVE/BGREWRITEAOF/SHUTDOWN request bits (cleared). */
  takeRequests(): number {
    return this.#call(this.exports.rv_take_requests);
  }

  /** `rv_conn_set_addr`: `len` bytes of `"<peer> <local>"` are in scratch. */
  connSetAddr(conn: number, len: number): void {
    this.#call(this.exports.rv_conn_set_addr, conn, len);
  }

  /** `rv_set_host_info`: `len` bytes of host INFO lines are in scratch. */
  setHostInfo(len: number): void {
    this.#call(this.exports.rv_set_host_info, len);
  }

  /** `rv_set_internal`: the host's control connection (no AUTH, hidden, may set immutable settings). */
  setInternal(conn: number): void {
    this.#call(this.exports.rv_set_internal, conn);
  }

  // Engine facts.

  /** `rv_load_status`: what a loading connection did with its input (null for an unknown id). */
  loadStatus(conn: number): LoadReport | null {
    const n = this.#call(this.exports.rv_load_status, conn);
    if (n < 0) return null;
    const s = this.scratch();
    const r = readLoadStatus(new DataView(s.buffer, s.byteOffset, n));
    const textAt = LOAD_STATUS_SIZE;
    return {
      ...r,
      errorText: utf8.decode(s.subarray(textAt, textAt + r.errorLen)),
      protocolErrorText: utf8.decode(s.subarray(textAt + r.errorLen, textAt + r.errorLen + r.protocolErrorLen)),
    };
  }

  /** `rv_build_info`: the snapshot format and build hash of this engine. */
  buildInfo(): EngineBuildInfo {
    const n = this.#call(this.exports.rv_build_info);
    const s = this.scratch();
    const r = readBuildInfo(new DataView(s.buffer, s.byteOffset, n));
    return { snapshotFormat: r.snapshotFormat, hash: utf8.decode(s.subarray(BUILD_INFO_SIZE, BUILD_INFO_SIZE + r.hashLen)) };
  }

  /** `rv_auth_required`: true when requirepass is set. */
  authRequired(): boolean {
    return this.#call(this.exports.rv_auth_required) === 1;
  }

  /** `rv_dataset_stats`: keys, stream keys and stream entries over all databases. */
  datasetStats(): DatasetStats {
    const n = this.#call(this.exports.rv_dataset_stats);
    const s = this.scratch();
    return readDatasetStats(new DataView(s.buffer, s.byteOffset, n));
  }

  /** `rv_config_get`: a setting's value as CONFIG GET shows it, or null for an unknown name. */
  configGet(name: string): string | null {
    const bytes = encoder.encode(name);
    if (bytes.length > this.scratchCap) return null;
    this.scratch().set(bytes);
    const n = this.#call(this.exports.rv_config_get, bytes.length);
    if (n < 0) return null;
    // values are bytes (CONFIG SET takes any); shown as latin1 so that every byte survives
    let v = '';
    const s = this.scratch();
    for (let i = 0; i < Math.min(n, this.scratchCap); i++) v += String.fromCharCode(s[i]);
    return v;
  }

  /** `rv_persistence_enable`: this host runs persistence jobs (and calls `rv_job_done` for each). */
  persistenceEnable(on: boolean): void {
    this.#call(this.exports.rv_persistence_enable, on ? 1 : 0);
  }

  /** `rv_job_start`: a host-started job (`JobKind`, optionally `| JobKind.SCHEDULE`); a `JobStart` code. */
  jobStart(kind: number, now: number): number {
    return this.#call(this.exports.rv_job_start, kind, now);
  }

  /** `rv_job_done`: a job finished with a `JobStatus`; connections that became ready, or -1. */
  jobDone(kind: number, status: number, now: number): number {
    return this.#call(this.exports.rv_job_done, kind, status, now);
  }

  /**
   * A whole snapshot as one array: `rv_snapshot_begin`, then `rv_snapshot_read(chunk)` until 0.
   * Throws if one is already running or the engine lacks the memory to start one.
   */
  readSnapshot(chunk = this.scratchCap): Uint8Array {
    const r = this.snapshotBegin();
    if (r !== SnapshotStart.STARTED) {
      throw new Error(`rivulet: rv_snapshot_begin returned ${r} (${r === SnapshotStart.RUNNING ? 'a snapshot is already running' : 'not enough memory under the page budget'})`);
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    let n: number;
    while ((n = this.snapshotRead(chunk)) > 0) {
      parts.push(this.scratch().slice(0, n));
      total += n;
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /**
   * Copies `bytes` into scratch in `scratchCap`-sized pieces, feeding each. Returns the status bits
   * OR-ed over all pieces, except BLOCKED, which is the last piece's. Output is left in the engine.
   */
  feedBytes(conn: number, bytes: Uint8Array, now: number): number {
    let st = 0;
    let off = 0;
    do {
      const n = Math.min(this.scratchCap, bytes.length - off);
      this.scratch().set(bytes.subarray(off, off + n));
      const s = this.feed(conn, n, now);
      st = (st & ~FeedStatus.BLOCKED) | s;
      off += n;
    } while (off < bytes.length);
    return st;
  }

  /** Drains all pending output of `conn` (`rv_read` until 0) into one new array. */
  readAll(conn: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    let n: number;
    while ((n = this.read(conn)) > 0) {
      parts.push(this.scratch().slice(0, n));
      total += n;
    }
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

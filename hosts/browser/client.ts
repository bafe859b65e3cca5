/**
 * `rivulet/browser`: the engine in a dedicated worker, used from the page with the Node API.
 *
 * ```ts
 * import { openEngine } from 'rivulet/browser';
 * const engine = await openEngine({ name: 'app', storage: 'opfs' });  // 'opfs' | 'indexeddb' | 'memory' | 'auto'
 * const conn = engine.connect();
 * await conn.xadd('events', { type: 'click' });
 * await engine.close();
 * ```
 *
 * Connections are the same {@link Connection} class as in Node (`call`, `callRaw`, the typed stream
 * and group helpers, `pipeline`, blocking reads with an AbortSignal); here every call returns a
 * Promise, because the engine is in the worker. Calls made in the same turn of the page travel in
 * one message (RESP bytes in one transferred buffer), and so do their replies.
 *
 * The page compiles rivulet.wasm once (fetched next to the package's `dist/bindings/`, or `wasm`)
 * and hands the `WebAssembly.Module` to the worker, which compiles nothing.
 */
import { FeedStatus } from '../../bindings/abi.js';
import { Connection, ConnState, type ConnHost } from '../../bindings/connection.js';
import { loadModule } from '../../bindings/entry.browser.js';
import { ConnectionClosedError, EngineClosedError } from '../../bindings/errors.js';
import { compileModule, compileResponse, type WasmSource } from '../../bindings/loader.js';
import { encodeCommandInto, encodedCommandLength, type CommandArg } from '../../bindings/resp.js';
import type { FsyncPolicy } from '../shared/aof.js';
import { TurnBatch } from './turn-batch.js';
import {
  OP_CLOSE,
  OP_FEED,
  OP_OPEN,
  OP_UNBLOCK,
  STATUS_GONE,
  STATUS_NONE,
  type FromWorker,
  type InitMessage,
  type StorageKind,
  type ToWorker,
  type WorkerSettings,
} from './protocol.js';

export { Connection };
export type { StorageKind };

export interface OpenEngineOptions {
  /** The dataset's name: its OPFS directory `rivulet/<name>/` or IndexedDB database `rivulet:<name>`. */
  name: string;
  /**
   * Where the dataset lives: `opfs` (sync access handles in the worker; the fastest), `indexeddb`,
   * `memory` (nothing persists), or `auto` (default): OPFS where the worker has sync access
   * handles, else IndexedDB.
   */
  storage?: StorageKind | 'auto';
  /** rivulet.wasm: a URL, the bytes, a compiled Module or a fetch Response. Default: next to the package. */
  wasm?: WasmSource | string | URL;
  /**
   * The engine's worker: a URL of the worker script (`rivulet/browser/worker`, bundled or not), a
   * Worker already started on it, or a function starting one. Default: `worker.js` next to this file.
   */
  worker?: string | URL | Worker | (() => Worker);
  appendonly?: boolean;
  /** `always`: a write resolves only once flushed to storage; `everysec` (default); `no`. */
  appendfsync?: FsyncPolicy;
  save?: Array<[number, number]>;
  autoAofRewriteMinSize?: number;
  maxmemory?: number;
  pageBudget?: number;
  /** `deferred` (default): one commit per worker turn for all calls of the turn; `inline`: per batch. */
  mode?: 'inline' | 'deferred';
  /** Ask the browser to keep the data under storage pressure (`navigator.storage.persist()`; default true). */
  persist?: boolean;
  /** Loading and persistence log lines from the worker (default: none). */
  log?: (line: string) => void;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/;

/** Resolves the default worker script; the literal form lets Vite and webpack bundle the worker. */
function defaultWorker(): Worker {
  let url: URL;
  try {
    url = new URL('./worker.js', import.meta.url);
  } catch {
    throw new Error(
      'rivulet/browser: this bundle has no import.meta.url (an IIFE or classic-script build), so the engine worker cannot be located: ' +
        "bundle 'rivulet/browser/worker' as a worker script of its own and pass openEngine({ worker: '/path/to/that.js' })",
    );
  }
  return new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'rivulet' });
}

function describeWorker(w: OpenEngineOptions['worker']): string {
  if (w === undefined) {
    try {
      return new URL('./worker.js', import.meta.url).href;
    } catch {
      return 'worker.js';
    }
  }
  if (typeof w === 'string' || w instanceof URL) return String(w);
  return 'the given worker';
}

async function moduleFor(wasm: OpenEngineOptions['wasm']): Promise<WebAssembly.Module> {
  if (wasm === undefined) return loadModule();
  if (typeof wasm === 'string' || wasm instanceof URL) {
    const url = new URL(String(wasm), globalThis.location?.href).href;
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new Error(`rivulet: fetching ${url} failed (${(e as Error).message}); serve rivulet.wasm there or pass openEngine({ wasm }) another URL, the bytes or a Module`);
    }
    return compileResponse(res);
  }
  return compileModule(wasm);
}

/** The page side of the connections: requests to the worker in one batch per turn, replies back. */
class PageHost implements ConnHost {
  readonly conns = new Map<number, ConnState>();
  /** Commands sent per connection (replies received = sent - pending). */
  readonly #sent = new Map<number, number>();
  failure: unknown = null;
  #nextId = 1;
  /** This turn's calls: [op, conn, arg] rows and the RESP bytes they feed. */
  readonly #batch: TurnBatch;

  constructor(readonly port: MessagePort) {
    this.#batch = new TurnBatch(4096, (ops, data) => {
      if (this.failure !== null) return false;
      this.port.postMessage({ t: 'batch', ops, data } satisfies ToWorker, [data, ops.buffer]);
    });
  }

  check(conn?: ConnState): void {
    if (this.failure !== null) throw this.failure;
    if (conn?.closed) throw new ConnectionClosedError();
  }

  open(): ConnState {
    this.check();
    const id = this.#nextId++;
    const st = new ConnState(id, this);
    this.conns.set(id, st);
    this.#sent.set(id, 0);
    this.#op(OP_OPEN, id, 0);
    return st;
  }

  submit(conn: ConnState, cmds: readonly (readonly CommandArg[])[]): void {
    const b = this.#batch;
    let total = 0;
    for (const c of cmds) {
      let n = encodeCommandInto(c, b.data, b.used);
      if (n < 0) {
        b.reserve(encodedCommandLength(c));
        n = encodeCommandInto(c, b.data, b.used);
      }
      b.used += n;
      total += n;
    }
    this.#sent.set(conn.id, (this.#sent.get(conn.id) ?? 0) + cmds.length);
    b.row(OP_FEED, conn.id, total, (o, k) => o[k] === OP_FEED && o[k + 1] === conn.id && ((o[k + 2] += total), true));
  }

  retain(): void {}
  release(): void {}

  afterAbort(conn: ConnState, wasHead: boolean): void {
    if (this.failure === null && !conn.closed && wasHead) this.#unblock(conn);
  }

  /** Asks the worker to release the connection if it is parked on the head request. */
  #unblock(conn: ConnState): void {
    this.#op(OP_UNBLOCK, conn.id, (this.#sent.get(conn.id) ?? 0) - conn.pending);
  }

  closeConnection(conn: ConnState): void {
    if (conn.closed) return;
    conn.failAll(new ConnectionClosedError());
    this.conns.delete(conn.id);
    this.#sent.delete(conn.id);
    if (this.failure === null) this.#op(OP_CLOSE, conn.id, 0);
  }

  #op(op: number, conn: number, arg: number): void {
    this.#batch.row(op, conn, arg);
  }

  /** Posts this turn's calls now. */
  flush(): void {
    this.#batch.flush();
  }

  /** One turn's replies from the worker. */
  output(segs: Int32Array, buf: ArrayBuffer): void {
    const bytes = new Uint8Array(buf);
    let off = 0;
    for (let i = 0; i + 2 < segs.length; i += 3) {
      const st = this.conns.get(segs[i]);
      const len = segs[i + 1];
      const status = segs[i + 2];
      if (!st) {
        off += len;
        continue;
      }
      if (len) st.receive(bytes.subarray(off, off + len), len);
      off += len;
      if (status !== STATUS_NONE) st.blocked = (status & FeedStatus.BLOCKED) !== 0;
      st.dispatch();
      if (status !== STATUS_NONE && status & STATUS_GONE) {
        this.conns.delete(st.id);
        this.#sent.delete(st.id);
        st.failAll(new ConnectionClosedError('rivulet: connection closed by the engine'));
        continue;
      }
      // a request cancelled while queued has now reached the head and blocked: release it
      if (st.blocked && st.headAborted()) this.#unblock(st);
    }
  }

  /** Nothing more will come: every pending call rejects with `err`, later calls throw it. */
  fail(err: unknown): void {
    if (this.failure === null) this.failure = err;
    const all = [...this.conns.values()];
    this.conns.clear();
    for (const st of all) st.failAll(err);
  }
}

function errorFrom(m: { name: string; message: string }): Error {
  const e = new Error(m.message);
  e.name = m.name;
  return e;
}

/** An engine running in its own dedicated worker; see {@link openEngine}. */
export class BrowserEngine {
  readonly name: string;
  /** Where the data lives (`opfs`, `indexeddb` or `memory`; `auto` resolved). */
  readonly storage: StorageKind;
  /** `opfs:/rivulet/<name>`, `indexeddb:rivulet:<name>` or `memory`. */
  readonly location: string;
  /**
   * Whether the browser granted persistent storage (`navigator.storage.persist()`): true, false
   * (the data may be evicted under storage pressure), or null (not asked: memory, or unavailable).
   */
  readonly persisted: boolean | null;
  readonly worker: Worker;
  readonly #host: PageHost;
  #closing: Promise<void> | null = null;
  #onClosed: (() => void) | null = null;

  /** Use {@link openEngine}. */
  constructor(init: { name: string; storage: StorageKind; location: string; persisted: boolean | null; worker: Worker; host: PageHost }) {
    this.name = init.name;
    this.storage = init.storage;
    this.location = init.location;
    this.persisted = init.persisted;
    this.worker = init.worker;
    this.#host = init.host;
  }

  /** @internal the worker's messages after start. */
  receive(m: FromWorker, log?: (line: string) => void): void {
    if (m.t === 'output') this.#host.output(m.segs, m.data);
    else if (m.t === 'log') log?.(m.line);
    else if (m.t === 'fail') this.#host.fail(errorFrom(m));
    else if (m.t === 'closed') this.#onClosed?.();
  }

  /** Opens a new client connection (its own db, protocol, MULTI and blocking state). */
  connect(): Connection {
    return new Connection(this.#host.open());
  }

  /** Open connections. */
  get connections(): number {
    return this.#host.conns.size;
  }

  get closed(): boolean {
    return this.#closing !== null || this.#host.failure !== null;
  }

  /**
   * Closes the engine: the worker writes and syncs the AOF and releases the storage (and its lock);
   * pending calls reject with `EngineClosedError`, later calls throw it. Resolves when done.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    const host = this.#host;
    this.#closing = new Promise<void>((resolve) => {
      if (host.failure !== null) {
        this.worker.terminate();
        return resolve();
      }
      host.flush();
      this.#onClosed = resolve;
      host.port.postMessage({ t: 'close' } satisfies ToWorker);
    }).finally(() => {
      host.fail(new EngineClosedError());
      host.port.close();
      this.worker.terminate();
    });
    return this.#closing;
  }
}

/**
 * Starts the engine in a dedicated worker and opens its dataset (`name`) from `storage`, replaying
 * what earlier sessions wrote (one tab owns a dataset at a time: a second `openEngine` of the same
 * name in another tab rejects with `StorageLockedError` while the first is open).
 */
export async function openEngine(options: OpenEngineOptions): Promise<BrowserEngine> {
  const { name } = options;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TypeError(`rivulet/browser: name must be 1-100 letters, digits, '.', '_' or '-' (not starting with '.' or '-'), not ${JSON.stringify(name)}`);
  }
  const kind = options.storage ?? 'auto';
  if (!['opfs', 'indexeddb', 'memory', 'auto'].includes(kind)) throw new TypeError(`rivulet/browser: storage must be 'opfs', 'indexeddb', 'memory' or 'auto', not ${String(kind)}`);
  const module = await moduleFor(options.wasm);
  const persisting = kind !== 'memory' && options.persist !== false;
  const persisted = persisting ? requestPersistence() : Promise.resolve(null);

  const w = options.worker;
  const worker = w instanceof Worker ? w : typeof w === 'function' ? w() : w === undefined ? defaultWorker() : new Worker(w, { type: 'module', name: 'rivulet' });
  const channel = new MessageChannel();
  const host = new PageHost(channel.port1);
  const settings: WorkerSettings = {
    name,
    storage: kind,
    appendonly: options.appendonly,
    appendfsync: options.appendfsync,
    save: options.save,
    autoAofRewriteMinSize: options.autoAofRewriteMinSize,
    maxmemory: options.maxmemory,
    pageBudget: options.pageBudget,
    mode: options.mode,
    log: !!options.log,
  };
  let engine: BrowserEngine | null = null;
  const ready = new Promise<{ location: string; storage: StorageKind }>((resolve, reject) => {
    worker.addEventListener('error', (e) => {
      if (engine) return host.fail(new Error(`rivulet/browser: the engine worker failed: ${e.message || 'error'}`));
      e.preventDefault();
      reject(
        new Error(
          `rivulet/browser: the engine worker failed to start from ${describeWorker(w)}${e.message ? ` (${e.message})` : ' (not found, or not a script)'}. ` +
            "Serve rivulet's dist/hosts/browser/worker.js (with the dist/ files it imports) there, bundle 'rivulet/browser/worker' as a worker script of its own and pass openEngine({ worker: url }), or pass a Worker",
        ),
      );
    });
    channel.port1.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (engine) return engine.receive(m, options.log);
      if (m.t === 'ready') resolve(m);
      else if (m.t === 'fail') reject(errorFrom(m));
      else if (m.t === 'log') options.log?.(m.line);
    };
  });
  worker.postMessage({ t: 'init', module, port: channel.port2, settings } satisfies InitMessage, [channel.port2]);
  let info: { location: string; storage: StorageKind };
  try {
    info = await ready;
  } catch (e) {
    worker.terminate();
    channel.port1.close();
    throw e;
  }
  engine = new BrowserEngine({ name, storage: info.storage, location: info.location, persisted: await persisted, worker, host });
  return engine;
}

/** `navigator.storage.persist()` where it exists (a page); null where it does not. */
async function requestPersistence(): Promise<boolean | null> {
  const s = (globalThis.navigator as Navigator | undefined)?.storage;
  if (!s || typeof s.persist !== 'function') return null;
  try {
    return (await s.persisted()) || (await s.persist());
  } catch {
    return null;
  }
}

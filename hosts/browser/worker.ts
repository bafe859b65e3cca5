/**
 * The engine's dedicated worker (`rivulet/browser/worker`): the one {@link HostLoop} over the
 * engine, persisting through {@link Persistence} to OPFS, IndexedDB or nowhere, serving the page
 * that started it over a MessagePort. Each page connection is a {@link Sink} of the loop; what the
 * sinks receive in one turn goes back as one message whose buffer is transferred, not copied.
 *
 * The page (client.ts) compiles rivulet.wasm once and posts the `WebAssembly.Module` with the
 * settings in the first message; this file never fetches anything. As a worker's entry it starts
 * by itself; `serveEngine()` is for a worker of your own that imports it.
 */
import { TurnBatch } from './turn-batch.js';
import { UNBLOCK_TIMEOUT } from '../../bindings/abi.js';
import { EngineClosedError } from '../../bindings/errors.js';
import { HostLoop, type Sink } from '../../bindings/loop.js';
import { RawEngine } from '../../bindings/raw.js';
import { ControlConnection } from '../shared/control.js';
import { Logger, silentLog } from '../shared/log.js';
import { Persistence } from '../shared/persistence.js';
import type { Storage } from '../shared/storage.js';
import { IdbStorage } from './idb-storage.js';
import { opfsAvailable, OpfsStorage } from './opfs-storage.js';
import { ReplyCounter } from './reply-counter.js';
import {
  OP_CLOSE,
  OP_FEED,
  OP_OPEN,
  OP_UNBLOCK,
  STATUS_GONE,
  STATUS_NONE,
  type FromWorker,
  type InitMessage,
  type ToWorker,
  type WorkerSettings,
} from './protocol.js';

/** One page connection as the loop knows it. */
interface PageConn {
  id: number;
  replies: ReplyCounter;
}

/** One page's port: its connections, and the output gathered for it during this turn. */
class PagePort {
  readonly conns = new Map<number, PageConn>();
  /** This turn's output: [conn, length, status] rows and the reply bytes. */
  readonly #batch: TurnBatch;

  constructor(
    readonly host: WorkerHost,
    readonly port: MessagePort,
  ) {
    this.#batch = new TurnBatch(16 << 10, (segs, data) => this.post({ t: 'output', segs, data }, [data, segs.buffer]));
  }

  post(msg: FromWorker, transfer: Transferable[] = []): void {
    this.port.postMessage(msg, transfer);
  }

  sink(local: number, conn: PageConn): Sink {
    return {
      write: (bytes) => {
        conn.replies.feed(bytes);
        this.#append(local, bytes);
      },
      settled: (status) => this.#status(local, status),
      closed: () => {
        this.conns.delete(local);
        this.#status(local, STATUS_GONE);
      },
      failed: (err) => this.host.failed(err),
    };
  }

  #append(local: number, bytes: Uint8Array): void {
    const b = this.#batch;
    b.put(bytes);
    b.row(local, bytes.length, STATUS_NONE, (s, k) => s[k] === local && s[k + 2] === STATUS_NONE && ((s[k + 1] += bytes.length), true));
  }

  #status(local: number, status: number): void {
    this.#batch.row(local, 0, status, (s, k) => s[k] === local && s[k + 2] === STATUS_NONE && ((s[k + 2] = status), true));
  }

  /** Everything of this turn in one message now. */
  flush(): void {
    this.#batch.flush();
  }

  /** One batch of the page's calls: opens, RESP bytes to feed, unblocks and closes, in order. */
  batch(ops: Int32Array, data: Uint8Array): void {
    const loop = this.host.loop!;
    let off = 0;
    for (let i = 0; i + 2 < ops.length; i += 3) {
      const op = ops[i];
      const local = ops[i + 1];
      const arg = ops[i + 2];
      const conn = this.conns.get(local);
      switch (op) {
        case OP_OPEN: {
          const pc: PageConn = { id: -1, replies: new ReplyCounter() };
          pc.id = loop.open(this.sink(local, pc));
          this.conns.set(local, pc);
          break;
        }
        case OP_FEED:
          if (conn) loop.feed(conn.id, data.subarray(off, off + arg));
          off += arg;
          break;
        case OP_UNBLOCK:
          // only if parked on the very request the page aborted (the one after `arg` replies)
          if (conn && conn.replies.count === arg && loop.isBlocked(conn.id)) loop.unblock(conn.id, UNBLOCK_TIMEOUT);
          break;
        case OP_CLOSE:
          if (conn) {
            this.conns.delete(local);
            loop.close(conn.id);
          }
          break;
      }
    }
  }
}

export class WorkerHost {
  loop: HostLoop | null = null;
  persistence: Persistence | null = null;
  storage: Storage | null = null;
  readonly ports: PagePort[] = [];
  #cron: ReturnType<typeof setInterval> | undefined;
  #closing = false;
  #failedOnce = false;

  async start(msg: InitMessage): Promise<void> {
    const page = new PagePort(this, msg.port);
    this.ports.push(page);
    msg.port.onmessage = (e: MessageEvent<ToWorker>) => this.#onMessage(page, e.data);
    const s: WorkerSettings = msg.settings;
    try {
      const raw = await RawEngine.instantiate(msg.module);
      if (s.pageBudget) raw.setPageBudget(s.pageBudget);
      const loop = new HostLoop(raw, { mode: s.mode ?? 'deferred' });
      if (s.maxmemory !== undefined) new ControlConnection(raw).ok('CONFIG', 'SET', 'maxmemory', String(s.maxmemory));
      const log = s.log ? new Logger((line) => page.post({ t: 'log', line }), 'worker') : silentLog;
      const kind = s.storage === 'auto' ? (opfsAvailable() ? 'opfs' : 'indexeddb') : s.storage;
      if (kind !== 'memory') {
        this.storage = kind === 'opfs' ? await OpfsStorage.open(s.name) : await IdbStorage.open(s.name);
        this.persistence = await Persistence.open(loop, {
          storage: this.storage,
          settings: {
            appendonly: s.appendonly ?? true,
            appendfsync: s.appendfsync ?? 'everysec',
            save: s.save ?? [],
            ...(s.autoAofRewriteMinSize !== undefined ? { autoAofRewriteMinSize: s.autoAofRewriteMinSize } : {}),
          },
          log,
          owner: `the rivulet worker of a page (${s.name})`,
          tag: 'browser',
          onFatal: (m) => loop.shutdown(new Error(`rivulet: ${m}`)),
        });
        const p = this.persistence;
        this.#cron = setInterval(() => p.cron(Date.now()), 100);
      }
      this.loop = loop;
      page.post({ t: 'ready', location: this.storage?.location ?? 'memory', storage: kind });
    } catch (e) {
      await this.#releaseStorage();
      page.post({ t: 'fail', name: (e as Error)?.name ?? 'Error', message: (e as Error)?.message ?? String(e), starting: true });
    }
  }

  #onMessage(page: PagePort, m: ToWorker): void {
    if (m.t === 'batch') {
      if (!this.loop || this.loop.failure !== null) return;
      try {
        page.batch(m.ops, new Uint8Array(m.data));
      } catch (e) {
        this.failed(e);
      }
    } else if (m.t === 'close') void this.close(page);
  }

  /** The engine failed (abort, fatal write error): every page learns it once. */
  failed(err: unknown): void {
    if (this.#closing || this.#failedOnce) return;
    this.#failedOnce = true;
    for (const p of this.ports) {
      p.flush();
      p.post({ t: 'fail', name: (err as Error)?.name ?? 'Error', message: (err as Error)?.message ?? String(err), starting: false });
    }
  }

  async #releaseStorage(): Promise<void> {
    const st = this.storage as (Storage & { closeAll?: () => unknown }) | null;
    await st?.closeAll?.();
  }

  /** Flushes and syncs the AOF, releases the storage and its lock, stops the loop. */
  async close(page: PagePort): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#cron !== undefined) clearInterval(this.#cron);
    const loop = this.loop;
    try {
      if (this.persistence && loop && loop.failure === null) await this.persistence.close(false);
      else await this.persistence?.close(false).catch(() => {});
    } finally {
      loop?.shutdown(new EngineClosedError());
      await this.#releaseStorage();
      for (const p of this.ports) p.flush();
      page.post({ t: 'closed' });
    }
  }
}

/** Serves the engine in this worker: waits for the page's `init` message. */
export function serveEngine(scope: { addEventListener(type: 'message', fn: (e: MessageEvent) => void): void } = self): WorkerHost {
  const host = new WorkerHost();
  const onInit = (e: MessageEvent) => {
    const m = e.data as InitMessage;
    if (m?.t !== 'init' || host.loop || host.ports.length) return;
    void host.start(m);
  };
  scope.addEventListener('message', onInit);
  return host;
}

// As a dedicated worker's script: start at once.
declare const WorkerGlobalScope: { new (): object } | undefined;
if (typeof WorkerGlobalScope !== 'undefined' && typeof self === 'object' && self instanceof WorkerGlobalScope && !('document' in self)) serveEngine();

/**
 * The append-only file: one file of RESP commands (the engine's effects), in any {@link Storage}.
 *
 * - append: effects are written as they come (the loop hands them over once per settle pass,
 *   before any reply of that pass is delivered);
 * - fsync policies: `always` = sync before the replies of the pass go out (`commit`); `everysec` =
 *   a background sync at most once a second (`cron`); `no` = the storage decides;
 * - rewrite: while a snapshot is written to a temp file, appends keep going to the current file
 *   (so a crash mid-rewrite loses nothing) and are also kept in memory (the "tail");
 *   `finishRewrite` appends the tail to the temp file, syncs it, replaces the AOF with it and
 *   continues appending to the new file. Appends that arrive while an asynchronous storage is
 *   switching wait in the tail, and `commit` waits for the switch, so no write falls between.
 * - write errors: with `always` the host cannot keep its promise and stops (`onFatal`, as Redis
 *   exits); otherwise the unwritten bytes are kept and retried every second.
 */
import type { Logger } from './log.js';
import { andThen, type Awaitable, type Storage, type WriteHandle } from './storage.js';

export type FsyncPolicy = 'always' | 'everysec' | 'no';

export class AppendOnlyFile {
  readonly storage: Storage;
  readonly name: string;
  policy: FsyncPolicy;
  #file: WriteHandle | null = null;
  /** Size after the last rewrite or at load (aof_base_size; auto-rewrite growth is measured from it). */
  baseSize = 0;
  #unsynced = 0;
  #syncInFlight = false;
  #lastSync = Date.now();
  /** Bytes that failed to be written (retried by cron). */
  #failed: Uint8Array[] = [];
  lastWriteError: string | null = null;
  delayedFsyncs = 0;
  /** Appends made while a rewrite runs (null when none runs). */
  #tail: Uint8Array[] | null = null;
  #tailBytes = 0;
  /** A rewrite is switching files on an asynchronous storage: appends wait in the tail. */
  #switching: Promise<void> | null = null;
  /** Write errors that make continuing impossible (appendfsync always). */
  onFatal: (msg: string) => void;
  readonly #log: Logger;

  constructor(storage: Storage, name: string, policy: FsyncPolicy, log: Logger, onFatal: (msg: string) => void) {
    this.storage = storage;
    this.name = name;
    this.policy = policy;
    this.#log = log;
    this.onFatal = onFatal;
  }

  get isOpen(): boolean {
    return this.#file !== null;
  }

  /** Current size in bytes (aof_current_size). */
  get size(): number {
    return this.#file?.size ?? 0;
  }

  get rewriteTailBytes(): number {
    return this.#tailBytes;
  }

  /** Opens (creating if needed) for appending. */
  open(): Awaitable<void> {
    if (this.#file) return;
    return andThen(this.storage.openAppend(this.name), (f) => {
      this.#file = f;
      this.baseSize = f.size;
      this.#unsynced = 0;
    });
  }

  /** Appends effects (a scratch view: copied when it has to be kept). */
  append(data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.#tail) {
      this.#tail.push(data.slice());
      this.#tailBytes += data.length;
    }
    if (!this.#file || this.#switching) return; // being created or switched: the tail is all there is
    if (this.#failed.length) {
      this.#failed.push(data.slice());
      return;
    }
    try {
      const r = this.#file.append(data);
      this.#unsynced += data.length;
      if (r instanceof Promise) r.catch((e) => this.#writeFailed(e as Error, new Uint8Array(0)));
    } catch (e) {
      this.#writeFailed(e as Error, data.slice());
    }
  }

  #writeFailed(err: Error, data: Uint8Array): void {
    this.lastWriteError = err.message;
    if (this.policy === 'always') {
      this.onFatal(`Can't recover from AOF write error when the AOF fsync policy is 'always' (${err.message}). Exiting...`);
      return;
    }
    if (this.#failed.length === 0) this.#log.warn(`Error writing to the AOF file: ${err.message} (will retry every second)`);
    if (data.length) this.#failed.push(data);
  }

  #retryFailed(): void {
    if (!this.#failed.length || !this.#file) return;
    const parts = this.#failed;
    this.#failed = [];
    try {
      for (const p of parts) {
        const r = this.#file.append(p);
        if (r instanceof Promise) r.catch((e) => this.#writeFailed(e as Error, new Uint8Array(0)));
        this.#unsynced += p.length;
      }
      this.lastWriteError = null;
      this.#log.notice('AOF write error looks solved, writing again.');
    } catch (e) {
      this.#failed = parts;
      this.lastWriteError = (e as Error).message;
    }
  }

  /** The end of a settle pass: with `always`, everything appended is durable when this resolves. */
  commit(): Awaitable<void> {
    if (this.#switching) return this.#switching.then(() => this.commit());
    if (this.policy !== 'always' || this.#unsynced === 0 || !this.#file) return;
    return this.syncNow();
  }

  /** Sync now (always; shutdown; before a switch). */
  syncNow(): Awaitable<void> {
    const f = this.#file;
    if (!f) return;
    const pending = this.#unsynced;
    const done = () => {
      this.#unsynced -= pending;
      this.#lastSync = Date.now();
    };
    const failed = (e: unknown) => {
      if (this.policy === 'always') this.onFatal(`Can't persist the AOF (fsync: ${(e as Error).message}). Exiting...`);
      else this.#log.warn(`fsync on the AOF failed: ${(e as Error).message}`);
    };
    try {
      const r = f.sync();
      if (r instanceof Promise) return r.then(done, failed);
      done();
    } catch (e) {
      failed(e);
    }
  }

  /** Periodic work: retry failed writes; everysec: a background sync once a second. */
  cron(now: number): void {
    this.#retryFailed();
    const f = this.#file;
    if (this.policy !== 'everysec' || !f || this.#unsynced === 0 || this.#switching) return;
    if (now - this.#lastSync < 1000) return;
    if (this.#syncInFlight) {
      // the previous fsync is still running (slow disk): Redis counts these as delayed
      this.delayedFsyncs++;
      return;
    }
    const pending = this.#unsynced;
    this.#unsynced = 0;
    this.#lastSync = now;
    if (!f.syncInBackground) {
      void this.syncNow();
      return;
    }
    this.#syncInFlight = true;
    f.syncInBackground().then(
      () => (this.#syncInFlight = false),
      (err: Error) => {
        this.#syncInFlight = false;
        this.#unsynced += pending;
        this.#log.warn(`Background AOF fsync failed: ${err.message}`);
      },
    );
  }

  /** Starts keeping a copy of appends for a rewrite. */
  beginRewrite(): void {
    this.#tail = [];
    this.#tailBytes = 0;
  }

  /** Drops the rewrite tail (rewrite aborted). */
  abortRewrite(): void {
    this.#tail = null;
    this.#tailBytes = 0;
  }

  /**
   * Completes a rewrite: `tmp` (named `tmpName`) holds the snapshot. Appends the tail, syncs,
   * replaces the AOF with it, and appends to the new file from now on.
   */
  finishRewrite(tmp: WriteHandle, tmpName: string): Awaitable<void> {
    const steps: Array<() => Awaitable<unknown>> = [
      () => this.#drainTail(tmp),
      () => tmp.sync(),
      () => this.#drainTail(tmp), // what came in during an asynchronous sync
      () => tmp.close(),
      () => this.storage.replace(tmpName, this.name),
      () => this.#file?.close(),
      () => this.storage.openAppend(this.name),
    ];
    let i = 0;
    let opened: WriteHandle | null = null;
    const run = (): Awaitable<void> => {
      while (i < steps.length) {
        const step = steps[i++];
        const r = step();
        if (r instanceof Promise) {
          if (!this.#switching) this.#switching = resolveWhenDone;
          return r.then((v) => {
            if (i === steps.length) opened = v as WriteHandle;
            return run();
          });
        }
        if (i === steps.length) opened = r as WriteHandle;
      }
      this.#file = opened;
      // appends that arrived after the last drain (an asynchronous replace or open) go to the new file
      for (const b of this.#tail ?? []) void opened!.append(b);
      this.#tail = null;
      this.#tailBytes = 0;
      this.#failed = []; // those bytes were in the tail, hence in the new file
      this.lastWriteError = null;
      this.baseSize = opened!.size;
      this.#unsynced = 0;
      this.#lastSync = Date.now();
      const wasSwitching = this.#switching !== null;
      this.#switching = null;
      if (wasSwitching) finishSwitch();
    };
    let finishSwitch: () => void = () => {};
    const resolveWhenDone = new Promise<void>((r) => (finishSwitch = r));
    return run();
  }

  #drainTail(tmp: WriteHandle): Awaitable<void> {
    const tail = this.#tail ?? [];
    this.#tail = [];
    this.#tailBytes = 0;
    let i = 0;
    const next = (): Awaitable<void> => {
      while (i < tail.length) {
        const r = tmp.append(tail[i++]);
        if (r instanceof Promise) return r.then(next);
      }
      // appends that arrived meanwhile (asynchronous storage)
      if (this.#tail && this.#tail.length) return this.#drainTail(tmp);
    };
    return next();
  }

  /** Writes what is pending, syncs and closes (shutdown). */
  close(): Awaitable<void> {
    const f = this.#file;
    if (!f) return;
    this.#retryFailed();
    return andThen(
      andThen(this.syncNow(), () => f.close()),
      () => void (this.#file = null),
    );
  }
}

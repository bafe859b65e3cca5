/**
 * The append-only file: `<dir>/appendonly.aof`, one file of RESP commands (the engine's effects).
 *
 * - append: bytes are written with write(2) as they come (the server calls `append` once per event
 *   loop turn, before any reply of that turn is sent);
 * - fsync policies: `always` = fdatasync before the replies of the turn go out (`syncIfAlways`);
 *   `everysec` = a background fdatasync at most once a second (`cron`); `no` = the OS decides;
 * - rewrite: while a snapshot is written to a temp file, appends keep going to the current file
 *   (so a crash mid-rewrite loses nothing) and are also kept in memory (the "tail"); `finishRewrite`
 *   appends the tail to the temp file, fsyncs it, renames it over the AOF, fsyncs the directory and
 *   continues appending to the new file — all in one synchronous step, so no write falls between.
 * - write errors: with `always` the process cannot keep its promise and exits (as Redis does);
 *   otherwise the unwritten bytes are kept and retried every second.
 */
import { closeSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, openSync, writeSync, renameSync, ftruncateSync } from 'node:fs';
import { dirname } from 'node:path';
import { log } from './log.ts';

export type FsyncPolicy = 'always' | 'everysec' | 'no';

/** fsync(2) on a directory, so a rename or a new file in it is durable. */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    // some filesystems refuse fsync on directories (EINVAL); nothing more can be done there
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** write(2) until every byte is written (regular files may return short writes). */
export function writeFully(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/** Cuts a file at `length` and makes that durable. */
export function truncateFile(path: string, length: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, length);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class AppendOnlyFile {
  readonly path: string;
  policy: FsyncPolicy;
  #fd = -1;
  /** Current size in bytes (what INFO shows as aof_current_size). */
  size = 0;
  /** Size after the last rewrite or at load (aof_base_size; auto-rewrite growth is measured from it). */
  baseSize = 0;
  /** Bytes written since the last completed fdatasync. */
  #unsynced = 0;
  #syncInFlight = false;
  #lastSync = Date.now();
  /** Bytes that failed to be written (retried by cron). */
  #failed: Buffer[] = [];
  lastWriteError: string | null = null;
  delayedFsyncs = 0;
  /** Appends made while a rewrite runs (null when none runs). */
  #tail: Buffer[] | null = null;
  #tailBytes = 0;
  /** Called when a write error makes continuing impossible (appendfsync always). */
  onFatal: (msg: string) => void = (msg) => {
    log.warn(msg);
    process.exit(1);
  };

  constructor(path: string, policy: FsyncPolicy) {
    this.path = path;
    this.policy = policy;
  }

  get isOpen(): boolean {
    return this.#fd >= 0;
  }

  /** Opens (creating if needed) for appending. */
  open(): void {
    if (this.#fd >= 0) return;
    this.#fd = openSync(this.path, 'a');
    this.size = fstatSync(this.#fd).size;
    this.baseSize = this.size;
    this.#unsynced = 0;
    fsyncDir(dirname(this.path));
  }

  /** Appends bytes (e.g. straight from the engine's scratch region; copied only while rewriting). */
  append(data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.#tail) {
      this.#tail.push(Buffer.from(data));
      this.#tailBytes += data.length;
    }
    if (this.#fd < 0) return; // AOF being created by a rewrite: the tail is all there is
    if (this.#failed.length) {
      this.#failed.push(Buffer.from(data));
      return;
    }
    try {
      writeFully(this.#fd, data);
      this.size += data.length;
      this.#unsynced += data.length;
    } catch (e) {
      this.#writeFailed(e as Error, Buffer.from(data));
    }
  }

  #writeFailed(err: Error, data: Buffer): void {
    this.lastWriteError = err.message;
    if (this.policy === 'always') {
      this.onFatal(`Can't recover from AOF write error when the AOF fsync policy is 'always' (${err.message}). Exiting...`);
      return;
    }
    if (this.#failed.length === 0) log.warn(`Error writing to the AOF file: ${err.message} (will retry every second)`);
    this.#failed.push(data);
  }

  #retryFailed(): void {
    if (!this.#failed.length || this.#fd < 0) return;
    const data = Buffer.concat(this.#failed);
    this.#failed = [];
    try {
      writeFully(this.#fd, data);
      this.size += data.length;
      this.#unsynced += data.length;
      this.lastWriteError = null;
      log.notice('AOF write error looks solved, writing again.');
    } catch (e) {
      this.#failed = [data];
      this.lastWriteError = (e as Error).message;
    }
  }

  /** appendfsync always: fdatasync now if anything was written since the last one. */
  syncIfAlways(): void {
    if (this.policy === 'always' && this.#unsynced > 0 && this.#fd >= 0) this.syncNow();
  }

  /** Synchronous fdatasync (always; shutdown; before a rename). */
  syncNow(): void {
    if (this.#fd < 0) return;
    try {
      fdatasyncSync(this.#fd);
      this.#unsynced = 0;
      this.#lastSync = Date.now();
    } catch (e) {
      if (this.policy === 'always') this.onFatal(`Can't persist the AOF (fdatasync: ${(e as Error).message}). Exiting...`);
      else log.warn(`fdatasync on the AOF failed: ${(e as Error).message}`);
    }
  }

  /** Periodic work: retry failed writes; everysec: a background fdatasync once a second. */
  cron(now: number): void {
    this.#retryFailed();
    if (this.policy !== 'everysec' || this.#fd < 0 || this.#unsynced === 0) return;
    if (now - this.#lastSync < 1000) return;
    if (this.#syncInFlight) {
      // the previous fsync is still running (slow disk): Redis counts these as delayed
      this.delayedFsyncs++;
      return;
    }
    this.#syncInFlight = true;
    const fd = this.#fd;
    const pending = this.#unsynced;
    this.#unsynced = 0;
    this.#lastSync = now;
    fdatasync(fd, (err) => {
      this.#syncInFlight = false;
      if (err) {
        this.#unsynced += pending;
        log.warn(`Background AOF fsync failed: ${err.message}`);
      }
    });
  }

  /** Starts keeping a copy of appends for a rewrite. */
  beginRewrite(): void {
    this.#tail = [];
    this.#tailBytes = 0;
  }

  get rewriteTailBytes(): number {
    return this.#tailBytes;
  }

  /** Drops the rewrite tail (rewrite aborted). */
  abortRewrite(): void {
    this.#tail = null;
    this.#tailBytes = 0;
  }

  /**
   * Completes a rewrite: `tmpFd` holds the snapshot. Appends the tail, fsyncs, renames `tmpPath`
   * over the AOF, fsyncs the directory, then appends to the new file from now on.
   */
  finishRewrite(tmpFd: number, tmpPath: string): void {
    const tail = this.#tail ?? [];
    this.#tail = null;
    this.#tailBytes = 0;
    for (const b of tail) writeFully(tmpFd, b);
    fdatasyncSync(tmpFd);
    const size = fstatSync(tmpFd).size;
    closeSync(tmpFd);
    renameSync(tmpPath, this.path);
    fsyncDir(dirname(this.path));
    const old = this.#fd;
    this.#fd = openSync(this.path, 'a');
    if (old >= 0) closeSync(old);
    this.#failed = []; // those bytes were in the tail, hence in the new file
    this.lastWriteError = null;
    this.size = size;
    this.baseSize = size;
    this.#unsynced = 0;
    this.#lastSync = Date.now();
  }

  /** Writes what is pending, fsyncs and closes (shutdown). */
  close(): void {
    if (this.#fd < 0) return;
    this.#retryFailed();
    try {
      fdatasyncSync(this.#fd);
    } catch (e) {
      log.warn(`fdatasync on the AOF failed at close: ${(e as Error).message}`);
    }
    closeSync(this.#fd);
    this.#fd = -1;
  }
}

/**
 * The one storage interface every host persists through (wa-sqlite's VFS idea, reduced to what an
 * append-only log and snapshots need): named files in one place (a directory, an OPFS directory,
 * an IndexedDB database, a flash partition). Each method may be synchronous (Node's fs, OPFS sync
 * access handles) or return a Promise (IndexedDB): callers treat results as {@link Awaitable}, so
 * a synchronous storage stays synchronous end to end — under `appendfsync always` the in-process
 * engine then answers a write only after its bytes are durable, without turning every call async.
 *
 * | operation | contract |
 * |---|---|
 * | `size(name)` | byte size, or -1 when the file does not exist |
 * | `read(name, at, n)` | up to n bytes from offset at (fewer only at the end of the file) |
 * | `openAppend(name)` | a handle appending at the end (the file is created if missing) |
 * | `create(name)` | a handle writing a new, empty file (an existing one is truncated) |
 * | `replace(from, to)` | atomically puts `from` in place of `to`; durable when it returns |
 * | `truncate(name, n)` | cuts the file to n bytes; durable when it returns |
 * | `remove(name)` | deletes the file if it exists |
 * | `list()` | the names of the files there |
 * | `lock(owner)` | makes this the only owner of the place, or throws {@link StorageLockedError} |
 */
import type { Awaitable } from '../../bindings/loop.js';

export type { Awaitable };

/** A file opened for writing at its end. */
export interface WriteHandle {
  /** Current size in bytes, including appends not yet synced. */
  readonly size: number;
  /** Writes all of `bytes` at the end (copy `bytes` if the write completes later). */
  append(bytes: Uint8Array): Awaitable<void>;
  /** Makes everything appended so far durable (fdatasync, flush). */
  sync(): Awaitable<void>;
  /**
   * A sync that must not block the caller (appendfsync everysec), when the storage can do it in the
   * background; storages without one leave it out and callers use `sync`.
   */
  syncInBackground?(): Promise<void>;
  close(): Awaitable<void>;
}

/** Held by the one owner of a storage; `release` lets the next one in. */
export interface StorageLock {
  release(): Awaitable<void>;
}

export interface Storage {
  /** Where the files are, for messages ("./data", "opfs:/app", "idb:app"). */
  readonly location: string;
  size(name: string): Awaitable<number>;
  read(name: string, offset: number, length: number): Awaitable<Uint8Array>;
  openAppend(name: string): Awaitable<WriteHandle>;
  create(name: string): Awaitable<WriteHandle>;
  replace(from: string, to: string): Awaitable<void>;
  truncate(name: string, length: number): Awaitable<void>;
  remove(name: string): Awaitable<void>;
  list(): Awaitable<string[]>;
  /** `owner` describes this process for the error another owner would get ("pid 123"). */
  lock(owner: string): Awaitable<StorageLock>;
}

/** Another live owner holds the storage. */
export class StorageLockedError extends Error {
  constructor(
    readonly location: string,
    readonly holder: string,
  ) {
    super(`rivulet: the data directory ${location} is in use by ${holder}; one engine or server owns a directory at a time`);
    this.name = 'StorageLockedError';
  }
}

/** Runs `f` on a value, synchronously when it is not a Promise. */
export function andThen<T, R>(v: Awaitable<T>, f: (v: T) => Awaitable<R>): Awaitable<R> {
  return v instanceof Promise ? v.then(f) : f(v);
}

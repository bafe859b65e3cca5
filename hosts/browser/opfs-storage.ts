/**
 * The storage interface over the origin-private file system, in a dedicated worker: one directory
 * (`rivulet/<name>/`) holding the same files as a Node data directory. Reads and writes go through
 * synchronous access handles (`createSyncAccessHandle`, dedicated workers only), so appends and
 * `sync` are synchronous and the host loop's commit stays synchronous too: under `appendfsync
 * always` a reply leaves the worker only after `flush()` returned.
 *
 * Batched writes: `append` copies into a buffer that is written with one `write()` at the end of
 * the turn (or at `sync`, or once it passes 1 MiB); `sync` writes the buffer and calls `flush()`.
 * One `write()` costs tens of µs and a flush 0.3–1.8 ms, so one of each per settle pass is the goal.
 *
 * Handles are exclusive (a second one on a file fails with NoModificationAllowedError) and a file
 * with an open handle cannot be moved, so each file has at most one open handle here, shared by
 * reads, the writer and truncation, and `replace` closes both files' handles before `move()`.
 * One owner per directory: a Web Lock (web-lock.ts).
 */
import { type Storage, type StorageLock, type WriteHandle } from '../shared/storage.js';
import { takeWebLock } from './web-lock.js';

/** FileSystemSyncAccessHandle (not in TypeScript's DOM library). */
interface SyncAccessHandle {
  read(buffer: Uint8Array, options?: { at?: number }): number;
  write(buffer: Uint8Array, options?: { at?: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

type OpfsFileHandle = FileSystemFileHandle & {
  createSyncAccessHandle(): Promise<SyncAccessHandle>;
  move(newName: string): Promise<void>;
};

type OpfsDirectory = FileSystemDirectoryHandle & {
  entries(): AsyncIterableIterator<[string, FileSystemHandle]>;
};

/** Buffered bytes beyond which an append writes at once instead of at the end of the turn. */
const WRITE_NOW = 1 << 20;

/** True where this storage can work: OPFS with synchronous access handles (a dedicated worker). */
export function opfsAvailable(): boolean {
  const fsh = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle;
  return typeof navigator === 'object' && typeof navigator.storage?.getDirectory === 'function' && !!fsh && 'createSyncAccessHandle' in fsh.prototype;
}

function isNotFound(e: unknown): boolean {
  return (e as { name?: string })?.name === 'NotFoundError';
}

/** One file's single access handle, with the writer's bytes not yet written. */
class OpenFile {
  pending: Uint8Array[] = [];
  pendingBytes = 0;
  #scheduled = false;
  closed = false;

  constructor(
    readonly name: string,
    readonly handle: SyncAccessHandle,
  ) {}

  get size(): number {
    return this.handle.getSize() + this.pendingBytes;
  }

  append(bytes: Uint8Array): void {
    if (this.closed) throw new Error(`rivulet: ${this.name} was closed`);
    this.pending.push(bytes.slice());
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= WRITE_NOW) this.writeOut();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        if (!this.closed) this.writeOut();
      });
    }
  }

  /** One write() of everything buffered, at the end of the file. */
  writeOut(): void {
    if (this.pendingBytes === 0) return;
    let data: Uint8Array;
    if (this.pending.length === 1) data = this.pending[0];
    else {
      data = new Uint8Array(this.pendingBytes);
      let off = 0;
      for (const p of this.pending) {
        data.set(p, off);
        off += p.length;
      }
    }
    const at = this.handle.getSize();
    let done = 0;
    while (done < data.length) {
      const n = this.handle.write(data.subarray(done), { at: at + done });
      if (n <= 0) throw new Error(`rivulet: writing ${this.name} failed (quota exceeded?)`);
      done += n;
    }
    this.pending = [];
    this.pendingBytes = 0;
  }

  sync(): void {
    this.writeOut();
    this.handle.flush();
  }

  close(): void {
    if (this.closed) return;
    try {
      this.writeOut();
    } finally {
      this.closed = true;
      this.handle.close();
    }
  }
}

class OpfsWriteHandle implements WriteHandle {
  constructor(
    readonly storage: OpfsStorage,
    readonly file: OpenFile,
  ) {}

  get size(): number {
    return this.file.closed ? 0 : this.file.size;
  }

  append(bytes: Uint8Array): void {
    this.file.append(bytes);
  }

  sync(): void {
    if (!this.file.closed) this.file.sync();
  }

  /** Closing a handle whose file was already closed (replaced, removed) does nothing. */
  close(): void {
    this.storage.closeFile(this.file);
  }
}

export class OpfsStorage implements Storage {
  readonly location: string;
  readonly #dir: OpfsDirectory;
  readonly #lockName: string;
  readonly #files = new Map<string, Promise<OpenFile>>();

  private constructor(dir: OpfsDirectory, name: string) {
    this.#dir = dir;
    this.location = `opfs:/rivulet/${name}`;
    this.#lockName = `rivulet:opfs:${name}`;
  }

  /** The directory `rivulet/<name>/` of this origin's private file system (created if missing). */
  static async open(name: string): Promise<OpfsStorage> {
    if (!opfsAvailable()) {
      throw new Error(
        "rivulet: storage 'opfs' needs the origin-private file system with synchronous access handles, which only a dedicated worker has; use storage 'indexeddb' here",
      );
    }
    const root = await navigator.storage.getDirectory();
    const top = await root.getDirectoryHandle('rivulet', { create: true });
    return new OpfsStorage((await top.getDirectoryHandle(name, { create: true })) as OpfsDirectory, name);
  }

  async #fileHandle(name: string, create: boolean): Promise<OpfsFileHandle> {
    return (await this.#dir.getFileHandle(name, { create })) as OpfsFileHandle;
  }

  /** The file's one open handle (opened on first use; concurrent callers share the opening). */
  #openFile(name: string, create: boolean): Promise<OpenFile> {
    let p = this.#files.get(name);
    if (!p) {
      p = (async () => new OpenFile(name, await (await this.#fileHandle(name, create)).createSyncAccessHandle()))();
      this.#files.set(name, p);
      p.catch(() => this.#files.delete(name));
    }
    return p;
  }

  /** Writes out and closes a file's handle (its write handles become no-ops). */
  closeFile(f: OpenFile): void {
    if (f.closed) return;
    void this.#files.get(f.name)?.then((cur) => {
      if (cur === f) this.#files.delete(f.name);
    });
    f.close();
  }

  async #closeName(name: string): Promise<void> {
    const p = this.#files.get(name);
    if (!p) return;
    this.#files.delete(name);
    const f = await p.catch(() => null);
    f?.close();
  }

  async size(name: string): Promise<number> {
    const open = this.#files.get(name);
    if (open) return (await open).size;
    try {
      return (await (await this.#fileHandle(name, false)).getFile()).size;
    } catch (e) {
      if (isNotFound(e)) return -1;
      throw e;
    }
  }

  async read(name: string, offset: number, length: number): Promise<Uint8Array> {
    const f = await this.#openFile(name, false);
    f.writeOut();
    const size = f.handle.getSize();
    const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
    let got = 0;
    while (got < out.length) {
      const n = f.handle.read(out.subarray(got), { at: offset + got });
      if (n <= 0) break;
      got += n;
    }
    return got === out.length ? out : out.subarray(0, got);
  }

  async openAppend(name: string): Promise<WriteHandle> {
    return new OpfsWriteHandle(this, await this.#openFile(name, true));
  }

  async create(name: string): Promise<WriteHandle> {
    const f = await this.#openFile(name, true);
    f.pending = [];
    f.pendingBytes = 0;
    f.handle.truncate(0);
    return new OpfsWriteHandle(this, f);
  }

  /** `move()` onto the old name (it replaces the file in one step); both must be closed first. */
  async replace(from: string, to: string): Promise<void> {
    await this.#closeName(from);
    await this.#closeName(to);
    await (await this.#fileHandle(from, false)).move(to);
  }

  async truncate(name: string, length: number): Promise<void> {
    const f = await this.#openFile(name, false);
    f.writeOut();
    f.handle.truncate(length);
    f.handle.flush();
  }

  async remove(name: string): Promise<void> {
    await this.#closeName(name);
    try {
      await this.#dir.removeEntry(name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    for await (const [n, h] of this.#dir.entries()) if (h.kind === 'file') names.push(n);
    return names;
  }

  lock(): Promise<StorageLock> {
    return takeWebLock(this.#lockName, this.location);
  }

  /** Closes every open handle (after the engine closed; the files stay). */
  async closeAll(): Promise<void> {
    for (const name of [...this.#files.keys()]) await this.#closeName(name);
  }
}

/**
 * Files in memory: for tests, and for engines that want the persistence machinery (SAVE, rewrites,
 * the AOF format) without a disk. Synchronous, like Node's fs; nothing survives the process.
 */
import { StorageLockedError, type Storage, type StorageLock, type WriteHandle } from './storage.js';

class MemoryFile {
  bytes = new Uint8Array(256);
  size = 0;

  append(src: Uint8Array): void {
    if (this.size + src.length > this.bytes.length) {
      let cap = this.bytes.length * 2;
      while (cap < this.size + src.length) cap *= 2;
      const grown = new Uint8Array(cap);
      grown.set(this.bytes.subarray(0, this.size));
      this.bytes = grown;
    }
    this.bytes.set(src, this.size);
    this.size += src.length;
  }
}

export class MemoryStorage implements Storage {
  readonly location: string;
  readonly #files = new Map<string, MemoryFile>();
  #locked = false;
  /** Calls of sync() so far (tests check the fsync policy with it). */
  syncs = 0;

  constructor(location = 'memory') {
    this.location = location;
  }

  size(name: string): number {
    return this.#files.get(name)?.size ?? -1;
  }

  read(name: string, offset: number, length: number): Uint8Array {
    const f = this.#files.get(name);
    if (!f) throw new Error(`${this.location}/${name}: no such file`);
    return f.bytes.slice(offset, Math.min(f.size, offset + length));
  }

  #handle(f: MemoryFile): WriteHandle {
    return {
      get size() {
        return f.size;
      },
      append: (b) => f.append(b),
      sync: () => void this.syncs++,
      close: () => {},
    };
  }

  openAppend(name: string): WriteHandle {
    let f = this.#files.get(name);
    if (!f) this.#files.set(name, (f = new MemoryFile()));
    return this.#handle(f);
  }

  create(name: string): WriteHandle {
    const f = new MemoryFile();
    this.#files.set(name, f);
    return this.#handle(f);
  }

  replace(from: string, to: string): void {
    const f = this.#files.get(from);
    if (!f) throw new Error(`${this.location}/${from}: no such file`);
    this.#files.delete(from);
    this.#files.set(to, f);
  }

  truncate(name: string, length: number): void {
    const f = this.#files.get(name);
    if (f && length < f.size) f.size = length;
  }

  remove(name: string): void {
    this.#files.delete(name);
  }

  list(): string[] {
    return [...this.#files.keys()];
  }

  lock(): StorageLock {
    if (this.#locked) throw new StorageLockedError(this.location, 'another engine in this process');
    this.#locked = true;
    return { release: () => void (this.#locked = false) };
  }

  /** A copy of a file's bytes (tests). */
  contents(name: string): Uint8Array {
    return this.read(name, 0, this.size(name));
  }
}

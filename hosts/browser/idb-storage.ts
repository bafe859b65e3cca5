/**
 * The storage interface over IndexedDB, for where OPFS synchronous access handles are missing (a
 * page, a SharedWorker, older browsers): database `rivulet:<name>`, the same files as a Node data
 * directory, stored as fixed-size blocks. Asynchronous: the host loop holds a pass's replies until
 * its commit resolves, so `appendfsync always` still answers a write only once it is durable.
 *
 * Stores: `files` (file name → { id, size }) and `blocks` ([id, block index] → bytes, every block
 * BLOCK bytes but a file's last). A file's blocks are keyed by its id, not its name, so `replace`
 * is one transaction that renames the record and drops the old file's blocks: atomic, as the
 * interface asks. Appends fill the last block in memory; the blocks changed since the last write go
 * out at the end of the turn in a `relaxed` transaction (like write(2)), `sync` in a `strict` one
 * (like fdatasync). One owner per database: a Web Lock (web-lock.ts).
 */
import { type Storage, type StorageLock, type WriteHandle } from '../shared/storage.js';
import { takeWebLock } from './web-lock.js';

const BLOCK = 32 << 10;
const FILES = 'files';
const BLOCKS = 'blocks';

interface FileRecord {
  id: number;
  size: number;
}

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((res, rej) => {
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((res, rej) => {
    tx.oncomplete = () => res();
    tx.onabort = () => rej(tx.error ?? new Error('rivulet: IndexedDB transaction aborted'));
    tx.onerror = () => rej(tx.error);
  });
}

const allBlocks = (id: number) => IDBKeyRange.bound([id, 0], [id, Infinity]);

class IdbWriteHandle implements WriteHandle {
  size: number;
  /** The last, partial block's bytes (a BLOCK-sized buffer) and its index. */
  #tail: Uint8Array;
  #tailIndex: number;
  /** Blocks changed since the last write (index → bytes, the tail by reference). */
  #dirty = new Map<number, Uint8Array>();
  #scheduled = false;
  /** A relaxed write went out since the last strict one. */
  #unsynced = false;
  #error: unknown = null;
  dead = false;

  constructor(
    readonly storage: IdbStorage,
    public name: string,
    readonly id: number,
    size: number,
    tail: Uint8Array,
  ) {
    this.size = size;
    this.#tail = tail;
    this.#tailIndex = Math.floor(size / BLOCK);
  }

  append(bytes: Uint8Array): void {
    if (this.dead) throw new Error(`rivulet: ${this.storage.location}/${this.name} was closed`);
    if (this.#error) throw this.#error;
    let pos = 0;
    while (pos < bytes.length) {
      const index = Math.floor(this.size / BLOCK);
      const off = this.size % BLOCK;
      if (index !== this.#tailIndex) {
        this.#tail = new Uint8Array(BLOCK);
        this.#tailIndex = index;
      }
      const n = Math.min(BLOCK - off, bytes.length - pos);
      this.#tail.set(bytes.subarray(pos, pos + n), off);
      this.#dirty.set(index, this.#tail);
      this.size += n;
      pos += n;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#write('relaxed').catch((e) => (this.#error ??= e));
      });
    }
  }

  /** Puts the changed blocks and the file's size in one transaction. */
  #write(durability: 'relaxed' | 'strict'): Promise<void> {
    if (this.dead || (this.#dirty.size === 0 && (durability === 'relaxed' || !this.#unsynced))) return Promise.resolve();
    const tx = this.storage.db.transaction([FILES, BLOCKS], 'readwrite', { durability });
    const blocks = tx.objectStore(BLOCKS);
    for (const [index, bytes] of this.#dirty) {
      const len = Math.min(BLOCK, this.size - index * BLOCK);
      blocks.put(bytes.slice(0, len), [this.id, index]);
    }
    tx.objectStore(FILES).put({ id: this.id, size: this.size } satisfies FileRecord, this.name);
    this.#dirty.clear();
    this.#unsynced = durability === 'relaxed';
    return done(tx);
  }

  sync(): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    return this.#write('strict');
  }

  async close(): Promise<void> {
    if (this.dead) return;
    await this.#write('relaxed');
    this.storage.forget(this);
  }
}

export class IdbStorage implements Storage {
  readonly location: string;
  readonly db: IDBDatabase;
  readonly #lockName: string;
  #nextId: number;
  readonly #writers = new Map<string, IdbWriteHandle>();

  private constructor(db: IDBDatabase, name: string, nextId: number) {
    this.db = db;
    this.location = `indexeddb:rivulet:${name}`;
    this.#lockName = `rivulet:idb:${name}`;
    this.#nextId = nextId;
  }

  static async open(name: string): Promise<IdbStorage> {
    if (typeof indexedDB === 'undefined') throw new Error("rivulet: storage 'indexeddb' needs IndexedDB, which this context does not have");
    const open = indexedDB.open(`rivulet:${name}`, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore(FILES);
      open.result.createObjectStore(BLOCKS);
    };
    const db = await req(open);
    const records = (await req(db.transaction(FILES).objectStore(FILES).getAll())) as FileRecord[];
    return new IdbStorage(db, name, records.reduce((m, r) => Math.max(m, r.id + 1), 1));
  }

  async #record(name: string): Promise<FileRecord | undefined> {
    return (await req(this.db.transaction(FILES).objectStore(FILES).get(name))) as FileRecord | undefined;
  }

  forget(w: IdbWriteHandle): void {
    w.dead = true;
    if (this.#writers.get(w.name) === w) this.#writers.delete(w.name);
  }

  async size(name: string): Promise<number> {
    const w = this.#writers.get(name);
    if (w) return w.size;
    return (await this.#record(name))?.size ?? -1;
  }

  async read(name: string, offset: number, length: number): Promise<Uint8Array> {
    const w = this.#writers.get(name);
    if (w) await w.sync();
    const rec = await this.#record(name);
    if (!rec) throw new Error(`${this.location}/${name}: no such file`);
    const end = Math.min(rec.size, offset + length);
    if (end <= offset) return new Uint8Array(0);
    const first = Math.floor(offset / BLOCK);
    const last = Math.floor((end - 1) / BLOCK);
    const blocks = (await req(this.db.transaction(BLOCKS).objectStore(BLOCKS).getAll(IDBKeyRange.bound([rec.id, first], [rec.id, last])))) as Uint8Array[];
    const out = new Uint8Array(end - offset);
    for (let i = 0; i < blocks.length; i++) {
      const blockStart = (first + i) * BLOCK;
      const from = Math.max(offset, blockStart) - blockStart;
      const to = Math.min(end, blockStart + blocks[i].length) - blockStart;
      if (to > from) out.set(blocks[i].subarray(from, to), blockStart + from - offset);
    }
    return out;
  }

  async openAppend(name: string): Promise<WriteHandle> {
    const rec = await this.#record(name);
    if (!rec) return this.create(name);
    const tail = new Uint8Array(BLOCK);
    if (rec.size % BLOCK) {
      const last = (await req(this.db.transaction(BLOCKS).objectStore(BLOCKS).get([rec.id, Math.floor(rec.size / BLOCK)]))) as Uint8Array;
      tail.set(last.subarray(0, rec.size % BLOCK));
    }
    const w = new IdbWriteHandle(this, name, rec.id, rec.size, tail);
    this.#writers.set(name, w);
    return w;
  }

  async create(name: string): Promise<WriteHandle> {
    const old = this.#writers.get(name);
    if (old) this.forget(old);
    const id = this.#nextId++;
    const tx = this.db.transaction([FILES, BLOCKS], 'readwrite');
    const files = tx.objectStore(FILES);
    const prev = (await req(files.get(name))) as FileRecord | undefined;
    if (prev) tx.objectStore(BLOCKS).delete(allBlocks(prev.id));
    files.put({ id, size: 0 } satisfies FileRecord, name);
    await done(tx);
    const w = new IdbWriteHandle(this, name, id, 0, new Uint8Array(BLOCK));
    this.#writers.set(name, w);
    return w;
  }

  /** One transaction: `to` names `from`'s blocks, the old `to`'s blocks go. */
  async replace(from: string, to: string): Promise<void> {
    const src = this.#writers.get(from);
    const dst = this.#writers.get(to);
    if (dst) this.forget(dst); // its appends are the rewrite tail's now
    if (src) {
      // still open: it goes on writing the same blocks, now under the new name
      await src.sync();
      this.#writers.delete(from);
      src.name = to;
      this.#writers.set(to, src);
    }
    const tx = this.db.transaction([FILES, BLOCKS], 'readwrite', { durability: 'strict' });
    const files = tx.objectStore(FILES);
    const [recFrom, recTo] = (await Promise.all([req(files.get(from)), req(files.get(to))])) as (FileRecord | undefined)[];
    if (!recFrom) {
      tx.abort();
      throw new Error(`${this.location}/${from}: no such file`);
    }
    if (recTo && recTo.id !== recFrom.id) tx.objectStore(BLOCKS).delete(allBlocks(recTo.id));
    files.put(recFrom, to);
    files.delete(from);
    await done(tx);
  }

  async truncate(name: string, length: number): Promise<void> {
    const tx = this.db.transaction([FILES, BLOCKS], 'readwrite', { durability: 'strict' });
    const files = tx.objectStore(FILES);
    const blocks = tx.objectStore(BLOCKS);
    const rec = (await req(files.get(name))) as FileRecord | undefined;
    if (!rec || length >= rec.size) return done(tx);
    const keep = Math.ceil(length / BLOCK); // blocks [0, keep) stay
    blocks.delete(IDBKeyRange.bound([rec.id, keep], [rec.id, Infinity]));
    if (length % BLOCK) {
      const last = (await req(blocks.get([rec.id, keep - 1]))) as Uint8Array;
      blocks.put(last.slice(0, length % BLOCK), [rec.id, keep - 1]);
    }
    files.put({ id: rec.id, size: length } satisfies FileRecord, name);
    await done(tx);
  }

  async remove(name: string): Promise<void> {
    const w = this.#writers.get(name);
    if (w) this.forget(w);
    const tx = this.db.transaction([FILES, BLOCKS], 'readwrite');
    const files = tx.objectStore(FILES);
    const rec = (await req(files.get(name))) as FileRecord | undefined;
    if (rec) {
      tx.objectStore(BLOCKS).delete(allBlocks(rec.id));
      files.delete(name);
    }
    await done(tx);
  }

  async list(): Promise<string[]> {
    return (await req(this.db.transaction(FILES).objectStore(FILES).getAllKeys())) as string[];
  }

  lock(): Promise<StorageLock> {
    return takeWebLock(this.#lockName, this.location);
  }

  closeAll(): void {
    this.db.close();
  }
}

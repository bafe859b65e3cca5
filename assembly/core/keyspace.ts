// The keyspace: 16 databases mapping keys (byte-per-char strings, see Args.str) to typed values.
import { Stream } from "./stream";
import { account, release } from "../util/memory";
import { activeSnapshot } from "./snapview";

export const TYPE_STRING: i32 = 0;
export const TYPE_STREAM: i32 = 6;

export const DB_COUNT: i32 = 16;

export class Value {
  /** Epoch of the running snapshot while it has not written this value (core/snapview.ts). */
  snapEpoch: u32 = 0;
  /** Deleted from the keyspace while the snapshot still needed it: the snapshot frees it. */
  detached: bool = false;
  constructor(public type: i32) {}
  free(): void {}
}

/** A value leaves the keyspace: freed now, or detached for the running snapshot to free later. */
function discard(v: Value): void {
  if (activeSnapshot != 0 && v.snapEpoch == activeSnapshot) v.detached = true;
  else v.free();
}

export class StringValue extends Value {
  data: StaticArray<u8>;
  constructor(p: usize, n: i32) {
    super(TYPE_STRING);
    this.data = new StaticArray<u8>(n);
    memory.copy(changetype<usize>(this.data), p, <usize>n);
    account(<i64>n + 16);
  }
  free(): void { release(<i64>this.data.length + 16); }
}

export class StreamValue extends Value {
  stream: Stream = new Stream();
  constructor() { super(TYPE_STREAM); }
  free(): void { this.stream.free(); }
}

const KEY_OVERHEAD: i64 = 48;

export class Db {
  map: Map<string, Value> = new Map<string, Value>();
  constructor(public id: i32) {}

  @inline get size(): i32 { return this.map.size; }

  // One-entry cache: a client hammering one key (the common stream workload) skips hashing.
  private cachedKey: string | null = null;
  private cachedValue: Value | null = null;

  lookup(key: string): Value | null {
    if (this.cachedKey === key) return this.cachedValue;
    const v = this.map.has(key) ? this.map.get(key) : null;
    this.cachedKey = key;
    this.cachedValue = v;
    return v;
  }

  @inline private forget(): void { this.cachedKey = null; this.cachedValue = null; }

  add(key: string, v: Value): void {
    account(<i64>key.length * 2 + KEY_OVERHEAD);
    this.map.set(key, v);
    this.forget();
  }

  /** Replaces or adds, freeing the old value. */
  overwrite(key: string, v: Value): void {
    if (this.map.has(key)) {
      discard(this.map.get(key));
      this.map.set(key, v);
      this.forget();
    } else this.add(key, v);
  }

  remove(key: string): bool {
    if (!this.map.has(key)) return false;
    discard(this.map.get(key));
    this.map.delete(key);
    this.forget();
    release(<i64>key.length * 2 + KEY_OVERHEAD);
    return true;
  }

  /** Moves a value to another key without freeing it (RENAME). */
  detach(key: string): Value | null {
    if (!this.map.has(key)) return null;
    const v = this.map.get(key);
    this.map.delete(key);
    this.forget();
    release(<i64>key.length * 2 + KEY_OVERHEAD);
    return v;
  }

  clear(): void {
    const keys = this.map.keys();
    for (let i = 0; i < keys.length; i++) {
      discard(this.map.get(keys[i]));
      release(<i64>keys[i].length * 2 + KEY_OVERHEAD);
    }
    this.map.clear();
    this.forget();
  }
}

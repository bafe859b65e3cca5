// Growable byte buffer in unmanaged heap memory: connection input, reply output, copies of args.
// Unmanaged so that pointers handed to readers stay valid while a command runs (no GC moves).
import { account, release } from "./memory";
import { roomForBuffer } from "./heap";

/** Guarded buffers grow past this only while the page budget has room for them (util/heap.ts). */
const GUARD_FREE: i32 = 16384;

@final
export class ByteBuffer {
  ptr: usize = 0;
  len: i32 = 0;
  cap: i32 = 0;
  /** Read cursor for consumers that drain from the front (input, output). */
  pos: i32 = 0;
  /** Growth limit in bytes (0 = none): past it writes are dropped and `overflowed` is set. */
  limit: i32 = 0;
  overflowed: bool = false;
  /** Under a page budget, growth beyond GUARD_FREE bytes is refused (overflowed) without room for it. */
  guarded: bool = false;

  /** Makes room for `extra` more bytes; false (and nothing may be written) when the limit is hit. */
  reserve(extra: i32): bool {
    if (this.overflowed) return false;
    const need = this.len + extra;
    if (need <= this.cap) return true;
    if (this.limit > 0 && need > this.limit) { this.overflowed = true; return false; }
    let cap = this.cap < 64 ? 64 : this.cap;
    while (cap < need) cap = cap < 0x10000000 ? cap << 1 : cap + 0x10000000;
    if (this.guarded && cap > GUARD_FREE && !roomForBuffer(<i64>cap)) { this.overflowed = true; return false; }
    const old = this.cap;
    this.ptr = this.ptr == 0 ? heap.alloc(<usize>cap) : heap.realloc(this.ptr, <usize>cap);
    this.cap = cap;
    account(<i64>(cap - old));
    return true;
  }

  @inline byteAt(i: i32): u8 { return load<u8>(this.ptr + <usize>i); }

  appendByte(b: u8): void {
    if (!this.reserve(1)) return;
    store<u8>(this.ptr + <usize>this.len, b);
    this.len++;
  }

  appendBytes(src: usize, n: i32): void {
    if (n <= 0 || !this.reserve(n)) return;
    memory.copy(this.ptr + <usize>this.len, src, <usize>n);
    this.len += n;
  }

  /** Appends an ASCII string literal (one byte per char). */
  appendAscii(s: string): void {
    const n = s.length;
    if (!this.reserve(n)) return;
    const dst = this.ptr + <usize>this.len;
    for (let i = 0; i < n; i++) store<u8>(dst + <usize>i, <u8>s.charCodeAt(i));
    this.len += n;
  }

  appendU64(v: u64): void {
    if (!this.reserve(20)) return;
    this.len += writeU64(this.ptr + <usize>this.len, v);
  }

  appendI64(v: i64): void {
    if (v < 0) {
      this.appendByte(0x2d);
      this.appendU64(<u64>(-(v + 1)) + 1);
    } else this.appendU64(<u64>v);
  }

  /** Inserts bytes at `at`, shifting the tail (used for deferred array headers). */
  insertAt(at: i32, src: usize, n: i32): void {
    if (!this.reserve(n)) return;
    const p = this.ptr + <usize>at;
    memory.copy(p + <usize>n, p, <usize>(this.len - at));
    memory.copy(p, src, <usize>n);
    this.len += n;
  }

  /** Drops everything before the read cursor. */
  compact(): void {
    if (this.pos == 0) return;
    const rest = this.len - this.pos;
    if (rest > 0) memory.copy(this.ptr, this.ptr + <usize>this.pos, <usize>rest);
    this.len = rest;
    this.pos = 0;
  }

  /** Moves up to `cap` unread bytes to dst and returns how many; an emptied buffer is reset. */
  drainTo(dst: usize, cap: i32): i32 {
    const pending = this.len - this.pos;
    if (pending <= 0) { this.clear(); this.shrinkIfIdle(); return 0; }
    const n = pending < cap ? pending : cap;
    memory.copy(dst, this.ptr + <usize>this.pos, <usize>n);
    this.pos += n;
    if (this.pos >= this.len) { this.clear(); this.shrinkIfIdle(); }
    return n;
  }

  clear(): void { this.len = 0; this.pos = 0; this.overflowed = false; }

  /** Drops whatever was written after `mark` (an overflowed reply) and re-enables writing. */
  rewind(mark: i32): void { this.len = mark; this.overflowed = false; }

  /** Releases memory; large idle buffers shrink back. */
  free(): void {
    if (this.ptr != 0) {
      heap.free(this.ptr);
      release(<i64>this.cap);
    }
    this.ptr = 0; this.len = 0; this.cap = 0; this.pos = 0;
  }

  shrinkIfIdle(): void {
    if (this.len == 0 && this.cap > 16384) this.free();
  }
}

/** Writes the decimal form of v at dst, returns the number of bytes. */
export function writeU64(dst: usize, v: u64): i32 {
  let n = 1;
  let t = v;
  while (t >= 10) { t /= 10; n++; }
  let p = dst + <usize>n;
  do {
    p--;
    store<u8>(p, <u8>(48 + <u32>(v % 10)));
    v /= 10;
  } while (v != 0);
  return n;
}

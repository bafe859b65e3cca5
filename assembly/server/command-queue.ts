// The commands a MULTI queued, until EXEC runs them: their arguments as bytes, in segments of at
// least 8 KiB that a command never spans. No object per command and no large block for a large
// transaction (replaying rv_xadd_batch's MULTI of thousands of XADDs stays within a page budget).
//
// ╒═══════ Segment (heap block) ═══════╕         command = u32 argc, argc × (u32 len, bytes)
//   next: usize │ used: u32 │ cap: u32 │ commands …
// ╘════════════════════════════════════╛
import { Args } from "../resp/args";
import { account, release } from "../util/memory";

@unmanaged
class Segment {
  next: usize;
  used: u32;
  cap: u32;
}

const SEGMENT_BYTES: u32 = 8192;
@inline function bytesOf(s: Segment): usize { return changetype<usize>(s) + offsetof<Segment>(); }

@final
export class CommandQueue {
  private head: usize = 0;
  private tail: usize = 0;
  /** Commands queued. */
  length: i32 = 0;
  // reading cursor (EXEC)
  private seg: usize = 0;
  private at: u32 = 0;

  push(a: Args): void {
    let size: u32 = 4;
    for (let i = 0; i < a.count; i++) size += 4 + <u32>a.len(i);
    let s = changetype<Segment>(this.tail);
    if (this.tail == 0 || s.cap - s.used < size) {
      const cap = size > SEGMENT_BYTES ? size : SEGMENT_BYTES;
      s = changetype<Segment>(heap.alloc(offsetof<Segment>() + <usize>cap));
      s.next = 0; s.used = 0; s.cap = cap;
      account(<i64>(offsetof<Segment>() + <usize>cap));
      if (this.tail != 0) changetype<Segment>(this.tail).next = changetype<usize>(s);
      else this.head = changetype<usize>(s);
      this.tail = changetype<usize>(s);
    }
    let p = bytesOf(s) + <usize>s.used;
    store<u32>(p, <u32>a.count); p += 4;
    for (let i = 0; i < a.count; i++) {
      const n = a.len(i);
      store<u32>(p, <u32>n); p += 4;
      memory.copy(p, a.ptr(i), <usize>n); p += <usize>n;
    }
    s.used += size;
    this.length++;
  }

  /** Starts reading from the first command. */
  rewind(): void { this.seg = this.head; this.at = 0; }

  /** Points `into` at the next command's arguments (valid until clear()); false after the last. */
  next(into: Args): bool {
    while (this.seg != 0 && this.at >= changetype<Segment>(this.seg).used) {
      this.seg = changetype<Segment>(this.seg).next;
      this.at = 0;
    }
    if (this.seg == 0) return false;
    let p = bytesOf(changetype<Segment>(this.seg)) + <usize>this.at;
    const start = p;
    const argc = <i32>load<u32>(p); p += 4;
    into.reset();
    for (let i = 0; i < argc; i++) {
      const n = <i32>load<u32>(p); p += 4;
      into.push(p, n);
      p += <usize>n;
    }
    this.at += <u32>(p - start);
    return true;
  }

  clear(): void {
    let s = this.head;
    while (s != 0) {
      const next = changetype<Segment>(s).next;
      release(<i64>(offsetof<Segment>() + <usize>changetype<Segment>(s).cap));
      heap.free(s);
      s = next;
    }
    this.head = 0; this.tail = 0; this.length = 0; this.seg = 0; this.at = 0;
  }
}

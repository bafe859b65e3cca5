// A FIFO of bytes in fixed-size segments: appended at the tail, drained from the head. Unlike a
// ByteBuffer it never needs one large contiguous block (nor a doubling copy), so it can hold a lot
// under a page budget — the effects of a 4,096-row batch — in pieces the allocator always has.
//
// ╒═══════ Segment (heap block) ═══════╕
//   next: usize │ len: u32 │ pos: u32 │ bytes[SEGMENT_BYTES]
// ╘════════════════════════════════════╛
import { account, release } from "./memory";

@unmanaged
class Segment {
  next: usize;
  /** Bytes written / already drained. */
  len: u32;
  pos: u32;
}

export const SEGMENT_BYTES: u32 = 8192;
const SEGMENT_SIZE: usize = offsetof<Segment>() + <usize>SEGMENT_BYTES;

@inline function data(s: Segment): usize { return changetype<usize>(s) + offsetof<Segment>(); }

@final
export class ByteQueue {
  private head: usize = 0;
  private tail: usize = 0;
  /** Bytes appended and not drained yet. */
  pending: i64 = 0;

  private addSegment(): Segment {
    const s = changetype<Segment>(heap.alloc(SEGMENT_SIZE));
    s.next = 0; s.len = 0; s.pos = 0;
    account(<i64>SEGMENT_SIZE);
    if (this.tail != 0) changetype<Segment>(this.tail).next = changetype<usize>(s);
    else this.head = changetype<usize>(s);
    this.tail = changetype<usize>(s);
    return s;
  }

  append(src: usize, n: i32): void {
    let left = <u32>n;
    while (left > 0) {
      let s = this.tail != 0 ? changetype<Segment>(this.tail) : this.addSegment();
      if (s.len == SEGMENT_BYTES) s = this.addSegment();
      const room = SEGMENT_BYTES - s.len;
      const k = left < room ? left : room;
      memory.copy(data(s) + <usize>s.len, src, <usize>k);
      s.len += k;
      src += <usize>k;
      left -= k;
    }
    this.pending += <i64>n;
  }

  /** Moves up to `cap` bytes to dst; returns how many. Drained segments are freed. */
  drainTo(dst: usize, cap: i32): i32 {
    let n: i32 = 0;
    while (n < cap && this.head != 0) {
      const s = changetype<Segment>(this.head);
      const avail = s.len - s.pos;
      const want = <u32>(cap - n);
      const k = avail < want ? avail : want;
      memory.copy(dst + <usize>n, data(s) + <usize>s.pos, <usize>k);
      s.pos += k;
      n += <i32>k;
      if (s.pos == s.len) {
        this.head = s.next;
        if (this.head == 0) this.tail = 0;
        heap.free(changetype<usize>(s));
        release(<i64>SEGMENT_SIZE);
      }
    }
    this.pending -= <i64>n;
    return n;
  }
}

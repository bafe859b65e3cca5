// Reading a stream as the running snapshot sees it (core/snapview.ts): its entries as they were when
// the snapshot began, in ID order, from the blocks still in the index and the blocks retired since.
import { Stream } from "./stream";
import { Block, Entry, FLAG_DELETED, FLAG_SNAPLIVE, FLAG_SNAPNEW, freeBlock } from "./block";
import { cmpId } from "./ids";

/** An entry the snapshot includes: live when it began (or deleted since, before it was written). */
@inline function visible(e: Entry, s: Stream): bool {
  const f = e.flags;
  if ((f & FLAG_SNAPNEW) != 0) return false;
  if ((f & FLAG_DELETED) != 0 && (f & FLAG_SNAPLIVE) == 0) return false;
  return cmpId(e.ms, e.seq, s.snapLastMs, s.snapLastSeq) <= 0 && s.unwritten(e.ms, e.seq);
}

/** One source of blocks in ID order (the index from a position, or the retired chain). */
class Source {
  block: Block = changetype<Block>(0);
  at: u32 = 0;
  has: bool = false;
  entry: Entry = new Entry();
}

/**
 * The next entries the snapshot must write, in ID order, each after the stream's snapshot cursor.
 * Valid within one engine call (blocks do not move while the snapshot writer runs). Retired blocks
 * whose entries are all written are freed as the scan passes them.
 */
@final
export class SnapshotEntries {
  entry: Entry = new Entry();
  private s: Stream;
  private idx: Source = new Source();
  private ret: Source = new Source();
  private bi: i32 = 0;
  private fromIndex: bool = false;

  constructor(s: Stream) {
    this.s = s;
    this.bi = s.snapCursorSet ? s.index.seek(s.snapCursorMs, s.snapCursorSeq) : 0;
    if (this.bi < 0) this.bi = 0;
    this.startIndexBlock();
    this.advanceIndex();
    this.startRetired();
    this.advanceRetired();
  }

  private startIndexBlock(): void {
    const src = this.idx;
    src.has = this.bi < this.s.index.count;
    if (!src.has) return;
    src.block = this.s.index.get(this.bi);
    src.at = src.block.entriesAt;
  }

  /** Moves the index source to its next visible entry (or past the end). */
  private advanceIndex(): void {
    const src = this.idx;
    while (src.has) {
      const b = src.block;
      while (src.at < b.used) {
        src.entry.load(b, src.at);
        src.at = src.entry.next;
        if (visible(src.entry, this.s)) return;
      }
      this.bi++;
      this.startIndexBlock();
    }
  }

  private startRetired(): void {
    const src = this.ret;
    src.has = this.s.retiredBlocks != 0;
    if (!src.has) return;
    src.block = changetype<Block>(this.s.retiredBlocks);
    src.at = src.block.entriesAt;
  }

  /** Moves the retired source to its next visible entry; exhausted head blocks are freed. */
  private advanceRetired(): void {
    const src = this.ret;
    while (src.has) {
      const b = src.block;
      while (src.at < b.used) {
        src.entry.load(b, src.at);
        src.at = src.entry.next;
        if (visible(src.entry, this.s)) return;
      }
      // Everything in b is written (or never was the snapshot's): the head of the chain goes.
      this.s.retiredBlocks = b.retiredNext;
      freeBlock(b);
      this.startRetired();
    }
  }

  /** Loads the next entry to write into `entry`; false when none is left. Call written() after writing it. */
  next(): bool {
    const a = this.idx, r = this.ret;
    if (!a.has && !r.has) return false;
    const fromIndex = !r.has || (a.has && cmpId(a.entry.ms, a.entry.seq, r.entry.ms, r.entry.seq) < 0);
    this.fromIndex = fromIndex;
    const src = fromIndex ? a : r;
    this.entry.load(src.entry.block, src.entry.at);
    return true;
  }

  /** The entry from next() was written: the cursor passes it and the scan moves on. */
  written(): void {
    this.s.snapshotPassed(this.entry);
    if (this.fromIndex) this.advanceIndex(); else this.advanceRetired();
  }
}

/** Finds the stored entry (ms, seq) the snapshot includes, in the index or among retired blocks. */
export function findSnapshotEntry(s: Stream, ms: u64, seq: u64, out: Entry): bool {
  let bi = s.index.seek(ms, seq);
  if (bi < 0) bi = 0;
  for (; bi < s.index.count; bi++) if (scanBlock(s.index.get(bi), ms, seq, out)) return true;
  for (let at = s.retiredBlocks; at != 0; at = changetype<Block>(at).retiredNext) {
    if (scanBlock(changetype<Block>(at), ms, seq, out)) return true;
  }
  return false;
}

function scanBlock(b: Block, ms: u64, seq: u64, out: Entry): bool {
  let at = b.entriesAt;
  while (at < b.used) {
    out.load(b, at);
    at = out.next;
    if (out.ms == ms && out.seq == seq && (out.flags & FLAG_SNAPNEW) == 0 &&
        ((out.flags & FLAG_DELETED) == 0 || (out.flags & FLAG_SNAPLIVE) != 0)) return true;
  }
  return false;
}

/** Clears the snapshot marks a stream still carries (the snapshot finished or was aborted). */
export function clearSnapshotMarks(s: Stream): void {
  const e = new Entry();
  const mask: u8 = FLAG_SNAPLIVE | FLAG_SNAPNEW;
  for (let bi = 0; bi < s.index.count; bi++) {
    const b = s.index.get(bi);
    let at = b.entriesAt;
    while (at < b.used) {
      e.load(b, at);
      at = e.next;
      if ((e.flags & mask) != 0) e.setFlags(e.flags & ~mask);
    }
  }
  s.snapMarked = false;
}

// The low-level stream: a sorted index of entry blocks plus the stream's counters.
// Like t_stream.c's lower half it knows nothing of clients, replies, clocks or configuration:
// limits and times come in as arguments.
import { Block, Entry, newBlock, blockAppend, freeBlock, shrinkBlock, lpBytes, payload, FLAG_DELETED, FLAG_SNAPLIVE, FLAG_SNAPNEW } from "./block";
import { LP_MAX_SIZE } from "./listpack";
import { StreamID, cmpId, U64_MAX } from "./ids";
import { Args } from "../resp/args";
import { account, release } from "../util/memory";
import { Group, freeGroups } from "./groups";
import { IdmpState } from "./idmp";
import { activeSnapshot, shadowedNow } from "./snapview";

/** Sorted array of block pointers with O(1) removal at the head (trimming) and binary search. */
@final
export class BlockIndex {
  private items: usize = 0;
  private head: i32 = 0;
  count: i32 = 0;
  private cap: i32 = 0;

  @inline get(i: i32): Block { return changetype<Block>(load<usize>(this.items + (<usize>(this.head + i) << alignof<usize>()))); }
  @inline set(i: i32, b: Block): void { store<usize>(this.items + (<usize>(this.head + i) << alignof<usize>()), changetype<usize>(b)); }

  push(b: Block): void {
    if (this.head + this.count == this.cap) {
      if (this.head > 0 && this.head >= this.count) {
        memory.copy(this.items, this.items + (<usize>this.head << alignof<usize>()), <usize>this.count << alignof<usize>());
        this.head = 0;
      } else {
        const ncap = this.cap < 8 ? 8 : this.cap << 1;
        const bytes = <usize>ncap << alignof<usize>();
        this.items = this.items == 0 ? heap.alloc(bytes) : heap.realloc(this.items, bytes);
        account(<i64>((ncap - this.cap) << alignof<usize>()));
        this.cap = ncap;
      }
    }
    this.count++;
    this.set(this.count - 1, b);
  }

  removeAt(i: i32): void {
    if (i == 0) { this.head++; this.count--; if (this.count == 0) this.head = 0; return; }
    const p = this.items + (<usize>(this.head + i) << alignof<usize>());
    memory.copy(p, p + sizeof<usize>(), <usize>(this.count - i - 1) << alignof<usize>());
    this.count--;
  }

  /** Index of the last block whose base ID ≤ (ms, seq), or -1. */
  seek(ms: u64, seq: u64): i32 {
    let lo = 0, hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const b = this.get(mid);
      if (cmpId(b.baseMs, b.baseSeq, ms, seq) <= 0) lo = mid + 1; else hi = mid;
    }
    return lo - 1;
  }

  freeAll(): void {
    for (let i = 0; i < this.count; i++) freeBlock(this.get(i));
    if (this.items != 0) { heap.free(this.items); release(<i64>(this.cap << alignof<usize>())); }
    this.items = 0; this.count = 0; this.cap = 0; this.head = 0;
  }
}

export const TRIM_NONE: i32 = 0;
export const TRIM_MAXLEN: i32 = 1;
export const TRIM_MINID: i32 = 2;

export class Stream {
  index: BlockIndex = new BlockIndex();
  /** Live entries. */
  length: u64 = 0;
  /** Last generated ID (survives deletion of that entry). */
  lastId: StreamID = new StreamID();
  /** "recorded-first-entry-id". */
  firstId: StreamID = new StreamID();
  maxDeletedId: StreamID = new StreamID();
  entriesAdded: u64 = 0;

  /** Consumer groups by name (see groups.ts), created on first XGROUP CREATE. */
  groups: Map<string, Group> | null = null;
  /** Idempotent-production memory (XADD IDMP / IDMPAUTO, XCFGSET), created on first use. */
  idmp: IdmpState | null = null;

  // ---- the running snapshot's view (core/snapview.ts; driven by server/snapshot.ts) ----
  /** Epoch of the running snapshot while it has not finished this stream; 0 otherwise. */
  snapEpoch: u32 = 0;
  /** SNAP_ENTRIES: entries, last ID etc. not all written yet; SNAP_GROUPS: only groups left. */
  snapStage: u8 = SNAP_ENTRIES;
  /** Entries up to this ID are written (when snapCursorSet). */
  snapCursorSet: bool = false;
  snapCursorMs: u64 = 0;
  snapCursorSeq: u64 = 0;
  /** Counters as the snapshot began, kept by the first change after it began (touchMeta). */
  shadowEpoch: u32 = 0;
  shadowLastMs: u64 = 0;
  shadowLastSeq: u64 = 0;
  shadowEntriesAdded: u64 = 0;
  shadowMaxDelMs: u64 = 0;
  shadowMaxDelSeq: u64 = 0;
  /** Blocks removed while the snapshot still needs them, sorted by base ID (Block.retiredNext). */
  retiredBlocks: usize = 0;
  /** Groups destroyed while the snapshot still needs them (Group.retiredNext). */
  retiredGroups: Group | null = null;
  /** Some entry carries FLAG_SNAPLIVE / FLAG_SNAPNEW (cleared when the snapshot ends: clearSnapshotMarks). */
  snapMarked: bool = false;

  constructor() { account(STREAM_OVERHEAD); }

  @inline inSnapshot(): bool { return activeSnapshot != 0 && this.snapEpoch == activeSnapshot; }
  /** The snapshot still has entries of this stream to write. */
  @inline entriesPending(): bool { return this.inSnapshot() && this.snapStage == SNAP_ENTRIES; }

  /** Keeps lastId / entriesAdded / maxDeletedId for the snapshot: call before changing any of them. */
  touchMeta(): void {
    if (!this.entriesPending() || this.shadowEpoch == activeSnapshot) return;
    this.shadowEpoch = activeSnapshot;
    this.shadowLastMs = this.lastId.ms; this.shadowLastSeq = this.lastId.seq;
    this.shadowEntriesAdded = this.entriesAdded;
    this.shadowMaxDelMs = this.maxDeletedId.ms; this.shadowMaxDelSeq = this.maxDeletedId.seq;
  }

  // The counters as the running snapshot sees them.
  @inline get snapLastMs(): u64 { return shadowedNow(this.shadowEpoch) ? this.shadowLastMs : this.lastId.ms; }
  @inline get snapLastSeq(): u64 { return shadowedNow(this.shadowEpoch) ? this.shadowLastSeq : this.lastId.seq; }
  @inline get snapEntriesAdded(): u64 { return shadowedNow(this.shadowEpoch) ? this.shadowEntriesAdded : this.entriesAdded; }
  @inline get snapMaxDelMs(): u64 { return shadowedNow(this.shadowEpoch) ? this.shadowMaxDelMs : this.maxDeletedId.ms; }
  @inline get snapMaxDelSeq(): u64 { return shadowedNow(this.shadowEpoch) ? this.shadowMaxDelSeq : this.maxDeletedId.seq; }

  /** True if the snapshot has not written (ms, seq) yet. */
  @inline unwritten(ms: u64, seq: u64): bool {
    return !this.snapCursorSet || cmpId(ms, seq, this.snapCursorMs, this.snapCursorSeq) > 0;
  }

  /** The snapshot wrote entry `e`: its cursor passes it. */
  snapshotPassed(e: Entry): void {
    if ((e.flags & FLAG_SNAPLIVE) != 0) e.setFlags(e.flags & ~FLAG_SNAPLIVE);
    this.snapCursorSet = true;
    this.snapCursorMs = e.ms;
    this.snapCursorSeq = e.seq;
  }

  /** Deletes entry `e` (a tombstone); the running snapshot keeps seeing it if it still needs it. */
  private tombstone(e: Entry): void {
    const visible = (e.flags & (FLAG_DELETED | FLAG_SNAPNEW)) == 0;
    e.markDeleted();
    if (visible && this.entriesPending() && this.unwritten(e.ms, e.seq) &&
        cmpId(e.ms, e.seq, this.snapLastMs, this.snapLastSeq) <= 0) {
      e.setFlags(e.flags | FLAG_SNAPLIVE);
      this.snapMarked = true;
    }
  }

  /** A block left the index: freed, or retired while the snapshot may still need its entries. */
  private dropBlock(b: Block): void {
    if (!this.entriesPending() || !this.unwritten(b.lastMs, b.lastSeq)) { freeBlock(b); return; }
    b.retiredNext = 0;
    const bp = changetype<usize>(b);
    let at = this.retiredBlocks;
    if (at == 0 || cmpId(b.baseMs, b.baseSeq, changetype<Block>(at).baseMs, changetype<Block>(at).baseSeq) < 0) {
      b.retiredNext = at;
      this.retiredBlocks = bp;
      return;
    }
    while (true) {
      const next = changetype<Block>(at).retiredNext;
      if (next == 0 || cmpId(b.baseMs, b.baseSeq, changetype<Block>(next).baseMs, changetype<Block>(next).baseSeq) < 0) {
        b.retiredNext = next;
        changetype<Block>(at).retiredNext = bp;
        return;
      }
      at = next;
    }
  }

  /** Frees the retired blocks (the snapshot passed them or ended). */
  freeRetiredBlocks(): void {
    let at = this.retiredBlocks;
    while (at != 0) {
      const next = changetype<Block>(at).retiredNext;
      freeBlock(changetype<Block>(at));
      at = next;
    }
    this.retiredBlocks = 0;
  }

  /** The ID `XADD *` generates at time nowMs (streamNextID): never smaller than the last ID, even when
   *  the clock goes back. False when the last ID is the maximum. */
  nextAutoId(nowMs: u64, out: StreamID): bool {
    const last = this.lastId;
    if (last.isMax()) return false;
    if (nowMs > last.ms) out.set(nowMs, 0);
    else if (last.seq == U64_MAX) out.set(last.ms + 1, 0);
    else out.set(last.ms, last.seq + 1);
    return true;
  }

  /** Appends an entry with an ID already checked to be > lastId. Node splitting follows
   *  streamAppendItem: a new block when the tail's listpack weight plus the new field/value bytes
   *  reaches maxBytes, or when the tail holds maxEntries entries (tombstones included). */
  append(ms: u64, seq: u64, args: Args, first: i32, nfields: i32, maxEntries: i64, maxBytes: i64): void {
    let totelelen: u64 = 0;
    for (let i = 0; i < nfields * 2; i++) totelelen += <u64>args.len(first + i);
    const n = this.index.count;
    let tail: Block | null = n > 0 ? this.index.get(n - 1) : null;
    let isNew = tail == null;
    if (tail != null) {
      let nodeMax = <u64>maxBytes;
      if (maxBytes <= 0 || nodeMax > <u64>LP_MAX_SIZE) nodeMax = <u64>LP_MAX_SIZE;
      if (<u64>lpBytes(tail) + totelelen >= nodeMax) isNew = true;
      else if (maxEntries > 0 && <i64>(tail.live + tail.deleted) >= maxEntries) isNew = true;
    }
    if (isNew) {
      if (tail != null) this.index.set(n - 1, shrinkBlock(tail));
      const guess = <u32>min<u64>(totelelen + 16, 4096) * <u32>min<i64>(maxEntries > 0 ? maxEntries : 8, 8);
      tail = newBlock(ms, seq, args, first, nfields, guess);
      this.index.push(tail);
    }
    this.touchMeta();
    // After XSETID moved the last ID back, a new entry may sort among the snapshot's own: mark it.
    const extra: u8 = this.entriesPending() && cmpId(ms, seq, this.snapLastMs, this.snapLastSeq) <= 0 ? FLAG_SNAPNEW : 0;
    if (extra != 0) this.snapMarked = true;
    const b = blockAppend(tail!, ms, seq, args, first, nfields, extra);
    this.index.set(this.index.count - 1, b);
    this.length++;
    this.entriesAdded++;
    this.lastId.set(ms, seq);
    if (this.length == 1) this.firstId.set(ms, seq);
  }

  /** Marks one entry deleted (XDEL). Frees the block when its last live entry goes. Found with the
   *  range iterator, as Redis does, so entries appended after an XSETID rewind are found too. */
  deleteId(ms: u64, seq: u64, e: Entry): bool {
    const it = new StreamIterator(this, ms, seq, ms, seq, false);
    if (!it.next()) return false;
    it.removeCurrent();
    return true;
  }

  /** Removes the live entry `e` of block `bi` (streamIteratorRemoveEntry). */
  removeEntry(bi: i32, e: Entry): void {
    const b = this.index.get(bi);
    if (b.live == 1) {
      this.index.removeAt(bi);
      this.dropBlock(b);
    } else {
      this.tombstone(e);
      b.live--;
      b.deleted++;
    }
    this.length--;
  }

  /** streamTrim: whole blocks from the head, then (exact mode) tombstones inside one block. */
  trim(strategy: i32, maxlen: u64, minid: StreamID, approx: bool, limit: i64, e: Entry,
       capMs: u64 = U64_MAX, capSeq: u64 = U64_MAX): i64 {
    // cap: entries at or above it must stay (the ACKED policy passes the oldest referenced ID).
    if (strategy == TRIM_NONE) return 0;
    const capped = !(capMs == U64_MAX && capSeq == U64_MAX);
    let deleted: i64 = 0;
    while (this.index.count > 0) {
      if (strategy == TRIM_MAXLEN && this.length <= maxlen) break;
      const b = this.index.get(0);
      const entries = <i64>b.live;
      if (limit != 0 && deleted + entries > limit) break;
      let removeNode: bool;
      if (strategy == TRIM_MAXLEN) removeNode = <i64>this.length - entries >= <i64>maxlen;
      else removeNode = cmpId(b.lastMs, b.lastSeq, minid.ms, minid.seq) < 0;
      if (removeNode && capped && cmpId(b.lastMs, b.lastSeq, capMs, capSeq) >= 0) removeNode = false;
      if (removeNode) {
        this.index.removeAt(0);
        this.dropBlock(b);
        this.length -= <u64>entries;
        deleted += entries;
        continue;
      }
      if (approx) break;
      let at = b.entriesAt;
      let fromBlock: u32 = 0;
      while (at < b.used) {
        e.load(b, at);
        const stop = (strategy == TRIM_MAXLEN
          ? this.length <= maxlen
          : cmpId(e.ms, e.seq, minid.ms, minid.seq) >= 0) || (capped && cmpId(e.ms, e.seq, capMs, capSeq) >= 0);
        if (stop) break;
        if (!e.deleted) {
          this.tombstone(e);
          fromBlock++;
          this.length--;
        }
        at = e.next;
      }
      b.live -= fromBlock;
      b.deleted += fromBlock;
      deleted += <i64>fromBlock;
      break;
    }
    if (deleted != 0) {
      if (this.length > 0) this.edgeId(true, this.firstId); else this.firstId.set(0, 0);
    }
    return deleted;
  }

  /** First (or last) live entry ID; when there is none: max ID for first, 0-0 for last (streamGetEdgeID). */
  edgeId(first: bool, out: StreamID): bool {
    const it = new StreamIterator(this, 0, 0, U64_MAX, U64_MAX, !first);
    if (it.next()) { out.set(it.entry.ms, it.entry.seq); return true; }
    if (first) out.set(U64_MAX, U64_MAX); else out.set(0, 0);
    return false;
  }

  free(): void {
    freeGroups(this);
    if (this.idmp != null) { this.idmp!.free(); this.idmp = null; }
    this.index.freeAll();
    this.freeRetiredBlocks();
    release(STREAM_OVERHEAD);
  }
}

export const SNAP_ENTRIES: u8 = 0;
export const SNAP_GROUPS: u8 = 1;

const STREAM_OVERHEAD: i64 = 96;

/** Iterates live entries in [start, end], forwards or backwards. */
@final
export class StreamIterator {
  entry: Entry = new Entry();
  private bi: i32;
  private at: u32 = 0;
  private started: bool = false;
  private done: bool = false;
  // Reverse iteration walks a block's entry offsets backwards.
  private offs: StaticArray<u32> = new StaticArray<u32>(0);
  private nOffs: i32 = 0;
  private oi: i32 = 0;

  constructor(
    public stream: Stream,
    public startMs: u64, public startSeq: u64,
    public endMs: u64, public endSeq: u64,
    public rev: bool,
  ) {
    if (rev) {
      this.bi = stream.index.seek(endMs, endSeq);
      if (this.bi < 0) this.done = true;
    } else {
      this.bi = stream.index.seek(startMs, startSeq);
      if (this.bi < 0) this.bi = 0;
    }
  }

  /** Index of the block the current entry is in. */
  @inline get blockIndex(): i32 { return this.bi; }

  next(): bool {
    if (this.done) return false;
    const idx = this.stream.index;
    const e = this.entry;
    if (!this.rev) {
      while (this.bi < idx.count) {
        const b = idx.get(this.bi);
        if (!this.started) { this.at = b.entriesAt; this.started = true; }
        while (this.at < b.used) {
          e.load(b, this.at);
          this.at = e.next;
          // Tombstones are skipped before any comparison: after XSETID rewound the last ID, entries
          // appended later sit after larger deleted IDs (Redis's iterator does the same).
          if (e.deleted) continue;
          if (cmpId(e.ms, e.seq, this.startMs, this.startSeq) < 0) continue;
          if (cmpId(e.ms, e.seq, this.endMs, this.endSeq) > 0) { this.done = true; return false; }
          return true;
        }
        this.bi++;
        this.started = false;
      }
    } else {
      while (this.bi >= 0) {
        const b = idx.get(this.bi);
        if (!this.started) { this.collect(b); this.started = true; }
        while (this.oi > 0) {
          this.oi--;
          e.load(b, unchecked(this.offs[this.oi]));
          if (e.deleted) continue;
          if (cmpId(e.ms, e.seq, this.endMs, this.endSeq) > 0) continue;
          if (cmpId(e.ms, e.seq, this.startMs, this.startSeq) < 0) { this.done = true; return false; }
          return true;
        }
        this.bi--;
        this.started = false;
      }
    }
    this.done = true;
    return false;
  }

  private collect(b: Block): void {
    const n = <i32>(b.live + b.deleted);
    if (this.offs.length < n) this.offs = new StaticArray<u32>(n);
    let at = b.entriesAt;
    let i = 0;
    const e = this.entry;
    while (at < b.used) {
      unchecked(this.offs[i++] = at);
      e.load(b, at);
      at = e.next;
    }
    this.nOffs = i;
    this.oi = i;
  }

  /** Removes the current entry (the iterator stays valid: it continues with the next one). */
  removeCurrent(): void {
    const b = this.stream.index.get(this.bi);
    const freesBlock = b.live == 1;
    this.stream.removeEntry(this.bi, this.entry);
    if (freesBlock) {
      if (this.rev) { this.bi--; }
      this.started = false;
    }
  }
}

export { FLAG_DELETED, payload };

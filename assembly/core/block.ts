// Entry blocks ("nodes"): the unit of storage, splitting and approximate trimming.
//
// ╒════════════════════ Block layout ════════════════════╕
//   Block header (fields below, offsets from offsetof<Block>)
//   payload:  master fields │ entry │ entry │ … │ (spare capacity)
//   master  = varint n, n × (varint len, bytes)      field names of the block's first entry
//   entry   = u8 flags (DELETED, SAMEFIELDS, SNAPLIVE, SNAPNEW), varint msDelta, varint seqPart,
//             SAMEFIELDS ? n × value                   names come from the master list
//                        : varint n, n × (varint len, field, value)
//   value   = varint (len << 1), bytes                 a string
//           | varint (zigzag(v) << 1 | 1)              a canonical integer, |v| < 2^62 ("65" → 2 bytes)
//   seqPart = seq − baseSeq when msDelta == 0, else seq itself (both small in practice)
// ╘══════════════════════════════════════════════════════╛
// IDs are deltas against the block's base ID (its first entry). XDEL only flips the DELETED flag;
// tombstones stay until their block goes, as in Redis.
import { readVarint, varintEnd, varintSize, writeVarint } from "./varint";
import { parseI64, parsedI64 } from "../util/numbers";
import { writeU64 } from "../util/buffer";

/** Values that are canonical integers are stored as tagged zigzag varints (see the layout above). */
const INT_LIMIT: i64 = 0x4000000000000000;

/** Per-append scratch: each value's integer tag (0 = stored as a string), parsed once. */
let valueTags = new StaticArray<u64>(16);
/** Listpack weight of the last value classified by classifyValue. */
let valueLp: u32 = 0;

/** Parses a value once: returns its tag (0 for strings) and sets valueLp. */
@inline function classifyValue(p: usize, n: i32): u64 {
  if (n > 0 && n <= 20 && parseI64(p, n)) {
    const v = parsedI64;
    valueLp = lpIntSize(v);
    if (v >= INT_LIMIT || v <= -INT_LIMIT) return 0;
    return (<u64>((v << 1) ^ (v >> 63)) << 1) | 1;
  }
  valueLp = lpRawStrSize(n);
  return 0;
}

@inline function writeValue(d: usize, p: usize, n: i32, tag: u64): usize {
  if (tag != 0) return writeVarint(d, tag);
  d = writeVarint(d, <u64>n << 1);
  memory.copy(d, p, <usize>n);
  return d + <usize>n;
}

/** End of the value starting at p. */
@inline function skipValue(p: usize): usize {
  const tag = readVarint(p);
  return (tag & 1) != 0 ? varintEnd : varintEnd + <usize>(tag >> 1);
}
import { lpIntSize, lpStrSize, lpRawStrSize, LP_HEADER_AND_END } from "./listpack";
import { Args } from "../resp/args";
import { account, release } from "../util/memory";

export const FLAG_DELETED: u8 = 1;
export const FLAG_SAMEFIELDS: u8 = 2;
/** Deleted after the running snapshot began, before it wrote the entry: still part of that snapshot
 *  (core/snapview.ts). Cleared as the snapshot passes the entry. */
export const FLAG_SNAPLIVE: u8 = 4;
/** Appended after the running snapshot began with an ID it would otherwise include (after XSETID moved
 *  the last ID back): not part of that snapshot. Cleared as the snapshot passes the entry. */
export const FLAG_SNAPNEW: u8 = 8;

@unmanaged
export class Block {
  baseMs: u64;
  baseSeq: u64;
  /** ID of the block's last entry, tombstone or not. */
  lastMs: u64;
  lastSeq: u64;
  live: u32;
  deleted: u32;
  /** Payload bytes in use / allocated. */
  used: u32;
  cap: u32;
  /** Payload offset of the first entry (just after the master field list). */
  entriesAt: u32;
  masterFields: u32;
  /** Redis listpack weight of the master field names and of all entries (see listpack.ts). */
  lpMaster: u32;
  lpEntries: u32;
  /** Next block in a stream's chain of blocks retired while the running snapshot still needs them. */
  retiredNext: usize;
}

@inline export function payload(b: Block): usize { return changetype<usize>(b) + offsetof<Block>(); }

/** What Redis's listpack for this node would weigh: compared with stream-node-max-bytes. */
export function lpBytes(b: Block): u32 {
  return LP_HEADER_AND_END + lpIntSize(<i64>b.live) + lpIntSize(<i64>b.deleted) +
    lpIntSize(<i64>b.masterFields) + b.lpMaster + lpIntSize(0) + b.lpEntries;
}

function allocBlock(cap: u32): Block {
  const b = changetype<Block>(heap.alloc(offsetof<Block>() + <usize>cap));
  b.cap = cap;
  account(<i64>(offsetof<Block>() + <usize>cap));
  return b;
}

export function freeBlock(b: Block): void {
  release(<i64>(offsetof<Block>() + <usize>b.cap));
  heap.free(changetype<usize>(b));
}

function growBlock(b: Block, need: u32): Block {
  if (need <= b.cap) return b;
  let cap = b.cap < 128 ? <u32>128 : b.cap;
  while (cap < need) cap = cap << 1;
  const old = b.cap;
  const nb = changetype<Block>(heap.realloc(changetype<usize>(b), offsetof<Block>() + <usize>cap));
  nb.cap = cap;
  account(<i64>(cap - old));
  return nb;
}

/** Trims spare capacity once a block is sealed (a newer block started after it). */
export function shrinkBlock(b: Block): Block {
  if (b.cap - b.used < 64) return b;
  const old = b.cap;
  const nb = changetype<Block>(heap.realloc(changetype<usize>(b), offsetof<Block>() + <usize>b.used));
  nb.cap = nb.used;
  release(<i64>(old - nb.used));
  return nb;
}

/** Starts a block whose master field list is the fields of args[first], args[first+2], … */
export function newBlock(ms: u64, seq: u64, args: Args, first: i32, nfields: i32, expectEntryBytes: u32): Block {
  let masterSize = varintSize(<u64>nfields);
  let lpMaster: u32 = 0;
  for (let i = 0; i < nfields; i++) {
    const n = args.len(first + 2 * i);
    masterSize += varintSize(<u64>n) + <u32>n;
    lpMaster += lpStrSize(args.ptr(first + 2 * i), n);
  }
  const b = allocBlock(masterSize + expectEntryBytes);
  b.baseMs = ms; b.baseSeq = seq; b.lastMs = ms; b.lastSeq = seq;
  b.live = 0; b.deleted = 0;
  b.masterFields = <u32>nfields;
  b.lpMaster = lpMaster;
  b.lpEntries = 0;
  b.retiredNext = 0;
  let p = writeVarint(payload(b), <u64>nfields);
  for (let i = 0; i < nfields; i++) {
    const n = args.len(first + 2 * i);
    p = writeVarint(p, <u64>n);
    memory.copy(p, args.ptr(first + 2 * i), <usize>n);
    p += <usize>n;
  }
  b.entriesAt = <u32>(p - payload(b));
  b.used = b.entriesAt;
  return b;
}

/** True when the entry's field names equal the block's master fields, in order. */
function sameFields(b: Block, args: Args, first: i32, nfields: i32): bool {
  if (<u32>nfields != b.masterFields) return false;
  let p = payload(b);
  readVarint(p); p = varintEnd;
  for (let i = 0; i < nfields; i++) {
    const n = <i32>readVarint(p); p = varintEnd;
    const fi = first + 2 * i;
    if (args.len(fi) != n || memory.compare(p, args.ptr(fi), <usize>n) != 0) return false;
    p += <usize>n;
  }
  return true;
}

/** Appends an entry (ID already validated as greater than the block's last). May move the block.
 *  `extraFlags` is FLAG_SNAPNEW or 0. */
export function blockAppend(b: Block, ms: u64, seq: u64, args: Args, first: i32, nfields: i32, extraFlags: u8 = 0): Block {
  const same = sameFields(b, args, first, nfields);
  const msDelta = ms - b.baseMs;
  const seqPart = msDelta == 0 ? seq - b.baseSeq : seq;
  let size: u32 = 1 + varintSize(msDelta) + varintSize(seqPart);
  // Listpack weight of the same entry in Redis: flags, ms-diff, seq-diff, [num-fields], fields/values, lp-count.
  let lp: u32 = lpIntSize(0) + lpIntSize(<i64>msDelta) + lpIntSize(<i64>(seq - b.baseSeq));
  if (!same) { size += varintSize(<u64>nfields); lp += lpIntSize(<i64>nfields); }
  if (valueTags.length < nfields) valueTags = new StaticArray<u64>(nfields << 1);
  for (let i = 0; i < nfields; i++) {
    const fi = first + 2 * i;
    if (!same) {
      size += varintSize(<u64>args.len(fi)) + <u32>args.len(fi);
      lp += lpStrSize(args.ptr(fi), args.len(fi));
    }
    const vn = args.len(fi + 1);
    const tag = classifyValue(args.ptr(fi + 1), vn);
    unchecked(valueTags[i] = tag);
    size += tag != 0 ? varintSize(tag) : varintSize(<u64>vn << 1) + <u32>vn;
    lp += valueLp;
  }
  const lpCount: i64 = same ? <i64>nfields + 3 : <i64>nfields * 2 + 4;
  lp += lpIntSize(lpCount);

  b = growBlock(b, b.used + size);
  let p = payload(b) + <usize>b.used;
  store<u8>(p++, (same ? FLAG_SAMEFIELDS : 0) | extraFlags);
  p = writeVarint(p, msDelta);
  p = writeVarint(p, seqPart);
  if (!same) p = writeVarint(p, <u64>nfields);
  for (let i = 0; i < nfields; i++) {
    const fi = first + 2 * i;
    if (!same) {
      const fn = args.len(fi);
      p = writeVarint(p, <u64>fn);
      memory.copy(p, args.ptr(fi), <usize>fn);
      p += <usize>fn;
    }
    p = writeValue(p, args.ptr(fi + 1), args.len(fi + 1), unchecked(valueTags[i]));
  }
  b.used += size;
  b.live++;
  b.lpEntries += lp;
  b.lastMs = ms;
  b.lastSeq = seq;
  return b;
}

/**
 * A decoded entry inside a block, with a cursor over its field/value pairs.
 * Reused across iterations to avoid allocation.
 */
@final
export class Entry {
  block: Block = changetype<Block>(0);
  /** Payload offsets of this entry and of the next one. */
  at: u32 = 0;
  next: u32 = 0;
  flags: u8 = 0;
  ms: u64 = 0;
  seq: u64 = 0;
  nfields: u32 = 0;
  body: usize = 0;
  // field cursor
  private masterCur: usize = 0;
  private bodyCur: usize = 0;
  fieldPtr: usize = 0;
  fieldLen: i32 = 0;
  valuePtr: usize = 0;
  valueLen: i32 = 0;

  @inline get deleted(): bool { return (this.flags & FLAG_DELETED) != 0; }

  /** Decodes the entry header at payload offset `at` and finds where the next entry starts. */
  load(b: Block, at: u32): void {
    this.block = b;
    this.at = at;
    const base = payload(b);
    let p = base + <usize>at;
    this.flags = load<u8>(p++);
    const msDelta = readVarint(p); p = varintEnd;
    const seqPart = readVarint(p); p = varintEnd;
    this.ms = b.baseMs + msDelta;
    this.seq = msDelta == 0 ? b.baseSeq + seqPart : seqPart;
    if (this.flags & FLAG_SAMEFIELDS) {
      this.nfields = b.masterFields;
      this.body = p;
      for (let i: u32 = 0; i < this.nfields; i++) p = skipValue(p);
    } else {
      this.nfields = <u32>readVarint(p); p = varintEnd;
      this.body = p;
      for (let i: u32 = 0; i < this.nfields; i++) {
        const n = readVarint(p); p = varintEnd + <usize>n;
        p = skipValue(p);
      }
    }
    this.next = <u32>(p - base);
  }

  startFields(): void {
    this.bodyCur = this.body;
    if (this.flags & FLAG_SAMEFIELDS) {
      readVarint(payload(this.block));
      this.masterCur = varintEnd;
    }
  }

  /** Advances to the next field/value pair (call nfields times after startFields). */
  nextField(): void {
    let p: usize;
    if (this.flags & FLAG_SAMEFIELDS) {
      p = this.masterCur;
      this.fieldLen = <i32>readVarint(p); this.fieldPtr = varintEnd;
      this.masterCur = this.fieldPtr + <usize>this.fieldLen;
    } else {
      p = this.bodyCur;
      this.fieldLen = <i32>readVarint(p); this.fieldPtr = varintEnd;
      this.bodyCur = this.fieldPtr + <usize>this.fieldLen;
    }
    p = this.bodyCur;
    const tag = readVarint(p);
    if ((tag & 1) == 0) {
      this.valueLen = <i32>(tag >> 1); this.valuePtr = varintEnd;
      this.bodyCur = this.valuePtr + <usize>this.valueLen;
    } else {
      // An integer-encoded value is rendered back to its (canonical) decimal text.
      this.bodyCur = varintEnd;
      const zz = tag >> 1;
      const v = <i64>(zz >> 1) ^ -(<i64>(zz & 1));
      const d = changetype<usize>(this.digits);
      let n = 0;
      if (v < 0) { store<u8>(d, 45); n = 1 + writeU64(d + 1, <u64>(-v)); }
      else n = writeU64(d, <u64>v);
      this.valuePtr = d;
      this.valueLen = n;
    }
  }

  /** Text of the current integer-encoded value. */
  private digits: StaticArray<u8> = new StaticArray<u8>(24);

  /** Flips the tombstone flag on (the caller maintains counters). */
  markDeleted(): void { this.setFlags(this.flags | FLAG_DELETED); }

  /** Rewrites the entry's flag byte (snapshot marks). */
  setFlags(f: u8): void {
    this.flags = f;
    store<u8>(payload(this.block) + <usize>this.at, f);
  }
}

// Consumer groups: the group / consumer / pending-entry rules of t_stream.c's lower half.
// No replies, no clock: times come in as arguments.
import { StreamID, cmp, cmpId, U64_MAX } from "./ids";
import { Stream, StreamIterator } from "./stream";
import { Consumer, Nack, PelIndex, NACK_BYTES } from "./pel";
import { account, release } from "../util/memory";
import { lastEpoch, activeSnapshot, inSnapshot, shadowedNow } from "./snapview";
import { roomForRecords } from "../util/heap";

export const ENTRIES_READ_INVALID: i64 = -1;

export class Group {
  /** Read-only outside this class: changed through setPosition (which keeps the snapshot's view). */
  lastId: StreamID = new StreamID();
  entriesRead: i64 = ENTRIES_READ_INVALID;
  pel: PelIndex = new PelIndex();
  consumers: Map<string, Consumer> = new Map<string, Consumer>();
  /** Oldest / newest delivery (Nack.prevT / nextT chain), for idle scans (XREADGROUP CLAIM). */
  timeHead: Nack | null = null;
  timeTail: Nack | null = null;

  // ---- the running snapshot's view (core/snapview.ts) ----
  born: u32 = lastEpoch;
  /** The snapshot wrote this group (epoch). */
  writtenEpoch: u32 = 0;
  /** A pending entry of the snapshot's changed owner or was retired (its consumers need the slow scan). */
  movedEpoch: u32 = 0;
  shadowEpoch: u32 = 0;
  shadowLastMs: u64 = 0;
  shadowLastSeq: u64 = 0;
  shadowEntriesRead: i64 = 0;
  /** Pending entries removed while the snapshot needs them, in ID order (chained by Nack.nextT). */
  retiredHead: Nack | null = null;
  retiredTail: Nack | null = null;
  /** Consumers deleted while the snapshot needs them (Consumer.retiredNext). */
  retiredConsumers: Consumer | null = null;
  /** Next group in the stream's chain of groups destroyed while the snapshot needs them. */
  retiredNext: Group | null = null;

  constructor(public name: string, public stream: Stream) { account(<i64>name.length * 2 + 128); }

  /** The running snapshot has yet to write this group. */
  @inline snapPending(): bool {
    return this.stream.inSnapshot() && inSnapshot(this.born) && this.writtenEpoch != activeSnapshot;
  }

  /** Under a page budget: room to add one pending entry to this group and to `c`'s PEL (util/heap.ts). */
  roomForRecord(c: Consumer | null): bool {
    return roomForRecords(this.pel.growBytes(), c != null ? c.pel.growBytes() : 0);
  }

  /** Sets the last-delivered ID and entries-read counter (XGROUP SETID, reads, XCLAIM LASTID). */
  setPosition(ms: u64, seq: u64, entriesRead: i64): void {
    if (this.snapPending() && this.shadowEpoch != activeSnapshot) {
      this.shadowEpoch = activeSnapshot;
      this.shadowLastMs = this.lastId.ms; this.shadowLastSeq = this.lastId.seq;
      this.shadowEntriesRead = this.entriesRead;
    }
    this.lastId.set(ms, seq);
    this.entriesRead = entriesRead;
  }

  // The position as the running snapshot sees it.
  @inline get snapLastMs(): u64 { return shadowedNow(this.shadowEpoch) ? this.shadowLastMs : this.lastId.ms; }
  @inline get snapLastSeq(): u64 { return shadowedNow(this.shadowEpoch) ? this.shadowLastSeq : this.lastId.seq; }
  @inline get snapEntriesRead(): i64 { return shadowedNow(this.shadowEpoch) ? this.shadowEntriesRead : this.entriesRead; }

  /** A pending entry of the snapshot changes owner: its consumers' PELs no longer tell the snapshot's view. */
  @inline private noteMove(n: Nack): void {
    if (inSnapshot(n.born) && this.snapPending()) this.movedEpoch = activeSnapshot;
  }

  /** A record left both PELs: kept (in ID order) while the snapshot needs it, else forgotten. */
  private dropNack(n: Nack): void {
    if (!inSnapshot(n.born) || !this.snapPending()) { release(NACK_BYTES); return; }
    this.movedEpoch = activeSnapshot;
    n.nextT = null;
    const tail = this.retiredTail;
    if (tail == null) { this.retiredHead = n; this.retiredTail = n; return; }
    if (cmpId(n.ms, n.seq, tail.ms, tail.seq) > 0) { tail.nextT = n; this.retiredTail = n; return; }
    let at = this.retiredHead!;
    if (cmpId(n.ms, n.seq, at.ms, at.seq) < 0) { n.nextT = at; this.retiredHead = n; return; }
    while (at.nextT != null && cmpId(at.nextT!.ms, at.nextT!.seq, n.ms, n.seq) < 0) at = at.nextT!;
    n.nextT = at.nextT;
    at.nextT = n;
  }

  /** Forgets what was retired for the snapshot (it wrote this group, or ended). */
  dropRetired(): void {
    let n = this.retiredHead;
    while (n != null) { const next = n.nextT; n.nextT = null; release(NACK_BYTES); n = next; }
    this.retiredHead = null;
    this.retiredTail = null;
    let c = this.retiredConsumers;
    while (c != null) { const next = c.retiredNext; c.retiredNext = null; c.free(); c = next; }
    this.retiredConsumers = null;
  }

  lookupConsumer(name: string): Consumer | null {
    return this.consumers.has(name) ? this.consumers.get(name) : null;
  }

  /** Creates a consumer; null if it already exists. */
  createConsumer(name: string, now: f64): Consumer | null {
    if (this.consumers.has(name)) return null;
    const c = new Consumer(name, now);
    this.consumers.set(name, c);
    return c;
  }

  /** Removes a consumer and its pending entries (from the group PEL too); returns how many it had. */
  deleteConsumer(c: Consumer): i64 {
    const pending = c.pel.list();
    for (let i = 0; i < pending.length; i++) {
      const n = pending[i];
      this.pel.remove(n.ms, n.seq);
      this.unlinkTime(n);
      this.dropNack(n);
    }
    c.pel.freeAccounting();
    this.consumers.delete(c.name);
    if (inSnapshot(c.born) && this.snapPending()) {
      this.movedEpoch = activeSnapshot;
      c.retiredNext = this.retiredConsumers;
      this.retiredConsumers = c;
    } else c.free();
    return pending.length;
  }

  /** Consumers in name (byte) order, as Redis's radix tree yields them. */
  sortedConsumers(): Array<Consumer> {
    const list = this.consumers.values();
    list.sort((a: Consumer, b: Consumer): i32 => compareBytes(a.name, b.name));
    return list;
  }

  // ---- delivery-time chain ----
  unlinkTime(n: Nack): void {
    const p = n.prevT, x = n.nextT;
    if (p != null) p.nextT = x; else if (this.timeHead === n) this.timeHead = x;
    if (x != null) x.prevT = p; else if (this.timeTail === n) this.timeTail = p;
    n.prevT = null; n.nextT = null;
  }

  /** (Re)links n at its delivery-time position; O(1) for "now" deliveries. */
  linkTime(n: Nack): void {
    let after = this.timeTail;
    while (after != null && after.deliveryTime > n.deliveryTime) after = after.prevT;
    if (after == null) {
      n.prevT = null; n.nextT = this.timeHead;
      if (this.timeHead != null) this.timeHead!.prevT = n;
      this.timeHead = n;
      if (this.timeTail == null) this.timeTail = n;
    } else {
      n.prevT = after; n.nextT = after.nextT;
      if (after.nextT != null) after.nextT!.prevT = n; else this.timeTail = n;
      after.nextT = n;
    }
  }

  setDelivery(n: Nack, time: f64): void {
    this.unlinkTime(n);
    n.deliveryTime = time;
    this.linkTime(n);
  }

  /** Removes a pending entry from both PELs (XACK, or an entry found deleted). */
  removeNack(n: Nack): void {
    this.pel.remove(n.ms, n.seq);
    if (n.consumer != null) n.consumer!.pel.remove(n.ms, n.seq);
    this.unlinkTime(n);
    this.dropNack(n);
  }

  ack(ms: u64, seq: u64): bool {
    const n = this.pel.find(ms, seq);
    if (n == null) return false;
    this.removeNack(n!);
    return true;
  }

  /** Moves a pending entry to `to` (no-op if it already owns it). */
  assign(n: Nack, to: Consumer): void {
    if (n.consumer === to) return;
    this.noteMove(n);
    if (n.deliveryTime < 0) n.deliveryTime = 0;
    if (n.consumer != null) n.consumer!.pel.remove(n.ms, n.seq);
    to.pel.insert(n);
    n.consumer = to;
  }

  /** XREADGROUP delivery of a new entry: create the NACK or take it over (after XGROUP SETID). */
  deliver(ms: u64, seq: u64, to: Consumer, now: f64): Nack {
    let n = this.pel.find(ms, seq);
    if (n == null) {
      const fresh = new Nack(ms, seq, now, 1);
      this.pel.insert(fresh);
      to.pel.insert(fresh);
      fresh.consumer = to;
      this.linkTime(fresh);
      return fresh;
    }
    this.assign(n!, to);
    n!.deliveryCount = 1;
    this.setDelivery(n!, now);
    return n!;
  }

  /** XNACK: back to the group, owned by nobody, as if never delivered (delivery time -1, "idle -1"). */
  release(n: Nack): void {
    if (n.consumer != null) this.noteMove(n);
    if (n.consumer != null) n.consumer!.pel.remove(n.ms, n.seq);
    n.consumer = null;
    this.setDelivery(n, -1);
  }

  /** XCLAIM FORCE: a pending entry with no owner yet. */
  createUnowned(ms: u64, seq: u64, now: f64): Nack {
    const n = new Nack(ms, seq, now, 1);
    this.pel.insert(n);
    this.linkTime(n);
    return n;
  }

  free(): void {
    const cs = this.consumers.values();
    for (let i = 0; i < cs.length; i++) {
      cs[i].pel.freeAccounting();
      cs[i].free();
    }
    // Every NACK is in the group PEL once, owned or not (XNACK leaves entries owned by nobody).
    release(<i64>this.pel.size * NACK_BYTES);
    this.pel.freeAccounting();
    this.dropRetired();
    release(<i64>this.name.length * 2 + 128);
  }
}

/** Byte order of byte-per-char strings. */
export function compareBytes(a: string, b: string): i32 {
  const n = min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x != y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

export function lookupGroup(s: Stream, name: string): Group | null {
  const g = s.groups;
  if (g == null) return null;
  return g.has(name) ? g.get(name) : null;
}

/** streamCreateCG: null if the name is taken. */
export function createGroup(s: Stream, name: string, id: StreamID, entriesRead: i64): Group | null {
  if (s.groups == null) s.groups = new Map<string, Group>();
  if (s.groups!.has(name)) return null;
  const g = new Group(name, s);
  g.lastId.copyFrom(id);
  g.entriesRead = entriesRead;
  s.groups!.set(name, g);
  return g;
}

export function destroyGroup(s: Stream, name: string): bool {
  const g = lookupGroup(s, name);
  if (g == null) return false;
  s.groups!.delete(name);
  if (g.snapPending()) { g.retiredNext = s.retiredGroups; s.retiredGroups = g; }
  else g.free();
  return true;
}

/** Frees the groups retired for the snapshot. */
export function freeRetiredGroups(s: Stream): void {
  let g = s.retiredGroups;
  while (g != null) { const next = g.retiredNext; g.retiredNext = null; g.free(); g = next; }
  s.retiredGroups = null;
}

export function groupCount(s: Stream): i64 { return s.groups == null ? 0 : s.groups!.size; }

export function sortedGroups(s: Stream): Array<Group> {
  if (s.groups == null) return new Array<Group>();
  const list = s.groups!.values();
  list.sort((a: Group, b: Group): i32 => compareBytes(a.name, b.name));
  return list;
}

/** streamRangeHasTombstones(s, start, NULL). */
export function rangeHasTombstones(s: Stream, startMs: u64, startSeq: u64): bool {
  if (s.length == 0 || s.maxDeletedId.isZero()) return false;
  if (cmp(s.firstId, s.maxDeletedId) > 0) return false;
  return cmpId(startMs, startSeq, s.maxDeletedId.ms, s.maxDeletedId.seq) <= 0;
}

/** streamEstimateDistanceFromFirstEverEntry: the logical read counter of an ID, or -1 if unknowable. */
export function estimateDistance(s: Stream, ms: u64, seq: u64): i64 {
  if (s.entriesAdded == 0) return 0;
  const cmpLast = cmpId(ms, seq, s.lastId.ms, s.lastId.seq);
  if (s.length == 0 && cmpLast < 1) return <i64>s.entriesAdded;
  if (cmpLast == 0) return <i64>s.entriesAdded;
  if (cmpLast > 0) return ENTRIES_READ_INVALID;
  const cmpFirst = cmpId(ms, seq, s.firstId.ms, s.firstId.seq);
  if (s.maxDeletedId.isZero() || cmp(s.maxDeletedId, s.firstId) < 0) {
    if (cmpFirst < 0) return <i64>(s.entriesAdded - s.length);
    if (cmpFirst == 0) return <i64>(s.entriesAdded - s.length) + 1;
  }
  return ENTRIES_READ_INVALID;
}

/** The group's lag, or -1 when Redis answers null. */
export let lagValid: bool = false;
export function groupLag(s: Stream, g: Group): i64 {
  lagValid = true;
  if (s.entriesAdded == 0) return 0;
  if (g.entriesRead != ENTRIES_READ_INVALID && !rangeHasTombstones(s, g.lastId.ms, g.lastId.seq)) {
    return <i64>s.entriesAdded - g.entriesRead;
  }
  const er = estimateDistance(s, g.lastId.ms, g.lastId.seq);
  if (er != ENTRIES_READ_INVALID) return <i64>s.entriesAdded - er;
  lagValid = false;
  return 0;
}

/** Advances the group past a delivered entry, keeping entries_read (streamReplyWithRange). */
export function advanceGroup(s: Stream, g: Group, ms: u64, seq: u64): void {
  if (cmpId(ms, seq, g.lastId.ms, g.lastId.seq) <= 0) return;
  let read = g.entriesRead;
  if (read != ENTRIES_READ_INVALID && !rangeHasTombstones(s, ms, seq)) read++;
  else if (s.entriesAdded != 0) read = estimateDistance(s, ms, seq);
  g.setPosition(ms, seq, read);
}

/** True if a live entry with this ID exists (streamEntryExists). */
export function entryExists(s: Stream, ms: u64, seq: u64): bool {
  const it = new StreamIterator(s, ms, seq, ms, seq, false);
  return it.next();
}

export function freeGroups(s: Stream): void {
  freeRetiredGroups(s);
  if (s.groups == null) return;
  const gs = s.groups!.values();
  for (let i = 0; i < gs.length; i++) gs[i].free();
  s.groups = null;
}

export { Consumer, Nack, U64_MAX };

// ---- Deletion policies (Redis 8.2: KEEPREF / DELREF / ACKED) ----
export const POLICY_KEEPREF: i32 = 0;
export const POLICY_DELREF: i32 = 1;
export const POLICY_ACKED: i32 = 2;

/** True while some group still needs the entry: it is pending there, or not yet delivered to it. */
export function entryReferenced(s: Stream, ms: u64, seq: u64): bool {
  if (s.groups == null) return false;
  const gs = s.groups!.values();
  for (let i = 0; i < gs.length; i++) {
    const g = gs[i];
    if (cmpId(ms, seq, g.lastId.ms, g.lastId.seq) > 0) return true;
    if (g.pel.find(ms, seq) != null) return true;
  }
  return false;
}

/** Removes the entry from every group's PEL (DELREF). */
export function dropReferences(s: Stream, ms: u64, seq: u64): void {
  if (s.groups == null) return;
  const gs = s.groups!.values();
  for (let i = 0; i < gs.length; i++) gs[i].ack(ms, seq);
}

/** Pending entries whose stream entry exists (before a DELREF trim: the ones it may remove). */
export function livePendingEntries(s: Stream): Array<Nack> {
  const out = new Array<Nack>();
  if (s.groups == null) return out;
  const gs = s.groups!.values();
  for (let i = 0; i < gs.length; i++) {
    const list = gs[i].pel.list();
    for (let k = 0; k < list.length; k++) if (entryExists(s, list[k].ms, list[k].seq)) out.push(list[k]);
  }
  return out;
}

/** After a DELREF trim: the references whose entries the trim removed go from their PELs. */
export function dropTrimmedReferences(s: Stream, candidates: Array<Nack>): void {
  for (let k = 0; k < candidates.length; k++) {
    const n = candidates[k];
    if (entryExists(s, n.ms, n.seq)) continue;
    const g = groupOwningPel(s, n);
    if (g != null) g.removeNack(n);
  }
}

function groupOwningPel(s: Stream, n: Nack): Group | null {
  const gs = s.groups!.values();
  for (let i = 0; i < gs.length; i++) if (gs[i].pel.find(n.ms, n.seq) === n) return gs[i];
  return null;
}

/** The oldest ID some group still needs (ACKED trims stop before it); max when none. */
export function oldestReferenced(s: Stream, out: StreamID): void {
  out.set(U64_MAX, U64_MAX);
  if (s.groups == null) return;
  const gs = s.groups!.values();
  for (let i = 0; i < gs.length; i++) {
    const g = gs[i];
    // The oldest pending entry that still exists (dangling references protect nothing).
    for (let k = 0; k < g.pel.slots; k++) {
      const r = g.pel.at(k);
      if (r == null) continue;
      if (cmpId(r.ms, r.seq, out.ms, out.seq) >= 0) break;
      if (entryExists(s, r.ms, r.seq)) { out.set(r.ms, r.seq); break; }
    }
    const next = g.lastId.clone();
    if (next.incr() && cmpId(next.ms, next.seq, out.ms, out.seq) < 0) out.copyFrom(next);
  }
}

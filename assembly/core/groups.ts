// Consumer groups: the group / consumer / pending-entry rules of t_stream.c's lower half.
// No replies, no clock: times come in as arguments.
import { StreamID, cmp, cmpId, U64_MAX } from "./ids";
import { Stream, StreamIterator } from "./stream";
import { Consumer, Nack, PelIndex, NACK_BYTES } from "./pel";
import { account, release } from "../util/memory";

export const ENTRIES_READ_INVALID: i64 = -1;

export class Group {
  lastId: StreamID = new StreamID();
  entriesRead: i64 = ENTRIES_READ_INVALID;
  pel: PelIndex = new PelIndex();
  consumers: Map<string, Consumer> = new Map<string, Consumer>();
  /** Oldest / newest delivery (Nack.prevT / nextT chain), for idle scans (XREADGROUP CLAIM). */
  timeHead: Nack | null = null;
  timeTail: Nack | null = null;

  constructor(public name: string) { account(<i64>name.length * 2 + 128); }

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
      release(NACK_BYTES);
    }
    c.pel.freeAccounting();
    this.consumers.delete(c.name);
    c.free();
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
    release(NACK_BYTES);
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
  const g = new Group(name);
  g.lastId.copyFrom(id);
  g.entriesRead = entriesRead;
  s.groups!.set(name, g);
  return g;
}

export function destroyGroup(s: Stream, name: string): bool {
  const g = lookupGroup(s, name);
  if (g == null) return false;
  g.free();
  s.groups!.delete(name);
  return true;
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
  if (g.entriesRead != ENTRIES_READ_INVALID && !rangeHasTombstones(s, ms, seq)) g.entriesRead++;
  else if (s.entriesAdded != 0) g.entriesRead = estimateDistance(s, ms, seq);
  g.lastId.set(ms, seq);
}

/** True if a live entry with this ID exists (streamEntryExists). */
export function entryExists(s: Stream, ms: u64, seq: u64): bool {
  const it = new StreamIterator(s, ms, seq, ms, seq, false);
  return it.next();
}

export function freeGroups(s: Stream): void {
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

// Pending-entry records (NACKs) and the ordered indexes over them.
//
// One Nack per (group, id), referenced from the group's PEL and from its owner's PEL: two indexes,
// one record. Each index is a sorted array of IDs with lazy deletion: lookup, insert-at-end and
// removal cost O(log n); slots freed by XACK/XCLAIM are compacted away once they outnumber live ones.
// Nacks are also linked in delivery-time order (Redis 8.4) so "idle for at least N ms" is a walk
// from the oldest delivery that stops at the first young entry.
import { cmpId } from "./ids";
import { account, release } from "../util/memory";
import { lastEpoch, activeSnapshot, inSnapshot, shadowedNow } from "./snapview";

export const NACK_BYTES: i64 = 96;

export class Consumer {
  pel: PelIndex = new PelIndex();
  /** Last time the consumer was seen / did something successful (ms). */
  activeTime: f64 = -1;
  /** Snapshot epoch at creation (core/snapview.ts). */
  born: u32 = lastEpoch;
  /** Next consumer in its group's chain of consumers deleted while the running snapshot needs them. */
  retiredNext: Consumer | null = null;
  constructor(public name: string, public seenTime: f64) { account(<i64>name.length * 2 + 96); }
  free(): void { release(<i64>this.name.length * 2 + 96); }
}

/**
 * A pending entry. Its owner, delivery time and count are written through setters that first keep
 * the values the running snapshot must see (the shadow), once per snapshot (core/snapview.ts).
 */
export class Nack {
  private _consumer: Consumer | null = null;
  prevT: Nack | null = null;
  /** Delivery-time chain; for a retired record (removed while a snapshot needs it), the next retired one. */
  nextT: Nack | null = null;
  private _deliveryTime: f64;
  private _deliveryCount: u64;
  born: u32 = lastEpoch;
  shadowEpoch: u32 = 0;
  shadowConsumer: Consumer | null = null;
  shadowTime: f64 = 0;
  shadowCount: u64 = 0;

  constructor(public ms: u64, public seq: u64, deliveryTime: f64, deliveryCount: u64) {
    this._deliveryTime = deliveryTime;
    this._deliveryCount = deliveryCount;
    account(NACK_BYTES);
  }

  @inline get consumer(): Consumer | null { return this._consumer; }
  set consumer(c: Consumer | null) { this.keepShadow(); this._consumer = c; }
  @inline get deliveryTime(): f64 { return this._deliveryTime; }
  set deliveryTime(t: f64) { this.keepShadow(); this._deliveryTime = t; }
  @inline get deliveryCount(): u64 { return this._deliveryCount; }
  set deliveryCount(n: u64) { this.keepShadow(); this._deliveryCount = n; }

  @inline private keepShadow(): void {
    if (inSnapshot(this.born) && this.shadowEpoch != activeSnapshot) {
      this.shadowEpoch = activeSnapshot;
      this.shadowConsumer = this._consumer;
      this.shadowTime = this._deliveryTime;
      this.shadowCount = this._deliveryCount;
    }
  }

  // The record as the running snapshot sees it.
  @inline get snapConsumer(): Consumer | null { return shadowedNow(this.shadowEpoch) ? this.shadowConsumer : this._consumer; }
  @inline get snapTime(): f64 { return shadowedNow(this.shadowEpoch) ? this.shadowTime : this._deliveryTime; }
  @inline get snapCount(): u64 { return shadowedNow(this.shadowEpoch) ? this.shadowCount : this._deliveryCount; }
}

@final
export class PelIndex {
  private ms: StaticArray<u64> = new StaticArray<u64>(0);
  private seq: StaticArray<u64> = new StaticArray<u64>(0);
  private recs: StaticArray<Nack | null> = new StaticArray<Nack | null>(0);
  private used: i32 = 0;
  /** Live records. */
  size: i32 = 0;

  @inline get slots(): i32 { return this.used; }
  @inline at(i: i32): Nack | null { return unchecked(this.recs[i]); }

  /** First slot whose ID ≥ (ms, seq). */
  lowerBound(ms: u64, seq: u64): i32 {
    let lo = 0, hi = this.used;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmpId(unchecked(this.ms[mid]), unchecked(this.seq[mid]), ms, seq) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  find(ms: u64, seq: u64): Nack | null {
    const i = this.lowerBound(ms, seq);
    if (i < this.used && unchecked(this.ms[i]) == ms && unchecked(this.seq[i]) == seq) return unchecked(this.recs[i]);
    return null;
  }

  /** Bytes the next insert allocates when it has to grow the index (three arrays of twice the slots). */
  growBytes(): i64 {
    if (this.used < this.ms.length) return 0;
    return <i64>(this.ms.length < 8 ? 8 : this.ms.length << 1) * 24;
  }

  private grow(): void {
    const cap = this.ms.length < 8 ? 8 : this.ms.length << 1;
    const nm = new StaticArray<u64>(cap), ns = new StaticArray<u64>(cap), nr = new StaticArray<Nack | null>(cap);
    for (let i = 0; i < this.used; i++) {
      unchecked(nm[i] = this.ms[i]); unchecked(ns[i] = this.seq[i]); unchecked(nr[i] = this.recs[i]);
    }
    account(<i64>(cap - this.ms.length) * 24);
    this.ms = nm; this.seq = ns; this.recs = nr;
  }

  insert(n: Nack): void {
    let i = this.used;
    if (this.used > 0 && cmpId(n.ms, n.seq, unchecked(this.ms[this.used - 1]), unchecked(this.seq[this.used - 1])) <= 0) {
      i = this.lowerBound(n.ms, n.seq);
      if (i < this.used && unchecked(this.ms[i]) == n.ms && unchecked(this.seq[i]) == n.seq) {
        if (unchecked(this.recs[i]) == null) this.size++;
        unchecked(this.recs[i] = n);
        return;
      }
    }
    if (this.used == this.ms.length) this.grow();
    for (let k = this.used; k > i; k--) {
      unchecked(this.ms[k] = this.ms[k - 1]); unchecked(this.seq[k] = this.seq[k - 1]); unchecked(this.recs[k] = this.recs[k - 1]);
    }
    unchecked(this.ms[i] = n.ms); unchecked(this.seq[i] = n.seq); unchecked(this.recs[i] = n);
    this.used++;
    this.size++;
  }

  remove(ms: u64, seq: u64): bool {
    const i = this.lowerBound(ms, seq);
    if (i >= this.used || unchecked(this.ms[i]) != ms || unchecked(this.seq[i]) != seq || unchecked(this.recs[i]) == null) return false;
    unchecked(this.recs[i] = null);
    this.size--;
    if (this.used - this.size > 32 && this.used - this.size > this.size) this.compact();
    return true;
  }

  private compact(): void {
    let w = 0;
    for (let r = 0; r < this.used; r++) {
      const rec = unchecked(this.recs[r]);
      if (rec == null) continue;
      unchecked(this.ms[w] = this.ms[r]); unchecked(this.seq[w] = this.seq[r]); unchecked(this.recs[w] = rec);
      w++;
    }
    for (let k = w; k < this.used; k++) unchecked(this.recs[k] = null);
    this.used = w;
  }

  /** Live records in ID order (a fresh array; callers may mutate the index meanwhile). */
  list(): Array<Nack> {
    const out = new Array<Nack>();
    for (let i = 0; i < this.used; i++) { const r = unchecked(this.recs[i]); if (r != null) out.push(r); }
    return out;
  }

  first(): Nack | null {
    for (let i = 0; i < this.used; i++) { const r = unchecked(this.recs[i]); if (r != null) return r; }
    return null;
  }

  last(): Nack | null {
    for (let i = this.used - 1; i >= 0; i--) { const r = unchecked(this.recs[i]); if (r != null) return r; }
    return null;
  }

  freeAccounting(): void { release(<i64>this.ms.length * 24); }
}

// Idempotent production (Redis 8.6): per stream, per producer, recently seen idempotent IDs map to
// the entry ID they produced, so a retried XADD answers the original ID instead of appending twice.
import { StreamID } from "./ids";
import { account, release } from "../util/memory";

export const IDMP_DEFAULT_DURATION: i64 = 100;
export const IDMP_DEFAULT_MAXSIZE: i64 = 100;

@inline function recordBytes(iid: string): i64 { return <i64>iid.length * 2 + 48; }
@inline function producerBytes(name: string): i64 { return <i64>name.length * 2 + 96; }

class Record {
  constructor(public iid: string, public ms: u64, public seq: u64, public at: f64) {}
}

class Producer {
  byIid: Map<string, Record> = new Map<string, Record>();
  /** Oldest first, for maxsize eviction and expiry. */
  order: Array<Record> = new Array<Record>();
  head: i32 = 0;
}

export class IdmpState {
  duration: i64 = IDMP_DEFAULT_DURATION;
  maxsize: i64 = IDMP_DEFAULT_MAXSIZE;
  producers: Map<string, Producer> = new Map<string, Producer>();
  iidsAdded: i64 = 0;
  iidsDuplicates: i64 = 0;
  /** Bytes this state has accounted (util/memory), released together when it is forgotten. */
  private accounted: i64 = 0;

  private charge(n: i64): void { account(n); this.accounted += n; }
  private refund(n: i64): void { release(n); this.accounted -= n; }

  private expire(p: Producer, now: f64): void {
    const horizon = now - <f64>this.duration * 1000;
    while (p.head < p.order.length) {
      const r = p.order[p.head];
      if (p.byIid.get(r.iid) !== r) { p.head++; continue; }
      if (r.at >= horizon && <i64>(p.order.length - p.head) <= this.maxsize) break;
      p.byIid.delete(r.iid);
      this.refund(recordBytes(r.iid));
      p.head++;
    }
    if (p.head > 64 && p.head * 2 > p.order.length) { p.order = p.order.slice(p.head); p.head = 0; }
  }

  /** The ID an earlier XADD produced for (producer, iid), if still remembered. */
  lookup(producer: string, iid: string, now: f64, out: StreamID): bool {
    if (!this.producers.has(producer)) return false;
    const p = this.producers.get(producer);
    this.expire(p, now);
    if (!p.byIid.has(iid)) return false;
    const r = p.byIid.get(iid);
    out.set(r.ms, r.seq);
    this.iidsDuplicates++;
    return true;
  }

  record(producer: string, iid: string, ms: u64, seq: u64, now: f64): void {
    let p: Producer;
    if (this.producers.has(producer)) p = this.producers.get(producer);
    else { p = new Producer(); this.producers.set(producer, p); this.charge(producerBytes(producer)); }
    const r = new Record(iid, ms, seq, now);
    p.byIid.set(iid, r);
    p.order.push(r);
    this.charge(recordBytes(iid));
    this.iidsAdded++;
    this.expire(p, now);
  }

  tracked(): i64 {
    let n: i64 = 0;
    const ps = this.producers.values();
    for (let i = 0; i < ps.length; i++) n += ps[i].byIid.size;
    return n;
  }

  /** XCFGSET: new limits, and every remembered ID is forgotten. */
  configure(duration: i64, maxsize: i64): void {
    this.duration = duration;
    this.maxsize = maxsize;
    this.free();
  }

  /** Forgets every producer and remembered ID (XCFGSET, or the stream itself is freed). */
  free(): void {
    this.producers.clear();
    release(this.accounted);
    this.accounted = 0;
  }
}

/** IDMPAUTO: the idempotent ID is a digest of the entry's field/value pairs (length-prefixed, FNV-1a 64). */
export function contentDigest(ptrs: StaticArray<usize>, lens: StaticArray<i32>, from: i32, to: i32): string {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = from; i < to; i++) {
    const n = unchecked(lens[i]);
    for (let k = 0; k < 4; k++) { h ^= <u64>((n >> (k * 8)) & 0xff); h *= 0x100000001b3; }
    const p = unchecked(ptrs[i]);
    for (let k = 0; k < n; k++) { h ^= <u64>load<u8>(p + <usize>k); h *= 0x100000001b3; }
  }
  return h.toString(16);
}

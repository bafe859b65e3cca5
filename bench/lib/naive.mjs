// The naive JS line of perf-anchors.md §3: an array of { id, fields } with string IDs, plus the
// obvious range reads and a minimal consumer group, written the way an app would write them.
import { parseId } from './common.mjs';

function cmpId(a, b) {
  const [am, as] = parseId(a);
  const [bm, bs] = parseId(b);
  return am !== bm ? am - bm : as - bs;
}

export class NaiveStream {
  constructor(clock = Date.now) {
    this.entries = [];
    this.lastMs = 0;
    this.seq = 0;
    this.clock = clock;
  }

  xadd(fields) {
    const ms = this.clock();
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.seq = 0;
    } else this.seq++;
    const id = this.lastMs + '-' + this.seq;
    this.entries.push({ id, fields });
    return id;
  }

  /** First index whose ID ≥ id (binary search, parsing IDs on every compare). */
  seek(id) {
    const e = this.entries;
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmpId(e[mid].id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** XRANGE start + COUNT n as { id, fields } objects (start '-' = from the beginning). */
  range(start, count) {
    const i = start === '-' ? 0 : this.seek(start);
    return this.entries.slice(i, i + count);
  }

  /** XREVRANGE + - COUNT n. */
  revrange(count) {
    const e = this.entries;
    const out = [];
    for (let i = e.length - 1; i >= 0 && out.length < count; i--) out.push(e[i]);
    return out;
  }
}

/** A minimal consumer group: a cursor plus a pending Map (id → { consumer, time, deliveries }). */
export class NaiveGroup {
  constructor(stream) {
    this.stream = stream;
    this.next = 0;
    this.pel = new Map();
  }

  read(consumer, count) {
    const out = this.stream.entries.slice(this.next, this.next + count);
    this.next += out.length;
    const t = Date.now();
    for (const e of out) this.pel.set(e.id, { consumer, time: t, deliveries: 1 });
    return out;
  }

  ack(ids) {
    let n = 0;
    for (const id of ids) if (this.pel.delete(id)) n++;
    return n;
  }
}

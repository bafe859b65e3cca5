// Pending-entry commands: XACK, XPENDING, XCLAIM, XAUTOCLAIM.
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError, noteError, deliveryFull, OOM_ERROR } from "../server/dispatch";
import { budgeted, roomForDelivery } from "../util/heap";
import { nowMs, addDirty } from "../server/state";
import { StreamID, cmp, U64_MAX } from "../core/ids";
import { StreamValue, TYPE_STREAM } from "../core/keyspace";
import { Stream, StreamIterator } from "../core/stream";
import { Group, Consumer, Nack, lookupGroup, entryExists } from "../core/groups";
import { parseIntArg, argInt, parseIdArg, parseIntervalArg, intervalExclusive, syntaxError, wrongType, ERR_INVALID_ID } from "./common";
import { parseStreamId } from "../core/ids";
import { writeEntry } from "./entries";
import { effectClaim, effectSetId, effectAck } from "./group-effects";
import { markCustom } from "../server/effects";
import { parseI64, parsedI64 } from "../util/numbers";

/** `NOGROUP No such key '<key>' or consumer group '<group>'`. */
function noKeyOrGroup(a: Args): void {
  W.errorBegin();
  W.errorText("NOGROUP No such key '"); W.errorBytes(a.ptr(1), a.len(1));
  W.errorText("' or consumer group '"); W.errorBytes(a.ptr(2), a.len(2));
  W.errorText("'");
  W.errorEnd();
  noteError("NOGROUP");
}

let foundStream: Stream | null = null;
/** Key + group lookup; false after replying WRONGTYPE. Group null when key or group is missing. */
function lookupKeyGroup(c: Client, a: Args): Group | null {
  foundStream = null;
  const v = c.db.lookup(a.str(1));
  if (v == null) return null;
  if (v.type != TYPE_STREAM) { wrongType(); return null; }
  foundStream = changetype<StreamValue>(v).stream;
  return lookupGroup(foundStream!, a.str(2));
}
let typeError = false;
function lookupChecked(c: Client, a: Args): Group | null {
  typeError = false;
  const v = c.db.lookup(a.str(1));
  if (v != null && v.type != TYPE_STREAM) { typeError = true; wrongType(); return null; }
  return lookupKeyGroup(c, a);
}

/** Writes one claimed entry: the entry itself, or null bulk if it vanished meanwhile. */
function writeClaimed(s: Stream, n: Nack, justid: bool): void {
  if (justid) { W.bulkId(n.ms, n.seq); return; }
  const it = new StreamIterator(s, n.ms, n.seq, n.ms, n.seq, false);
  if (it.next()) writeEntry(it.entry); else W.nullBulk();
}

/** The claiming consumer; creating it is a change of its own (streamCreateConsumer: dirty + 1). */
function ensureConsumer(g: Group, name: string): Consumer {
  let consumer = g.lookupConsumer(name);
  if (consumer == null) { consumer = g.createConsumer(name, nowMs); addDirty(1); }
  consumer!.seenTime = nowMs;
  return consumer!;
}

// XACK key group id [id ...]
export function xackCommand(c: Client, a: Args): void {
  const g = lookupChecked(c, a);
  if (typeError) return;
  if (g == null) { W.integer(0); return; }
  const ids = new Array<StreamID>(a.count - 3);
  for (let j = 3; j < a.count; j++) {
    const id = new StreamID();
    if (!parseIdArg(a, j, id, 0, true)) return;
    ids[j - 3] = id;
  }
  let acked: i64 = 0;
  for (let j = 0; j < ids.length; j++) if (g.ack(ids[j].ms, ids[j].seq)) acked++;
  if (acked > 0) addDirty(acked);
  W.integer(acked);
}

// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
export function xpendingCommand(c: Client, a: Args): void {
  const justinfo = a.count == 3;
  if (a.count != 3 && (a.count < 6 || a.count > 9)) { syntaxError(); return; }
  let minidle: i64 = 0;
  let count: i64 = 0;
  const start = new StreamID();
  const end = new StreamID();
  let consumerArg = -1;
  if (a.count >= 6) {
    let si = 3;
    if (a.is(3, "idle")) {
      if (!parseIntArg(a, 4)) return;
      minidle = argInt;
      if (a.count < 8) { syntaxError(); return; }
      si += 2;
    }
    if (!parseIntArg(a, si + 2)) return;
    count = argInt < 0 ? 0 : argInt;
    if (!parseIntervalArg(a, si, start, 0)) return;
    if (intervalExclusive && !start.incr()) { replyError("ERR invalid start ID for the interval"); return; }
    if (!parseIntervalArg(a, si + 1, end, U64_MAX)) return;
    if (intervalExclusive && !end.decr()) { replyError("ERR invalid end ID for the interval"); return; }
    if (si + 3 < a.count) consumerArg = si + 3;
  }
  const g = lookupChecked(c, a);
  if (typeError) return;
  if (g == null) { noKeyOrGroup(a); return; }
  if (justinfo) {
    W.arrayLen(4);
    W.integer(g.pel.size);
    if (g.pel.size == 0) { W.nullBulk(); W.nullBulk(); W.nullArray(); return; }
    const f = g.pel.first()!, l = g.pel.last()!;
    W.bulkId(f.ms, f.seq);
    W.bulkId(l.ms, l.seq);
    const cs = g.sortedConsumers();
    const at = W.deferLen();
    let n = 0;
    for (let i = 0; i < cs.length; i++) {
      if (cs[i].pel.size == 0) continue;
      W.arrayLen(2);
      W.bulkKey(cs[i].name);
      W.bulkI64(cs[i].pel.size);
      n++;
    }
    W.setDeferredArray(at, n);
    return;
  }
  let pel = g.pel;
  if (consumerArg >= 0) {
    const consumer = g.lookupConsumer(a.str(consumerArg));
    if (consumer == null) { W.arrayLen(0); return; }
    pel = consumer.pel;
  }
  const now = nowMs;
  const at = W.deferLen();
  let n = 0;
  for (let i = pel.lowerBound(start.ms, start.seq); count > 0 && i < pel.slots; i++) {
    const r = pel.at(i);
    if (r == null) continue;
    if (cmp(new StreamID(r.ms, r.seq), end) > 0) break;
    const idle = r.deliveryTime < 0 ? -1 : <i64>(now - r.deliveryTime);
    if (minidle != 0 && idle >= 0 && idle < minidle) continue;
    n++;
    count--;
    W.arrayLen(4);
    W.bulkId(r.ms, r.seq);
    W.bulkKey(r.consumer != null ? r.consumer!.name : "");
    W.integer(r.deliveryTime < 0 ? -1 : idle < 0 ? 0 : idle);
    W.integer(<i64>r.deliveryCount);
  }
  W.setDeferredArray(at, n);
}

// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
export function xclaimCommand(c: Client, a: Args): void {
  const g = lookupChecked(c, a);
  if (typeError) return;
  if (g == null) { noKeyOrGroup(a); return; }
  const s = foundStream!;
  if (!parseIntArg(a, 4, "ERR Invalid min-idle-time argument for XCLAIM")) return;
  const minidle = argInt < 0 ? 0 : argInt;
  const ids = new Array<StreamID>();
  let j = 5;
  for (; j < a.count; j++) {
    const id = new StreamID();
    if (!parseStreamId(a.ptr(j), a.len(j), id, 0, true, false)) break;
    ids.push(id);
  }
  const now = nowMs;
  let force = false, justid = false;
  let retrycount: i64 = -1;
  let deliveryTime: f64 = -1;
  let deliveryGiven = false;
  const lastId = new StreamID();
  for (; j < a.count; j++) {
    const more = a.count - 1 - j;
    if (a.is(j, "force")) force = true;
    else if (a.is(j, "justid")) justid = true;
    else if (a.is(j, "idle") && more > 0) {
      j++;
      if (!parseIntArg(a, j, "ERR Invalid IDLE option argument for XCLAIM")) return;
      deliveryTime = now - <f64>argInt;
      deliveryGiven = true;
    } else if (a.is(j, "time") && more > 0) {
      j++;
      if (!parseIntArg(a, j, "ERR Invalid TIME option argument for XCLAIM")) return;
      deliveryTime = <f64>argInt;
      deliveryGiven = true;
    } else if (a.is(j, "retrycount") && more > 0) {
      j++;
      if (!parseIntArg(a, j, "ERR Invalid RETRYCOUNT option argument for XCLAIM")) return;
      retrycount = argInt;
    } else if (a.is(j, "lastid") && more > 0) {
      j++;
      if (!parseIdArg(a, j, lastId, 0, true)) return;
    } else {
      W.errorBegin(); W.errorText("ERR Unrecognized XCLAIM option '"); W.errorBytes(a.ptr(j), a.len(j)); W.errorText("'"); W.errorEnd();
      noteError("ERR");
      return;
    }
  }
  if (budgeted() && !roomForDelivery()) { replyError(OOM_ERROR); return; }
  let lastIdMoved = false;
  // A moved last ID is one change of its own only when no claimed or dropped entry carried it
  // (xclaimCommand's propagate_last_id).
  let lastIdChange = false;
  if (cmp(lastId, g.lastId) > 0) { g.setPosition(lastId.ms, lastId.seq, g.entriesRead); lastIdMoved = true; lastIdChange = true; }
  const key = a.str(1);
  markCustom();
  if (deliveryGiven) { if (deliveryTime < 0 || deliveryTime > now) deliveryTime = now; }
  else deliveryTime = now;
  const name = a.str(3);
  let consumer: Consumer | null = null;
  const at = W.deferLen();
  let n = 0;
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k];
    let nack = g.pel.find(id.ms, id.seq);
    if (!entryExists(s, id.ms, id.seq)) {
      if (nack != null) { g.removeNack(nack!); addDirty(1); lastIdChange = false; effectAck(c.db.id, key, g, id.ms, id.seq); }
      continue;
    }
    // Under a page budget, claims stop where the PELs could not grow (the reply says which were claimed).
    if (n > 0 && !g.roomForRecord(consumer != null ? consumer : g.lookupConsumer(name))) break;
    if (force && nack == null) nack = g.createUnowned(id.ms, id.seq, now);
    if (nack == null) continue;
    if (nack.consumer != null && minidle != 0) {
      if (<i64>(now - nack.deliveryTime) < minidle) continue;
    }
    if (consumer == null) consumer = ensureConsumer(g, name);
    g.setDelivery(nack, deliveryTime);
    if (retrycount >= 0) nack.deliveryCount = <u64>retrycount;
    else if (!justid) nack.deliveryCount++;
    g.assign(nack, consumer!);
    writeClaimed(s, nack, justid);
    n++;
    addDirty(1);
    effectClaim(c.db.id, key, g, nack);
    lastIdMoved = false;
    lastIdChange = false;
  }
  if (lastIdChange) addDirty(1);
  if (lastIdMoved) effectSetId(c.db.id, key, g);
  W.setDeferredArray(at, n);
}

const ATTEMPTS_FACTOR: i64 = 10;

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
export function xautoclaimCommand(c: Client, a: Args): void {
  if (!parseIntArg(a, 4, "ERR Invalid min-idle-time argument for XAUTOCLAIM")) return;
  const minidle = argInt < 0 ? 0 : argInt;
  const start = new StreamID();
  if (!parseIntervalArg(a, 5, start, 0)) return;
  if (intervalExclusive && !start.incr()) { replyError("ERR invalid start ID for the interval"); return; }
  let count: i64 = 100;
  let justid = false;
  for (let j = 6; j < a.count; j++) {
    const more = a.count - 1 - j;
    if (a.is(j, "count") && more > 0) {
      const maxCount: i64 = 0x7fffffffffffffff / 16;
      if (!parseI64(a.ptr(j + 1), a.len(j + 1)) || parsedI64 < 1 || parsedI64 > maxCount) { replyError("ERR COUNT must be > 0"); return; }
      count = parsedI64;
      j++;
    } else if (a.is(j, "justid")) justid = true;
    else { syntaxError(); return; }
  }
  const g = lookupChecked(c, a);
  if (typeError) return;
  if (g == null) { noKeyOrGroup(a); return; }
  const s = foundStream!;
  if (budgeted() && !(roomForDelivery() && g.roomForRecord(g.lookupConsumer(a.str(3))))) { replyError(OOM_ERROR); return; }
  // Redis allocates count IDs up front; what cannot exist in a 32-bit address space fails the same way.
  if (count > (<i64>1 << 26)) { replyError("ERR Insufficient memory, failed allocating transient memory, COUNT too high."); return; }
  let attempts = count * ATTEMPTS_FACTOR;
  const key = a.str(1);
  markCustom();
  const now = nowMs;
  const name = a.str(3);
  let consumer: Consumer | null = null;
  const deleted = new Array<StreamID>();
  W.arrayLen(3);
  const cursorAt = W.deferLen();
  const claimedAt = W.deferLen();
  let claimed = 0;
  const pel = g.pel;
  let i = pel.lowerBound(start.ms, start.seq);
  // Walk live slots; `i` ends on the slot after the last examined one.
  while (attempts > 0 && count > 0 && !(claimed > 0 && (deliveryFull() || !g.roomForRecord(consumer)))) {
    while (i < pel.slots && pel.at(i) == null) i++;
    if (i >= pel.slots) break;
    attempts--;
    const nack = pel.at(i)!;
    i++;
    if (!entryExists(s, nack.ms, nack.seq)) {
      deleted.push(new StreamID(nack.ms, nack.seq));
      g.removeNack(nack);
      effectAck(c.db.id, key, g, nack.ms, nack.seq);
      addDirty(1);
      count--;
      // Removal may compact the index: re-seek after the removed ID.
      i = pel.lowerBound(nack.ms, nack.seq);
      continue;
    }
    if (minidle != 0 && <i64>(now - nack.deliveryTime) < minidle) continue;
    if (consumer == null) consumer = ensureConsumer(g, name);
    g.setDelivery(nack, now);
    if (!justid) nack.deliveryCount++;
    g.assign(nack, consumer!);
    writeClaimed(s, nack, justid);
    effectClaim(c.db.id, key, g, nack);
    claimed++;
    count--;
    addDirty(1);
  }
  while (i < pel.slots && pel.at(i) == null) i++;
  W.setDeferredArray(claimedAt, claimed);
  // The cursor (reply[0]) goes before the claimed array.
  const cursorBuf = W.target();
  const saveLen = cursorBuf.len;
  if (i < pel.slots) { const r = pel.at(i)!; W.bulkId(r.ms, r.seq); } else W.bulkId(0, 0);
  const idLen = cursorBuf.len - saveLen;
  // Move the freshly written cursor bytes to cursorAt.
  const tmp = heap.alloc(<usize>idLen);
  memory.copy(tmp, cursorBuf.ptr + <usize>saveLen, <usize>idLen);
  cursorBuf.len = saveLen;
  cursorBuf.insertAt(cursorAt, tmp, idLen);
  heap.free(tmp);
  W.arrayLen(deleted.length);
  for (let k = 0; k < deleted.length; k++) W.bulkId(deleted[k].ms, deleted[k].seq);
}

export { ERR_INVALID_ID };

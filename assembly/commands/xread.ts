// XREAD (and the serving of clients blocked on stream keys).
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError, noteError, replyErrorToBlocked, setServeReady, drainResumed, replyLimit, guardReply, deliveryFull, OOM_ERROR } from "../server/dispatch";
import { budgeted, roomForDelivery, collectIfLow } from "../util/heap";
import { nowMs, dbs, addDirty } from "../server/state";
import { BlockedRead, BLOCK_XREAD, BLOCK_XREADGROUP, park, unpark, takeReadyKeys, waitersOf, announce, hasReadyKeys } from "../server/blocking";
import { StreamID, cmp, cmpId, U64_MAX } from "../core/ids";
import { StreamValue, TYPE_STREAM } from "../core/keyspace";
import { Stream, StreamIterator } from "../core/stream";
import { Group, Consumer, Nack, lookupGroup, advanceGroup } from "../core/groups";
import { parseIntArg, argInt, parseIdArg, syntaxError, wrongType, ERR_NOT_INTEGER } from "./common";
import { writeRange, writeEntry, writeEntryParts } from "./entries";
import { effectClaim, effectSetId, effectCreateConsumer, effectAck } from "./group-effects";
import { beginUnit, endUnit, markCustom } from "../server/effects";

/** XREAD's count when blocking without COUNT (XREAD_BLOCKED_DEFAULT_COUNT). */
const BLOCKED_DEFAULT_COUNT: i64 = 1000;

/** Per-connection "deny blocking" (inside MULTI/EXEC): BLOCK then acts as an immediate timeout. */
export let denyBlocking: bool = false;
export function setDenyBlocking(v: bool): void { denyBlocking = v; }

/** Parses BLOCK's argument (getTimeoutFromObjectOrReply, milliseconds). Sets blockDeadline. */
let blockDeadline: f64 = 0;
function parseTimeout(a: Args, i: i32): bool {
  if (!parseIntArg(a, i, "ERR timeout is not an integer or out of range")) return false;
  const t = argInt;
  if (t < 0) { replyError("ERR timeout is negative"); return false; }
  if (t > 0) {
    blockDeadline = nowMs + <f64>t;
  } else blockDeadline = 0;
  return true;
}

/** Last live entry ID (streamLastValidID). */
function lastValidId(s: Stream, out: StreamID): void { s.edgeId(false, out); }

const ERR_DOLLAR_IN_GROUP = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.";
const ERR_PLUS_IN_GROUP = "ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set.";

/** Writes entries > gt for a group read: advances the group and records deliveries (streamReplyWithRange). */
export function writeGroupRange(dbId: i32, key: string, s: Stream, g: Group, consumer: Consumer, gt: StreamID, count: i64, noack: bool, claimIdle: i64 = -1): i64 {
  const start = gt.clone();
  start.incr();
  const at = W.deferLen();
  const now = nowMs;
  let n: i64 = claimIdle >= 0 ? claimIdle_(dbId, key, s, g, consumer, count, claimIdle) : 0;
  const it = new StreamIterator(s, start.ms, start.seq, U64_MAX, U64_MAX, false);
  while ((count == 0 || n < count) && !(n > 0 && (deliveryFull() || (!noack && !g.roomForRecord(consumer)))) && it.next()) {
    const e = it.entry;
    advanceGroup(s, g, e.ms, e.seq);
    if (claimIdle >= 0) {
      // With CLAIM every entry has the claimed-entry shape; new ones were never delivered: 0, 0.
      W.arrayLen(4);
      writeEntryParts(e);
      W.integer(0);
      W.integer(0);
    } else writeEntry(e);
    if (!noack) effectClaim(dbId, key, g, g.deliver(e.ms, e.seq, consumer, now));
    n++;
  }
  W.setDeferredArray(at, n);
  if (n > 0) effectSetId(dbId, key, g);
  return n;
}

/** True when the group has a pending entry idle for at least minIdle ms (the oldest delivery first). */
function hasClaimable(g: Group, minIdle: i64): bool {
  const h = g.timeHead;
  return h != null && <i64>(nowMs - h.deliveryTime) >= minIdle;
}

/**
 * XREADGROUP ... CLAIM min-idle-time (Redis 8.4): pending entries idle at least minIdle, oldest delivery
 * first, move to this consumer and come back as [id, fields, idle-ms, delivery-count]. Shares COUNT
 * with the new entries that follow. Pending entries whose stream entry is gone are dropped.
 */
function claimIdle_(dbId: i32, key: string, s: Stream, g: Group, consumer: Consumer, count: i64, minIdle: i64): i64 {
  const now = nowMs;
  const picked = new Array<Nack>();
  let node = g.timeHead;
  while (node != null && (count == 0 || <i64>picked.length < count) && !(picked.length > 0 && deliveryFull())) {
    if (<i64>(now - node.deliveryTime) < minIdle) break;
    picked.push(node);
    node = node.nextT;
  }
  let n: i64 = 0;
  for (let i = 0; i < picked.length; i++) {
    if (n > 0 && !g.roomForRecord(consumer)) break;
    const nack = picked[i];
    const it = new StreamIterator(s, nack.ms, nack.seq, nack.ms, nack.seq, false);
    if (!it.next()) { g.removeNack(nack); effectAck(dbId, key, g, nack.ms, nack.seq); continue; }
    const idle = nack.deliveryTime < 0 ? -1 : <i64>(now - nack.deliveryTime);
    const previous = nack.deliveryCount;
    nack.deliveryCount++;
    g.setDelivery(nack, now);
    g.assign(nack, consumer);
    W.arrayLen(4);
    writeEntryParts(it.entry);
    W.integer(idle);
    W.integer(<i64>previous);
    effectClaim(dbId, key, g, nack);
    n++;
  }
  return n;
}

/** History read: entries of the consumer's own PEL with ID > gt; deleted ones as [id, nil]. */
function writeConsumerHistory(dbId: i32, key: string, s: Stream, g: Group, consumer: Consumer, gt: StreamID, count: i64): void {
  const start = gt.clone();
  if (!start.incr()) { W.arrayLen(0); return; }
  const pel = consumer.pel;
  const at = W.deferLen();
  let n: i64 = 0;
  const now = nowMs;
  for (let i = pel.lowerBound(start.ms, start.seq); i < pel.slots && (count == 0 || n < count) && !(n > 0 && deliveryFull()); i++) {
    const nack = pel.at(i);
    if (nack == null) continue;
    const it = new StreamIterator(s, nack.ms, nack.seq, nack.ms, nack.seq, false);
    if (it.next()) {
      writeEntry(it.entry);
      nack.deliveryCount++;
      g.setDelivery(nack, now);
      effectClaim(dbId, key, g, nack);
    } else {
      W.arrayLen(2);
      W.bulkId(nack.ms, nack.seq);
      W.nullArray();
    }
    n++;
  }
  W.setDeferredArray(at, n);
}

/** The reading consumer; creating it is a change of its own (streamCreateConsumer: dirty + 1). */
function lookupOrCreateConsumer(dbId: i32, key: string, g: Group, name: string): Consumer {
  let consumer = g.lookupConsumer(name);
  if (consumer == null) {
    consumer = g.createConsumer(name, nowMs);
    addDirty(1);
    effectCreateConsumer(dbId, key, g, name);
  }
  consumer!.seenTime = nowMs;
  return consumer!;
}

// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
export function xreadCommand(c: Client, a: Args): void { readGeneric(c, a, false); }

// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]
export function xreadgroupCommand(c: Client, a: Args): void { readGeneric(c, a, true); }

function readGeneric(c: Client, a: Args, isGroup: bool): void {
  let hasBlock = false;
  let count: i64 = 0;
  let streamsArg = 0;
  let streamsCount = 0;
  let groupArg = -1;
  let noack = false;
  let claimIdle: i64 = -1;
  for (let i = 1; i < a.count; i++) {
    const more = a.count - i - 1;
    if (a.is(i, "block") && more > 0) {
      i++;
      if (!parseTimeout(a, i)) return;
      hasBlock = true;
    } else if (a.is(i, "count") && more > 0) {
      i++;
      if (!parseIntArg(a, i)) return;
      count = argInt < 0 ? 0 : argInt;
    } else if (a.is(i, "streams") && more > 0) {
      streamsArg = i + 1;
      streamsCount = a.count - streamsArg;
      if ((streamsCount & 1) != 0) {
        replyError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
        return;
      }
      streamsCount >>= 1;
      break;
    } else if (a.is(i, "group") && more >= 2) {
      if (!isGroup) { replyError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."); return; }
      groupArg = i + 1;
      i += 2;
    } else if (isGroup && a.is(i, "claim") && more > 0) {
      i++;
      if (!parseIntArg(a, i)) return;
      if (argInt < 0) { replyError("ERR min-idle-time must be a positive integer"); return; }
      claimIdle = argInt;
    } else if (a.is(i, "noack")) {
      if (!isGroup) { replyError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."); return; }
      noack = true;
    } else { syntaxError(); return; }
  }
  if (streamsArg == 0) { syntaxError(); return; }
  if (isGroup && groupArg < 0) { replyError("ERR Missing GROUP option for XREADGROUP"); return; }
  const groupName = isGroup ? a.str(groupArg) : "";
  const consumerName = isGroup ? a.str(groupArg + 1) : "";

  const ids = new Array<StreamID>(streamsCount);
  const keys = new Array<string>(streamsCount);
  const groups = new Array<Group | null>(streamsCount);
  for (let k = 0; k < streamsCount; k++) {
    const key = a.str(streamsArg + k);
    keys[k] = key;
    const v = c.db.lookup(key);
    if (v != null && v.type != TYPE_STREAM) { wrongType(); return; }
    if (isGroup) {
      const g = v != null ? lookupGroup(changetype<StreamValue>(v).stream, groupName) : null;
      if (g == null) {
        W.errorBegin();
        W.errorText("NOGROUP No such key '"); W.errorBytes(a.ptr(streamsArg + k), a.len(streamsArg + k));
        W.errorText("' or consumer group '"); W.errorBytes(a.ptr(groupArg), a.len(groupArg));
        W.errorText("' in XREADGROUP with GROUP option");
        W.errorEnd();
        noteError("NOGROUP");
        return;
      }
      groups[k] = g;
    }
    const ia = streamsArg + streamsCount + k;
    const id = new StreamID();
    ids[k] = id;
    if (a.isChar(ia, 36)) {
      if (isGroup) { replyError(ERR_DOLLAR_IN_GROUP); return; }
      if (v != null) id.copyFrom(changetype<StreamValue>(v).stream.lastId);
      continue;
    }
    if (a.isChar(ia, 62)) {
      if (!isGroup) {
        replyError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
        return;
      }
      id.set(U64_MAX, U64_MAX);
      continue;
    }
    if (a.isChar(ia, 43)) {
      // Redis 7.4: `+` reads the last entry (entries after last ID − 1); meaningless for groups.
      if (isGroup) { replyError(ERR_PLUS_IN_GROUP); return; }
      if (v != null) { id.copyFrom(changetype<StreamValue>(v).stream.lastId); id.decr(); }
      continue;
    }
    if (!parseIdArg(a, ia, id, 0, true)) return;
  }

  // Under a page budget a group read needs room to record what it delivers (util/heap.ts).
  if (isGroup && !groupsHaveRoom(groups, consumerName)) { replyError(OOM_ERROR); return; }

  // Serve synchronously what is available.
  let served = 0;
  let at = 0;
  const maxid = new StreamID();
  for (let k = 0; k < streamsCount; k++) {
    const v = c.db.lookup(keys[k]);
    if (v == null) continue;
    const s = changetype<StreamValue>(v).stream;
    const gt = ids[k];
    let history = false;
    if (isGroup) {
      if (!gt.isMax()) history = true;
      else {
        let hasNew = false;
        if (s.length > 0) { lastValidId(s, maxid); hasNew = cmp(maxid, groups[k]!.lastId) > 0; }
        if (!hasNew && !(claimIdle >= 0 && hasClaimable(groups[k]!, claimIdle))) continue;
        gt.copyFrom(groups[k]!.lastId);
      }
    } else {
      if (s.length == 0) continue;
      lastValidId(s, maxid);
      if (cmp(maxid, gt) <= 0) continue;
    }
    served++;
    if (served == 1) at = W.deferLen();
    if (!W.resp3()) W.arrayLen(2);
    W.bulk(a.ptr(streamsArg + k), a.len(streamsArg + k));
    if (isGroup) {
      const g = groups[k]!;
      const consumer = lookupOrCreateConsumer(c.db.id, keys[k], g, consumerName);
      if (history) writeConsumerHistory(c.db.id, keys[k], s, g, consumer, gt, count);
      else writeGroupRange(c.db.id, keys[k], s, g, consumer, gt, count, noack, claimIdle);
      // Like xreadCommand: every stream a group read serves is a change, history reads included
      // (a blocked read served later is not: serveReadyKeys). Its effects are the XCLAIM / SETID /
      // CREATECONSUMER restatements, never the XREADGROUP itself.
      addDirty(1);
      markCustom();
    } else {
      const start = gt.clone();
      start.incr();
      writeRange(s, start.ms, start.seq, U64_MAX, U64_MAX, count, false, true);
    }
  }
  if (served > 0) {
    if (W.resp3()) W.setDeferredMap(at, served); else W.setDeferredArray(at, served);
    return;
  }
  if (hasBlock) {
    if (denyBlocking || c.loading) { W.nullArray(); return; }
    const b = new BlockedRead(c, isGroup ? BLOCK_XREADGROUP : BLOCK_XREAD, c.db.id);
    for (let k = 0; k < streamsCount; k++) {
      if (b.keys.indexOf(keys[k]) >= 0) continue;
      b.keys.push(keys[k]);
      b.ids.push(ids[k]);
    }
    b.count = count != 0 ? count : BLOCKED_DEFAULT_COUNT;
    b.deadline = blockDeadline;
    b.group = groupName;
    b.consumer = consumerName;
    b.noack = noack;
    park(b);
    return;
  }
  W.nullArray();
}

/** Serves clients blocked on keys signalled as ready (handleClientsBlockedOnKeys). */
export function serveReadyKeys(): void {
  while (hasReadyKeys()) {
    const ready = takeReadyKeys();
    for (let r = 0; r < ready.length; r++) {
      const wk = ready[r];
      const dbId = <i32>wk.charCodeAt(0);
      const key = wk.substring(1);
      const db = dbs[dbId];
      const v = db.lookup(key);
      const list = waitersOf(wk);
      for (let i = 0; i < list.length; i++) {
        collectIfLow();
        const rc = list[i];
        const b = rc.blocked;
        if (b == null || b.dbId != dbId) continue;
        const ki = b.keys.indexOf(key);
        if (ki < 0) continue;
        if (v == null || v.type != TYPE_STREAM) {
          if (b.kind == BLOCK_XREADGROUP) {
            replyErrorToBlocked(rc, "UNBLOCKED the stream key no longer exists");
            unpark(rc, true);
            announce(rc);
          }
          continue;
        }
        const s = changetype<StreamValue>(v).stream;
        const gt = b.ids[ki];
        let g: Group | null = null;
        if (b.kind == BLOCK_XREADGROUP) {
          g = lookupGroup(s, b.group);
          if (g == null) {
            replyErrorToBlocked(rc, "NOGROUP the consumer group this client was blocked on no longer exists");
            unpark(rc, true);
            announce(rc);
            continue;
          }
          gt.copyFrom(g.lastId);
          if (cmp(s.lastId, gt) > 0 && budgeted() && !(roomForDelivery() && g.roomForRecord(g.lookupConsumer(b.consumer)))) {
            // No room to record the delivery under the page budget: the reader gets OOM, as a new read would.
            W.setTarget(rc.output, rc.resp);
            replyError(OOM_ERROR);
            unpark(rc, true);
            announce(rc);
            continue;
          }
        }
        if (cmp(s.lastId, gt) > 0) {
          const mark = rc.output.len;
          rc.output.limit = replyLimit();
          W.setTarget(rc.output, rc.resp);
          if (rc.resp == 2) { W.arrayLen(1); W.arrayLen(2); } else W.mapLen(1);
          W.bulkKey(key);
          if (g != null) {
            beginUnit();
            writeGroupRange(dbId, key, s, g, lookupOrCreateConsumer(dbId, key, g, b.consumer), gt, b.count, b.noack);
            endUnit();
          } else {
            const start = gt.clone();
            start.incr();
            writeRange(s, start.ms, start.seq, U64_MAX, U64_MAX, b.count, false, true);
          }
          guardReply(rc, mark);
          unpark(rc, true);
          announce(rc);
        }
      }
    }
  }
  drainResumed(null);
}

/** Room to record one delivery in each group a read names (under a page budget). */
function groupsHaveRoom(groups: Array<Group | null>, consumerName: string): bool {
  if (!budgeted()) return true;
  if (!roomForDelivery()) return false;
  for (let k = 0; k < groups.length; k++) {
    const g = groups[k];
    if (g != null && !g.roomForRecord(g.lookupConsumer(consumerName))) return false;
  }
  return true;
}

/** Times out blocked clients whose deadline passed; returns how many. */
export function expireBlocked(now: f64, blocked: Array<Client>): i32 {
  let n = 0;
  for (let i = 0; i < blocked.length; i++) {
    const c = blocked[i];
    const b = c.blocked;
    if (b == null || b.deadline == 0 || b.deadline > now) continue;
    W.setTarget(c.output, c.resp);
    W.nullArray();
    unpark(c, true);
    announce(c);
    n++;
  }
  drainResumed(null);
  return n;
}

export function registerServe(): void { setServeReady(serveReadyKeys); }

export { cmpId };

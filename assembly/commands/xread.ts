// XREAD (and the serving of clients blocked on stream keys).
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError, setServeReady, drainResumed } from "../server/dispatch";
import { nowMs, dbs } from "../server/state";
import { BlockedRead, BLOCK_XREAD, BLOCK_XREADGROUP, park, unpark, takeReadyKeys, waitersOf, announce, hasReadyKeys } from "../server/blocking";
import { StreamID, cmp, cmpId, U64_MAX } from "../core/ids";
import { StreamValue, TYPE_STREAM } from "../core/keyspace";
import { Stream } from "../core/stream";
import { parseIntArg, argInt, parseIdArg, syntaxError, wrongType, ERR_NOT_INTEGER } from "./common";
import { writeRange } from "./entries";

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
    if (<f64>t > 9.2e18 - nowMs) { replyError("ERR timeout is out of range"); return false; }
    blockDeadline = nowMs + <f64>t;
  } else blockDeadline = 0;
  return true;
}

/** Last live entry ID (streamLastValidID). */
function lastValidId(s: Stream, out: StreamID): void { s.edgeId(false, out); }

// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
export function xreadCommand(c: Client, a: Args): void {
  let hasBlock = false;
  let count: i64 = 0;
  let streamsArg = 0;
  let streamsCount = 0;
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
      replyError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
      return;
    } else if (a.is(i, "noack")) {
      replyError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
      return;
    } else { syntaxError(); return; }
  }
  if (streamsArg == 0) { syntaxError(); return; }

  const ids = new Array<StreamID>(streamsCount);
  const keys = new Array<string>(streamsCount);
  for (let k = 0; k < streamsCount; k++) {
    const key = a.str(streamsArg + k);
    keys[k] = key;
    const v = c.db.lookup(key);
    if (v != null && v.type != TYPE_STREAM) { wrongType(); return; }
    const ia = streamsArg + streamsCount + k;
    const id = new StreamID();
    ids[k] = id;
    if (a.isChar(ia, 36)) {
      if (v != null) id.copyFrom(changetype<StreamValue>(v).stream.lastId);
      continue;
    }
    if (a.isChar(ia, 62)) {
      replyError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
      return;
    }
    if (a.isChar(ia, 43)) {
      // Redis 7.4: `+` reads the last entry: entries after (last ID − 1).
      if (v != null) { id.copyFrom(changetype<StreamValue>(v).stream.lastId); id.decr(); }
      continue;
    }
    if (!parseIdArg(a, ia, id, 0, true)) return;
  }

  // Serve synchronously what is available.
  let served = 0;
  let at = 0;
  const maxid = new StreamID();
  for (let k = 0; k < streamsCount; k++) {
    const v = c.db.lookup(keys[k]);
    if (v == null) continue;
    const s = changetype<StreamValue>(v).stream;
    if (s.length == 0) continue;
    lastValidId(s, maxid);
    const gt = ids[k];
    if (cmp(maxid, gt) <= 0) continue;
    served++;
    if (served == 1) at = W.deferLen();
    if (!W.resp3()) W.arrayLen(2);
    W.bulk(a.ptr(streamsArg + k), a.len(streamsArg + k));
    const start = gt.clone();
    start.incr();
    writeRange(s, start.ms, start.seq, U64_MAX, U64_MAX, count, false);
  }
  if (served > 0) {
    if (W.resp3()) W.setDeferredMap(at, served); else W.setDeferredArray(at, served);
    return;
  }
  if (hasBlock) {
    if (denyBlocking) { W.nullArray(); return; }
    const b = new BlockedRead(c, BLOCK_XREAD, c.db.id);
    for (let k = 0; k < streamsCount; k++) {
      if (b.keys.indexOf(keys[k]) >= 0) continue;
      b.keys.push(keys[k]);
      b.ids.push(ids[k]);
    }
    b.count = count != 0 ? count : BLOCKED_DEFAULT_COUNT;
    b.deadline = blockDeadline;
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
        const rc = list[i];
        const b = rc.blocked;
        if (b == null || b.dbId != dbId) continue;
        const ki = b.keys.indexOf(key);
        if (ki < 0) continue;
        if (v == null || v.type != TYPE_STREAM) {
          if (b.kind == BLOCK_XREADGROUP) {
            W.setTarget(rc.output, rc.resp);
            W.error("UNBLOCKED the stream key no longer exists");
            unpark(rc, true);
            announce(rc);
          }
          continue;
        }
        const s = changetype<StreamValue>(v).stream;
        const gt = b.ids[ki];
        if (cmp(s.lastId, gt) > 0) {
          W.setTarget(rc.output, rc.resp);
          if (rc.resp == 2) { W.arrayLen(1); W.arrayLen(2); } else W.mapLen(1);
          W.bulkKey(key);
          const start = gt.clone();
          start.incr();
          writeRange(s, start.ms, start.seq, U64_MAX, U64_MAX, b.count, false);
          unpark(rc, true);
          announce(rc);
        }
      }
    }
  }
  drainResumed(null);
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

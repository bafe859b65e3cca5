// Newer reliability commands (Redis 8.2–8.8): XDELEX, XACKDEL, XNACK, XCFGSET.
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError, OOM_ERROR } from "../server/dispatch";
import { budgeted, roomForDelivery } from "../util/heap";
import { nowMs, addDirty } from "../server/state";
import { StreamID, cmp } from "../core/ids";
import { Entry } from "../core/block";
import { Stream } from "../core/stream";
import { Group, lookupGroup, entryExists, entryReferenced, dropReferences, POLICY_KEEPREF, POLICY_DELREF, POLICY_ACKED } from "../core/groups";
import { IdmpState } from "../core/idmp";
import { parseIntArg, argInt, parseIdArg, syntaxError, lookupStream, lookupState, LOOKUP_WRONGTYPE, LOOKUP_MISSING, ERR_NO_SUCH_KEY } from "./common";
import { noGroupForKey } from "./xgroup";
import { parseI64, parsedI64 } from "../util/numbers";

/** Parsed `[KEEPREF | DELREF | ACKED] IDS numids id ...` (and XNACK's modes and options). */
class IdsBlock {
  policy: i32 = POLICY_KEEPREF;
  policyGiven: bool = false;
  ids: Array<StreamID> = new Array<StreamID>();
  mode: i32 = -1;
  retrycount: i64 = -1;
  force: bool = false;
}

const MODE_SILENT: i32 = 0;
const MODE_FAIL: i32 = 1;
const MODE_FATAL: i32 = 2;

/** Returns null after replying an error. `nack` accepts XNACK's words instead of policies. */
function parseIdsBlock(a: Args, from: i32, nack: bool): IdsBlock | null {
  const b = new IdsBlock();
  let sawIds = false;
  for (let i = from; i < a.count; i++) {
    const more = a.count - 1 - i;
    if (!nack && (a.is(i, "keepref") || a.is(i, "delref") || a.is(i, "acked"))) {
      const p = a.is(i, "keepref") ? POLICY_KEEPREF : a.is(i, "delref") ? POLICY_DELREF : POLICY_ACKED;
      if (b.policyGiven) { syntaxError(); return null; }
      b.policy = p; b.policyGiven = true;
    } else if (nack && (a.is(i, "silent") || a.is(i, "fail") || a.is(i, "fatal"))) {
      if (b.mode >= 0) { syntaxError(); return null; }
      b.mode = a.is(i, "silent") ? MODE_SILENT : a.is(i, "fail") ? MODE_FAIL : MODE_FATAL;
    } else if (nack && a.is(i, "retrycount") && more > 0) {
      if (!parseIntArg(a, i + 1)) return null;
      if (argInt < 0) { replyError("ERR RETRYCOUNT must be >= 0"); return null; }
      b.retrycount = argInt;
      i++;
    } else if (nack && a.is(i, "force")) {
      b.force = true;
    } else if (a.is(i, "ids") && !sawIds) {
      if (more < 1 || !parseI64(a.ptr(i + 1), a.len(i + 1)) || parsedI64 <= 0) {
        replyError("ERR Number of IDs must be a positive integer");
        return null;
      }
      const n = parsedI64;
      if (n > <i64>(more - 1)) { replyError("ERR The `numids` parameter must match the number of arguments"); return null; }
      for (let k = 0; k < <i32>n; k++) {
        const id = new StreamID();
        if (!parseIdArg(a, i + 2 + k, id, 0, true)) return null;
        b.ids.push(id);
      }
      i += 1 + <i32>n;
      sawIds = true;
    } else {
      syntaxError();
      return null;
    }
  }
  if (!sawIds || (nack && b.mode < 0)) { syntaxError(); return null; }
  return b;
}

const scratch = new Entry();

/** Deletes one entry as XDEL does (first/max-deleted bookkeeping). */
function deleteEntry(s: Stream, id: StreamID): bool {
  if (!s.deleteId(id.ms, id.seq, scratch)) return false;
  if (cmp(id, s.maxDeletedId) > 0) { s.touchMeta(); s.maxDeletedId.copyFrom(id); }
  if (s.length == 0) s.firstId.set(0, 0);
  else if (cmp(id, s.firstId) == 0) s.edgeId(true, s.firstId);
  return true;
}

/** Applies a deletion policy to one ID: -1 no such entry, 1 deleted, 2 kept because still referenced. */
function deleteWithPolicy(s: Stream, id: StreamID, policy: i32): i64 {
  if (!entryExists(s, id.ms, id.seq)) {
    if (policy == POLICY_DELREF) dropReferences(s, id.ms, id.seq);
    return -1;
  }
  if (policy == POLICY_ACKED && entryReferenced(s, id.ms, id.seq)) return 2;
  deleteEntry(s, id);
  if (policy == POLICY_DELREF) dropReferences(s, id.ms, id.seq);
  return 1;
}

// XDELEX key [KEEPREF | DELREF | ACKED] IDS numids id [id ...]
export function xdelexCommand(c: Client, a: Args): void {
  const b = parseIdsBlock(a, 2, false);
  if (b == null) return;
  const sv = lookupStream(c, a.str(1));
  if (lookupState == LOOKUP_WRONGTYPE) return;
  W.arrayLen(b.ids.length);
  let changed: i64 = 0;
  for (let i = 0; i < b.ids.length; i++) {
    const r = sv == null ? -1 : deleteWithPolicy(sv.stream, b.ids[i], b.policy);
    if (r == 1) changed++;
    W.integer(r);
  }
  if (changed > 0) addDirty(changed);
}

// XACKDEL key group [KEEPREF | DELREF | ACKED] IDS numids id [id ...]
export function xackdelCommand(c: Client, a: Args): void {
  const b = parseIdsBlock(a, 3, false);
  if (b == null) return;
  const sv = lookupStream(c, a.str(1));
  if (lookupState == LOOKUP_WRONGTYPE) return;
  const g: Group | null = sv == null ? null : lookupGroup(sv.stream, a.str(2));
  W.arrayLen(b.ids.length);
  let changed: i64 = 0;
  for (let i = 0; i < b.ids.length; i++) {
    const id = b.ids[i];
    if (g == null || !g.ack(id.ms, id.seq)) { W.integer(-1); continue; }
    changed++;
    const s = sv!.stream;
    if (b.policy == POLICY_ACKED && entryReferenced(s, id.ms, id.seq)) { W.integer(2); continue; }
    if (entryExists(s, id.ms, id.seq)) deleteEntry(s, id);
    if (b.policy == POLICY_DELREF) dropReferences(s, id.ms, id.seq);
    W.integer(1);
  }
  if (changed > 0) addDirty(changed);
}

// XNACK key group <SILENT | FAIL | FATAL> IDS numids id [id ...] [RETRYCOUNT count] [FORCE]
export function xnackCommand(c: Client, a: Args): void {
  const b = parseIdsBlock(a, 3, true);
  if (b == null) return;
  const sv = lookupStream(c, a.str(1));
  if (lookupState == LOOKUP_WRONGTYPE) return;
  const g: Group | null = sv == null ? null : lookupGroup(sv.stream, a.str(2));
  if (g == null) { noGroupForKey(a, 2, 1); return; }
  if (b.force && budgeted() && !(roomForDelivery() && g.roomForRecord(null))) { replyError(OOM_ERROR); return; }
  let released: i64 = 0;
  for (let i = 0; i < b.ids.length; i++) {
    const id = b.ids[i];
    let n = g.pel.find(id.ms, id.seq);
    if (n == null) {
      if (!b.force || !entryExists(sv!.stream, id.ms, id.seq)) continue;
      if (released > 0 && !g.roomForRecord(null)) break;
      n = g.createUnowned(id.ms, id.seq, nowMs);
      n.deliveryCount = 0;
    }
    // Released to the group: no owner, "idle -1"; the next CLAIM / XAUTOCLAIM takes them first.
    g.release(n!);
    if (b.retrycount >= 0) n!.deliveryCount = <u64>b.retrycount;
    else if (b.mode == MODE_SILENT) { if (n!.deliveryCount > 0) n!.deliveryCount--; }
    else if (b.mode == MODE_FATAL) n!.deliveryCount = <u64>0x7fffffffffffffff;
    released++;
  }
  if (released > 0) addDirty(released);
  W.integer(released);
}

// XCFGSET key [IDMP-DURATION duration] [IDMP-MAXSIZE maxsize]
export function xcfgsetCommand(c: Client, a: Args): void {
  let duration: i64 = -1, maxsize: i64 = -1;
  for (let i = 2; i < a.count; i++) {
    const more = a.count - 1 - i;
    if (a.is(i, "idmp-duration") && more > 0) {
      if (!parseIntArg(a, i + 1)) return;
      if (argInt < 1 || argInt > 86400) { replyError("ERR IDMP-DURATION must be between 1 and 86400"); return; }
      duration = argInt; i++;
    } else if (a.is(i, "idmp-maxsize") && more > 0) {
      if (!parseIntArg(a, i + 1)) return;
      if (argInt < 1 || argInt > 10000) { replyError("ERR IDMP-MAXSIZE must be between 1 and 10000"); return; }
      maxsize = argInt; i++;
    } else { syntaxError(); return; }
  }
  const sv = lookupStream(c, a.str(1));
  if (sv == null) { if (lookupState == LOOKUP_MISSING) replyError(ERR_NO_SUCH_KEY); return; }
  const s = sv.stream;
  if (s.idmp == null) s.idmp = new IdmpState();
  s.idmp!.configure(duration > 0 ? duration : s.idmp!.duration, maxsize > 0 ? maxsize : s.idmp!.maxsize);
  addDirty(1);
  W.ok();
}

// XRANGE, XREVRANGE, XLEN, XDEL.
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError } from "../server/dispatch";
import { addDirty } from "../server/state";
import { StreamID, cmp, U64_MAX } from "../core/ids";
import { Entry } from "../core/block";
import { parseIntArg, argInt, parseIdArg, parseIntervalArg, intervalExclusive, syntaxError, lookupStream, lookupState, LOOKUP_WRONGTYPE } from "./common";
import { writeRange } from "./entries";

function rangeGeneric(c: Client, a: Args, rev: bool): void {
  const start = new StreamID();
  const end = new StreamID();
  if (!parseIntervalArg(a, rev ? 3 : 2, start, 0)) return;
  if (intervalExclusive && !start.incr()) { replyError("ERR invalid start ID for the interval"); return; }
  if (!parseIntervalArg(a, rev ? 2 : 3, end, U64_MAX)) return;
  if (intervalExclusive && !end.decr()) { replyError("ERR invalid end ID for the interval"); return; }
  let count: i64 = -1;
  for (let j = 4; j < a.count; j++) {
    if (a.is(j, "count") && a.count - j - 1 >= 1) {
      if (!parseIntArg(a, j + 1)) return;
      count = argInt < 0 ? 0 : argInt;
      j++;
    } else { syntaxError(); return; }
  }
  const sv = lookupStream(c, a.str(1));
  if (sv == null) { if (lookupState != LOOKUP_WRONGTYPE) W.arrayLen(0); return; }
  if (count == 0) { W.nullArray(); return; }
  writeRange(sv.stream, start.ms, start.seq, end.ms, end.seq, count < 0 ? 0 : count, rev);
}

// XRANGE key start end [COUNT count]
export function xrangeCommand(c: Client, a: Args): void { rangeGeneric(c, a, false); }

// XREVRANGE key end start [COUNT count]
export function xrevrangeCommand(c: Client, a: Args): void { rangeGeneric(c, a, true); }

// XLEN key
export function xlenCommand(c: Client, a: Args): void {
  const sv = lookupStream(c, a.str(1));
  if (sv == null) { if (lookupState != LOOKUP_WRONGTYPE) W.integer(0); return; }
  W.integer(<i64>sv.stream.length);
}

const delEntry = new Entry();

// XDEL key id [id ...]
export function xdelCommand(c: Client, a: Args): void {
  const sv = lookupStream(c, a.str(1));
  if (sv == null) { if (lookupState != LOOKUP_WRONGTYPE) W.integer(0); return; }
  const s = sv.stream;
  const ids = new Array<StreamID>(a.count - 2);
  for (let j = 2; j < a.count; j++) {
    const id = new StreamID();
    if (!parseIdArg(a, j, id, 0, true)) return;
    ids[j - 2] = id;
  }
  let deleted: i64 = 0;
  let firstEntry = false;
  for (let j = 0; j < ids.length; j++) {
    const id = ids[j];
    if (s.deleteId(id.ms, id.seq, delEntry)) {
      if (cmp(id, s.firstId) == 0) firstEntry = true;
      deleted++;
      if (cmp(id, s.maxDeletedId) > 0) { s.touchMeta(); s.maxDeletedId.copyFrom(id); }
    }
  }
  if (deleted > 0) {
    if (s.length == 0) s.firstId.set(0, 0);
    else if (firstEntry) s.edgeId(true, s.firstId);
    addDirty(deleted);
  }
  W.integer(deleted);
}

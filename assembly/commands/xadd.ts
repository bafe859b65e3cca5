// XADD and XTRIM, with the trimming arguments they share (streamParseAddOrTrimArgsOrReply).
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError } from "../server/dispatch";
import { config, commandTimeMs, addDirty, nowMs } from "../server/state";
import { IdmpState, contentDigest } from "../core/idmp";
import { signalKey } from "../server/blocking";
import { StreamID, cmpId, U64_MAX } from "../core/ids";
import { Entry } from "../core/block";
import { Stream, TRIM_NONE, TRIM_MAXLEN, TRIM_MINID } from "../core/stream";
import { StreamValue } from "../core/keyspace";
import { POLICY_KEEPREF, POLICY_DELREF, POLICY_ACKED, oldestReferenced, livePendingEntries, dropTrimmedReferences } from "../core/groups";
import * as E from "../server/effects";
import { Block } from "../core/block";
import { parseIntArg, argInt, parseIdArg, parseAddIdArg, idSeqGiven, syntaxError, lookupStream, lookupState, LOOKUP_WRONGTYPE } from "./common";

const TRIM_LIMIT_MAX: i64 = 1000000;

export class TrimArgs {
  reset(): TrimArgs {
    this.strategy = TRIM_NONE; this.approx = false; this.maxlen = 0; this.minid.set(0, 0); this.limit = 0;
    this.idGiven = false; this.seqGiven = true; this.id.set(0, 0); this.noMkStream = false;
    this.policy = POLICY_KEEPREF; this.policyGiven = false;
    this.idmpProducer = -1; this.idmpId = -1; this.idmpAuto = false;
    return this;
  }
  strategy: i32 = TRIM_NONE;
  approx: bool = false;
  maxlen: i64 = 0;
  minid: StreamID = new StreamID();
  limit: i64 = 0;
  idGiven: bool = false;
  seqGiven: bool = true;
  id: StreamID = new StreamID();
  noMkStream: bool = false;
  policy: i32 = POLICY_KEEPREF;
  policyGiven: bool = false;
  // Idempotent production (Redis 8.6): IDMP producer iid / IDMPAUTO producer.
  idmpProducer: i32 = -1;
  idmpId: i32 = -1;
  idmpAuto: bool = false;
}

const scratchEntry = new Entry();

/** Returns the index of the ID argument (XADD) / end of options, or -1 after replying an error. */
function parseTrimArgs(c: Client, a: Args, t: TrimArgs, xadd: bool): i32 {
  let limitGiven = false;
  let i = 2;
  for (; i < a.count; i++) {
    const more = a.count - 1 - i;
    if (xadd && a.isChar(i, 42)) break;
    else if (a.is(i, "maxlen") && more > 0) {
      if (t.strategy != TRIM_NONE) { replyError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible"); return -1; }
      t.approx = false;
      if (more >= 2 && a.isChar(i + 1, 126)) { t.approx = true; i++; }
      else if (more >= 2 && a.isChar(i + 1, 61)) i++;
      if (!parseIntArg(a, i + 1)) return -1;
      t.maxlen = argInt;
      if (t.maxlen < 0) { replyError("ERR The MAXLEN argument must be >= 0."); return -1; }
      i++;
      t.strategy = TRIM_MAXLEN;
    } else if (a.is(i, "minid") && more > 0) {
      if (t.strategy != TRIM_NONE) { replyError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible"); return -1; }
      t.approx = false;
      if (more >= 2 && a.isChar(i + 1, 126)) { t.approx = true; i++; }
      else if (more >= 2 && a.isChar(i + 1, 61)) i++;
      if (!parseIdArg(a, i + 1, t.minid, 0, true)) return -1;
      i++;
      t.strategy = TRIM_MINID;
    } else if (a.is(i, "limit") && more > 0) {
      if (!parseIntArg(a, i + 1)) return -1;
      t.limit = argInt;
      if (t.limit < 0) { replyError("ERR The LIMIT argument must be >= 0."); return -1; }
      limitGiven = true;
      i++;
    } else if (xadd && a.is(i, "nomkstream")) {
      t.noMkStream = true;
    } else if (a.is(i, "keepref") || a.is(i, "delref") || a.is(i, "acked")) {
      const p = a.is(i, "keepref") ? POLICY_KEEPREF : a.is(i, "delref") ? POLICY_DELREF : POLICY_ACKED;
      if (t.policyGiven && t.policy != p) { syntaxError(); return -1; }
      t.policy = p;
      t.policyGiven = true;
    } else if (xadd && a.is(i, "idmp") && more >= 2) {
      if (t.idmpProducer >= 0) { syntaxError(); return -1; }
      t.idmpProducer = i + 1; t.idmpId = i + 2;
      i += 2;
    } else if (xadd && a.is(i, "idmpauto") && more >= 1) {
      if (t.idmpProducer >= 0) { syntaxError(); return -1; }
      t.idmpProducer = i + 1; t.idmpAuto = true;
      i += 1;
    } else if (xadd) {
      if (!parseAddIdArg(a, i, t.id)) return -1;
      t.idGiven = true;
      t.seqGiven = idSeqGiven;
      break;
    } else {
      syntaxError();
      return -1;
    }
  }
  if (t.limit != 0 && t.strategy == TRIM_NONE) {
    replyError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return -1;
  }
  if (!xadd && t.strategy == TRIM_NONE) {
    replyError("ERR syntax error, XTRIM must be called with a trimming strategy");
    return -1;
  }
  if (c.loading) t.limit = 0;
  else if (limitGiven) {
    if (!t.approx) { replyError("ERR syntax error, LIMIT cannot be used without the special ~ option"); return -1; }
  } else if (t.approx) {
    t.limit = 100 * config.streamNodeMaxEntries;
    if (t.limit <= 0 || t.limit > TRIM_LIMIT_MAX) t.limit = t.limit <= 0 ? 10000 : TRIM_LIMIT_MAX;
  } else t.limit = 0;
  return i;
}

export function applyTrim(s: Stream, t: TrimArgs): i64 {
  if (t.policy == POLICY_KEEPREF || s.groups == null) {
    return s.trim(t.strategy, <u64>t.maxlen, t.minid, t.approx, t.limit, scratchEntry);
  }
  if (t.policy == POLICY_ACKED) {
    const cap = new StreamID();
    oldestReferenced(s, cap);
    return s.trim(t.strategy, <u64>t.maxlen, t.minid, t.approx, t.limit, scratchEntry, cap.ms, cap.seq);
  }
  // DELREF: the entries the trim removes lose their PEL references too (dangling ones stay).
  const candidates = livePendingEntries(s);
  const removed = s.trim(t.strategy, <u64>t.maxlen, t.minid, t.approx, t.limit, scratchEntry);
  if (removed > 0) dropTrimmedReferences(s, candidates);
  return removed;
}

// XADD key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field value [field value ...]
// Reused per command: XADD is the hot path and must not allocate.
const trimArgs = new TrimArgs();
const autoId = new StreamID();

export function xaddCommand(c: Client, a: Args): void {
  const t = trimArgs.reset();
  const idpos = parseTrimArgs(c, a, t, true);
  if (idpos < 0) return;
  const fieldPos = idpos + 1;
  const nargs = a.count - fieldPos;
  if (nargs < 2 || (nargs & 1) == 1) { replyError("ERR wrong number of arguments for 'xadd' command"); return; }
  if (t.idGiven && t.seqGiven && t.id.isZero()) { replyError("ERR The ID specified in XADD must be greater than 0-0"); return; }

  const key = a.str(1);
  let sv = lookupStream(c, key);
  if (lookupState == LOOKUP_WRONGTYPE) return;
  let created = false;
  if (sv == null) {
    if (t.noMkStream) { W.nullBulk(); return; }
    sv = new StreamValue();
    created = true;
  }
  const s = sv!.stream;
  let iid = "";
  if (t.idmpProducer >= 0) {
    iid = t.idmpAuto ? contentDigest(a.ptrs, a.lens, fieldPos, a.count) : a.str(t.idmpId);
    if (s.idmp == null) s.idmp = new IdmpState();
    const prior = new StreamID();
    if (s.idmp!.lookup(a.str(t.idmpProducer), iid, nowMs, prior)) {
      if (created) sv!.free();
      W.bulkId(prior.ms, prior.seq);
      return;
    }
  }
  if (s.lastId.isMax()) {
    if (created) sv!.free();
    replyError("ERR The stream has exhausted the last possible ID, unable to add more items");
    return;
  }

  // Generate the new ID (streamAppendItem).
  const last = s.lastId;
  let ms: u64, seq: u64;
  if (t.idGiven) {
    if (t.seqGiven) { ms = t.id.ms; seq = t.id.seq; }
    else if (last.ms == t.id.ms) {
      if (last.seq == U64_MAX) {
        if (created) sv!.free();
        replyError("ERR Elements are too large to be stored");
        return;
      }
      ms = last.ms; seq = last.seq + 1;
    } else { ms = t.id.ms; seq = 0; }
  } else {
    s.nextAutoId(commandTimeMs(), autoId);
    ms = autoId.ms; seq = autoId.seq;
  }
  if (cmpId(ms, seq, last.ms, last.seq) <= 0) {
    if (created) sv!.free();
    replyError("ERR The ID specified in XADD is equal or smaller than the target stream top item");
    return;
  }
  let total: u64 = 0;
  for (let i = fieldPos; i < a.count; i++) total += <u64>a.len(i);
  if (total > (<u64>1 << 30)) {
    if (created) sv!.free();
    replyError("ERR Elements are too large to be stored");
    return;
  }
  if (created) c.db.add(key, sv!);
  s.append(ms, seq, a, fieldPos, nargs >> 1, config.streamNodeMaxEntries, config.streamNodeMaxBytes);
  if (t.idmpProducer >= 0) s.idmp!.record(a.str(t.idmpProducer), iid, ms, seq, nowMs);
  W.bulkId(ms, seq);
  addDirty(1);
  if (t.strategy != TRIM_NONE) applyTrim(s, t);
  signalKey(c.db.id, key);
  // Effect: the concrete ID, and the trim restated exactly so a replay removes the same entries.
  E.markCustom();
  const idmpArgs = t.idmpProducer >= 0 ? 3 : 0;
  E.effect(3 + (t.noMkStream ? 1 : 0) + trimArgCount(t) + idmpArgs + nargs, c.db.id);
  E.argAscii("XADD");
  E.argKey(key);
  if (t.noMkStream) E.argAscii("NOMKSTREAM");
  if (idmpArgs > 0) { E.argAscii("IDMP"); E.arg(a.ptr(t.idmpProducer), a.len(t.idmpProducer)); E.argKey(iid); }
  if (t.strategy != TRIM_NONE) writeExactTrim(s, t);
  E.argId(ms, seq);
  for (let i = fieldPos; i < a.count; i++) E.arg(a.ptr(i), a.len(i));
}

function trimArgCount(t: TrimArgs): i32 {
  return t.strategy == TRIM_NONE ? 0 : t.policy != POLICY_KEEPREF ? 4 : 3;
}

/** `MAXLEN = <length now>` or `MINID = <id>` (streamRewriteTrimArgument), plus a non-default policy. */
function writeExactTrim(s: Stream, t: TrimArgs): void {
  if (t.policy == POLICY_DELREF) E.argAscii("DELREF");
  else if (t.policy == POLICY_ACKED) E.argAscii("ACKED");
  if (t.strategy == TRIM_MAXLEN) {
    E.argAscii("MAXLEN"); E.argAscii("=");
    E.argU64(t.approx ? s.length : <u64>t.maxlen);
  } else {
    E.argAscii("MINID"); E.argAscii("=");
    if (t.approx && s.index.count > 0) { const b = s.index.get(0); E.argId(b.baseMs, b.baseSeq); }
    else E.argId(t.minid.ms, t.minid.seq);
  }
}

// XTRIM key <MAXLEN | MINID> [= | ~] threshold [LIMIT count]
export function xtrimCommand(c: Client, a: Args): void {
  const t = trimArgs.reset();
  if (parseTrimArgs(c, a, t, false) < 0) return;
  const sv = lookupStream(c, a.str(1));
  if (sv == null) { if (lookupState != LOOKUP_WRONGTYPE) W.integer(0); return; }
  const deleted = applyTrim(sv.stream, t);
  if (deleted > 0) {
    addDirty(deleted);
    E.markCustom();
    E.effect(2 + trimArgCount(t), c.db.id);
    E.argAscii("XTRIM");
    E.arg(a.ptr(1), a.len(1));
    writeExactTrim(sv.stream, t);
  }
  W.integer(deleted);
}

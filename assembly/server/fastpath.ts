// Typed fast path: many XADD * entries in one boundary crossing, without RESP on either side.
// It is XADD's rule, not a second one: the same stream layer (nextAutoId, append), the same OOM
// refusal, blocked-reader wake-up, dirty counter and effects (one `XADD key <id> ...` per entry).
//
// ╒═══════════════ rv_xadd_batch scratch layout (little-endian u32 lengths) ═══════════════╕
//   u32 keyLen │ key │ u32 nfields │ nfields × (u32 len │ field name)
//   u32 count  │ count × nfields × (u32 len │ value)
// ╘═════════════════════════════════════════════════════════════════════════════════════════╛
// On success the IDs are written back to scratch as count × (u64 ms, u64 seq).
import { Client } from "./client";
import { Args } from "../resp/args";
import { ByteBuffer } from "../util/buffer";
import { config, commandTimeMs, addDirty } from "./state";
import { outOfMemory } from "./dispatch";
import { roomForWriteOf, collectIfLow } from "../util/heap";
import { signalKey } from "./blocking";
import * as E from "./effects";
import { StreamValue, TYPE_STREAM } from "../core/keyspace";
import { StreamID } from "../core/ids";
import { bytesToKey } from "../resp/args";
import { BatchResult, BATCH_MAX_ROWS, BATCH_MAX_FIELDS } from "../abi";

const entryArgs = new Args();
const ids = new ByteBuffer();
const id = new StreamID();

/** Reads a u32 length at `at`; -1 if it or its bytes would pass `end`. */
@inline function lengthAt(p: usize, at: i32, end: i32): i32 {
  if (at + 4 > end) return -1;
  const n = load<u32>(p + <usize>at);
  return n > <u32>(end - at - 4) ? -1 : <i32>n;
}

export function xaddBatch(c: Client, p: usize, len: i32): i32 {
  if (c.inMulti || c.parked || c.loading) return BatchResult.BUSY;
  let at = 0;
  const keyLen = lengthAt(p, at, len);
  if (keyLen < 0) return BatchResult.MALFORMED;
  const keyPtr = p + <usize>(at + 4);
  at += 4 + keyLen;
  if (at + 4 > len) return BatchResult.MALFORMED;
  const nfields = <i32>load<u32>(p + <usize>at);
  at += 4;
  if (nfields < 1 || nfields > BATCH_MAX_FIELDS) return BatchResult.MALFORMED;
  const fieldsAt = at;
  for (let f = 0; f < nfields; f++) {
    const n = lengthAt(p, at, len);
    if (n < 0) return BatchResult.MALFORMED;
    at += 4 + n;
  }
  if (at + 4 > len) return BatchResult.MALFORMED;
  const count = <i32>load<u32>(p + <usize>at);
  at += 4;
  if (count < 0 || count > BATCH_MAX_ROWS) return BatchResult.MALFORMED;
  const valuesAt = at;
  // Validate every length before anything is written: a malformed batch changes nothing.
  let largestRow: i64 = 0;
  for (let i = 0; i < count; i++) {
    const rowAt = at;
    for (let f = 0; f < nfields; f++) {
      const n = lengthAt(p, at, len);
      if (n < 0) return BatchResult.MALFORMED;
      at += 4 + n;
    }
    const row = <i64>(at - rowAt);
    if (row > largestRow) largestRow = row;
  }
  if (count == 0) return 0;
  const key = bytesToKey(keyPtr, keyLen);
  const v = c.db.lookup(key);
  if (v != null && v.type != TYPE_STREAM) return BatchResult.WRONGTYPE;
  collectIfLow();
  if (config.maxmemory > 0 && outOfMemory()) return BatchResult.OOM;
  if (config.pageBudget > 0) {
    // All or nothing: an upper bound of what the batch allocates must fit (util/heap.ts). Entries: the
    // values with their lengths, flags and ID per row, field names per row only while the tail block's
    // master fields differ (≤ 100 rows), a block header and master list per 2 KiB or 50 rows. With
    // effects on, one XADD per row: framing, key, ID, names and values. Then the IDs written back.
    const names = <i64>(valuesAt - 4 - fieldsAt);
    const values = <i64>(at - valuesAt);
    const rows = <i64>count;
    const blocks = 1 + (values + rows * 24) / 2048 + rows / 50;
    let total = values + rows * 24 + names * min<i64>(rows, 100) + blocks * (96 + names) + 8192;
    const piece = 2 * (largestRow + names) + 8192;
    // Replaying those effects (MULTI … EXEC) queues them: as much again, so that an engine can always
    // load the AOF it wrote.
    if (E.effectsEnabled()) total += 2 * (values + rows * (64 + <i64>keyLen + names + <i64>nfields * 4));
    if (ids.cap < count * 16) total += rows * 32;
    if (!roomForWriteOf(total, piece)) return BatchResult.OOM;
  }
  let sv: StreamValue;
  if (v == null) { sv = new StreamValue(); c.db.add(key, sv); } else sv = changetype<StreamValue>(v);
  const s = sv.stream;
  const now = commandTimeMs();
  ids.clear();
  at = valuesAt;
  let added = 0;
  E.beginUnit();
  // Field names are the same for every row: set them once, then only the value slots change.
  entryArgs.reset();
  let fa = fieldsAt;
  for (let f = 0; f < nfields; f++) {
    const fn = <i32>load<u32>(p + <usize>fa);
    entryArgs.push(p + <usize>(fa + 4), fn);
    entryArgs.push(0, 0);
    fa += 4 + fn;
  }
  for (let i = 0; i < count; i++) {
    if (!s.nextAutoId(now, id)) break;
    for (let f = 0; f < nfields; f++) {
      const vn = <i32>load<u32>(p + <usize>at);
      entryArgs.set(2 * f + 1, p + <usize>(at + 4), vn);
      at += 4 + vn;
    }
    s.append(id.ms, id.seq, entryArgs, 0, nfields, config.streamNodeMaxEntries, config.streamNodeMaxBytes);
    if (E.effectsEnabled()) {
      E.effect(3 + 2 * nfields, c.db.id);
      E.argAscii("XADD"); E.argKey(key); E.argId(id.ms, id.seq);
      for (let k = 0; k < entryArgs.count; k++) E.arg(entryArgs.ptr(k), entryArgs.len(k));
    }
    ids.reserve(16);
    store<u64>(ids.ptr + <usize>ids.len, id.ms);
    store<u64>(ids.ptr + <usize>ids.len + 8, id.seq);
    ids.len += 16;
    added++;
  }
  E.endUnit();
  if (added == 0) return BatchResult.EXHAUSTED;
  addDirty(added);
  signalKey(c.db.id, key);
  memory.copy(p, ids.ptr, <usize>ids.len);
  return added;
}

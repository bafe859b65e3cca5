// Generic keyspace commands: DEL UNLINK EXISTS TYPE KEYS SCAN DBSIZE FLUSHDB FLUSHALL RENAME SELECT,
// and the plain string type (SET/GET) that exists so WRONGTYPE behaves as in Redis.
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError } from "../server/dispatch";
import { dbs, addDirty } from "../server/state";
import { signalKey } from "../server/blocking";
import { Db, Value, StringValue, TYPE_STRING, TYPE_STREAM, DB_COUNT } from "../core/keyspace";
import { parseIntArg, argInt, syntaxError, wrongType, ERR_NO_SUCH_KEY } from "./common";
import { globMatch, isMatchAll } from "../util/glob";
import { parsedU64, parseCursor } from "../util/numbers";

export function typeName(v: Value | null): string {
  if (v == null) return "none";
  if (v.type == TYPE_STREAM) return "stream";
  return "string";
}

/** Deletes a key and wakes clients blocked on it (signalDeletedKeyAsReady). */
export function deleteKey(db: Db, key: string): bool {
  if (!db.remove(key)) return false;
  signalKey(db.id, key);
  return true;
}

function delGeneric(c: Client, a: Args): void {
  let n: i64 = 0;
  for (let i = 1; i < a.count; i++) if (deleteKey(c.db, a.str(i))) n++;
  if (n > 0) addDirty(n);
  W.integer(n);
}

// DEL key [key ...]
export function delCommand(c: Client, a: Args): void { delGeneric(c, a); }
// UNLINK key [key ...]
export function unlinkCommand(c: Client, a: Args): void { delGeneric(c, a); }

// EXISTS key [key ...]
export function existsCommand(c: Client, a: Args): void {
  let n: i64 = 0;
  for (let i = 1; i < a.count; i++) if (c.db.lookup(a.str(i)) != null) n++;
  W.integer(n);
}

// TYPE key
export function typeCommand(c: Client, a: Args): void { W.simple(typeName(c.db.lookup(a.str(1)))); }

// KEYS pattern
export function keysCommand(c: Client, a: Args): void {
  const keys = c.db.map.keys();
  const at = W.deferLen();
  let n = 0;
  const all = isMatchAll(a.ptr(1), a.len(1));
  for (let i = 0; i < keys.length; i++) {
    if (all || globMatch(a.ptr(1), a.len(1), keys[i])) { W.bulkKey(keys[i]); n++; }
  }
  W.setDeferredArray(at, n);
}

/** Stable per-key hash: SCAN walks keys in hash order so a cursor survives inserts and deletes. */
function keyHash(k: string): u32 {
  let h: u32 = 2166136261;
  const p = changetype<usize>(k);
  for (let i = 0; i < k.length; i++) { h ^= <u32>load<u16>(p + (<usize>i << 1)); h *= 16777619; }
  return h & 0x7fffffff;
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
export function scanCommand(c: Client, a: Args): void {
  if (!parseCursor(a.ptr(1), a.len(1))) { replyError("ERR invalid cursor"); return; }
  const cursor = parsedU64;
  let count: i64 = 10;
  let matchAt = -1;
  let typeAt = -1;
  for (let i = 2; i < a.count; i += 2) {
    const more = a.count - i - 1;
    if (a.is(i, "count") && more >= 1) {
      if (!parseIntArg(a, i + 1)) return;
      count = argInt;
      if (count < 1) { syntaxError(); return; }
    } else if (a.is(i, "match") && more >= 1) {
      matchAt = isMatchAll(a.ptr(i + 1), a.len(i + 1)) ? -1 : i + 1; // a lone * lists the empty key too
    } else if (a.is(i, "type") && more >= 1) typeAt = i + 1;
    else { syntaxError(); return; }
  }
  // Candidates with hash ≥ cursor, in hash order; stop after `count` but never split equal hashes.
  const keys = c.db.map.keys();
  const hashes = new Array<u64>();
  for (let i = 0; i < keys.length; i++) {
    const h = <u64>keyHash(keys[i]);
    if (h >= cursor) hashes.push((h << 32) | <u64>i);
  }
  hashes.sort((x: u64, y: u64): i32 => (x < y ? -1 : x > y ? 1 : 0));
  let next: u64 = 0;
  let taken: i64 = 0;
  let end = hashes.length;
  for (let j = 0; j < hashes.length; j++) {
    if (taken >= count && (hashes[j] >> 32) != (hashes[j - 1] >> 32)) { end = j; next = hashes[j] >> 32; break; }
    taken++;
  }
  W.arrayLen(2);
  W.bulkI64(<i64>next);
  const at = W.deferLen();
  let n = 0;
  for (let j = 0; j < end; j++) {
    const k = keys[<i32>(hashes[j] & 0xffffffff)];
    if (matchAt >= 0 && !globMatch(a.ptr(matchAt), a.len(matchAt), k)) continue;
    if (typeAt >= 0) {
      const tn = typeName(c.db.lookup(k));
      if (!a.is(typeAt, tn)) continue;
    }
    W.bulkKey(k);
    n++;
  }
  W.setDeferredArray(at, n);
}

// DBSIZE
export function dbsizeCommand(c: Client, a: Args): void { W.integer(c.db.size); }

function flushArgsOk(a: Args): bool {
  if (a.count == 1) return true;
  if (a.count == 2 && (a.is(1, "async") || a.is(1, "sync"))) return true;
  syntaxError();
  return false;
}

export function flushDb(db: Db): void {
  const keys = db.map.keys();
  for (let i = 0; i < keys.length; i++) signalKey(db.id, keys[i]);
  addDirty(db.size);
  db.clear();
}

// FLUSHDB [ASYNC | SYNC]
export function flushdbCommand(c: Client, a: Args): void {
  if (!flushArgsOk(a)) return;
  flushDb(c.db);
  W.ok();
}

// FLUSHALL [ASYNC | SYNC]
export function flushallCommand(c: Client, a: Args): void {
  if (!flushArgsOk(a)) return;
  for (let i = 0; i < DB_COUNT; i++) flushDb(dbs[i]);
  W.ok();
}

// RENAME key newkey
export function renameCommand(c: Client, a: Args): void {
  const src = a.str(1);
  const dst = a.str(2);
  const v = c.db.lookup(src);
  if (v == null) { replyError(ERR_NO_SUCH_KEY); return; }
  if (src == dst) { W.ok(); return; }
  const moved = c.db.detach(src)!;
  if (c.db.lookup(dst) != null) c.db.remove(dst);
  c.db.add(dst, moved);
  signalKey(c.db.id, src);
  signalKey(c.db.id, dst);
  addDirty(1);
  W.ok();
}

// SELECT index
export function selectCommand(c: Client, a: Args): void {
  if (!parseIntArg(a, 1)) return;
  if (argInt < 0 || argInt >= DB_COUNT) { replyError("ERR DB index is out of range"); return; }
  c.db = dbs[<i32>argInt];
  W.ok();
}

// SET key value [NX | XX] [GET]
export function setCommand(c: Client, a: Args): void {
  let nx = false, xx = false, get = false;
  for (let i = 3; i < a.count; i++) {
    if (a.is(i, "nx") && !xx) nx = true;
    else if (a.is(i, "xx") && !nx) xx = true;
    else if (a.is(i, "get")) get = true;
    else { syntaxError(); return; }
  }
  const key = a.str(1);
  const old = c.db.lookup(key);
  if (get && old != null && old.type != TYPE_STRING) { wrongType(); return; }
  if ((nx && old != null) || (xx && old == null)) {
    if (get) writeString(old); else W.nullBulk();
    return;
  }
  if (get) writeString(old);
  const wasStream = old != null && old.type == TYPE_STREAM;
  c.db.overwrite(key, new StringValue(a.ptr(2), a.len(2)));
  if (wasStream) signalKey(c.db.id, key);
  addDirty(1);
  if (!get) W.ok();
}

function writeString(v: Value | null): void {
  if (v == null) { W.nullBulk(); return; }
  const sv = changetype<StringValue>(v);
  W.bulk(changetype<usize>(sv.data), sv.data.length);
}

// GET key
export function getCommand(c: Client, a: Args): void {
  const v = c.db.lookup(a.str(1));
  if (v != null && v.type != TYPE_STRING) { wrongType(); return; }
  writeString(v);
}

// FUNCTION and FCALL as a Redis 7.0.15 with no library loaded answers them (functions.c). Rivulet runs
// no script engine, so a library can never be created: FUNCTION LOAD / RESTORE check what Redis checks
// before compiling (arguments, payload checksum, library metadata) and then find no engine for it.
// Test harnesses and clients send FUNCTION FLUSH / LIST on connect; those behave exactly as in Redis.
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError, noteError, replyLimit } from "../server/dispatch";
import { addDirty } from "../server/state";
import { ByteBuffer } from "../util/buffer";
import { splitArgs } from "../resp/parser";
import { subcommandSyntaxError } from "./common";

/** RDB_VERSION of Redis 7.0: the version a FUNCTION DUMP payload carries. */
const RDB_VERSION: u16 = 10;
const RDB_OPCODE_FUNCTION2: i32 = 245;
const RDB_OPCODE_FUNCTION_PRE_GA: i32 = 246;

/** crc64 as Redis's crc64.c computes it (Jones polynomial, reflected, initial value 0). */
function crc64(p: usize, n: i32): u64 {
  let crc: u64 = 0;
  for (let i = 0; i < n; i++) {
    crc ^= <u64>load<u8>(p + <usize>i);
    for (let k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x95ac9329ac4bc9b5 : crc >> 1;
  }
  return crc;
}

/** %s of a C string: the bytes before the first NUL. */
function cLen(p: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) if (load<u8>(p + <usize>i) == 0) return i;
  return n;
}

function errorWithArg(prefix: string, a: Args, i: i32): void {
  W.errorBegin(); W.errorText(prefix); W.errorBytes(a.ptr(i), cLen(a.ptr(i), a.len(i))); W.errorEnd();
  noteError("ERR");
}

// FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]
export function functionListCommand(c: Client, a: Args): void {
  let withCode = false, libraryName = false;
  for (let i = 2; i < a.count; i++) {
    if (!withCode && a.is(i, "withcode")) { withCode = true; continue; }
    if (!libraryName && a.is(i, "libraryname")) {
      if (i >= a.count - 1) { replyError("ERR library name argument was not given"); return; }
      libraryName = true;
      i++;
      continue;
    }
    errorWithArg("ERR Unknown argument ", a, i);
    return;
  }
  W.arrayLen(0);
}

// FUNCTION FLUSH [ASYNC | SYNC]
export function functionFlushCommand(c: Client, a: Args): void {
  if (a.count > 3) { subcommandSyntaxError(a, "FUNCTION"); return; }
  if (a.count == 3 && !a.is(2, "sync") && !a.is(2, "async")) {
    replyError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    return;
  }
  // Redis counts a flush as a change (and propagates it) even with nothing to flush.
  addDirty(1);
  W.ok();
}

// FUNCTION STATS
export function functionStatsCommand(c: Client, a: Args): void {
  W.mapLen(2);
  W.bulkAscii("running_script");
  W.nullBulk();
  W.bulkAscii("engines");
  W.mapLen(1);
  W.bulkAscii("LUA");
  W.mapLen(2);
  W.bulkAscii("libraries_count"); W.integer(0);
  W.bulkAscii("functions_count"); W.integer(0);
}

// FUNCTION DUMP
export function functionDumpCommand(c: Client, a: Args): void {
  // No library: just the footer, the RDB version (little-endian) and the crc64 of everything before.
  const p = heap.alloc(10);
  store<u16>(p, RDB_VERSION);
  store<u64>(p + 2, crc64(p, 2));
  W.bulk(p, 10);
  heap.free(p);
}

// FUNCTION DELETE library-name
export function functionDeleteCommand(c: Client, a: Args): void { replyError("ERR Library not found"); }

// FUNCTION KILL
export function functionKillCommand(c: Client, a: Args): void { replyError("NOTBUSY No scripts in execution right now."); }

// FUNCTION LOAD [REPLACE] function-code
export function functionLoadCommand(c: Client, a: Args): void {
  for (let i = 2; i < a.count - 1; i++) {
    if (a.is(i, "replace")) continue;
    errorWithArg("ERR Unknown option given: ", a, i);
    return;
  }
  const code = a.count - 1;
  const err = createLibrary(a.ptr(code), a.len(code));
  W.errorBegin(); W.errorText("ERR "); W.errorText(err); W.errorEnd();
  noteError("ERR");
}

// FUNCTION RESTORE serialized-value [FLUSH | APPEND | REPLACE]
export function functionRestoreCommand(c: Client, a: Args): void {
  if (a.count > 4) { subcommandSyntaxError(a, "FUNCTION"); return; }
  if (a.count == 4 && !a.is(3, "flush") && !a.is(3, "append") && !a.is(3, "replace")) {
    replyError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
    return;
  }
  const p = a.ptr(2), n = a.len(2);
  if (!verifyDumpPayload(p, n)) { replyError("ERR DUMP payload version or checksum are wrong"); return; }
  // The libraries: RDB_OPCODE_FUNCTION2 records up to the 10-byte footer.
  let at = 0;
  while (n - at > 10) {
    const type = <i32>load<u8>(p + <usize>at);
    at++;
    if (type == RDB_OPCODE_FUNCTION_PRE_GA) { replyError("ERR Pre-GA function format not supported"); return; }
    if (type != RDB_OPCODE_FUNCTION2) { replyError("ERR given type is not a function"); return; }
    const lib = new ByteBuffer();
    lib.limit = replyLimit(); // a payload cannot make the engine decompress without bound
    at = loadRdbString(p, at, n - 10, lib);
    const err = at < 0 ? "failed loading the given functions payload" : createLibrary(lib.ptr, lib.len);
    lib.free();
    W.errorBegin(); W.errorText("ERR "); W.errorText(err); W.errorEnd();
    noteError("ERR");
    return;
  }
  addDirty(1);
  W.ok();
}

// FUNCTION HELP
export function functionHelpCommand(c: Client, a: Args): void {
  const lines: string[] = [
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
  ];
  W.helpLines(lines);
}

// FCALL function numkeys [key [key ...]] [arg [arg ...]]
// FCALL_RO function numkeys [key [key ...]] [arg [arg ...]]
export function fcallCommand(c: Client, a: Args): void { replyError("ERR Function not found"); }

/** verifyDumpPayload: a version Redis 7.0 reads and a matching crc64 in the 10-byte footer. */
function verifyDumpPayload(p: usize, n: i32): bool {
  if (n < 10) return false;
  const footer = p + <usize>(n - 10);
  if (load<u16>(footer) > RDB_VERSION) return false;
  return load<u64>(footer + 2) == crc64(p, n - 8);
}

/**
 * functionsCreateWithLibraryCtx up to the engine lookup: the "#!<engine> name=<name>" metadata line,
 * checked as Redis checks it; returns the error (there is never an engine to compile with).
 */
function createLibrary(p: usize, n: i32): string {
  // The code is a C string to Redis: metadata ends at the first newline before any NUL.
  const len = cLen(p, n);
  if (len < 2 || load<u8>(p) != 35 || load<u8>(p + 1) != 33) return "Missing library metadata";
  let nl = -1;
  for (let i = 0; i < len; i++) if (load<u8>(p + <usize>i) == 10) { nl = i; break; }
  if (nl < 0) return "Invalid library metadata";
  const arena = new ByteBuffer();
  const offs = new Array<i32>();
  const split = splitArgs(p, 0, nl, arena, offs);
  const err = split && offs.length > 0 ? checkMetadata(arena, offs) : "Invalid library metadata";
  arena.free();
  return err;
}

function checkMetadata(arena: ByteBuffer, offs: Array<i32>): string {
  let name: usize = 0, nameLen = -1;
  for (let k = 2; k < offs.length; k += 2) {
    const part = arena.ptr + <usize>offs[k], plen = offs[k + 1];
    if (plen >= 5 && hasPrefixNoCase(part, "name=")) {
      if (nameLen >= 0) return "Invalid metadata value, name argument was given multiple times";
      name = part + 5;
      nameLen = plen - 5;
      continue;
    }
    return "Invalid metadata value given: " + latin1(part, cLen(part, plen));
  }
  if (nameLen < 0) return "Library name was not given";
  if (!validName(name, nameLen)) return "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";
  // parts[0] is "#!<engine>"
  return "Engine '" + latin1(arena.ptr + <usize>(offs[0] + 2), offs[1] - 2) + "' not found";
}

function hasPrefixNoCase(p: usize, prefix: string): bool {
  for (let i = 0; i < prefix.length; i++) if ((load<u8>(p + <usize>i) | 32) != <u8>prefix.charCodeAt(i)) return false;
  return true;
}

/** functionsVerifyName: letters, digits and underscores, at least one. */
function validName(p: usize, n: i32): bool {
  if (n == 0) return false;
  for (let i = 0; i < n; i++) {
    const ch = load<u8>(p + <usize>i);
    const ok = (ch >= 97 && ch <= 122) || (ch >= 65 && ch <= 90) || (ch >= 48 && ch <= 57) || ch == 95;
    if (!ok) return false;
  }
  return true;
}

function latin1(p: usize, n: i32): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(load<u8>(p + <usize>i));
  return s;
}

/**
 * rdbGenericLoadStringObject over [at, end): a length-prefixed, integer-encoded or LZF-compressed RDB
 * string, appended to `out`. Returns the offset after it, or -1 when it is malformed.
 */
function loadRdbString(p: usize, at: i32, end: i32, out: ByteBuffer): i32 {
  if (at >= end) return -1;
  const first = <i32>load<u8>(p + <usize>at);
  const kind = first >> 6;
  if (kind == 3) {
    const enc = first & 0x3f;
    at++;
    if (enc <= 2) {
      const bytes = 1 << enc;
      if (at + bytes > end) return -1;
      let v: i64 = 0;
      if (enc == 0) v = <i64>load<i8>(p + <usize>at);
      else if (enc == 1) v = <i64>load<i16>(p + <usize>at);
      else v = <i64>load<i32>(p + <usize>at);
      out.appendAscii(v.toString());
      return at + bytes;
    }
    if (enc != 3) return -1;
    // RDB_ENC_LZF: compressed length, uncompressed length, data
    const clen = loadRdbLen(p, at, end);
    if (clen < 0) return -1;
    at = lenEnd;
    const ulen = loadRdbLen(p, at, end);
    if (ulen < 0) return -1;
    at = lenEnd;
    if (at + clen > end) return -1;
    if (!lzfDecompress(p + <usize>at, <i32>clen, out, <i32>ulen)) return -1;
    return at + <i32>clen;
  }
  const len = loadRdbLen(p, at, end);
  if (len < 0 || lenEnd + len > end) return -1;
  out.appendBytes(p + <usize>lenEnd, <i32>len);
  return lenEnd + <i32>len;
}

let lenEnd: i32 = 0;
/** rdbLoadLen: 6-bit, 14-bit, 32-bit or 64-bit big-endian lengths; sets lenEnd; -1 when malformed. */
function loadRdbLen(p: usize, at: i32, end: i32): i64 {
  if (at >= end) return -1;
  const first = <i32>load<u8>(p + <usize>at);
  const kind = first >> 6;
  if (kind == 0) { lenEnd = at + 1; return <i64>(first & 0x3f); }
  if (kind == 1) {
    if (at + 2 > end) return -1;
    lenEnd = at + 2;
    return <i64>(((first & 0x3f) << 8) | <i32>load<u8>(p + <usize>(at + 1)));
  }
  if (first == 0x80 || first == 0x81) {
    const bytes = first == 0x80 ? 4 : 8;
    if (at + 1 + bytes > end) return -1;
    let v: i64 = 0;
    for (let i = 0; i < bytes; i++) v = (v << 8) | <i64>load<u8>(p + <usize>(at + 1 + i));
    lenEnd = at + 1 + bytes;
    return v < 0 || v > 0x7fffffff ? -1 : v;
  }
  return -1;
}

/** lzf_decompress into `out`; false unless it yields exactly `ulen` bytes. */
function lzfDecompress(p: usize, n: i32, out: ByteBuffer, ulen: i32): bool {
  const base = out.len;
  let i = 0;
  while (i < n) {
    const ctrl = <i32>load<u8>(p + <usize>i);
    i++;
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (i + run > n || out.len - base + run > ulen) return false;
      out.appendBytes(p + <usize>i, run);
      i += run;
      continue;
    }
    let len = ctrl >> 5;
    if (len == 7) {
      if (i >= n) return false;
      len += <i32>load<u8>(p + <usize>i);
      i++;
    }
    if (i >= n) return false;
    const back = ((ctrl & 0x1f) << 8) + <i32>load<u8>(p + <usize>i) + 1;
    i++;
    const from = out.len - back;
    len += 2;
    if (from < base || out.len - base + len > ulen) return false;
    // Byte by byte: the copy may overlap what it writes.
    for (let k = 0; k < len; k++) out.appendByte(out.byteAt(from + k));
  }
  return out.len - base == ulen && !out.overflowed;
}

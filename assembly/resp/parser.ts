// Request parser: RESP multibulk and inline commands, with Redis 7.0's limits and exact protocol errors.
// Stateless: each call parses one whole command from the read cursor, or reports that more bytes are needed.
import { ByteBuffer } from "../util/buffer";
import { Args } from "./args";
import { parseI64, parsedI64 } from "../util/numbers";

export const PARSE_NEED_MORE: i32 = 0;
export const PARSE_OK: i32 = 1;
/** A protocol error: the message is in `protocolError`; the connection must close after the reply. */
export const PARSE_ERROR: i32 = -1;
/** An empty command (`*0`, `*-1`, blank inline line): consumed, nothing to run. */
export const PARSE_EMPTY: i32 = 2;

const INLINE_MAX: i32 = 64 * 1024;
export let protoMaxBulkLen: i64 = 512 * 1024 * 1024;
export function setProtoMaxBulkLen(v: i64): void { protoMaxBulkLen = v; }

export let protocolError: string = "";

function findByte(buf: ByteBuffer, from: i32, c: u8): i32 {
  const p = buf.ptr;
  for (let i = from; i < buf.len; i++) if (load<u8>(p + <usize>i) == c) return i;
  return -1;
}

/**
 * Parses the command at buf.pos into args. On PARSE_OK / PARSE_EMPTY the cursor moves past it.
 * `inlineArena` holds unescaped inline arguments.
 */
export function parseCommand(buf: ByteBuffer, args: Args, inlineArena: ByteBuffer): i32 {
  args.reset();
  if (buf.pos >= buf.len) return PARSE_NEED_MORE;
  if (buf.byteAt(buf.pos) == 42) return parseMultibulk(buf, args);
  return parseInline(buf, args, inlineArena);
}

function parseMultibulk(buf: ByteBuffer, args: Args): i32 {
  let pos = buf.pos;
  let nl = findByte(buf, pos, 13);
  if (nl < 0) {
    if (buf.len - pos > INLINE_MAX) { protocolError = "Protocol error: too big mbulk count string"; return PARSE_ERROR; }
    return PARSE_NEED_MORE;
  }
  if (nl + 1 >= buf.len) return PARSE_NEED_MORE;
  const ok = parseI64(buf.ptr + <usize>(pos + 1), nl - pos - 1);
  if (!ok || parsedI64 > 0x7fffffff) { protocolError = "Protocol error: invalid multibulk length"; return PARSE_ERROR; }
  const count = parsedI64;
  pos = nl + 2;
  if (count <= 0) { buf.pos = pos; return PARSE_EMPTY; }
  for (let i: i64 = 0; i < count; i++) {
    if (pos >= buf.len) return PARSE_NEED_MORE;
    nl = findByte(buf, pos, 13);
    if (nl < 0) {
      if (buf.len - pos > INLINE_MAX) { protocolError = "Protocol error: too big bulk count string"; return PARSE_ERROR; }
      return PARSE_NEED_MORE;
    }
    if (nl + 1 >= buf.len) return PARSE_NEED_MORE;
    const c = buf.byteAt(pos);
    if (c != 36) {
      protocolError = "Protocol error: expected '$', got '" + String.fromCharCode(c) + "'";
      return PARSE_ERROR;
    }
    const okb = parseI64(buf.ptr + <usize>(pos + 1), nl - pos - 1);
    if (!okb || parsedI64 < 0 || parsedI64 > protoMaxBulkLen) { protocolError = "Protocol error: invalid bulk length"; return PARSE_ERROR; }
    const n = <i32>parsedI64;
    pos = nl + 2;
    if (<i64>buf.len - <i64>pos < <i64>n + 2) return PARSE_NEED_MORE;
    args.push(buf.ptr + <usize>pos, n);
    pos += n + 2;
  }
  buf.pos = pos;
  return PARSE_OK;
}

@inline function isHex(c: u8): bool { return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70); }
@inline function hexVal(c: u8): u8 { return c <= 57 ? c - 48 : (c | 32) - 87; }
@inline function isSpaceChar(c: u8): bool { return c == 32 || c == 10 || c == 13 || c == 9 || c == 11 || c == 12 || c == 0; }

function parseInline(buf: ByteBuffer, args: Args, arena: ByteBuffer): i32 {
  const start = buf.pos;
  let nl = findByte(buf, start, 10);
  if (nl < 0) {
    if (buf.len - start > INLINE_MAX) { protocolError = "Protocol error: too big inline request"; return PARSE_ERROR; }
    return PARSE_NEED_MORE;
  }
  let end = nl;
  if (end != start && buf.byteAt(end - 1) == 13) end--;
  // sdssplitargs: split into arena first, then point args into it (the arena may move while growing).
  arena.clear();
  const offs = new Array<i32>();
  if (!splitArgs(buf.ptr, start, end, arena, offs)) { protocolError = "Protocol error: unbalanced quotes in request"; return PARSE_ERROR; }
  buf.pos = nl + 1;
  if (offs.length == 0) return PARSE_EMPTY;
  for (let k = 0; k < offs.length; k += 2) args.push(arena.ptr + <usize>offs[k], offs[k + 1]);
  return PARSE_OK;
}

/**
 * sdssplitargs over the bytes [start, end) at p: each argument unescaped into `arena`, its (offset,
 * length) pair appended to `offs`. False on unbalanced quotes, or a closing quote not followed by a
 * space (the input is then unusable).
 */
export function splitArgs(p: usize, start: i32, end: i32, arena: ByteBuffer, offs: Array<i32>): bool {
  let i = start;
  while (true) {
    while (i < end && isSpaceChar(load<u8>(p + <usize>i))) i++;
    if (i >= end) break;
    const argStart = arena.len;
    let inq = false, insq = false, done = false;
    while (!done) {
      if (inq) {
        if (i >= end) return false;
        const c = load<u8>(p + <usize>i);
        if (c == 92 && i + 3 < end && load<u8>(p + <usize>(i + 1)) == 120 && isHex(load<u8>(p + <usize>(i + 2))) && isHex(load<u8>(p + <usize>(i + 3)))) {
          arena.appendByte((hexVal(load<u8>(p + <usize>(i + 2))) << 4) | hexVal(load<u8>(p + <usize>(i + 3))));
          i += 3;
        } else if (c == 92 && i + 1 < end) {
          i++;
          const e = load<u8>(p + <usize>i);
          arena.appendByte(e == 110 ? 10 : e == 114 ? 13 : e == 116 ? 9 : e == 98 ? 8 : e == 97 ? 7 : e);
        } else if (c == 34) {
          if (i + 1 < end && !isSpaceChar(load<u8>(p + <usize>(i + 1)))) return false;
          done = true;
        } else arena.appendByte(c);
      } else if (insq) {
        if (i >= end) return false;
        const c = load<u8>(p + <usize>i);
        if (c == 92 && i + 1 < end && load<u8>(p + <usize>(i + 1)) == 39) { i++; arena.appendByte(39); }
        else if (c == 39) {
          if (i + 1 < end && !isSpaceChar(load<u8>(p + <usize>(i + 1)))) return false;
          done = true;
        } else arena.appendByte(c);
      } else {
        if (i >= end) { done = true; break; }
        const c = load<u8>(p + <usize>i);
        if (isSpaceChar(c)) done = true;
        else if (c == 34) inq = true;
        else if (c == 39) insq = true;
        else arena.appendByte(c);
      }
      if (i < end) i++;
    }
    offs.push(argStart);
    offs.push(arena.len - argStart);
  }
  return true;
}

// Reply writer: RESP2 / RESP3 framing into the current client's output buffer.
// The command layer selects the target once per command (setTarget); writers below append to it.
import { ByteBuffer, writeU64 } from "../util/buffer";
import { appendIdText, idTextLength } from "../core/ids";

let out: ByteBuffer = new ByteBuffer();
let proto: i32 = 2;

export function setTarget(buf: ByteBuffer, protocol: i32): void { out = buf; proto = protocol; }
export function target(): ByteBuffer { return out; }
@inline export function resp3(): bool { return proto == 3; }

@inline function crlf(): void { out.appendByte(13); out.appendByte(10); }

// Hot-path framing: one capacity check, then direct stores (replies of ranges are mostly headers).
@inline function putHeader(d: usize, type: u8, n: i64): usize {
  store<u8>(d++, type);
  if (n < 0) { store<u8>(d++, 45); n = -n; }
  d += <usize>writeU64(d, <u64>n);
  store<u16>(d, 0x0A0D);
  return d + 2;
}

@inline function header(type: u8, n: i64): void {
  if (!out.reserve(24)) return;
  out.len = <i32>(putHeader(out.ptr + <usize>out.len, type, n) - out.ptr);
}

export function simple(s: string): void {
  const n = s.length;
  if (!out.reserve(n + 3)) return;
  let d = out.ptr + <usize>out.len;
  store<u8>(d++, 43);
  const src = changetype<usize>(s);
  for (let i = 0; i < n; i++) store<u8>(d + <usize>i, <u8>load<u16>(src + (<usize>i << 1)));
  d += <usize>n;
  store<u16>(d, 0x0A0D);
  out.len += n + 3;
}
export function ok(): void { simple("OK"); }

// Error replies written to one watched buffer are counted, and where the first began is kept: a
// loading connection's replies are dropped unread, its errors are reported (server/loading.ts).
let watched: ByteBuffer | null = null;
export let watchedErrors: i32 = 0;
/** Offset in the watched buffer of the first error's '-', or -1. */
export let firstWatchedError: i32 = -1;
export function watchErrors(buf: ByteBuffer | null): void { watched = buf; watchedErrors = 0; firstWatchedError = -1; }
@inline function errorStarts(): void {
  if (out === watched && watchedErrors++ == 0) firstWatchedError = out.len;
}

/** An error line; `msg` must include the code ("ERR ...", "WRONGTYPE ..."). */
export function error(msg: string): void { errorStarts(); out.appendByte(45); out.appendAscii(msg); crlf(); }

/** Errors carrying user bytes are built in pieces; newlines in user bytes become spaces (as Redis does). */
export function errorBegin(): void { errorStarts(); out.appendByte(45); }
export function errorText(s: string): void { out.appendAscii(s); }
export function errorBytes(p: usize, n: i32, maxLen: i32 = 0x7fffffff): void {
  const m = n < maxLen ? n : maxLen;
  for (let i = 0; i < m; i++) {
    const c = load<u8>(p + <usize>i);
    out.appendByte(c == 13 || c == 10 ? 32 : c);
  }
}
export function errorEnd(): void { crlf(); }

export function integer(v: i64): void {
  if (v == (-9223372036854775807 - 1)) { out.appendByte(58); out.appendI64(v); crlf(); return; }
  header(58, v);
}

export function bulk(p: usize, n: i32): void {
  if (!out.reserve(n + 26)) return;
  let d = putHeader(out.ptr + <usize>out.len, 36, <i64>n);
  memory.copy(d, p, <usize>n);
  d += <usize>n;
  store<u16>(d, 0x0A0D);
  out.len = <i32>(d + 2 - out.ptr);
}

export function bulkAscii(s: string): void {
  out.appendByte(36); out.appendI64(<i64>s.length); crlf();
  out.appendAscii(s); crlf();
}

/** A key (byte-per-char string) as a bulk string. */
export function bulkKey(k: string): void {
  const n = k.length;
  out.appendByte(36); out.appendI64(<i64>n); crlf();
  if (!out.reserve(n)) return;
  const src = changetype<usize>(k);
  const dst = out.ptr + <usize>out.len;
  for (let i = 0; i < n; i++) store<u8>(dst + <usize>i, <u8>load<u16>(src + (<usize>i << 1)));
  out.len += n;
  crlf();
}

export function bulkI64(v: i64): void {
  let n = 1; let t = v < 0 ? -(v + 1) : v; if (v < 0) n++;
  while (t >= 10) { t /= 10; n++; }
  out.appendByte(36); out.appendI64(<i64>n); crlf();
  out.appendI64(v); crlf();
}

export function bulkId(ms: u64, seq: u64): void {
  if (!out.reserve(72)) return;
  let d = putHeader(out.ptr + <usize>out.len, 36, <i64>idTextLength(ms, seq));
  d += <usize>writeU64(d, ms);
  store<u8>(d++, 45);
  d += <usize>writeU64(d, seq);
  store<u16>(d, 0x0A0D);
  out.len = <i32>(d + 2 - out.ptr);
}

export function nullBulk(): void { if (proto == 3) out.appendAscii("_\r\n"); else out.appendAscii("$-1\r\n"); }
export function nullArray(): void { if (proto == 3) out.appendAscii("_\r\n"); else out.appendAscii("*-1\r\n"); }
export function arrayLen(n: i64): void { header(42, n); }
export function mapLen(n: i64): void {
  if (proto == 3) { out.appendByte(37); out.appendI64(n); } else { out.appendByte(42); out.appendI64(n * 2); }
  crlf();
}
export function setLen(n: i64): void { out.appendByte(proto == 3 ? 126 : 42); out.appendI64(n); crlf(); }
export function boolean(v: bool): void {
  if (proto == 3) out.appendAscii(v ? "#t\r\n" : "#f\r\n"); else integer(v ? 1 : 0);
}

/** Text replies (INFO, CLIENT LIST): RESP3 verbatim "txt", RESP2 bulk. */
export function verbatim(p: usize, n: i32): void {
  if (proto != 3) { bulk(p, n); return; }
  out.appendByte(61); out.appendI64(<i64>n + 4); crlf();
  out.appendAscii("txt:"); out.appendBytes(p, n); crlf();
}

/** Deferred length: reserve the position now, write the header once the count is known. */
export function deferLen(): i32 { return out.len; }

function insertHeader(at: i32, type: u8, n: i64): void {
  const tmp = new ByteBuffer();
  tmp.appendByte(type); tmp.appendI64(n); tmp.appendByte(13); tmp.appendByte(10);
  out.insertAt(at, tmp.ptr, tmp.len);
  tmp.free();
}
export function setDeferredArray(at: i32, n: i64): void { insertHeader(at, 42, n); }
export function setDeferredMap(at: i32, n: i64): void {
  if (proto == 3) insertHeader(at, 37, n); else insertHeader(at, 42, n * 2);
}

/** HELP replies: an array of status lines. */
export function helpLines(lines: string[]): void {
  arrayLen(lines.length);
  for (let i = 0; i < lines.length; i++) simple(lines[i]);
}

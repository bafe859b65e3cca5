/**
 * RESP2 / RESP3 codec — host-neutral (no Node APIs; works in browsers, workers and Node).
 *
 * - `encodeCommand` / `encodeCommandInto`: a command as a RESP array of bulk strings.
 * - `replyLength`: byte length of one complete reply (framing, no allocation).
 * - `decodeReply`: one reply → JS value (see `RespValue`).
 *
 * Malformed input (an unknown type byte, a bad length) makes `replyLength` / `decodeReply`
 * throw `RespProtocolError`; an incomplete reply gives -1 / null.
 */

export type RespValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | RespValue[]
  | Map<RespValue, RespValue>
  | ReplyError;

/** An error reply (`-ERR ...` or RESP3 blob error `!`). Returned by `decodeReply`, never thrown by it. */
export class ReplyError extends Error {
  /** First word of the error line: `ERR`, `WRONGTYPE`, `NOGROUP`, ... */
  readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
    const sp = message.indexOf(' ');
    this.code = sp < 0 ? message : message.slice(0, sp);
  }
}

/** Thrown when bytes are not valid RESP (as opposed to merely incomplete). */
export class RespProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespProtocolError';
  }
}

export type CommandArg = string | Uint8Array | number | bigint;

export interface DecodeOptions {
  /** Bulk strings and verbatim strings → `Uint8Array` (a copy) instead of `string` (simple strings stay strings). */
  buffers?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

const CR = 13;
const LF = 10;

/** UTF-8 byte length of `s` exactly as TextEncoder would produce it (lone surrogates → U+FFFD, 3 bytes). */
function utf8Length(s: string): number {
  const n = s.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        // surrogate pair: 2 UTF-16 units → 4 bytes
        bytes += 2;
        i++;
      } else {
        bytes += 2;
      }
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

function argToString(a: number | bigint): string {
  return typeof a === 'bigint' ? a.toString() : String(a);
}

/** Number of decimal digits of a non-negative integer < 2^53. */
function decLen(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** Writes the decimal digits of non-negative integer `n` at `pos`; returns the new position. */
function writeDec(out: Uint8Array, pos: number, n: number): number {
  const len = decLen(n);
  let p = pos + len - 1;
  do {
    out[p--] = 48 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  return pos + len;
}

/** Writes `str` (whose UTF-8 length is `blen`) at `pos`. */
function writeStr(out: Uint8Array, pos: number, str: string, blen: number): void {
  if (blen === str.length && blen <= 64) {
    // ASCII fast path for short strings: a plain loop beats encodeInto's call overhead
    for (let i = 0; i < blen; i++) out[pos + i] = str.charCodeAt(i);
  } else {
    textEncoder.encodeInto(str, out.subarray(pos, pos + blen));
  }
}

/**
 * Encodes `args` as a RESP array of bulk strings into `out` at `offset`.
 * Returns the number of bytes written, or -1 if it does not fit (nothing meaningful is written then).
 */
export function encodeCommandInto(
  args: ReadonlyArray<CommandArg>,
  out: Uint8Array,
  offset: number,
): number {
  const end = out.length;
  let pos = offset;
  const argc = args.length;
  // header "*<argc>\r\n"
  if (pos + decLen(argc) + 3 > end) return -1;
  out[pos++] = 42; // '*'
  pos = writeDec(out, pos, argc);
  out[pos++] = CR;
  out[pos++] = LF;
  for (let i = 0; i < argc; i++) {
    let a = args[i];
    if (typeof a === 'number' || typeof a === 'bigint') a = argToString(a);
    if (typeof a === 'string') {
      const blen = utf8Length(a);
      if (pos + decLen(blen) + 5 + blen > end) return -1;
      out[pos++] = 36; // '$'
      pos = writeDec(out, pos, blen);
      out[pos++] = CR;
      out[pos++] = LF;
      writeStr(out, pos, a, blen);
      pos += blen;
    } else {
      const blen = a.length;
      if (pos + decLen(blen) + 5 + blen > end) return -1;
      out[pos++] = 36;
      pos = writeDec(out, pos, blen);
      out[pos++] = CR;
      out[pos++] = LF;
      out.set(a, pos);
      pos += blen;
    }
    out[pos++] = CR;
    out[pos++] = LF;
  }
  return pos - offset;
}

/** Exact encoded size of a command. */
export function encodedCommandLength(args: ReadonlyArray<CommandArg>): number {
  let total = decLen(args.length) + 3;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const blen =
      typeof a === 'string'
        ? utf8Length(a)
        : a instanceof Uint8Array
          ? a.length
          : utf8Length(argToString(a));
    total += decLen(blen) + 5 + blen;
  }
  return total;
}

/** Encodes `args` as a RESP array of bulk strings (strings UTF-8 encoded). */
export function encodeCommand(args: ReadonlyArray<CommandArg>): Uint8Array {
  const out = new Uint8Array(encodedCommandLength(args));
  const n = encodeCommandInto(args, out, 0);
  // cannot happen: the size was computed exactly
  if (n !== out.length) throw new Error('encodeCommand: size mismatch');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Framing
// ---------------------------------------------------------------------------------------------

/** Position of the '\r' of the next "\r\n" at or after `pos`, or -1 if not within [pos, end). */
function findCRLF(buf: Uint8Array, pos: number, end: number): number {
  for (let i = pos; i + 1 < end; i++) {
    if (buf[i] === CR) {
      if (buf[i + 1] === LF) return i;
    }
  }
  return -1;
}

/** Parses a signed decimal integer in buf[from, to) (as used in length / count headers). */
function parseLen(buf: Uint8Array, from: number, to: number): number {
  let i = from;
  let neg = false;
  if (i < to && buf[i] === 45) {
    neg = true;
    i++;
  }
  if (i >= to) throw new RespProtocolError('invalid length');
  let n = 0;
  for (; i < to; i++) {
    const c = buf[i] - 48;
    if (c < 0 || c > 9) throw new RespProtocolError('invalid length');
    n = n * 10 + c;
  }
  if (n > Number.MAX_SAFE_INTEGER) throw new RespProtocolError('invalid length');
  return neg ? -n : n;
}

// per-aggregate "remaining elements" marker for streamed aggregates (`*?` etc.): until '.'
const STREAMED = -1;

/**
 * Byte length of one complete RESP2/RESP3 reply starting at `start` (reading no further than `end`),
 * or -1 if the bytes are incomplete. Attributes (`|`) are counted together with the reply they annotate.
 * Also accepts RESP3 streamed strings (`$?` + `;len` chunks) and streamed aggregates (`*?` … `.`).
 */
export function replyLength(buf: Uint8Array, start: number, end: number): number {
  let pos = start;
  // Stack of remaining element counts for enclosing aggregates. The top-level reply is one element.
  const stack: number[] = [1];
  while (stack.length > 0) {
    const top = stack.length - 1;
    if (stack[top] === 0) {
      stack.pop();
      continue;
    }
    if (pos >= end) return -1;
    const type = buf[pos];
    if (stack[top] === STREAMED) {
      if (type === 46) {
        // '.' end of streamed aggregate
        const crlf = findCRLF(buf, pos + 1, end);
        if (crlf < 0) return -1;
        pos = crlf + 2;
        stack.pop();
        continue;
      }
    } else {
      stack[top]--;
    }
    const crlf = findCRLF(buf, pos + 1, end);
    if (crlf < 0) return -1;
    switch (type) {
      case 43: // + simple string
      case 45: // - error
      case 58: // : integer
      case 95: // _ null
      case 44: // , double
      case 35: // # boolean
      case 40: // ( big number
        pos = crlf + 2;
        break;
      case 36: // $ bulk
      case 33: // ! blob error
      case 61: {
        // = verbatim
        if (type === 36 && crlf === pos + 2 && buf[pos + 1] === 63) {
          // "$?" streamed string: ";<len>\r\n<bytes>\r\n" chunks until ";0\r\n"
          pos = crlf + 2;
          for (;;) {
            if (pos >= end) return -1;
            if (buf[pos] !== 59) throw new RespProtocolError('expected streamed string chunk');
            const c2 = findCRLF(buf, pos + 1, end);
            if (c2 < 0) return -1;
            const clen = parseLen(buf, pos + 1, c2);
            if (clen < 0) throw new RespProtocolError('invalid chunk length');
            pos = c2 + 2;
            if (clen === 0) break;
            if (pos + clen + 2 > end) return -1;
            pos += clen + 2;
          }
          break;
        }
        const len = parseLen(buf, pos + 1, crlf);
        if (len < 0) {
          pos = crlf + 2; // $-1 null bulk
        } else {
          if (crlf + 2 + len + 2 > end) return -1;
          pos = crlf + 2 + len + 2;
        }
        break;
      }
      case 42: // * array
      case 126: // ~ set
      case 62: // > push
      case 37: // % map
      case 124: {
        // | attribute
        const header = pos;
        pos = crlf + 2;
        if (crlf === header + 2 && buf[header + 1] === 63) {
          // "*?" streamed aggregate: elements until "."
          stack.push(STREAMED);
          break;
        }
        const n = parseLen(buf, header + 1, crlf);
        if (n < 0) break; // *-1 null array
        if (type === 124) {
          // an attribute is followed by the reply it annotates, which takes the attribute's slot
          if (stack[top] !== STREAMED) stack[top]++;
          else stack.push(1);
        }
        const elems = type === 37 || type === 124 ? 2 * n : n;
        if (elems > 0) stack.push(elems);
        break;
      }
      default:
        throw new RespProtocolError(`invalid RESP type byte 0x${type.toString(16)}`);
    }
  }
  return pos - start;
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/** Sentinel: the reply is incomplete. */
const INCOMPLETE: unique symbol = Symbol('incomplete');
type Maybe<T> = T | typeof INCOMPLETE;

function bytesToString(buf: Uint8Array, from: number, to: number): string {
  const len = to - from;
  if (len <= 32) {
    // Short ASCII (field names, numbers, IDs): cheaper than a TextDecoder call.
    let s = '';
    for (let i = from; i < to; i++) {
      const c = buf[i];
      if (c >= 0x80) return textDecoder.decode(buf.subarray(from, to));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return textDecoder.decode(buf.subarray(from, to));
}

function parseInteger(buf: Uint8Array, from: number, to: number): number | bigint {
  let i = from;
  let neg = false;
  if (i < to && (buf[i] === 45 || buf[i] === 43)) {
    neg = buf[i] === 45;
    i++;
  }
  if (i >= to) throw new RespProtocolError('invalid integer');
  if (to - i <= 15) {
    let n = 0;
    for (; i < to; i++) {
      const c = buf[i] - 48;
      if (c < 0 || c > 9) throw new RespProtocolError('invalid integer');
      n = n * 10 + c;
    }
    return neg ? -n : n;
  }
  for (let j = i; j < to; j++) {
    const c = buf[j] - 48;
    if (c < 0 || c > 9) throw new RespProtocolError('invalid integer');
  }
  const big = BigInt(bytesToString(buf, from, to));
  if (big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= -BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(big);
  }
  return big;
}

function parseDouble(s: string): number {
  const l = s.toLowerCase();
  if (l === 'inf' || l === '+inf' || l === 'infinity' || l === '+infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  if (l === 'nan' || l === '-nan' || l === '+nan') return NaN;
  const v = Number(s);
  if (Number.isNaN(v)) throw new RespProtocolError(`invalid double ${JSON.stringify(s)}`);
  return v;
}

class Decoder {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
    readonly buffers: boolean,
  ) {
    this.pos = start;
  }

  str(from: number, to: number): string | Uint8Array {
    return this.buffers ? this.buf.slice(from, to) : bytesToString(this.buf, from, to);
  }

  value(): Maybe<RespValue> {
    const { buf, end } = this;
    const p = this.pos;
    if (p >= end) return INCOMPLETE;
    const type = buf[p];
    const crlf = findCRLF(buf, p + 1, end);
    if (crlf < 0) return INCOMPLETE;
    const next = crlf + 2;
    switch (type) {
      case 43: // + (always a string, even with `buffers`)
        this.pos = next;
        return bytesToString(buf, p + 1, crlf);
      case 45: // -
        this.pos = next;
        return new ReplyError(bytesToString(buf, p + 1, crlf));
      case 58: // :
        this.pos = next;
        return parseInteger(buf, p + 1, crlf);
      case 95: // _
        this.pos = next;
        return null;
      case 44: // ,
        this.pos = next;
        return parseDouble(bytesToString(buf, p + 1, crlf));
      case 35: {
        // #
        this.pos = next;
        const c = buf[p + 1];
        if (crlf !== p + 2 || (c !== 116 && c !== 102)) throw new RespProtocolError('invalid boolean');
        return c === 116;
      }
      case 40: {
        // (
        this.pos = next;
        const s = bytesToString(buf, p + 1, crlf);
        if (!/^[-+]?[0-9]+$/.test(s)) throw new RespProtocolError('invalid big number');
        return BigInt(s);
      }
      case 36: // $
      case 33: // !
      case 61: {
        // =
        if (type === 36 && crlf === p + 2 && buf[p + 1] === 63) return this.streamedString(next);
        const len = parseLen(buf, p + 1, crlf);
        if (len < 0) {
          this.pos = next;
          return null;
        }
        if (next + len + 2 > end) return INCOMPLETE;
        this.pos = next + len + 2;
        if (type === 33) return new ReplyError(bytesToString(buf, next, next + len));
        if (type === 61) {
          // verbatim: "txt:" / "mkd:" prefix (3-byte format + ':') is dropped
          const from = len >= 4 && buf[next + 3] === 58 ? next + 4 : next;
          return this.str(from, next + len);
        }
        return this.str(next, next + len);
      }
      case 42: // *
      case 126: // ~
      case 62: {
        // >
        this.pos = next;
        if (crlf === p + 2 && buf[p + 1] === 63) return this.streamedAggregate(false);
        const n = parseLen(buf, p + 1, crlf);
        if (n < 0) return null;
        const arr: RespValue[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const v = this.value();
          if (v === INCOMPLETE) return INCOMPLETE;
          arr[i] = v;
        }
        return arr;
      }
      case 37: {
        // %
        this.pos = next;
        if (crlf === p + 2 && buf[p + 1] === 63) return this.streamedAggregate(true);
        const n = parseLen(buf, p + 1, crlf);
        if (n < 0) return null;
        const map = new Map<RespValue, RespValue>();
        for (let i = 0; i < n; i++) {
          const k = this.value();
          if (k === INCOMPLETE) return INCOMPLETE;
          const v = this.value();
          if (v === INCOMPLETE) return INCOMPLETE;
          map.set(k, v);
        }
        return map;
      }
      case 124: {
        // | attribute: decoded and dropped; the annotated reply follows
        this.pos = next;
        const n = parseLen(buf, p + 1, crlf);
        for (let i = 0; i < 2 * n; i++) {
          if (this.value() === INCOMPLETE) return INCOMPLETE;
        }
        return this.value();
      }
      default:
        throw new RespProtocolError(`invalid RESP type byte 0x${type.toString(16)}`);
    }
  }

  streamedString(from: number): Maybe<RespValue> {
    const { buf, end } = this;
    const parts: Uint8Array[] = [];
    let total = 0;
    let pos = from;
    for (;;) {
      if (pos >= end) return INCOMPLETE;
      if (buf[pos] !== 59) throw new RespProtocolError('expected streamed string chunk');
      const crlf = findCRLF(buf, pos + 1, end);
      if (crlf < 0) return INCOMPLETE;
      const len = parseLen(buf, pos + 1, crlf);
      pos = crlf + 2;
      if (len === 0) break;
      if (pos + len + 2 > end) return INCOMPLETE;
      parts.push(buf.subarray(pos, pos + len));
      total += len;
      pos += len + 2;
    }
    this.pos = pos;
    const all = new Uint8Array(total);
    let o = 0;
    for (const part of parts) {
      all.set(part, o);
      o += part.length;
    }
    return this.buffers ? all : textDecoder.decode(all);
  }

  streamedAggregate(isMap: boolean): Maybe<RespValue> {
    const { buf, end } = this;
    const items: RespValue[] = [];
    for (;;) {
      if (this.pos >= end) return INCOMPLETE;
      if (buf[this.pos] === 46) {
        const crlf = findCRLF(buf, this.pos + 1, end);
        if (crlf < 0) return INCOMPLETE;
        this.pos = crlf + 2;
        break;
      }
      const v = this.value();
      if (v === INCOMPLETE) return INCOMPLETE;
      items.push(v);
    }
    if (!isMap) return items;
    const map = new Map<RespValue, RespValue>();
    for (let i = 0; i + 1 < items.length; i += 2) map.set(items[i], items[i + 1]);
    return map;
  }
}

/**
 * Decodes one reply starting at `start`. Returns `{ value, next }` (next = position after the reply)
 * or null if the bytes in [start, end) do not hold a complete reply.
 *
 * Mapping: bulk / verbatim string → string (UTF-8; verbatim without its `txt:` prefix), or a
 * Uint8Array copy with `buffers`; simple string → string; error / blob error → ReplyError (returned, not thrown); integer →
 * number (bigint beyond ±Number.MAX_SAFE_INTEGER); null bulk / null array / `_` → null; double →
 * number (inf, -inf, nan); boolean → boolean; big number → bigint; array / set / push → array;
 * map → Map; attributes are skipped.
 */
export function decodeReply(
  buf: Uint8Array,
  start: number,
  end: number,
  opts?: { buffers?: boolean },
): { value: RespValue; next: number } | null {
  const d = new Decoder(buf, start, end, !!opts?.buffers);
  const value = d.value();
  if (value === INCOMPLETE) return null;
  return { value, next: d.pos };
}

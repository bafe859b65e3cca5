// Stream IDs: (ms, seq) pairs of unsigned 64-bit integers, ordered by ms then seq.
import { parseIdPart, parsedU64 } from "../util/numbers";
import { ByteBuffer } from "../util/buffer";

export const U64_MAX: u64 = 0xFFFFFFFFFFFFFFFF;

@final
export class StreamID {
  constructor(public ms: u64 = 0, public seq: u64 = 0) {}

  @inline set(ms: u64, seq: u64): void { this.ms = ms; this.seq = seq; }
  @inline copyFrom(o: StreamID): void { this.ms = o.ms; this.seq = o.seq; }
  @inline isZero(): bool { return this.ms == 0 && this.seq == 0; }
  @inline isMax(): bool { return this.ms == U64_MAX && this.seq == U64_MAX; }
  clone(): StreamID { return new StreamID(this.ms, this.seq); }

  /** Next ID; false if this is already the maximum. */
  incr(): bool {
    if (this.seq == U64_MAX) {
      if (this.ms == U64_MAX) return false;
      this.ms++; this.seq = 0;
    } else this.seq++;
    return true;
  }

  /** Previous ID; false if this is 0-0. */
  decr(): bool {
    if (this.seq == 0) {
      if (this.ms == 0) return false;
      this.ms--; this.seq = U64_MAX;
    } else this.seq--;
    return true;
  }
}

@inline export function cmpId(ams: u64, aseq: u64, bms: u64, bseq: u64): i32 {
  if (ams != bms) return ams < bms ? -1 : 1;
  if (aseq != bseq) return aseq < bseq ? -1 : 1;
  return 0;
}

@inline export function cmp(a: StreamID, b: StreamID): i32 { return cmpId(a.ms, a.seq, b.ms, b.seq); }

/** Outcome of parseStreamId beyond the ID itself. */
export let parsedSeqGiven: bool = false;
/** `ms-*` form (XADD only). */
export let parsedSeqAuto: bool = false;

/**
 * Parses `<ms>-<seq>`, `<ms>`, and, unless strict, `-` (0-0) and `+` (max).
 * A missing seq takes `missingSeq`. `allowAutoSeq` accepts `<ms>-*`.
 * Mirrors streamGenericParseIDOrReply in t_stream.c.
 */
export function parseStreamId(p: usize, n: i32, out: StreamID, missingSeq: u64, strict: bool, allowAutoSeq: bool): bool {
  parsedSeqGiven = false;
  parsedSeqAuto = false;
  if (n > 127) return false;
  if (n == 1 && !strict) {
    const c = load<u8>(p);
    if (c == 45) { out.set(0, 0); return true; }
    if (c == 43) { out.set(U64_MAX, U64_MAX); return true; }
  }
  let dash = -1;
  for (let i = 0; i < n; i++) {
    if (load<u8>(p + <usize>i) == 45) { dash = i; break; }
  }
  const msLen = dash < 0 ? n : dash;
  if (!parseIdPart(p, msLen)) return false;
  const ms = parsedU64;
  let seq = missingSeq;
  if (dash >= 0) {
    const sp = p + <usize>(dash + 1);
    const sn = n - dash - 1;
    if (allowAutoSeq && sn == 1 && load<u8>(sp) == 42) {
      parsedSeqAuto = true;
      seq = 0;
    } else {
      if (!parseIdPart(sp, sn)) return false;
      seq = parsedU64;
      parsedSeqGiven = true;
    }
  }
  out.set(ms, seq);
  return true;
}

/** Appends `<ms>-<seq>` (no RESP framing). */
export function appendIdText(buf: ByteBuffer, ms: u64, seq: u64): void {
  buf.appendU64(ms);
  buf.appendByte(45);
  buf.appendU64(seq);
}

@inline function digits(v: u64): i32 {
  let n = 1;
  while (v >= 10) { v /= 10; n++; }
  return n;
}

export function idTextLength(ms: u64, seq: u64): i32 { return digits(ms) + 1 + digits(seq); }

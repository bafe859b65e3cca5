// Byte accounting of Redis's listpack encoding. Rivulet stores entries in its own compact block format,
// but `stream-node-max-bytes` is defined in listpack bytes, so node splitting computes what Redis's
// listpack for the same node would weigh and splits exactly where Redis does.
import { parseI64, parsedI64 } from "../util/numbers";

/** Listpack header (total bytes u32 + element count u16) and the terminating 0xFF byte. */
export const LP_HEADER_AND_END: u32 = 7;
export const LP_MAX_SIZE: u32 = 1 << 30;

/** Bytes of the back-length that follows an element whose encoding+data is `l` bytes. */
@inline function backlenSize(l: u32): u32 {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

/** Size of an integer element (lpAppendInteger). */
export function lpIntSize(v: i64): u32 {
  let enc: u32;
  if (v >= 0 && v <= 127) enc = 1;
  else if (v >= -4096 && v <= 4095) enc = 2;
  else if (v >= -32768 && v <= 32767) enc = 3;
  else if (v >= -8388608 && v <= 8388607) enc = 4;
  else if (v >= -2147483648 && v <= 2147483647) enc = 5;
  else enc = 9;
  return enc + backlenSize(enc);
}

/** Size of a string element (lpAppend), which Redis integer-encodes when it is a canonical int64. */
export function lpStrSize(p: usize, n: i32): u32 {
  if (n <= 20 && parseI64(p, n)) return lpIntSize(parsedI64);
  return lpRawStrSize(n);
}

/** Size of a string element that is not an integer. */
export function lpRawStrSize(n: i32): u32 {
  const len = <u32>n;
  let enc: u32;
  if (len < 64) enc = 1 + len;
  else if (len < 4096) enc = 2 + len;
  else enc = 5 + len;
  return enc + backlenSize(enc);
}

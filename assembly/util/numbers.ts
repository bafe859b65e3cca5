// Number parsing with Redis's exact acceptance rules (string2ll / strtoull quirks).

/** Result slots for parsers (AssemblyScript has no multi-value returns or exceptions). */
export let parsedI64: i64 = 0;
export let parsedU64: u64 = 0;

/** Redis string2ll: canonical signed 64-bit decimal, no spaces, no '+', no leading zeros. */
export function parseI64(p: usize, n: i32): bool {
  if (n == 0 || n > 20) return false;
  // Fast path: up to 9 digits without sign or leading zero cannot overflow (lengths, counts, values).
  const first = load<u8>(p);
  if (n <= 9 && first >= 49 && first <= 57) {
    let v: i64 = <i64>(first - 48);
    for (let i = 1; i < n; i++) {
      const c = load<u8>(p + <usize>i);
      if (c < 48 || c > 57) return false;
      v = v * 10 + <i64>(c - 48);
    }
    parsedI64 = v;
    return true;
  }
  if (n == 1 && load<u8>(p) == 48) { parsedI64 = 0; return true; }
  let i = 0;
  let neg = false;
  if (load<u8>(p) == 45) { neg = true; i = 1; if (n == 1) return false; }
  const c0 = load<u8>(p + <usize>i);
  if (c0 < 49 || c0 > 57) return false;
  if (!parseDigits(p, i, n)) return false;
  const v = digitsValue;
  if (neg) {
    if (v > 0x8000000000000000) return false;
    parsedI64 = <i64>(0 - v);
  } else {
    if (v > 0x7FFFFFFFFFFFFFFF) return false;
    parsedI64 = <i64>v;
  }
  return true;
}

/** C strtoull as Redis uses it for stream ID parts: leading whitespace, optional '+',
 *  decimal digits to the end of the buffer, overflow and '-' rejected. */
export function parseU64Loose(p: usize, n: i32): bool {
  let i = 0;
  while (i < n && isSpace(load<u8>(p + <usize>i))) i++;
  if (i < n && load<u8>(p + <usize>i) == 43) i++;
  else if (i < n && load<u8>(p + <usize>i) == 45) return false;
  if (i >= n || !parseDigits(p, i, n)) return false;
  parsedU64 = digitsValue;
  return true;
}

/** C strtoul as SCAN cursors use it: no leading space, optional sign ('-' wraps), digits to the end;
 *  the empty string is 0. */
export function parseCursor(p: usize, n: i32): bool {
  if (n == 0) { parsedU64 = 0; return true; }
  const c0 = load<u8>(p);
  if (isSpace(c0)) return false;
  const signed = c0 == 43 || c0 == 45;
  const i = signed ? 1 : 0;
  if (i >= n || !parseDigits(p, i, n)) return false;
  parsedU64 = c0 == 45 ? 0 - digitsValue : digitsValue;
  return true;
}

let digitsValue: u64 = 0;
/** Decimal digits p[from..n) into digitsValue; false on a non-digit or u64 overflow. */
function parseDigits(p: usize, from: i32, n: i32): bool {
  let v: u64 = 0;
  for (let i = from; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    if (c < 48 || c > 57) return false;
    const d = <u64>(c - 48);
    if (v > (0xFFFFFFFFFFFFFFFF - d) / 10) return false;
    v = v * 10 + d;
  }
  digitsValue = v;
  return true;
}

@inline function isSpace(c: u8): bool {
  return c == 32 || (c >= 9 && c <= 13);
}

/** Redis string2ull for ID parts: first try canonical signed, then strtoull. */
export function parseIdPart(p: usize, n: i32): bool {
  if (parseI64(p, n)) {
    if (parsedI64 < 0) return false;
    parsedU64 = <u64>parsedI64;
    return true;
  }
  if (n > 0 && load<u8>(p) == 45) return false;
  return parseU64Loose(p, n);
}

/** Saturating decimal digits p[from..to) into digitsValue (strtoull's overflow: ULLONG_MAX). */
function saturatingDigits(p: usize, from: i32, to: i32): void {
  let v: u64 = 0;
  for (let i = from; i < to; i++) {
    const d = <u64>(load<u8>(p + <usize>i) - 48);
    if (v > (0xFFFFFFFFFFFFFFFF - d) / 10) { v = 0xFFFFFFFFFFFFFFFF; break; }
    v = v * 10 + d;
  }
  digitsValue = v;
}

/**
 * Redis memtoull (CONFIG SET of a memory setting): decimal digits (none = 0, leading zeros fine)
 * then an optional unit b, k (1000), kb (1024), m, mb, g, gb in any case; no sign, no spaces. Too many
 * digits saturate, a unit multiplies with wrap-around, exactly as the C code computes it. Result in
 * parsedU64.
 */
export function parseMemory(p: usize, n: i32): bool {
  let digits = 0;
  while (digits < n && load<u8>(p + <usize>digits) >= 48 && load<u8>(p + <usize>digits) <= 57) digits++;
  if (digits < n && load<u8>(p) == 45) return false;
  const unitLen = n - digits;
  let mul: u64 = 0;
  const u0 = unitLen > 0 ? lower(load<u8>(p + <usize>digits)) : 0;
  const u1 = unitLen > 1 ? lower(load<u8>(p + <usize>(digits + 1))) : 0;
  if (unitLen == 0 || (unitLen == 1 && u0 == 98)) mul = 1;
  else if (unitLen == 1 && u0 == 107) mul = 1000;
  else if (unitLen == 1 && u0 == 109) mul = 1000000;
  else if (unitLen == 1 && u0 == 103) mul = 1000000000;
  else if (unitLen == 2 && u1 == 98 && u0 == 107) mul = 1024;
  else if (unitLen == 2 && u1 == 98 && u0 == 109) mul = 1048576;
  else if (unitLen == 2 && u1 == 98 && u0 == 103) mul = 1073741824;
  if (mul == 0 || digits >= 128) return false;
  saturatingDigits(p, 0, digits);
  parsedU64 = digitsValue * mul;
  return true;
}

/**
 * C strtoll on a NUL-terminated token of n bytes: leading whitespace, optional sign, decimal digits
 * (saturating at the i64 limits). Returns false when bytes remain after the number (`*eptr != 0`);
 * a token with no digits at all is 0 only when it is empty (strtoll leaves eptr at its start).
 */
export function parseStrtoll(p: usize, n: i32): bool {
  let i = 0;
  while (i < n && isSpace(load<u8>(p + <usize>i))) i++;
  let neg = false;
  if (i < n && (load<u8>(p + <usize>i) == 43 || load<u8>(p + <usize>i) == 45)) { neg = load<u8>(p + <usize>i) == 45; i++; }
  const from = i;
  while (i < n && load<u8>(p + <usize>i) >= 48 && load<u8>(p + <usize>i) <= 57) i++;
  if (i == from) { parsedI64 = 0; return n == 0; }
  if (i != n) return false;
  saturatingDigits(p, from, i);
  const v = digitsValue;
  if (neg) parsedI64 = v >= 0x8000000000000000 ? <i64>0x8000000000000000 : -<i64>v;
  else parsedI64 = v > 0x7FFFFFFFFFFFFFFF ? 0x7FFFFFFFFFFFFFFF : <i64>v;
  return true;
}

@inline export function lower(c: u8): u8 { return c >= 65 && c <= 90 ? c + 32 : c; }

// Redis stringmatchlen: glob patterns with * ? [set] [^set] [a-z] and \ escapes, over bytes.
// Patterns are raw bytes; subjects are keys (one UTF-16 code unit per byte).

export function globMatch(pat: usize, plen: i32, key: string, nocase: bool = false): bool {
  return matchAt(pat, plen, changetype<usize>(key), key.length, nocase, 0);
}

@inline function low(c: u32, nocase: bool): u32 { return nocase && c >= 65 && c <= 90 ? c + 32 : c; }

function matchAt(p: usize, plen: i32, s: usize, slen: i32, nocase: bool, depth: i32): bool {
  if (depth > 1000) return false;
  let pi = 0, si = 0;
  while (pi < plen && si < slen) {
    const pc = <u32>load<u8>(p + <usize>pi);
    if (pc == 42) { // '*'
      while (pi + 1 < plen && load<u8>(p + <usize>(pi + 1)) == 42) pi++;
      if (pi + 1 == plen) return true;
      for (let k = si; k <= slen; k++) {
        if (matchAt(p + <usize>(pi + 1), plen - pi - 1, s + (<usize>k << 1), slen - k, nocase, depth + 1)) return true;
      }
      return false;
    }
    const sc = <u32>load<u16>(s + (<usize>si << 1));
    if (pc == 63) { pi++; si++; continue; } // '?'
    if (pc == 91) { // '['
      pi++;
      let not = false;
      if (pi < plen && load<u8>(p + <usize>pi) == 94) { not = true; pi++; }
      let matched = false;
      while (true) {
        if (pi >= plen) { pi--; break; }
        const c = <u32>load<u8>(p + <usize>pi);
        if (c == 92 && pi + 2 < plen) {
          pi++;
          if (<u32>load<u8>(p + <usize>pi) == sc) matched = true;
        } else if (c == 93) {
          break;
        } else if (pi + 2 < plen && load<u8>(p + <usize>(pi + 1)) == 45) {
          let a = low(c, nocase), b = low(<u32>load<u8>(p + <usize>(pi + 2)), nocase);
          if (a > b) { const t = a; a = b; b = t; }
          const x = low(sc, nocase);
          if (x >= a && x <= b) matched = true;
          pi += 2;
        } else if (low(c, nocase) == low(sc, nocase)) matched = true;
        pi++;
      }
      if (not) matched = !matched;
      if (!matched) return false;
      pi++; si++;
      continue;
    }
    if (pc == 92 && pi + 1 < plen) { pi++; }
    if (low(<u32>load<u8>(p + <usize>pi), nocase) != low(sc, nocase)) return false;
    pi++; si++;
  }
  if (si == slen) {
    while (pi < plen && load<u8>(p + <usize>pi) == 42) pi++;
  }
  return pi == plen && si == slen;
}

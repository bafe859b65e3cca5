// Glob patterns as Redis's stringmatchlen (util.c, 7.0.9+) reads them: * ? [set] [^set] [a-z] and \
// escapes, over bytes. Every caller that matches a pattern (KEYS, SCAN MATCH, CONFIG GET, and later
// SSCAN/HSCAN MATCH and PSUBSCRIBE) goes through here, so there is one reading of the syntax.
//
// Worst case O(pattern × subject), never exponential (CVE-2022-36021). Redis gets there with a
// recursive matcher and a shared `skipLongerMatches` flag: once the part of the pattern after some `*`
// has failed at every start in the rest of the subject, no earlier `*` can help by swallowing more,
// so the whole search stops. With that flag a `*` is never re-entered: whatever happens beyond the
// next `*` is final. So only the most recent `*` is ever a backtracking point, and the recursion
// becomes the loop below, with one saved (pattern, subject) position instead of a call stack — no
// deep recursion on the device either. Redis also refuses to nest deeper than 1000 stars; that cut
// changes results (a pattern with more than 1000 `*` groups matches nothing that needs the 1001st),
// so it is kept, counted the same way.
//
// Byte-level quirks kept on purpose, because replies must equal Redis's:
// - an empty subject matches only the empty pattern (`*` does not match ""; KEYS and SCAN skip the
//   matcher for a lone `*`, see isMatchAll);
// - a range compares C `char`s, signed on the x86-64 reference build: [a-\xff] is [\xff-a];
//   reversed ranges are swapped first, then case-folded under nocase ([Z-a] folds to [z-a]: empty);
// - `\x` inside brackets compares exactly, even under nocase;
// - a range's end may be the `]` ([a-]] is [\]-a] followed by a literal ']');
// - an unterminated `[` closes at the end of the pattern, its last byte counted once, and `[` alone
//   matches nothing; a trailing `\` is a literal backslash.

const STAR: u32 = 42;     // *
const QUESTION: u32 = 63; // ?
const OPEN: u32 = 91;     // [
const CLOSE: u32 = 93;    // ]
const CARET: u32 = 94;    // ^
const DASH: u32 = 45;     // -
const BACKSLASH: u32 = 92;

/** Redis's limit on `*` nesting (stringmatchlen_impl's `nesting > 1000`). */
const MAX_NESTING: i32 = 1000;

/**
 * Pattern steps taken by the matcher since the module started (one per pattern token tried against
 * a subject byte, plus one per byte of a bracket set scanned). Not exported by the engine; a test
 * build reads it to bound the work of adversarial patterns without a clock.
 */
export let globSteps: u64 = 0;

/** The pattern Redis answers without the matcher (KEYS, SCAN MATCH): every key, the empty one too. */
export function isMatchAll(pat: usize, plen: i32): bool {
  return plen == 1 && load<u8>(pat) == <u8>STAR;
}

/** A key (one UTF-16 code unit per byte) against a pattern of raw bytes. */
export function globMatch(pat: usize, plen: i32, key: string, nocase: bool = false): bool {
  return matchImpl<u16>(pat, plen, changetype<usize>(key), key.length, nocase);
}

/** Raw bytes against a pattern of raw bytes (stringmatchlen). */
export function stringMatchLen(pat: usize, plen: i32, subj: usize, slen: i32, nocase: bool = false): bool {
  return matchImpl<u8>(pat, plen, subj, slen, nocase);
}

/** tolower() in the C locale, on a C `char` value. */
@inline function fold(c: i32, nocase: bool): i32 { return nocase && c >= 65 && c <= 90 ? c + 32 : c; }

/** The byte a subject unit stands for (keys hold one byte per code unit). */
@inline function unitAt<T>(s: usize, i: i32): u32 {
  return <u32>(<u8>load<T>(s + (<usize>i << alignof<T>())));
}

function matchImpl<T>(p: usize, plen: i32, s: usize, slen: i32, nocase: bool): bool {
  let pi = 0, si = 0;
  // The one backtracking point: the pattern just after the latest `*`, and where in the subject the
  // current attempt to match it began. -1 until the first `*`.
  let restP = -1, restS = 0;
  let nesting = 0;
  while (true) {
    // One attempt: stringmatchlen_impl's loop, from (pi, si) up to the end or the next `*`.
    let failed = false;
    while (pi < plen && si < slen) {
      globSteps++;
      const pc = <u32>load<u8>(p + <usize>pi);
      if (pc == STAR) {
        while (pi + 1 < plen && <u32>load<u8>(p + <usize>(pi + 1)) == STAR) pi++;
        if (pi + 1 == plen) return true; // a trailing `*` takes the rest
        // Redis would call itself one level deeper here and refuse; every start then fails.
        if (nesting >= MAX_NESTING) return false;
        nesting++;
        pi++;
        restP = pi;
        restS = si;
        continue; // earlier stars are settled now (skipLongerMatches)
      }
      const sc = unitAt<T>(s, si);
      if (pc == OPEN) {
        if (!matchSet(p, plen, pi + 1, sc, nocase)) { failed = true; break; }
        pi = setEnd;
      } else if (pc != QUESTION) {
        if (pc == BACKSLASH && pi + 1 < plen) pi++;
        const lc = <u32>load<u8>(p + <usize>pi);
        if (nocase ? fold(<i32>lc, true) != fold(<i32>sc, true) : lc != sc) { failed = true; break; }
      }
      pi++;
      si++;
      if (si == slen) {
        // The subject ran out: only stars may remain.
        while (pi < plen && <u32>load<u8>(p + <usize>pi) == STAR) pi++;
        break;
      }
    }
    if (!failed && pi == plen && si == slen) return true;
    // This attempt failed before any further `*`: let the latest `*` swallow one more byte.
    if (restP < 0) return false;
    restS++;
    if (restS >= slen) return false; // no start left: nothing earlier can help either
    pi = restP;
    si = restS;
  }
  return false;
}

/** Index of the last pattern byte of the set matchSet just read (its `]`, or the pattern's end). */
let setEnd: i32 = 0;

/**
 * Whether subject byte `sc` is in the bracket set whose body starts at `pi` (just after `[`). Sets
 * setEnd. Walks the set exactly as stringmatchlen does, quirks included (see the file comment).
 */
function matchSet(p: usize, plen: i32, pi: i32, sc: u32, nocase: bool): bool {
  const negate = pi < plen && <u32>load<u8>(p + <usize>pi) == CARET;
  if (negate) pi++;
  let hit = false;
  while (true) {
    globSteps++;
    if (pi >= plen) { pi--; break; } // unterminated: end on the last byte
    const c = <u32>load<u8>(p + <usize>pi);
    if (c == BACKSLASH && plen - pi >= 2) {
      pi++;
      if (<u32>load<u8>(p + <usize>pi) == sc) hit = true;
    } else if (c == CLOSE) {
      break;
    } else if (plen - pi >= 3 && <u32>load<u8>(p + <usize>(pi + 1)) == DASH) {
      // C chars: signed bytes. Swap a reversed range, then fold.
      let lo = <i32><i8>c, hi = <i32><i8>load<u8>(p + <usize>(pi + 2));
      if (lo > hi) { const t = lo; lo = hi; hi = t; }
      lo = fold(lo, nocase);
      hi = fold(hi, nocase);
      const x = fold(<i32><i8>sc, nocase);
      if (x >= lo && x <= hi) hit = true;
      pi += 2;
    } else if (nocase ? fold(<i32>c, true) == fold(<i32>sc, true) : c == sc) {
      hit = true;
    }
    pi++;
  }
  setEnd = pi;
  return negate ? !hit : hit;
}

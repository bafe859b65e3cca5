// A parsed command: argument pointers and lengths into bytes that do not move while the command runs
// (the connection's input buffer, or the MULTI queue: server/command-queue.ts).
import { lower } from "../util/numbers";

@final
export class Args {
  ptrs: StaticArray<usize> = new StaticArray<usize>(16);
  lens: StaticArray<i32> = new StaticArray<i32>(16);
  count: i32 = 0;

  reset(): void { this.count = 0; }

  push(p: usize, n: i32): void {
    if (this.count == this.ptrs.length) {
      const cap = this.count << 1;
      const np = new StaticArray<usize>(cap);
      const nl = new StaticArray<i32>(cap);
      for (let i = 0; i < this.count; i++) { unchecked(np[i] = this.ptrs[i]); unchecked(nl[i] = this.lens[i]); }
      this.ptrs = np; this.lens = nl;
    }
    unchecked(this.ptrs[this.count] = p);
    unchecked(this.lens[this.count] = n);
    this.count++;
  }

  /** Overwrites argument i (i < count). */
  @inline set(i: i32, p: usize, n: i32): void { unchecked(this.ptrs[i] = p); unchecked(this.lens[i] = n); }

  @inline ptr(i: i32): usize { return unchecked(this.ptrs[i]); }
  @inline len(i: i32): i32 { return unchecked(this.lens[i]); }

  /** Case-insensitive comparison with an ASCII keyword given in lowercase. */
  is(i: i32, kw: string): bool {
    const n = this.len(i);
    if (n != kw.length) return false;
    const p = this.ptr(i);
    const k = changetype<usize>(kw);
    for (let j = 0; j < n; j++) {
      if (<u16>lower(load<u8>(p + <usize>j)) != load<u16>(k + (<usize>j << 1))) return false;
    }
    return true;
  }

  /** Exact one-byte argument test (`*`, `~`, `$`, `>`, `+`). */
  @inline isChar(i: i32, c: u8): bool { return this.len(i) == 1 && load<u8>(this.ptr(i)) == c; }

  /** The argument as a byte-per-char string: the form keys take in the keyspace. The last string made
   *  is reused when the next request names the same bytes, so repeated keys cost no allocation and
   *  hit the keyspace's one-entry lookup cache. */
  str(i: i32): string {
    const p = this.ptr(i), n = this.len(i);
    const last = lastKey;
    if (last.length == n) {
      const lp = changetype<usize>(last);
      let same = true;
      for (let k = 0; k < n; k++) {
        if (load<u16>(lp + (<usize>k << 1)) != <u16>load<u8>(p + <usize>k)) { same = false; break; }
      }
      if (same) return last;
    }
    lastKey = bytesToKey(p, n);
    return lastKey;
  }
}

let lastKey: string = "";

/** Keys live in the keyspace as strings with one UTF-16 code unit per byte: binary-safe and hashable. */
export function bytesToKey(p: usize, n: i32): string {
  const s = changetype<string>(__new(<usize>n << 1, idof<string>()));
  const d = changetype<usize>(s);
  for (let i = 0; i < n; i++) store<u16>(d + (<usize>i << 1), load<u8>(p + <usize>i));
  return s;
}

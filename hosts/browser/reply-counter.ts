/**
 * Counts the complete RESP replies in a byte stream that arrives in arbitrary pieces (RESP3 push
 * frames `>` are not replies and are not counted). The worker keeps one per connection so that an
 * aborted call's UNBLOCK names the request it means: the page sends how many replies it had when
 * it aborted, and the worker unblocks only if the connection is parked on exactly that request.
 * Bulk payloads are skipped by length, so only header lines are scanned.
 */
const CR = 13;
const LF = 10;

export class ReplyCounter {
  /** Replies completed so far. */
  count = 0;
  /** Elements still due at each open aggregate level (innermost last). */
  #stack: number[] = [];
  /** The top-level frame being read is a push frame. */
  #push = false;
  /** Bytes of a bulk payload (with its CRLF) still to skip. */
  #skip = 0;
  /** The header line being read: its type byte (0 = none yet) and digits so far. */
  #type = 0;
  #num = 0;
  #neg = false;
  #cr = false;

  feed(b: Uint8Array, start = 0, end = b.length): void {
    let i = start;
    while (i < end) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, end - i);
        this.#skip -= n;
        i += n;
        if (this.#skip === 0) this.#element();
        continue;
      }
      const c = b[i++];
      if (this.#type === 0) {
        this.#type = c;
        this.#num = 0;
        this.#neg = false;
        this.#cr = false;
        if (this.#stack.length === 0) this.#push = c === 62; // '>'
        continue;
      }
      if (c === LF && this.#cr) {
        this.#line();
        continue;
      }
      this.#cr = c === CR;
      if (c === 45 /* - */ && this.#num === 0) this.#neg = true;
      else if (c >= 48 && c <= 57) this.#num = this.#num * 10 + (c - 48);
    }
  }

  /** A header line ended: a simple value, a bulk header, or an aggregate header. */
  #line(): void {
    const t = this.#type;
    const n = this.#neg ? -1 : this.#num;
    this.#type = 0;
    switch (t) {
      case 36: // $ bulk
      case 33: // ! bulk error
      case 61: // = verbatim
        if (n < 0) this.#element();
        else if (n + 2 > 0) this.#skip = n + 2;
        return;
      case 42: // * array
      case 126: // ~ set
      case 62: // > push
      case 37: // % map
      case 124: {
        // | attribute (precedes the value it describes: its pairs, then that value)
        const elems = n < 0 ? 0 : t === 37 || t === 124 ? 2 * n : n;
        if (t === 124) {
          this.#stack.push(elems + 1);
          if (elems + 1 === 0) this.#element();
          return;
        }
        if (elems === 0) this.#element();
        else this.#stack.push(elems);
        return;
      }
      default: // + - : _ # , ( simple
        this.#element();
    }
  }

  /** One element completed: pop finished aggregates; a finished top level is one reply. */
  #element(): void {
    const s = this.#stack;
    while (s.length) {
      if (--s[s.length - 1] > 0) return;
      s.pop();
    }
    if (!this.#push) this.count++;
    this.#push = false;
  }
}

/**
 * What one side of the page ↔ worker channel sends in one turn: rows of three integers (an op or a
 * connection, an id, a length or status) and the bytes they refer to, posted together as one
 * message at the end of the turn (a microtask) with both buffers transferred. Page → worker: the
 * calls of a turn; worker → page: the replies of a turn.
 */
export class TurnBatch {
  data: Uint8Array;
  used = 0;
  rows: number[] = [];
  #scheduled = false;

  constructor(
    private readonly initial: number,
    /** Posts one turn (the buffers are the message's to keep); false = nothing may be sent any more. */
    private readonly post: (rows: Int32Array, data: ArrayBuffer) => boolean | void,
  ) {
    this.data = new Uint8Array(initial);
  }

  /** Makes room for `need` more bytes at `used`. */
  reserve(need: number): void {
    if (this.used + need <= this.data.length) return;
    let cap = this.data.length * 2;
    while (cap < this.used + need) cap *= 2;
    const grown = new Uint8Array(cap);
    grown.set(this.data.subarray(0, this.used));
    this.data = grown;
  }

  /** Appends bytes. */
  put(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.data.set(bytes, this.used);
    this.used += bytes.length;
  }

  /** Adds a row, or lets `merge` fold it into the last row (true when it did). */
  row(a: number, b: number, c: number, merge?: (rows: number[], last: number) => boolean): void {
    const n = this.rows.length;
    if (!(n && merge?.(this.rows, n - 3))) this.rows.push(a, b, c);
    this.schedule();
  }

  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.flush());
  }

  /** Posts this turn as one message (its buffers transferred). */
  flush(): void {
    this.#scheduled = false;
    if (!this.rows.length) return;
    const data = this.data.slice(0, this.used).buffer;
    const rows = Int32Array.from(this.rows);
    this.rows = [];
    this.used = 0;
    if (this.data.length > 1 << 20) this.data = new Uint8Array(this.initial); // do not pin a huge turn's buffer
    this.post(rows, data);
  }
}

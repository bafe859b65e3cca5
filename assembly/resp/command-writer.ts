// Writes RESP commands (arrays of bulk strings): effects, snapshots.
import { ByteBuffer } from "../util/buffer";
import { appendIdText, idTextLength } from "../core/ids";

@final
export class CommandWriter {
  buf: ByteBuffer = new ByteBuffer();

  @inline crlf(): void { this.buf.appendByte(13); this.buf.appendByte(10); }

  /** The `$<n>\r\n` of a bulk argument whose bytes the caller supplies (then crlf()). */
  bulkHeader(n: i32): void { this.buf.appendByte(36); this.buf.appendI64(n); this.crlf(); }

  begin(n: i32): void { this.buf.appendByte(42); this.buf.appendI64(n); this.crlf(); }

  arg(p: usize, n: i32): void {
    this.buf.appendByte(36); this.buf.appendI64(n); this.crlf();
    this.buf.appendBytes(p, n); this.crlf();
  }

  argAscii(s: string): void {
    this.buf.appendByte(36); this.buf.appendI64(s.length); this.crlf();
    this.buf.appendAscii(s); this.crlf();
  }

  /** A key / name held as a byte-per-char string. */
  argKey(k: string): void {
    const n = k.length;
    this.buf.appendByte(36); this.buf.appendI64(n); this.crlf();
    if (!this.buf.reserve(n)) return;
    const dst = this.buf.ptr + <usize>this.buf.len;
    const src = changetype<usize>(k);
    for (let i = 0; i < n; i++) store<u8>(dst + <usize>i, <u8>load<u16>(src + (<usize>i << 1)));
    this.buf.len += n;
    this.crlf();
  }

  argI64(v: i64): void { this.argAscii(v.toString()); }
  argU64(v: u64): void { this.argAscii(v.toString()); }

  argId(ms: u64, seq: u64): void {
    this.buf.appendByte(36); this.buf.appendI64(idTextLength(ms, seq)); this.crlf();
    appendIdText(this.buf, ms, seq); this.crlf();
  }

  /** Moves up to cap pending bytes to dst; returns how many (0 when drained). */
  drainTo(dst: usize, cap: i32): i32 { return this.buf.drainTo(dst, cap); }
}

// Encoder for the typed XADD fast path (`rv_xadd_batch`, layout in assembly/server/fastpath.ts):
// rows are packed into the scratch region as length-prefixed bytes, many per crossing, and the engine
// answers with the entries' IDs as u64 pairs — no RESP text on either side.
import { ReplyError } from './resp.js';
import type { InProcessHost as Host } from './engine.js';
import { BATCH_MAX_ROWS, BatchResult } from './abi.js';

const encoder = new TextEncoder();
const OOM = "OOM command not allowed when used memory > 'maxmemory'.";
const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

/** Writes `s` as u32 length + UTF-8 at `at`; returns the new offset, or -1 if it does not fit. */
function put(view: DataView, bytes: Uint8Array, at: number, s: string): number {
  const n = s.length;
  if (n <= 64 && at + 4 + n <= bytes.length) {
    // Short ASCII (numbers, field names, IDs): a plain loop beats an encodeInto call.
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      bytes[at + 4 + i] = c;
    }
    if (i === n) {
      view.setUint32(at, n, true);
      return at + 4 + n;
    }
  }
  if (at + 4 + s.length > bytes.length) {
    // Worst case UTF-8 is 3 bytes per UTF-16 unit; check precisely only when it may not fit.
    const enc = encoder.encode(s);
    if (at + 4 + enc.length > bytes.length) return -1;
    view.setUint32(at, enc.length, true);
    bytes.set(enc, at + 4);
    return at + 4 + enc.length;
  }
  const { read, written } = encoder.encodeInto(s, bytes.subarray(at + 4));
  if (read !== s.length) return -1;
  view.setUint32(at, written, true);
  return at + 4 + written;
}

function fail(code: number): never {
  if (code === BatchResult.WRONGTYPE) throw new ReplyError(WRONGTYPE);
  if (code === BatchResult.OOM) throw new ReplyError(OOM);
  if (code === BatchResult.EXHAUSTED) throw new ReplyError('ERR The stream has exhausted the last possible ID, unable to add more items');
  if (code === BatchResult.BUSY) throw new Error('rivulet: xaddBatch needs a connection that is not blocked or inside MULTI');
  throw new Error(`rivulet: rv_xadd_batch rejected the batch (code ${code})`);
}

export function xaddBatch(
  host: Host,
  conn: number,
  key: string,
  fields: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string[] {
  if (fields.length === 0) throw new TypeError('xaddBatch: at least one field name');
  const ids: string[] = new Array(rows.length);
  let done = 0;
  while (done < rows.length) {
    const bytes = host.raw.scratch();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = put(view, bytes, 0, key);
    if (at < 0 || at + 4 > bytes.length) throw new RangeError('xaddBatch: key too large for one crossing');
    view.setUint32(at, fields.length, true);
    at += 4;
    for (const f of fields) {
      at = put(view, bytes, at, f);
      if (at < 0) throw new RangeError('xaddBatch: field names too large for one crossing');
    }
    const countAt = at;
    at += 4;
    let count = 0;
    // At most BATCH_MAX_ROWS per crossing: the engine writes 16 bytes of ID per row back into scratch.
    for (let r = done; r < rows.length && count < BATCH_MAX_ROWS; r++) {
      const row = rows[r];
      if (row.length !== fields.length) throw new TypeError(`xaddBatch: row ${r} has ${row.length} values for ${fields.length} fields`);
      let next = at;
      for (let f = 0; f < row.length && next >= 0; f++) next = put(view, bytes, next, String(row[f]));
      if (next < 0) break;
      at = next;
      count++;
    }
    if (count === 0) throw new RangeError(`xaddBatch: row ${done} is too large for one crossing; use xadd`);
    view.setUint32(countAt, count, true);
    host.xaddBatch(conn, at, (added) => {
      if (added < 0) fail(added);
      const out = host.raw.scratch();
      const ov = new DataView(out.buffer, out.byteOffset, out.byteLength);
      let prefixMs = -1;
      let prefix = '';
      for (let i = 0; i < added; i++) {
        const o = i * 16;
        const msHi = ov.getUint32(o + 4, true);
        const seqHi = ov.getUint32(o + 12, true);
        if (msHi >= 0x200000 || seqHi >= 0x200000) {
          // Beyond 2^53: exact via BigInt (rare: explicit huge IDs came before).
          ids[done + i] = `${ov.getBigUint64(o, true)}-${ov.getBigUint64(o + 8, true)}`;
          continue;
        }
        const ms = msHi * 0x100000000 + ov.getUint32(o, true);
        if (ms !== prefixMs) { prefixMs = ms; prefix = `${ms}-`; }
        ids[done + i] = prefix + (seqHi * 0x100000000 + ov.getUint32(o + 8, true));
      }
      done += added;
      if (added < count) fail(BatchResult.EXHAUSTED);
    });
  }
  return ids;
}

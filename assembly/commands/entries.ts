// Writing stream entries as replies: [id, [field, value, ...]] and ranges of them.
import * as W from "../resp/writer";
import { Entry } from "../core/block";
import { Stream, StreamIterator } from "../core/stream";
import { deliveryFull } from "../server/dispatch";

export function writeEntry(e: Entry): void {
  W.arrayLen(2);
  writeEntryParts(e);
}

/** The id and the field/value array, without the enclosing array header. */
export function writeEntryParts(e: Entry): void {
  W.bulkId(e.ms, e.seq);
  W.arrayLen(<i64>e.nfields * 2);
  e.startFields();
  for (let i: u32 = 0; i < e.nfields; i++) {
    e.nextField();
    W.bulk(e.fieldPtr, e.fieldLen);
    W.bulk(e.valuePtr, e.valueLen);
  }
}

/** streamReplyWithRange without groups: entries in [start, end], at most count (0 = all). With
 *  `partial` (XREAD) it may stop early when the reply or the budget runs full (dispatch.deliveryFull). */
export function writeRange(s: Stream, sms: u64, sseq: u64, ems: u64, eseq: u64, count: i64, rev: bool, partial: bool = false): i64 {
  const at = W.deferLen();
  const it = new StreamIterator(s, sms, sseq, ems, eseq, rev);
  let n: i64 = 0;
  while ((count == 0 || n < count) && !(partial && n > 0 && deliveryFull()) && it.next()) {
    writeEntry(it.entry);
    n++;
  }
  W.setDeferredArray(at, n);
  return n;
}

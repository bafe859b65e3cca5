// Replaying an AOF or snapshot on a loading connection (rv_set_loading): Redis's loadAppendOnlyFile
// rules for the input, with the bookkeeping a host needs to judge the file (LoadStatus). Commands run
// as for any client (processCommand); their replies are dropped, their errors counted. Under a page
// budget they may use most of the reserve (util/heap.ts) and fail with OOM past it. The input must
// be multibulk commands; NUL bytes after the last command are a crash's tail, anything else that is
// not a command stops the replay at its offset.
import { Client } from "./client";
import { LoadState } from "./load-state";
import { processCommand } from "./dispatch";
import { parseCommand, PARSE_NEED_MORE, PARSE_ERROR, PARSE_EMPTY, protocolError } from "../resp/parser";
import * as W from "../resp/writer";
import { LoadStatus, LOAD_ERROR_TEXT_MAX } from "../abi";
import { setLoadingTier } from "../util/heap";

/** Starts (or restarts) the bookkeeping of a loading connection. */
export function beginLoading(c: Client): void {
  c.loading = true;
  c.load = new LoadState();
}

/** Stops the replay at offset `at`: input after it is not run. */
function invalidInput(c: Client, ls: LoadState, at: i64, why: string): void {
  ls.protocolErrorAt = at;
  ls.protocolErrorText = why;
  c.input.clear();
  c.closeAfterReply = true;
}

function byteName(b: u8): string {
  if (b > 32 && b < 127) return "'" + String.fromCharCode(b) + "'";
  return "byte 0x" + (b < 16 ? "0" : "") + (<u32>b).toString(16);
}

/** Runs every complete command of a loading connection's input (processInput's twin). */
export function loadInput(c: Client): void {
  const ls = c.load!;
  const buf = c.input;
  while (!c.closeAfterReply && !c.closed && buf.pos < buf.len) {
    const b = buf.byteAt(buf.pos);
    if (b == 0) {
      const from = buf.pos;
      while (buf.pos < buf.len && buf.byteAt(buf.pos) == 0) buf.pos++;
      ls.nulTail += buf.pos - from;
      continue;
    }
    if (ls.nulTail > 0) { invalidInput(c, ls, ls.consumed, "Protocol error: NUL bytes followed by more data"); break; }
    if (b != 42) { invalidInput(c, ls, ls.consumed, "Protocol error: expected '*', got " + byteName(b)); break; }
    const start = buf.pos;
    const r = parseCommand(buf, c.args, c.inlineArena);
    if (r == PARSE_NEED_MORE) break;
    if (r == PARSE_ERROR) { invalidInput(c, ls, ls.consumed, protocolError); break; }
    const at = ls.consumed;
    ls.consumed += buf.pos - start;
    if (r == PARSE_EMPTY) continue;
    ls.commands++;
    const wasInMulti = c.inMulti;
    W.watchErrors(c.output);
    setLoadingTier(true);
    processCommand(c, c.args);
    setLoadingTier(false);
    if (!c.inMulti) ls.multiStart = -1;
    else if (!wasInMulti) ls.multiStart = at;
    if (W.watchedErrors > 0) noteErrors(c, ls, at);
    W.watchErrors(null);
    c.output.clear();
  }
  if (buf.pos >= buf.len) buf.clear(); else buf.compact();
}

/** The input overflowed the query buffer limit (rv_feed closes the connection). */
export function loadOverflow(c: Client): void {
  const ls = c.load!;
  if (ls.protocolErrorAt < 0) ls.protocolErrorAt = ls.consumed;
  if (ls.protocolErrorText.length == 0) ls.protocolErrorText = "Protocol error: a command larger than client-query-buffer-limit";
}

function noteErrors(c: Client, ls: LoadState, at: i64): void {
  ls.errors += W.watchedErrors;
  if (ls.firstErrorAt >= 0) return;
  ls.firstErrorAt = at;
  // The first error's text: from after its '-' to the CR (the reply may have been cut and rewound
  // when it outgrew its limit; then only what is still there is taken).
  const out = c.output;
  let from = W.firstWatchedError + 1;
  if (from <= 0 || from > out.len) from = out.len;
  let end = from;
  while (end < out.len && out.byteAt(end) != 13 && end - from < LOAD_ERROR_TEXT_MAX) end++;
  const t = new StaticArray<u8>(end - from);
  memory.copy(changetype<usize>(t), out.ptr + <usize>from, <usize>(end - from));
  ls.errorText = t;
}

/** Writes the LoadStatus record of `c` and its texts at `p`; returns their byte length. */
export function writeLoadStatus(c: Client, p: usize): i32 {
  const ls = c.load != null ? c.load! : new LoadState();
  const r = changetype<LoadStatus>(p);
  r.consumed = <f64>ls.consumed;
  r.commands = <f64>ls.commands;
  r.pending = <f64>(c.input.len - c.input.pos);
  r.multiStart = c.inMulti ? <f64>ls.multiStart : -1;
  r.errors = <f64>ls.errors;
  r.firstErrorAt = <f64>ls.firstErrorAt;
  r.protocolErrorAt = <f64>ls.protocolErrorAt;
  r.nulTail = <f64>ls.nulTail;
  r.inMulti = c.inMulti ? 1 : 0;
  const errorLen = ls.errorText.length;
  let protoLen = ls.protocolErrorText.length;
  if (protoLen > LOAD_ERROR_TEXT_MAX) protoLen = LOAD_ERROR_TEXT_MAX;
  r.errorLen = errorLen;
  r.protocolErrorLen = protoLen;
  r.reserved = 0;
  let at = p + offsetof<LoadStatus>();
  memory.copy(at, changetype<usize>(ls.errorText), <usize>errorLen);
  at += <usize>errorLen;
  const s = changetype<usize>(ls.protocolErrorText);
  for (let i = 0; i < protoLen; i++) store<u8>(at + <usize>i, <u8>load<u16>(s + (<usize>i << 1)));
  return <i32>offsetof<LoadStatus>() + errorLen + protoLen;
}

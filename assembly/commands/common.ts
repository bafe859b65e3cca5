// Shared pieces of the command layer: exact Redis errors, argument parsing with error replies,
// typed key lookups.
import { Args } from "../resp/args";
import { Client } from "../server/client";
import { replyError, noteError } from "../server/dispatch";
import * as W from "../resp/writer";
import { parseI64, parsedI64 } from "../util/numbers";
import { StreamID, parseStreamId, parsedSeqGiven, parsedSeqAuto } from "../core/ids";
import { Value, StreamValue, TYPE_STREAM } from "../core/keyspace";

export const ERR_WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
export const ERR_SYNTAX = "ERR syntax error";
export const ERR_NOT_INTEGER = "ERR value is not an integer or out of range";
export const ERR_INVALID_ID = "ERR Invalid stream ID specified as stream command argument";
export const ERR_NO_SUCH_KEY = "ERR no such key";

export function wrongType(): void { replyError(ERR_WRONGTYPE); }

/** addReplySubcommandSyntaxError: the subcommand as typed (at most 128 bytes), the container's HELP. */
export function subcommandSyntaxError(a: Args, container: string): void {
  W.errorBegin();
  W.errorText("ERR unknown subcommand or wrong number of arguments for '");
  W.errorBytes(a.ptr(1), a.len(1), 128);
  W.errorText("'. Try " + container + " HELP.");
  W.errorEnd();
  noteError("ERR");
}
export function syntaxError(): void { replyError(ERR_SYNTAX); }

/** Parsed integer of the last successful argInt call. */
export let argInt: i64 = 0;

/** getLongLongFromObjectOrReply. */
export function parseIntArg(a: Args, i: i32, err: string = ERR_NOT_INTEGER): bool {
  if (!parseI64(a.ptr(i), a.len(i))) { replyError(err); return false; }
  argInt = parsedI64;
  return true;
}

/** Parses a stream ID argument or replies with the invalid-ID error. */
export function parseIdArg(a: Args, i: i32, out: StreamID, missingSeq: u64, strict: bool): bool {
  if (!parseStreamId(a.ptr(i), a.len(i), out, missingSeq, strict, false)) { replyError(ERR_INVALID_ID); return false; }
  return true;
}

/** XADD's ID: strict, and `<ms>-*` allowed. */
export let idSeqGiven: bool = true;
export function parseAddIdArg(a: Args, i: i32, out: StreamID): bool {
  if (!parseStreamId(a.ptr(i), a.len(i), out, 0, true, true)) { replyError(ERR_INVALID_ID); return false; }
  idSeqGiven = !parsedSeqAuto;
  return true;
}

/** Interval bound with optional `(` exclusion (streamParseIntervalIDOrReply). */
export let intervalExclusive: bool = false;
export function parseIntervalArg(a: Args, i: i32, out: StreamID, missingSeq: u64): bool {
  const n = a.len(i);
  const p = a.ptr(i);
  intervalExclusive = n > 1 && load<u8>(p) == 40;
  const ok = intervalExclusive
    ? parseStreamId(p + 1, n - 1, out, missingSeq, true, false)
    : parseStreamId(p, n, out, missingSeq, false, false);
  if (!ok) { replyError(ERR_INVALID_ID); return false; }
  return true;
}

/** Lookup result states for typed lookups. */
export const LOOKUP_MISSING: i32 = 0;
export const LOOKUP_FOUND: i32 = 1;
export const LOOKUP_WRONGTYPE: i32 = 2;
export let lookupState: i32 = 0;

/** Looks a stream up; replies WRONGTYPE itself when the key holds another type. */
export function lookupStream(c: Client, key: string): StreamValue | null {
  const v: Value | null = c.db.lookup(key);
  if (v == null) { lookupState = LOOKUP_MISSING; return null; }
  if (v.type != TYPE_STREAM) { lookupState = LOOKUP_WRONGTYPE; wrongType(); return null; }
  lookupState = LOOKUP_FOUND;
  return changetype<StreamValue>(v);
}

export { parsedSeqGiven };

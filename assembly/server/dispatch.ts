// The command loop: parse requests from a client's input, check existence / arity / OOM / MULTI the way
// Redis's processCommand does, run handlers, then serve blocked clients whose keys became ready.
import { Client } from "./client";
import { Args, bytesToKey } from "../resp/args";
import { parseCommand, PARSE_OK, PARSE_EMPTY, PARSE_ERROR, protocolError } from "../resp/parser";
import * as W from "../resp/writer";
import { config, countCommand, clients, dirty } from "./state";
import { beginUnit, endUnit, customPropagated, resetCustom, verbatim } from "./effects";
import { usedMemory } from "../util/memory";
import { roomForWrite, roomForDelivery, collectIfLow } from "../util/heap";
import { hasReadyKeys, takeResume, announce } from "./blocking";
import { lower } from "../util/numbers";

export const CMD_WRITE: i32 = 1;
export const CMD_DENYOOM: i32 = 2;
export const CMD_READONLY: i32 = 4;
export const CMD_BLOCKING: i32 = 8;
export const CMD_FAST: i32 = 16;
export const CMD_ADMIN: i32 = 32;
export const CMD_NOSCRIPT: i32 = 64;
export const CMD_LOADING: i32 = 128;
export const CMD_STALE: i32 = 256;
export const CMD_NO_AUTH: i32 = 512;
/** Runs immediately even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET). */
export const CMD_NOT_QUEUED: i32 = 1024;
export const CMD_PUBSUB: i32 = 2048;
/** Refused inside MULTI (SAVE). */
export const CMD_NO_MULTI: i32 = 4096;

export type Handler = (c: Client, a: Args) => void;

export class Command {
  subcommands: Map<string, Command> | null = null;
  parent: Command | null = null;
  calls: i64 = 0;
  failedCalls: i64 = 0;
  rejectedCalls: i64 = 0;
  constructor(
    public name: string,
    public arity: i32,
    public flags: i32,
    public handler: Handler,
    public firstKey: i32 = 0,
    public lastKey: i32 = 0,
    public keyStep: i32 = 0,
    public group: string = "generic",
  ) {}
  get fullName(): string { return this.parent != null ? this.parent!.name + "|" + this.name : this.name; }
}

export const commandTable = new Map<string, Command>();
/** Allocation-free lookup: 256 buckets indexed by name length and lowercase first byte (small on
 *  purpose: the table is part of the engine's static footprint on devices). */
const MAX_NAME = 32;
const buckets = new StaticArray<Array<Command> | null>(256);
@inline function bucketKey(len: i32, first: u8): i32 { return ((len << 5) ^ <i32>first) & 255; }

export function register(cmd: Command): Command {
  commandTable.set(cmd.name, cmd);
  const k = bucketKey(cmd.name.length, <u8>cmd.name.charCodeAt(0));
  let list = buckets[k];
  if (list == null) { list = new Array<Command>(); buckets[k] = list; }
  list.push(cmd);
  return cmd;
}

function findIn(list: Array<Command>, a: Args, i: i32): Command | null {
  for (let j = 0; j < list.length; j++) if (a.is(i, list[j].name)) return list[j];
  return null;
}

export function registerSub(parent: Command, sub: Command): void {
  if (parent.subcommands == null) parent.subcommands = new Map<string, Command>();
  sub.parent = parent;
  parent.subcommands!.set(sub.name, sub);
}

function lowerName(p: usize, n: i32): string {
  const s = changetype<string>(__new(<usize>n << 1, idof<string>()));
  const d = changetype<usize>(s);
  for (let i = 0; i < n; i++) store<u16>(d + (<usize>i << 1), lower(load<u8>(p + <usize>i)));
  return s;
}

/** Redis lookupCommand: base command, or its subcommand when it is a container. */
function lookup(a: Args): Command | null {
  const n = a.len(0);
  if (n == 0 || n >= MAX_NAME) return null;
  const list = unchecked(buckets[bucketKey(n, lower(load<u8>(a.ptr(0))))]);
  if (list == null) return null;
  const base = findIn(list, a, 0);
  if (base == null || base.subcommands == null || a.count < 2) return base;
  const sub = lowerName(a.ptr(1), a.len(1));
  return base.subcommands!.has(sub) ? base.subcommands!.get(sub) : null;
}

function isContainer(a: Args): Command | null {
  const name = lowerName(a.ptr(0), a.len(0));
  if (!commandTable.has(name)) return null;
  const base = commandTable.get(name);
  return base.subcommands != null ? base : null;
}

// ---- error statistics (INFO errorstats) ----
export const errorStats = new Map<string, i64>();
export let totalErrorReplies: i64 = 0;
export function resetErrorStats(): void { errorStats.clear(); totalErrorReplies = 0; }

/** Counts an error reply by its code (first word), as Redis's errorstats does. */
export function countError(code: string): void {
  totalErrorReplies++;
  errorStats.set(code, errorStats.has(code) ? errorStats.get(code) + 1 : 1);
}

let currentFailed = false;
/** Replies with an error and records it for stats; msg includes the code. */
export function replyError(msg: string): void {
  W.error(msg);
  const sp = msg.indexOf(" ");
  countError(sp > 0 ? msg.substring(0, sp) : msg);
  currentFailed = true;
}

export function replyErrorCustom(code: string): void {
  countError(code);
  currentFailed = true;
}

/** Marks the current command as failed without emitting (the error was written in pieces). */
export function noteError(code: string): void { replyErrorCustom(code); }

/** The running command counts as failed though its own reply is not an error (CLIENT UNBLOCK ...
 *  ERROR: Redis counts the error it sends to the unblocked client against the caller too). */
export function markCallFailed(): void { currentFailed = true; }

/** The command a blocked client is parked in: its last command (XREAD / XREADGROUP). */
function blockedCommand(c: Client): Command | null {
  const name = c.lastCmd;
  const bar = name.indexOf("|");
  const base = bar < 0 ? name : name.substring(0, bar);
  if (!commandTable.has(base)) return null;
  const cmd = commandTable.get(base);
  if (bar < 0) return cmd;
  const sub = name.substring(bar + 1);
  return cmd.subcommands != null && cmd.subcommands!.has(sub) ? cmd.subcommands!.get(sub) : null;
}

/** A blocked client is unblocked in a way Redis counts as a failed call of its blocking command
 *  (updateStatsOnUnblock with errors). */
export function failBlockedCall(c: Client): void {
  const cmd = blockedCommand(c);
  if (cmd != null) cmd.failedCalls++;
}

/**
 * Error reply to a blocked client as it is unblocked (group or key gone, CLIENT UNBLOCK ERROR): like
 * Redis's addReplyError on that client, it counts in errorstats / total_error_replies, and as a failed
 * call of the command it was blocked in, not of the command that woke it. Leaves the reply target on
 * that client.
 */
export function replyErrorToBlocked(c: Client, msg: string): void {
  W.setTarget(c.output, c.resp);
  W.error(msg);
  const sp = msg.indexOf(" ");
  countError(sp > 0 ? msg.substring(0, sp) : msg);
  failBlockedCall(c);
}

export const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";

/**
 * maxmemory: Redis's rule (used memory above the limit refuses denyoom commands).
 * Page budget: the allocator must hold a free block of the reserve (util/heap.ts) after a collection,
 * so that what denyoom writes leave covers every other command; `need` is what the write itself adds.
 */
export function outOfMemory(need: i64 = 0): bool {
  if (config.maxmemory > 0 && usedMemory() > config.maxmemory) return true;
  if (config.pageBudget > 0 && !roomForWrite(need)) return true;
  return false;
}

/** What a denyoom command may copy of its arguments: into the dataset and into its effect. */
function storedBytes(a: Args): i64 {
  let n: i64 = 0;
  for (let i = 1; i < a.count; i++) n += <i64>a.len(i);
  return n * 2;
}

function rejectWith(c: Client, cmd: Command | null, isExec: bool, msg: string): void {
  if (c.inMulti) c.multiFailed = true;
  if (cmd != null) cmd.rejectedCalls++;
  if (isExec) {
    c.discardMulti();
    replyError("EXECABORT Transaction discarded because of: " + (msg.startsWith("ERR ") ? msg.substring(4) : msg));
  } else replyError(msg);
}

/** Redis formats these errors with %s, which stops at a NUL byte. */
function cStrLen(p: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) if (load<u8>(p + <usize>i) == 0) return i;
  return n;
}

function unknownCommandError(c: Client, a: Args): void {
  const container = a.count >= 2 ? isContainer(a) : null;
  if (c.inMulti) c.multiFailed = true;
  W.errorBegin();
  if (container != null) {
    W.errorText("ERR unknown subcommand '");
    W.errorBytes(a.ptr(1), a.len(1), 128);
    W.errorText("'. Try " + container.name.toUpperCase() + " HELP.");
  } else {
    W.errorText("ERR unknown command '");
    W.errorBytes(a.ptr(0), cStrLen(a.ptr(0), a.len(0)), 128);
    W.errorText("', with args beginning with: ");
    let used = 0;
    for (let i = 1; i < a.count && used < 128; i++) {
      const room = 128 - used;
      const len = cStrLen(a.ptr(i), a.len(i));
      const n = len < room ? len : room;
      W.errorText("'");
      W.errorBytes(a.ptr(i), n);
      W.errorText("' ");
      used += n + 3;
    }
  }
  W.errorEnd();
  countError("ERR");
}

/** Runs one parsed command for a client (processCommand). */
export function processCommand(c: Client, a: Args): void {
  collectIfLow();
  W.setTarget(c.output, c.resp);
  const cmd = lookup(a);
  if (cmd == null) { unknownCommandError(c, a); return; }
  const isExec = cmd.name == "exec";
  if ((cmd.arity > 0 && cmd.arity != a.count) || a.count < -cmd.arity) {
    rejectWith(c, cmd, isExec, "ERR wrong number of arguments for '" + cmd.fullName + "' command");
    return;
  }
  if (!c.authenticated && (cmd.flags & CMD_NO_AUTH) == 0) {
    rejectWith(c, cmd, isExec, "NOAUTH Authentication required.");
    return;
  }
  if (c.inMulti && (cmd.flags & CMD_NO_MULTI) != 0) {
    rejectWith(c, cmd, isExec, "ERR Command not allowed inside a transaction");
    return;
  }
  if (c.loading) {
    // Replay obeys no maxmemory, but cannot pass the page budget: it fails with OOM errors instead
    // (using most of the reserve first: util/heap.ts).
    if (config.pageBudget > 0 && (cmd.flags & CMD_DENYOOM) != 0 && !roomForWrite(storedBytes(a))) {
      rejectWith(c, cmd, isExec, OOM_ERROR);
      return;
    }
  } else if (config.maxmemory > 0 || config.pageBudget > 0) {
    let denyOom = (cmd.flags & CMD_DENYOOM) != 0 || (isExec && c.multiDenyOom);
    if (c.inMulti && (cmd.flags & CMD_NOT_QUEUED) == 0) denyOom = true;
    if (c.inMulti && (isExec || cmd.name == "discard" || cmd.name == "quit" || cmd.name == "reset")) {
      denyOom = isExec && c.multiDenyOom;
    }
    if (denyOom && outOfMemory(storedBytes(a))) { rejectWith(c, cmd, isExec, OOM_ERROR); return; }
  }
  if (c.inMulti && (cmd.flags & CMD_NOT_QUEUED) == 0) {
    c.multiQueue.push(a);
    if (cmd.flags & CMD_DENYOOM) c.multiDenyOom = true;
    W.simple("QUEUED");
    return;
  }
  call(c, cmd, a);
  serveBlockedAfterWrite();
}

/** Runs a command handler with stats (Redis call()). */
export function call(c: Client, cmd: Command, a: Args): void {
  // EXEC nests calls: an error of a queued command fails that command only, not EXEC.
  const outerFailed = currentFailed;
  currentFailed = false;
  c.lastCmd = cmd.fullName;
  beginUnit();
  const before = dirty;
  const mark = c.output.len;
  c.output.limit = replyLimit();
  cmd.handler(c, a);
  guardReply(c, mark);
  if (dirty != before && !customPropagated && (cmd.flags & CMD_WRITE) != 0) verbatim(a, c.db.id);
  resetCustom();
  endUnit();
  cmd.calls++;
  if (currentFailed) cmd.failedCalls++;
  currentFailed = outerFailed;
  countCommand();
}

/** Under a page budget one reply may take at most an eighth of it (it is built before it is sent);
 *  otherwise a connection's unread output is capped at 256 MiB, far below what a 32-bit linear memory
 *  can allocate, so a runaway read answers an error instead of exhausting the engine. */
export function replyLimit(): i32 {
  return config.pageBudget > 0 ? <i32>((<i64>config.pageBudget << 16) / 8) : 256 << 20;
}

/**
 * Reads that deliver entries one by one (XREADGROUP, XREAD, XAUTOCLAIM, woken readers) stop before the
 * next one when the reply has used half its limit or the page budget runs low: the client gets fewer
 * entries (and reads on from the last one), never an error after entries were already delivered.
 */
export function deliveryFull(): bool {
  const out = W.target();
  if (out.limit > 0 && out.len > out.limit >> 1) return true;
  return config.pageBudget > 0 && !roomForDelivery();
}

/** A reply that hit the limit (or found no room under the page budget) is replaced by an error (the
 *  command's effects, if any, stand). */
export function guardReply(c: Client, mark: i32): void {
  if (!c.output.overflowed) return;
  c.output.rewind(mark);
  W.setTarget(c.output, c.resp);
  replyError(ERR_REPLY_TOO_LARGE);
}

export const ERR_REPLY_TOO_LARGE = "ERR reply exceeds the memory budget of this engine; read in smaller pieces (COUNT)";

/** Looks a queued command up again for EXEC (it was validated when queued). */
export function lookupQueued(a: Args): Command { return lookup(a)!; }

// Hook set by the stream command layer: serves clients blocked on keys signalled as ready.
let serveReady: () => void = noop;
function noop(): void {}
export function setServeReady(f: () => void): void { serveReady = f; }

/** After a top-level command / EXEC: serve ready keys, then run input of clients that were unblocked. */
export function serveBlockedAfterWrite(): void {
  if (hasReadyKeys()) serveReady();
}

/** Runs every complete command in the client's input. Returns false if the connection must close. */
export function processInput(c: Client): void {
  const buf = c.input;
  while (!c.closeAfterReply && !c.parked && !c.closed) {
    const r = parseCommand(buf, c.args, c.inlineArena);
    if (r == PARSE_OK) {
      processCommand(c, c.args);
    } else if (r == PARSE_EMPTY) {
      continue;
    } else if (r == PARSE_ERROR) {
      W.setTarget(c.output, c.resp);
      W.error("ERR " + protocolError);
      countError("ERR");
      c.closeAfterReply = true;
      buf.clear();
      break;
    } else break;
  }
  if (!c.parked) buf.compact();
}

/** Runs input of clients unblocked during the last command, until no more work appears. */
export function drainResumed(current: Client | null): void {
  let r = takeResume();
  while (r != null) {
    const c = r!;
    if (!c.closed) {
      processInput(c);
      if (c != current) announce(c);
    }
    r = takeResume();
  }
}

export function getClient(id: i32): Client | null { return clients.has(id) ? clients.get(id) : null; }

export { bytesToKey };

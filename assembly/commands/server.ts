// Server commands: INFO, CLIENT LIST/INFO/KILL/UNBLOCK/NO-EVICT, COMMAND, AUTH, TIME, RESET,
// SHUTDOWN. The engine answers; the host acts on the requests it is given.
import { Args, bytesToKey } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { ByteBuffer } from "../util/buffer";
import { replyError, noteError, replyErrorToBlocked, failBlockedCall, markCallFailed, replyLimit, ERR_REPLY_TOO_LARGE, commandTable, Command, errorStats, totalErrorReplies, resetErrorStats,
  CMD_WRITE, CMD_DENYOOM, CMD_READONLY, CMD_BLOCKING, CMD_FAST, CMD_ADMIN, CMD_NOSCRIPT, CMD_LOADING, CMD_STALE, CMD_NO_AUTH, CMD_NO_MULTI } from "../server/dispatch";
import { config, clients, dbs, nowMs, dirty, totalCommands, requestHost, resetCommandCount } from "../server/state";
import { HostRequest } from "../abi";
import { jobs } from "../server/jobs";
import { persistenceInfo } from "./persistence";
import { blockedClients, unpark, announce } from "../server/blocking";
import { usedMemory } from "../util/memory";
import { totalFreeBytes, largestFreeBlock } from "../util/heap";
import { DB_COUNT } from "../core/keyspace";
import { parseIntArg, argInt, syntaxError } from "./common";
import { REDIS_VERSION } from "./connection";
import { setResetStatHook, settingValue } from "./config";
import { compareBytes } from "../core/groups";

export const RIVULET_VERSION = "0.1.0";

// ---- host-provided INFO lines ----
const hostInfo = new Map<string, Array<string>>();

/** `section\tfield:value` lines from the host replace its previous set. */
export function setHostInfo(p: usize, n: i32): void {
  hostInfo.clear();
  let start = 0;
  for (let i = 0; i <= n; i++) {
    if (i == n || load<u8>(p + <usize>i) == 10) {
      if (i > start) {
        const line = bytesToKey(p + <usize>start, i - start);
        const tab = line.indexOf("\t");
        if (tab > 0) {
          const sec = line.substring(0, tab);
          if (!hostInfo.has(sec)) hostInfo.set(sec, new Array<string>());
          hostInfo.get(sec).push(line.substring(tab + 1));
        }
      }
      start = i + 1;
    }
  }
}

export let totalConnections: i64 = 0;
export function countConnection(): void { totalConnections++; }
export function uncountConnection(): void { totalConnections--; }
let peakMemory: i64 = 0;

/** Redis bytesToHuman (the value as an unsigned long long). */
function human(bytes: i64): string {
  const n = <u64>bytes;
  const b = <f64>n;
  if (n < 1024) return n.toString() + "B";
  if (n < 1048576) return fixed2(b / 1024) + "K";
  if (n < 1073741824) return fixed2(b / 1048576) + "M";
  if (n < 1099511627776) return fixed2(b / 1073741824) + "G";
  if (n < 1125899906842624) return fixed2(b / 1099511627776) + "T";
  if (n < 1152921504606846976) return fixed2(b / 1125899906842624) + "P";
  return n.toString() + "B";
}

function fixed2(v: f64): string {
  const r = Math.round(v * 100);
  const i = <i64>(r / 100);
  const f = <i64>r % 100;
  return i.toString() + "." + (f < 10 ? "0" : "") + f.toString();
}

/** A buffer for a text reply built before it is sent: bounded like a reply (dispatch.replyLimit). */
function textBuffer(): ByteBuffer {
  const b = new ByteBuffer();
  b.guarded = true;
  b.limit = replyLimit();
  return b;
}

/** Sends a text reply built in `out` (or the budget error if it could not be built) and frees it. */
function replyText(out: ByteBuffer): void {
  if (out.overflowed) replyError(ERR_REPLY_TOO_LARGE);
  else W.verbatim(out.ptr, out.len);
  out.free();
}

class InfoWriter {
  out: ByteBuffer = textBuffer();
  sections: i32 = 0;
  section(title: string, key: string): void {
    if (this.sections++ > 0) this.out.appendAscii("\r\n");
    this.out.appendAscii("# " + title + "\r\n");
  }
  line(s: string): void { this.out.appendAscii(s); this.out.appendAscii("\r\n"); }
  host(key: string): void {
    if (!hostInfo.has(key)) return;
    const lines = hostInfo.get(key);
    for (let i = 0; i < lines.length; i++) this.line(lines[i]);
  }
}

function wants(a: Args, name: string, isDefault: bool): bool {
  if (a.count == 1) return isDefault;
  for (let i = 1; i < a.count; i++) {
    if (a.is(i, name)) return true;
    if (a.is(i, "all") && name != "commandstats" && name != "latencystats") return true;
    if (a.is(i, "all")) return name == "commandstats";
    if (a.is(i, "everything")) return true;
    if (a.is(i, "default") && isDefault) return true;
  }
  return false;
}

// INFO [section [section ...]]
export function infoCommand(c: Client, a: Args): void {
  const w = new InfoWriter();
  const used = usedMemory();
  if (used > peakMemory) peakMemory = used;
  if (wants(a, "server", true)) {
    w.section("Server", "server");
    w.line("redis_version:" + REDIS_VERSION);
    w.line("rivulet_version:" + RIVULET_VERSION);
    w.line("redis_mode:standalone");
    w.line("arch_bits:32");
    w.line("multiplexing_api:host");
    w.host("server");
  }
  if (wants(a, "clients", true)) {
    w.section("Clients", "clients");
    w.line("connected_clients:" + visibleClients().length.toString());
    w.line("maxclients:" + settingValue("maxclients")!);
    w.line("blocked_clients:" + blockedClients.toString());
    w.line("tracking_clients:0");
    w.line("clients_in_timeout_table:" + blockedClients.toString());
    w.host("clients");
  }
  if (wants(a, "memory", true)) {
    w.section("Memory", "memory");
    w.line("used_memory:" + used.toString());
    w.line("used_memory_human:" + human(used));
    w.line("used_memory_peak:" + peakMemory.toString());
    w.line("used_memory_peak_human:" + human(peakMemory));
    w.line("wasm_linear_memory:" + (<i64>memory.size() << 16).toString());
    w.line("allocator_free_bytes:" + totalFreeBytes().toString());
    w.line("allocator_largest_free_block:" + largestFreeBlock().toString());
    w.line("maxmemory:" + config.maxmemory.toString());
    w.line("maxmemory_human:" + human(config.maxmemory));
    w.line("maxmemory_policy:" + config.maxmemoryPolicy);
    w.line("page_budget:" + config.pageBudget.toString());
    w.host("memory");
  }
  if (wants(a, "persistence", true)) {
    w.section("Persistence", "persistence");
    const lines = persistenceInfo(hostInfo.has("persistence") ? hostInfo.get("persistence") : null, nowMs);
    for (let i = 0; i < lines.length; i++) w.line(lines[i]);
  }
  if (wants(a, "stats", true)) {
    w.section("Stats", "stats");
    w.line("total_connections_received:" + totalConnections.toString());
    w.line("total_commands_processed:" + totalCommands.toString());
    w.line("total_error_replies:" + totalErrorReplies.toString());
    w.host("stats");
  }
  if (wants(a, "replication", true)) {
    w.section("Replication", "replication");
    w.line("role:master");
    w.line("connected_slaves:0");
    w.host("replication");
  }
  if (wants(a, "errorstats", true)) {
    w.section("Errorstats", "errorstats");
    const codes = errorStats.keys();
    codes.sort((x: string, y: string): i32 => compareBytes(x, y));
    for (let i = 0; i < codes.length; i++) w.line("errorstat_" + codes[i] + ":count=" + errorStats.get(codes[i]).toString());
  }
  if (wants(a, "commandstats", false)) {
    w.section("Commandstats", "commandstats");
    const names = commandTable.keys();
    names.sort((x: string, y: string): i32 => compareBytes(x, y));
    for (let i = 0; i < names.length; i++) {
      const cmd = commandTable.get(names[i]);
      statLine(w, cmd, cmd.name);
      if (cmd.subcommands != null) {
        const subs = cmd.subcommands!.values();
        for (let j = 0; j < subs.length; j++) statLine(w, subs[j], cmd.name + "|" + subs[j].name);
      }
    }
  }
  if (wants(a, "keyspace", true)) {
    w.section("Keyspace", "keyspace");
    for (let d = 0; d < DB_COUNT; d++) {
      const n = dbs[d].size;
      if (n > 0) w.line("db" + d.toString() + ":keys=" + n.toString() + ",expires=0,avg_ttl=0");
    }
  }
  replyText(w.out);
}

function statLine(w: InfoWriter, cmd: Command, name: string): void {
  if (cmd.calls == 0 && cmd.rejectedCalls == 0 && cmd.failedCalls == 0) return;
  // The engine never reads a clock, so per-command time is not measured here.
  w.line("cmdstat_" + name + ":calls=" + cmd.calls.toString() + ",usec=0,usec_per_call=0.00,rejected_calls=" +
    cmd.rejectedCalls.toString() + ",failed_calls=" + cmd.failedCalls.toString());
}

function resetStats(): void {
  const names = commandTable.values();
  for (let i = 0; i < names.length; i++) {
    const cmd = names[i];
    cmd.calls = 0; cmd.failedCalls = 0; cmd.rejectedCalls = 0;
    if (cmd.subcommands != null) {
      const subs = cmd.subcommands!.values();
      for (let j = 0; j < subs.length; j++) { subs[j].calls = 0; subs[j].failedCalls = 0; subs[j].rejectedCalls = 0; }
    }
  }
  resetErrorStats();
  resetCommandCount();
  jobs.resetStats();
  totalConnections = 0;
  peakMemory = usedMemory();
}

// ---- CLIENT ----
function clientLine(out: ByteBuffer, c: Client): void {
  const age = <i64>((nowMs - c.createdMs) / 1000);
  const idle = <i64>((nowMs - c.lastInteractionMs) / 1000);
  let flags = "N";
  if (c.blocked != null) flags = "b";
  if (c.inMulti) flags = "x";
  out.appendAscii("id=" + c.id.toString() + " addr=" + c.addr + " laddr=" + c.laddr + " fd=" + c.id.toString() +
    " name=" + c.name + " age=" + (age < 0 ? 0 : age).toString() + " idle=" + (idle < 0 ? 0 : idle).toString() +
    " flags=" + flags + " db=" + c.db.id.toString() + " sub=0 psub=0 ssub=0 multi=" +
    (c.inMulti ? c.multiQueue.length.toString() : "-1") + " qbuf=" + (c.input.len - c.input.pos).toString() +
    " qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=" + (c.output.len - c.output.pos).toString() +
    " tot-mem=0 events=r cmd=" + c.lastCmd + " user=default redir=-1 resp=" + c.resp.toString() +
    " lib-name=" + c.libName + " lib-ver=" + c.libVer + "\n");
}

function visibleClients(): Array<Client> {
  const all = clients.values();
  const list = new Array<Client>();
  for (let i = 0; i < all.length; i++) if (!all[i].internal) list.push(all[i]);
  return list;
}

function sortedClients(): Array<Client> {
  const list = visibleClients();
  list.sort((x: Client, y: Client): i32 => x.id - y.id);
  return list;
}

// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id [id ...]]
export function clientListCommand(c: Client, a: Args): void {
  let idsFrom = -1;
  if (a.count > 2) {
    if (a.count == 4 && a.is(2, "type")) {
      if (!a.is(3, "normal") && !a.is(3, "master") && !a.is(3, "replica") && !a.is(3, "slave") && !a.is(3, "pubsub")) {
        W.errorBegin(); W.errorText("ERR Unknown client type '"); W.errorBytes(a.ptr(3), a.len(3)); W.errorText("'"); W.errorEnd();
        noteError("ERR");
        return;
      }
      if (!a.is(3, "normal")) { W.verbatim(0, 0); return; }
    } else if (a.count >= 4 && a.is(2, "id")) idsFrom = 3;
    else { syntaxError(); return; }
  }
  const out = textBuffer();
  const list = sortedClients();
  for (let i = 0; i < list.length; i++) {
    if (idsFrom >= 0) {
      let hit = false;
      for (let j = idsFrom; j < a.count; j++) {
        if (!parseIntArg(a, j, "ERR Invalid client ID")) { out.free(); return; }
        if (argInt == list[i].id) hit = true;
      }
      if (!hit) continue;
    }
    clientLine(out, list[i]);
  }
  replyText(out);
}

// CLIENT INFO
export function clientInfoCommand(c: Client, a: Args): void {
  const out = textBuffer();
  clientLine(out, c);
  replyText(out);
}

function killClient(target: Client): void {
  target.closeAfterReply = true;
  target.saveRound = 0;
  unpark(target, false);
  announce(target);
}

// CLIENT KILL <ip:port> | <[ID id] [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no] [USER u] [TYPE t] ...>
export function clientKillCommand(c: Client, a: Args): void {
  if (a.count == 3) {
    const addr = a.str(2);
    const list = sortedClients();
    for (let i = 0; i < list.length; i++) {
      if (list[i].addr == addr) { killClient(list[i]); W.ok(); return; }
    }
    replyError("ERR No such client");
    return;
  }
  if ((a.count & 1) != 0) { syntaxError(); return; }
  let id: i64 = -1;
  let addr = "", laddr = "";
  let skipme = true;
  for (let i = 2; i < a.count; i += 2) {
    if (a.is(i, "id")) { if (!parseIntArg(a, i + 1, "ERR client-id should be greater than 0")) return; id = argInt; }
    else if (a.is(i, "addr")) addr = a.str(i + 1);
    else if (a.is(i, "laddr")) laddr = a.str(i + 1);
    else if (a.is(i, "skipme")) {
      if (a.is(i + 1, "yes")) skipme = true; else if (a.is(i + 1, "no")) skipme = false; else { syntaxError(); return; }
    } else if (a.is(i, "type") || a.is(i, "user") || a.is(i, "maxage")) { /* every client is a normal default-user client */ }
    else { syntaxError(); return; }
  }
  let killed: i64 = 0;
  const list = sortedClients();
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    if (id >= 0 && t.id != <i32>id) continue;
    if (addr.length > 0 && t.addr != addr) continue;
    if (laddr.length > 0 && t.laddr != laddr) continue;
    if (skipme && t === c) continue;
    killClient(t);
    killed++;
  }
  W.integer(killed);
}

// CLIENT UNBLOCK client-id [TIMEOUT | ERROR]
export function clientUnblockCommand(c: Client, a: Args): void {
  if (!parseIntArg(a, 2)) return;
  let error = false;
  if (a.count == 4) {
    if (a.is(3, "error")) error = true;
    else if (!a.is(3, "timeout")) { replyError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"); return; }
  } else if (a.count > 4) { syntaxError(); return; }
  const id = <i32>argInt;
  if (!clients.has(id) || clients.get(id).blocked == null) { W.integer(0); return; }
  const t = clients.get(id);
  replyUnblocked(t, error);
  // The error sent to the other client was counted during this call: Redis fails this one too.
  if (error) markCallFailed();
  unpark(t, true);
  announce(t);
  W.setTarget(c.output, c.resp);
  W.integer(1);
}

/**
 * The reply of a client unblocked by CLIENT UNBLOCK (or the host's rv_unblock): an error, or the
 * timeout reply. Either way Redis counts a failed call of the blocking command (updateStatsOnUnblock
 * with errors); the error also counts in errorstats. Leaves the reply target on that client.
 */
export function replyUnblocked(t: Client, error: bool): void {
  if (error) { replyErrorToBlocked(t, "UNBLOCKED client unblocked via CLIENT UNBLOCK"); return; }
  W.setTarget(t.output, t.resp);
  W.nullArray();
  failBlockedCall(t);
}

// CLIENT NO-EVICT | NO-TOUCH on|off, CLIENT REPLY ON: accepted, nothing to do here.
export function clientOnOffCommand(c: Client, a: Args): void {
  if (!a.is(2, "on") && !a.is(2, "off")) { syntaxError(); return; }
  W.ok();
}

// ---- COMMAND ----
function flagNames(f: i32): Array<string> {
  const r = new Array<string>();
  if (f & CMD_WRITE) r.push("write");
  if (f & CMD_READONLY) r.push("readonly");
  if (f & CMD_DENYOOM) r.push("denyoom");
  if (f & CMD_ADMIN) r.push("admin");
  if (f & CMD_NOSCRIPT) r.push("noscript");
  if (f & CMD_BLOCKING) r.push("blocking");
  if (f & CMD_LOADING) r.push("loading");
  if (f & CMD_STALE) r.push("stale");
  if (f & CMD_NO_AUTH) r.push("no_auth");
  if (f & CMD_FAST) r.push("fast");
  if (f & CMD_NO_MULTI) r.push("no_multi");
  return r;
}

function writeCommandInfo(cmd: Command, name: string): void {
  W.arrayLen(10);
  W.bulkAscii(name);
  W.integer(cmd.arity);
  const flags = flagNames(cmd.flags);
  W.setLen(flags.length);
  for (let i = 0; i < flags.length; i++) W.simple(flags[i]);
  W.integer(cmd.firstKey);
  W.integer(cmd.lastKey);
  W.integer(cmd.keyStep);
  W.setLen(1);
  W.simple("@" + cmd.group);
  W.setLen(0);
  W.arrayLen(0);
  if (cmd.subcommands == null) { W.arrayLen(0); return; }
  const subs = cmd.subcommands!.values();
  W.arrayLen(subs.length);
  for (let i = 0; i < subs.length; i++) writeCommandInfo(subs[i], name + "|" + subs[i].name);
}

function lookupByArg(a: Args, i: i32): Command | null {
  const name = a.str(i).toLowerCase();
  return commandTable.has(name) ? commandTable.get(name) : null;
}

// COMMAND
export function commandCommand(c: Client, a: Args): void {
  const all = commandTable.values();
  W.arrayLen(all.length);
  for (let i = 0; i < all.length; i++) writeCommandInfo(all[i], all[i].name);
}

// COMMAND COUNT
export function commandCountCommand(c: Client, a: Args): void { W.integer(commandTable.size); }

// COMMAND INFO [command-name ...]
export function commandInfoCommand(c: Client, a: Args): void {
  if (a.count == 2) { commandCommand(c, a); return; }
  W.arrayLen(a.count - 2);
  for (let i = 2; i < a.count; i++) {
    const cmd = lookupByArg(a, i);
    if (cmd == null) W.nullArray(); else writeCommandInfo(cmd, cmd.name);
  }
}

// COMMAND DOCS [command-name ...]
export function commandDocsCommand(c: Client, a: Args): void {
  const list = new Array<Command>();
  if (a.count == 2) {
    const all = commandTable.values();
    for (let i = 0; i < all.length; i++) list.push(all[i]);
  } else {
    for (let i = 2; i < a.count; i++) { const cmd = lookupByArg(a, i); if (cmd != null) list.push(cmd); }
  }
  W.mapLen(list.length);
  for (let i = 0; i < list.length; i++) {
    W.bulkAscii(list[i].name);
    W.mapLen(3);
    W.bulkAscii("summary"); W.bulkAscii(list[i].name.toUpperCase() + " command");
    W.bulkAscii("since"); W.bulkAscii("1.0.0");
    W.bulkAscii("group"); W.bulkAscii(list[i].group);
  }
}

// COMMAND LIST
export function commandListCommand(c: Client, a: Args): void {
  const all = commandTable.keys();
  W.arrayLen(all.length);
  for (let i = 0; i < all.length; i++) W.bulkAscii(all[i]);
}

// ---- AUTH and connection reset ----
function checkPassword(a: Args, user: i32, pass: i32): bool {
  if (user >= 0 && !a.is(user, "default")) return false;
  return a.str(pass) == config.requirepass;
}

// AUTH [username] password
export function authCommand(c: Client, a: Args): void {
  if (a.count > 3) { syntaxError(); return; }
  if (config.requirepass.length == 0 && a.count == 2) {
    replyError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
    return;
  }
  if (config.requirepass.length == 0 && a.count == 3 && a.is(1, "default")) { c.authenticated = true; W.ok(); return; }
  if (checkPassword(a, a.count == 3 ? 1 : -1, a.count - 1)) { c.authenticated = true; W.ok(); }
  else replyError("WRONGPASS invalid username-password pair or user is disabled.");
}

/** HELLO ... AUTH user pass: returns false after replying an error. */
export function helloAuth(c: Client, a: Args, user: i32, pass: i32): bool {
  if (config.requirepass.length == 0 && a.is(user, "default")) return true;
  if (checkPassword(a, user, pass)) { c.authenticated = true; return true; }
  replyError("WRONGPASS invalid username-password pair or user is disabled.");
  return false;
}

// TIME
export function timeCommand(c: Client, a: Args): void {
  const ms = <i64>nowMs;
  W.arrayLen(2);
  W.bulkI64(ms / 1000);
  W.bulkI64((ms % 1000) * 1000);
}

// RESET
export function resetCommand(c: Client, a: Args): void {
  c.discardMulti();
  unpark(c, false);
  c.db = dbs[0];
  c.resp = 2;
  c.name = "";
  c.authenticated = c.internal || config.requirepass.length == 0;
  W.setTarget(c.output, 2);
  W.simple("RESET");
}

// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]
export function shutdownCommand(c: Client, a: Args): void {
  let bits = HostRequest.SHUTDOWN;
  for (let i = 1; i < a.count; i++) {
    if (a.is(i, "nosave")) bits |= HostRequest.SHUTDOWN_NOSAVE;
    else if (a.is(i, "save")) bits |= HostRequest.SHUTDOWN_SAVE;
    else if (a.is(i, "now") || a.is(i, "force")) {}
    else if (a.is(i, "abort")) { replyError("ERR No shutdown in progress."); return; }
    else { syntaxError(); return; }
  }
  if ((bits & HostRequest.SHUTDOWN_NOSAVE) != 0 && (bits & HostRequest.SHUTDOWN_SAVE) != 0) { syntaxError(); return; }
  requestHost(bits);
  c.closeAfterReply = true;
}

export function registerServerStats(): void { setResetStatHook(resetStats); }

export { dirty, bytesToKey };

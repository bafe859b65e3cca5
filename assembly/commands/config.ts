// CONFIG GET / SET / RESETSTAT / HELP. Engine settings live in `config`; settings the host owns
// (persistence, networking) are stored here as text and the host is told when they change.
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError, noteError } from "../server/dispatch";
import { config, requestHost, REQ_CONFIG_CHANGED } from "../server/state";
import { setProtoMaxBulkLen } from "../resp/parser";
import { parseI64, parsedI64, parseMemory, parsedU64 } from "../util/numbers";
import { globMatch } from "../util/glob";
import { syntaxError } from "./common";

const KIND_INT: i32 = 0;
const KIND_MEMORY: i32 = 1;
const KIND_ENUM: i32 = 2;
const KIND_BOOL: i32 = 3;
const KIND_STRING: i32 = 4;
const KIND_FIXED: i32 = 5;

class Param {
  value: string;
  constructor(public name: string, public kind: i32, initial: string, public hostOwned: bool = false,
    public min: i64 = 0, public max: i64 = 0x7fffffffffffffff, public choices: string[] = []) {
    this.value = initial;
  }
}

const MAX: i64 = 0x7fffffffffffffff;
// Listed in the order Redis's config dict yields them for common patterns (e.g. "stream*").
const params: Param[] = [
  new Param("stream-node-max-bytes", KIND_MEMORY, "4096"),
  new Param("stream-node-max-entries", KIND_INT, "100"),
  new Param("maxmemory", KIND_MEMORY, "0"),
  new Param("maxmemory-policy", KIND_ENUM, "noeviction", false, 0, MAX,
    ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]),
  new Param("requirepass", KIND_STRING, ""),
  new Param("proto-max-bulk-len", KIND_MEMORY, "536870912", false, 1048576, MAX),
  new Param("client-query-buffer-limit", KIND_MEMORY, "1073741824", true, 1048576, MAX),
  new Param("appendonly", KIND_BOOL, "no", true),
  new Param("appendfsync", KIND_ENUM, "everysec", true, 0, MAX, ["always", "everysec", "no"]),
  new Param("appendfilename", KIND_STRING, "appendonly.aof", true),
  new Param("auto-aof-rewrite-percentage", KIND_INT, "100", true, 0, 2147483647),
  new Param("auto-aof-rewrite-min-size", KIND_MEMORY, "67108864", true),
  new Param("save", KIND_STRING, "", true),
  new Param("dbfilename", KIND_STRING, "dump.rvs", true),
  new Param("dir", KIND_STRING, "", true),
  new Param("port", KIND_INT, "6379", true, 0, 65535),
  new Param("bind", KIND_STRING, "127.0.0.1", true),
  new Param("protected-mode", KIND_BOOL, "yes", true),
  new Param("maxclients", KIND_INT, "10000", true, 1, 2147483647),
  new Param("timeout", KIND_INT, "0", true, 0, 2147483647),
  new Param("tcp-keepalive", KIND_INT, "300", true, 0, 2147483647),
  new Param("databases", KIND_FIXED, "16"),
];

function findParam(a: Args, i: i32): Param | null {
  for (let k = 0; k < params.length; k++) if (a.is(i, params[k].name)) return params[k];
  return null;
}

export function configValue(name: string): string {
  for (let k = 0; k < params.length; k++) if (params[k].name == name) return params[k].value;
  return "";
}

// CONFIG GET parameter [parameter ...]
export function configGetCommand(c: Client, a: Args): void {
  const at = W.deferLen();
  const seen = new Set<string>();
  let n = 0;
  for (let i = 2; i < a.count; i++) {
    for (let k = 0; k < params.length; k++) {
      const p = params[k];
      if (seen.has(p.name)) continue;
      const exact = a.is(i, p.name);
      if (exact || globMatch(a.ptr(i), a.len(i), p.name, true)) {
        seen.add(p.name);
        // An exact name is echoed as typed, a pattern match by its canonical name (as Redis does).
        if (exact) W.bulk(a.ptr(i), a.len(i)); else W.bulkAscii(p.name);
        W.bulkKey(p.value);
        n++;
      }
    }
  }
  W.setDeferredMap(at, n);
}

function failed(name: string, why: string): void {
  replyError("ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + why);
}

/** Validates and normalises a value; null after replying an error. */
function validate(p: Param, a: Args, vi: i32): string | null {
  if (p.kind == KIND_INT) {
    if (!parseI64(a.ptr(vi), a.len(vi))) { failed(p.name, "argument couldn't be parsed into an integer"); return null; }
    if (parsedI64 < p.min || parsedI64 > p.max) {
      failed(p.name, "argument must be between " + p.min.toString() + " and " + p.max.toString() + " inclusive");
      return null;
    }
    return parsedI64.toString();
  }
  if (p.kind == KIND_MEMORY) {
    if (!parseMemory(a.ptr(vi), a.len(vi)) || parsedU64 > <u64>p.max) { failed(p.name, "argument must be a memory value"); return null; }
    if (<i64>parsedU64 < p.min) {
      failed(p.name, "argument must be between " + p.min.toString() + " and " + p.max.toString() + " inclusive");
      return null;
    }
    return parsedU64.toString();
  }
  if (p.kind == KIND_BOOL) {
    if (a.is(vi, "yes")) return "yes";
    if (a.is(vi, "no")) return "no";
    failed(p.name, "argument must be 'yes' or 'no'");
    return null;
  }
  if (p.kind == KIND_ENUM) {
    for (let k = 0; k < p.choices.length; k++) if (a.is(vi, p.choices[k])) return p.choices[k];
    failed(p.name, "argument(s) must be one of the following: " + p.choices.join(", "));
    return null;
  }
  return a.str(vi);
}

function apply(p: Param): void {
  const v = p.value;
  if (p.name == "stream-node-max-entries") config.streamNodeMaxEntries = I64.parseInt(v);
  else if (p.name == "stream-node-max-bytes") config.streamNodeMaxBytes = I64.parseInt(v);
  else if (p.name == "maxmemory") config.maxmemory = I64.parseInt(v);
  else if (p.name == "maxmemory-policy") config.maxmemoryPolicy = v;
  else if (p.name == "requirepass") { config.requirepass = v; requestHost(REQ_CONFIG_CHANGED); }
  else if (p.name == "proto-max-bulk-len") setProtoMaxBulkLen(I64.parseInt(v));
  else if (p.name == "client-query-buffer-limit") config.queryBufferLimit = I64.parseInt(v);
  if (p.hostOwned) requestHost(REQ_CONFIG_CHANGED);
}

// CONFIG SET parameter value [parameter value ...]
export function configSetCommand(c: Client, a: Args): void {
  if ((a.count & 1) != 0) { syntaxError(); return; }
  const found = new Array<Param>();
  for (let i = 2; i < a.count; i += 2) {
    const p = findParam(a, i);
    if (p == null || p.kind == KIND_FIXED) {
      W.errorBegin();
      W.errorText("ERR Unknown option or number of arguments for CONFIG SET - '");
      W.errorBytes(a.ptr(i), a.len(i));
      W.errorText("'");
      W.errorEnd();
      noteError("ERR");
      return;
    }
    if (found.indexOf(p!) >= 0) { failed(p!.name, "duplicate parameter"); return; }
    found.push(p!);
  }
  // Validate everything first, then apply (CONFIG SET is atomic).
  const values = new Array<string>();
  for (let k = 0; k < found.length; k++) {
    const v = validate(found[k], a, 3 + 2 * k);
    if (v == null) return;
    values.push(v!);
  }
  for (let k = 0; k < found.length; k++) { found[k].value = values[k]; apply(found[k]); }
  W.ok();
}

let resetStatHook: () => void = noop;
function noop(): void {}
export function setResetStatHook(f: () => void): void { resetStatHook = f; }

// CONFIG RESETSTAT
export function configResetstatCommand(c: Client, a: Args): void { resetStatHook(); W.ok(); }

// CONFIG HELP
export function configHelpCommand(c: Client, a: Args): void {
  const lines: string[] = [
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
  ];
  W.helpLines(lines);
}

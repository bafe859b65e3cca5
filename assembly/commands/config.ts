// CONFIG GET / SET / RESETSTAT / HELP, and the one registry of settings: the engine's own and those
// the host acts on (networking, persistence, logging, process), each with Redis 7.0.15's type,
// bounds, default, validation and error texts (config.c's standardConfig table). Settings Redis
// marks immutable or protected answer its error to clients; the host's internal connection may set
// them (that is how a host applies its config file). A client's CONFIG SET of a host setting raises
// HostRequest.CONFIG_CHANGED.
import { Args, bytesToKey } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError, noteError } from "../server/dispatch";
import { config, requestHost } from "../server/state";
import { HostRequest } from "../abi";
import { setProtoMaxBulkLen } from "../resp/parser";
import { parseI64, parsedI64, parseMemory, parsedU64, parseStrtoll, lower } from "../util/numbers";
import { globMatch } from "../util/glob";
import { DB_COUNT } from "../core/keyspace";
import { syntaxError } from "./common";

// How a value is parsed (config.c's numeric / bool / enum / string / special types).
const KIND_INT: i32 = 0; // string2ll
const KIND_MEMORY: i32 = 1; // memtoull
const KIND_BOOL: i32 = 2; // yes / no
const KIND_ENUM: i32 = 3;
const KIND_STRING: i32 = 4;
const KIND_SAVE: i32 = 5; // "<seconds> <changes> ..." (setConfigSaveOption)
const KIND_BIND: i32 = 6; // up to 16 addresses (setConfigBindOption)

// Flags.
const IMMUTABLE: i32 = 1; // "can't set immutable config" (the internal connection may)
const PROTECTED: i32 = 2; // "can't set protected config" (enable-protected-configs is no)
const HOST: i32 = 4; // the host acts on it: a change raises CONFIG_CHANGED
const UNSIGNED: i32 = 8; // an unsigned C type: bounds compared and printed as u64
const FILENAME: i32 = 16; // a file name, not a path (isValidDBfilename / isValidAOFfilename)
const NONEMPTY: i32 = 32; // with FILENAME: must not be empty (appendfilename)

const INT_MAX: i64 = 2147483647;
const UINT_MAX: i64 = 4294967295;
const LLONG_MAX: i64 = 0x7fffffffffffffff;
const ULLONG_MAX: i64 = -1; // as u64 bits (UNSIGNED)
const CONFIG_BINDADDR_MAX: i32 = 16;

class Setting {
  value: string;
  constructor(
    public name: string,
    public kind: i32,
    public flags: i32,
    initial: string,
    public min: i64 = 0,
    public max: i64 = 0,
    public choices: string[] = [],
  ) {
    this.value = initial;
  }
}

function int(name: string, flags: i32, initial: string, min: i64, max: i64): Setting { return new Setting(name, KIND_INT, flags, initial, min, max); }
function mem(name: string, flags: i32, initial: string, min: i64, max: i64): Setting { return new Setting(name, KIND_MEMORY, flags, initial, min, max); }
function yesNo(name: string, flags: i32, initial: string): Setting { return new Setting(name, KIND_BOOL, flags, initial); }
function choice(name: string, flags: i32, initial: string, choices: string[]): Setting { return new Setting(name, KIND_ENUM, flags, initial, 0, 0, choices); }
function text(name: string, flags: i32, initial: string): Setting { return new Setting(name, KIND_STRING, flags, initial); }

// Defaults are Redis's, except: dir (the engine has no working directory; the host sets it),
// dbfilename (Rivulet snapshots are not RDB files), bind (loopback, as `rivulet serve` starts) and
// save (no save points unless the host configures them).
const settings: Setting[] = [
  // the engine's own
  mem("stream-node-max-bytes", UNSIGNED, "4096", 0, LLONG_MAX),
  int("stream-node-max-entries", 0, "100", 0, LLONG_MAX),
  mem("maxmemory", UNSIGNED, "0", 0, ULLONG_MAX),
  choice("maxmemory-policy", 0, "noeviction",
    ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]),
  text("requirepass", 0, ""),
  mem("proto-max-bulk-len", 0, "536870912", 1048576, LLONG_MAX),
  mem("client-query-buffer-limit", UNSIGNED | HOST, "1073741824", 1048576, LLONG_MAX),
  int("databases", IMMUTABLE, "16", 1, INT_MAX),
  // networking
  int("port", HOST, "6379", 0, 65535),
  new Setting("bind", KIND_BIND, HOST, "127.0.0.1"),
  yesNo("protected-mode", HOST, "yes"),
  int("maxclients", HOST | UNSIGNED, "10000", 1, UINT_MAX),
  int("timeout", HOST | UNSIGNED, "0", 0, INT_MAX),
  int("tcp-keepalive", HOST, "300", 0, INT_MAX),
  int("tcp-backlog", HOST | IMMUTABLE, "511", 0, INT_MAX),
  // persistence
  yesNo("appendonly", HOST, "no"),
  choice("appendfsync", HOST, "everysec", ["everysec", "always", "no"]),
  text("appendfilename", HOST | IMMUTABLE | FILENAME | NONEMPTY, "appendonly.aof"),
  yesNo("aof-load-truncated", HOST, "yes"),
  int("auto-aof-rewrite-percentage", HOST, "100", 0, INT_MAX),
  mem("auto-aof-rewrite-min-size", HOST, "67108864", 0, LLONG_MAX),
  new Setting("save", KIND_SAVE, HOST, ""),
  text("dbfilename", HOST | PROTECTED | FILENAME, "dump.rvs"),
  text("dir", HOST | PROTECTED, ""),
  // logging and the process
  choice("loglevel", HOST, "notice", ["debug", "verbose", "notice", "warning"]),
  text("logfile", HOST | IMMUTABLE, ""),
  text("pidfile", HOST | IMMUTABLE, ""),
  yesNo("daemonize", HOST | IMMUTABLE, "no"),
  choice("supervised", HOST | IMMUTABLE, "no", ["upstart", "systemd", "auto", "no"]),
];

function findSetting(a: Args, i: i32): Setting | null {
  for (let k = 0; k < settings.length; k++) if (a.is(i, settings[k].name)) return settings[k];
  return null;
}

/** A setting's value as CONFIG GET shows it, by name in any case; null for an unknown name. */
export function settingValue(name: string): string | null {
  for (let k = 0; k < settings.length; k++) {
    const s = settings[k];
    if (s.name.length != name.length) continue;
    let same = true;
    for (let j = 0; j < name.length && same; j++) same = <u16>lower(<u8>name.charCodeAt(j)) == <u16>s.name.charCodeAt(j);
    if (same) return s.value;
  }
  return null;
}

@inline function hasGlob(p: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    if (c == 42 || c == 63 || c == 91) return true;
  }
  return false;
}

function cStringLen(p: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) if (load<u8>(p + <usize>i) == 0) return i;
  return n;
}

// CONFIG GET parameter [parameter ...]
export function configGetCommand(c: Client, a: Args): void {
  const at = W.deferLen();
  const seen = new Set<string>();
  let n = 0;
  for (let i = 2; i < a.count; i++) {
    // Redis reads the argument as a C string here: a pattern ends at its first NUL, and only a
    // pattern with one of `[*?` before it is matched; anything else is an exact (caseless) name.
    const plen = cStringLen(a.ptr(i), a.len(i));
    const pattern = hasGlob(a.ptr(i), plen);
    for (let k = 0; k < settings.length; k++) {
      const s = settings[k];
      if (seen.has(s.name)) continue;
      if (pattern ? !globMatch(a.ptr(i), plen, s.name, true) : !a.is(i, s.name)) continue;
      seen.add(s.name);
      // A name is echoed as typed, a pattern's match by its canonical name (as Redis does).
      if (pattern) W.bulkAscii(s.name); else W.bulk(a.ptr(i), a.len(i));
      W.bulkKey(s.value);
      n++;
    }
  }
  W.setDeferredMap(at, n);
}

/** "CONFIG SET failed (possibly related to argument '<name>') - <why>", name as given. */
function failed(p: usize, n: i32, why: string): void {
  W.errorBegin();
  W.errorText("ERR CONFIG SET failed (possibly related to argument '");
  W.errorBytes(p, n);
  W.errorText("') - " + why);
  W.errorEnd();
  noteError("ERR");
}

let why: string = "";

/** config.c's numericBoundaryCheck, signed or unsigned as the C type is. */
function inBounds(s: Setting, v: i64): bool {
  if (s.flags & UNSIGNED) {
    if (<u64>v > <u64>s.max || <u64>v < <u64>s.min) {
      why = "argument must be between " + (<u64>s.min).toString() + " and " + (<u64>s.max).toString() + " inclusive";
      return false;
    }
  } else if (v > s.max || v < s.min) {
    why = "argument must be between " + s.min.toString() + " and " + s.max.toString() + " inclusive";
    return false;
  }
  return true;
}

/** A value as CONFIG GET will show it, or null with `why` set (config.c's set functions). */
function validate(s: Setting, p: usize, n: i32): string | null {
  if (s.kind == KIND_INT || s.kind == KIND_MEMORY) {
    let v: i64;
    if (s.kind == KIND_MEMORY) {
      if (!parseMemory(p, n)) { why = "argument must be a memory value"; return null; }
      v = <i64>parsedU64;
    } else {
      if (!parseI64(p, n)) { why = "argument couldn't be parsed into an integer"; return null; }
      v = parsedI64;
    }
    if (!inBounds(s, v)) return null;
    if (s.name == "databases" && v != DB_COUNT) { why = "Rivulet has exactly " + DB_COUNT.toString() + " databases"; return null; }
    return s.flags & UNSIGNED ? (<u64>v).toString() : v.toString();
  }
  if (s.kind == KIND_BOOL) {
    if (isWord(p, n, "yes")) return "yes";
    if (isWord(p, n, "no")) return "no";
    why = "argument must be 'yes' or 'no'";
    return null;
  }
  if (s.kind == KIND_ENUM) {
    for (let k = 0; k < s.choices.length; k++) if (isWord(p, n, s.choices[k])) return s.choices[k];
    why = "argument(s) must be one of the following: " + s.choices.join(", ");
    return null;
  }
  if (s.kind == KIND_SAVE) return validateSave(p, n);
  if (s.kind == KIND_BIND) {
    if (countTokens(p, n) > CONFIG_BINDADDR_MAX) { why = "Too many bind addresses specified."; return null; }
    return bytesToKey(p, n);
  }
  if (s.flags & FILENAME) {
    if ((s.flags & NONEMPTY) && n == 0) { why = s.name + " can't be empty"; return null; }
    for (let i = 0; i < n; i++) {
      const ch = load<u8>(p + <usize>i);
      if (ch == 47 || ch == 92) { why = s.name + " can't be a path, just a filename"; return null; }
    }
  }
  return bytesToKey(p, n);
}

function isWord(p: usize, n: i32, w: string): bool {
  if (n != w.length) return false;
  for (let i = 0; i < n; i++) if (<u16>lower(load<u8>(p + <usize>i)) != <u16>w.charCodeAt(i)) return false;
  return true;
}

/** Tokens of sdssplitlen(value, " "): empty ones count, an empty value has none. */
function countTokens(p: usize, n: i32): i32 {
  if (n == 0) return 0;
  let k = 1;
  for (let i = 0; i < n; i++) if (load<u8>(p + <usize>i) == 32) k++;
  return k;
}

/** setConfigSaveOption: pairs of strtoll numbers, seconds ≥ 1, changes ≥ 0; shown as "%jd %d". */
function validateSave(p: usize, n: i32): string | null {
  const tokens = countTokens(p, n);
  if (tokens & 1) { why = "Invalid save parameters"; return null; }
  let out = "";
  let start = 0;
  for (let k = 0; k < tokens; k++) {
    let end = start;
    while (end < n && load<u8>(p + <usize>end) != 32) end++;
    if (!parseStrtoll(p + <usize>start, end - start) || ((k & 1) == 0 && parsedI64 < 1) || ((k & 1) == 1 && parsedI64 < 0)) {
      why = "Invalid save parameters";
      return null;
    }
    // seconds are a time_t, changes an int (the C code truncates)
    out += ((k & 1) == 0 ? (k > 0 ? " " : "") + parsedI64.toString() : " " + (<i32>parsedI64).toString());
    start = end + 1;
  }
  return out;
}

function apply(s: Setting): void {
  const v = s.value;
  if (s.name == "stream-node-max-entries") config.streamNodeMaxEntries = I64.parseInt(v);
  else if (s.name == "stream-node-max-bytes") config.streamNodeMaxBytes = I64.parseInt(v);
  // an unsigned long long in Redis; above 2^63 it reads as negative (no limit, and INFO's %lld)
  else if (s.name == "maxmemory") config.maxmemory = <i64>U64.parseInt(v);
  else if (s.name == "maxmemory-policy") config.maxmemoryPolicy = v;
  else if (s.name == "requirepass") { config.requirepass = v; requestHost(HostRequest.CONFIG_CHANGED); }
  else if (s.name == "proto-max-bulk-len") setProtoMaxBulkLen(I64.parseInt(v));
  else if (s.name == "client-query-buffer-limit") config.queryBufferLimit = I64.parseInt(v);
  if (s.flags & HOST) requestHost(HostRequest.CONFIG_CHANGED);
}

// CONFIG SET parameter value [parameter value ...]
export function configSetCommand(c: Client, a: Args): void {
  if ((a.count & 1) != 0) { syntaxError(); return; }
  // First pass (config.c's order): the first unknown name, immutable / protected setting or
  // duplicate decides the error; nothing is set.
  const found = new Array<Setting>();
  for (let i = 2; i < a.count; i += 2) {
    const s = findSetting(a, i);
    if (s == null) {
      W.errorBegin();
      W.errorText("ERR Unknown option or number of arguments for CONFIG SET - '");
      W.errorBytes(a.ptr(i), a.len(i));
      W.errorText("'");
      W.errorEnd();
      noteError("ERR");
      return;
    }
    if (!c.internal && (s.flags & (IMMUTABLE | PROTECTED)) != 0) {
      failed(a.ptr(i), a.len(i), s.flags & IMMUTABLE ? "can't set immutable config" : "can't set protected config");
      return;
    }
    if (found.indexOf(s) >= 0) { failed(a.ptr(i), a.len(i), "duplicate parameter"); return; }
    found.push(s);
  }
  // Validate everything, then apply (CONFIG SET is atomic). A refused value names the setting.
  const values = new Array<string>();
  for (let k = 0; k < found.length; k++) {
    const v = validate(found[k], a.ptr(3 + 2 * k), a.len(3 + 2 * k));
    if (v == null) {
      replyError("ERR CONFIG SET failed (possibly related to argument '" + found[k].name + "') - " + why);
      return;
    }
    values.push(v);
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

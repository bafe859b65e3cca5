// CONFIG GET / SET / RESETSTAT / HELP for the settings the engine has.
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError, noteError } from "../server/dispatch";
import { config } from "../server/state";
import { parseI64, parsedI64, parseMemory, parsedU64 } from "../util/numbers";
import { globMatch } from "../util/glob";
import { syntaxError } from "./common";

const KIND_INT: i32 = 0;
const KIND_MEMORY: i32 = 1;
const KIND_ENUM: i32 = 2;
const KIND_FIXED: i32 = 3;

class Param {
  constructor(public name: string, public kind: i32, public min: i64 = 0, public max: i64 = 0x7fffffffffffffff) {}
}

// Listed in the order Redis's config dict yields them for the common patterns (e.g. "stream*").
const params: Param[] = [
  new Param("stream-node-max-bytes", KIND_MEMORY, 0, 0x7fffffffffffffff),
  new Param("stream-node-max-entries", KIND_INT, 0, 0x7fffffffffffffff),
  new Param("maxmemory", KIND_MEMORY, 0, 0x7fffffffffffffff),
  new Param("maxmemory-policy", KIND_ENUM),
  new Param("databases", KIND_FIXED),
];

function getValue(name: string): string {
  if (name == "stream-node-max-bytes") return config.streamNodeMaxBytes.toString();
  if (name == "stream-node-max-entries") return config.streamNodeMaxEntries.toString();
  if (name == "maxmemory") return config.maxmemory.toString();
  if (name == "maxmemory-policy") return config.maxmemoryPolicy;
  if (name == "databases") return "16";
  return "";
}

function findParam(a: Args, i: i32): Param | null {
  for (let k = 0; k < params.length; k++) if (a.is(i, params[k].name)) return params[k];
  return null;
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
        W.bulkAscii(getValue(p.name));
        n++;
      }
    }
  }
  W.setDeferredMap(at, n);
}

function failed(name: string, why: string): void {
  replyError("ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + why);
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
  const values = new Array<i64>();
  for (let k = 0; k < found.length; k++) {
    const p = found[k];
    const vi = 3 + 2 * k;
    if (p.kind == KIND_INT) {
      if (!parseI64(a.ptr(vi), a.len(vi))) { failed(p.name, "argument couldn't be parsed into an integer"); return; }
      if (parsedI64 < p.min || parsedI64 > p.max) {
        failed(p.name, "argument must be between " + p.min.toString() + " and " + p.max.toString() + " inclusive");
        return;
      }
      values.push(parsedI64);
    } else if (p.kind == KIND_MEMORY) {
      if (!parseMemory(a.ptr(vi), a.len(vi)) || parsedU64 > <u64>p.max) { failed(p.name, "argument must be a memory value"); return; }
      values.push(<i64>parsedU64);
    } else {
      if (!a.is(vi, "noeviction")) { failed(p.name, "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"); return; }
      values.push(0);
    }
  }
  for (let k = 0; k < found.length; k++) {
    const name = found[k].name;
    if (name == "stream-node-max-entries") config.streamNodeMaxEntries = values[k];
    else if (name == "stream-node-max-bytes") config.streamNodeMaxBytes = values[k];
    else if (name == "maxmemory") config.maxmemory = values[k];
  }
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
  W.arrayLen(lines.length);
  for (let i = 0; i < lines.length; i++) W.simple(lines[i]);
}

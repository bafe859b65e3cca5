// XGROUP CREATE | SETID | DESTROY | CREATECONSUMER | DELCONSUMER | HELP.
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError, noteError } from "../server/dispatch";
import { nowMs, addDirty } from "../server/state";
import { signalKey } from "../server/blocking";
import { StreamID } from "../core/ids";
import { StreamValue, TYPE_STREAM } from "../core/keyspace";
import { Stream } from "../core/stream";
import { Group, lookupGroup, createGroup, destroyGroup, ENTRIES_READ_INVALID } from "../core/groups";
import { parseIntArg, argInt, parseIdArg, wrongType, subcommandSyntaxError } from "./common";


export function noGroupForKey(a: Args, groupArg: i32, keyArg: i32): void {
  W.errorBegin();
  W.errorText("NOGROUP No such consumer group '"); W.errorBytes(a.ptr(groupArg), a.len(groupArg));
  W.errorText("' for key name '"); W.errorBytes(a.ptr(keyArg), a.len(keyArg));
  W.errorText("'");
  W.errorEnd();
  noteError("NOGROUP");
}

// Shared prologue of the key/group subcommands (xgroupCommand before its dispatch).
let mkstream = false;
let entriesRead: i64 = ENTRIES_READ_INVALID;
let stream: Stream | null = null;
let group: Group | null = null;

function prologue(c: Client, a: Args, isCreate: bool, isSetId: bool, needsGroup: bool): bool {
  mkstream = false;
  entriesRead = ENTRIES_READ_INVALID;
  stream = null;
  group = null;
  if (isCreate || isSetId) {
    let i = 5;
    while (i < a.count) {
      if (isCreate && a.is(i, "mkstream")) { mkstream = true; i++; }
      else if (a.is(i, "entriesread") && i + 1 < a.count) {
        if (!parseIntArg(a, i + 1)) return false;
        entriesRead = argInt;
        if (entriesRead < 0 && entriesRead != ENTRIES_READ_INVALID) { replyError("ERR value for ENTRIESREAD must be positive or -1"); return false; }
        i += 2;
      } else { subcommandSyntaxError(a, "XGROUP"); return false; }
    }
  }
  const v = c.db.lookup(a.str(2));
  if (v != null) {
    if (v.type != TYPE_STREAM) { wrongType(); return false; }
    stream = changetype<StreamValue>(v).stream;
  }
  if (!mkstream) {
    if (stream == null) {
      replyError("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
      return false;
    }
    group = lookupGroup(stream!, a.str(3));
    if (group == null && needsGroup) { noGroupForKey(a, 3, 2); return false; }
  }
  return true;
}

// XGROUP CREATE key group <id | $> [MKSTREAM] [ENTRIESREAD entries-read]
export function xgroupCreateCommand(c: Client, a: Args): void {
  if (!prologue(c, a, true, false, false)) return;
  if (a.count > 8) { subcommandSyntaxError(a, "XGROUP"); return; }
  const id = new StreamID();
  if (a.isChar(4, 36)) { if (stream != null) id.copyFrom(stream!.lastId); }
  else if (!parseIdArg(a, 4, id, 0, true)) return;
  const key = a.str(2);
  if (stream == null) {
    const sv = new StreamValue();
    c.db.add(key, sv);
    stream = sv.stream;
    signalKey(c.db.id, key);
  }
  if (createGroup(stream!, a.str(3), id, entriesRead) != null) { W.ok(); addDirty(1); }
  else replyError("BUSYGROUP Consumer Group name already exists");
}

// XGROUP SETID key group <id | $> [ENTRIESREAD entries-read]
export function xgroupSetidCommand(c: Client, a: Args): void {
  if (!prologue(c, a, false, true, true)) return;
  if (a.count != 5 && a.count != 7) { subcommandSyntaxError(a, "XGROUP"); return; }
  const id = new StreamID();
  if (a.isChar(4, 36)) id.copyFrom(stream!.lastId);
  else if (!parseIdArg(a, 4, id, 0, false)) return;
  group!.setPosition(id.ms, id.seq, entriesRead);
  addDirty(1);
  W.ok();
}

// XGROUP DESTROY key group
export function xgroupDestroyCommand(c: Client, a: Args): void {
  if (!prologue(c, a, false, false, false)) return;
  if (group != null) {
    destroyGroup(stream!, a.str(3));
    addDirty(1);
    signalKey(c.db.id, a.str(2));
    W.integer(1);
  } else W.integer(0);
}

// XGROUP CREATECONSUMER key group consumer
export function xgroupCreateconsumerCommand(c: Client, a: Args): void {
  if (!prologue(c, a, false, false, true)) return;
  const created = group!.createConsumer(a.str(4), nowMs);
  if (created != null) addDirty(1);
  W.integer(created != null ? 1 : 0);
}

// XGROUP DELCONSUMER key group consumer
export function xgroupDelconsumerCommand(c: Client, a: Args): void {
  if (!prologue(c, a, false, false, true)) return;
  const consumer = group!.lookupConsumer(a.str(4));
  let pending: i64 = 0;
  if (consumer != null) {
    pending = group!.deleteConsumer(consumer);
    addDirty(1);
  }
  W.integer(pending);
}

// XGROUP HELP
export function xgroupHelpCommand(c: Client, a: Args): void {
  const lines: string[] = [
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
  ];
  W.helpLines(lines);
}

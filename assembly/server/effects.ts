// Effects: every write, as RESP commands with concrete values (the generated XADD ID, group reads as
// XCLAIM / XGROUP SETID). Hosts append them to an AOF, replay them at start, or forward them to a
// real Redis. One command's effects are wrapped in MULTI/EXEC when there is more than one, and a
// SELECT precedes them whenever the database changes — as Redis's propagation does.
//
// Pending effects wait in a segmented queue (util/byte-queue.ts), so that many of them never need one
// large block under a page budget; only the command being written is staged in one buffer.
import { Args } from "../resp/args";
import { CommandWriter } from "../resp/command-writer";
import { ByteQueue } from "../util/byte-queue";

const w = new CommandWriter();
/** The unit's first command (until a second one shows it needs MULTI), or the command being written. */
const staged = w.buf;
const queue = new ByteQueue();
let lastDb: i32 = -1;
let enabled: bool = true;
/** Effects cost memory until a host drains them, so they are produced only for hosts that ask. */
let wanted: bool = false;
/** The current effect command is being written (false when effects are off). */
let writing: bool = false;
export function setEffectsWanted(on: bool): void { wanted = on; }
let depth: i32 = 0;
let unitCount: i32 = 0;
/** The running command emitted its own effects: call() must not propagate it verbatim. */
export let customPropagated: bool = false;

export function setEffectsEnabled(on: bool): void { enabled = on; }
export function effectsEnabled(): bool { return enabled && wanted; }

/** Moves the staged bytes to the queue. */
function flush(): void {
  if (staged.len == 0) return;
  queue.append(staged.ptr, staged.len);
  staged.clear();
  staged.shrinkIfIdle();
}

/** Queues ASCII text ahead of whatever is staged. */
function queueAhead(s: string): void {
  const at = staged.len;
  staged.appendAscii(s);
  queue.append(staged.ptr + <usize>at, staged.len - at);
  staged.len = at;
}

/** Opens a unit (a top-level command, an EXEC, one served blocked client). Nested opens join it. */
export function beginUnit(): void {
  if (depth++ == 0) { flush(); unitCount = 0; }
  customPropagated = false;
}

export function endUnit(): void {
  if (--depth > 0) return;
  flush();
  if (unitCount > 1) queueAhead("*1\r\n$4\r\nEXEC\r\n");
}

export function markCustom(): void { customPropagated = true; }
export function resetCustom(): void { customPropagated = false; }

/** Starts one effect command of n arguments in database dbId. */
export function effect(n: i32, dbId: i32): void {
  writing = enabled && wanted;
  if (!writing) return;
  if (depth == 0) flush();
  else if (unitCount == 1) {
    // A second effect: the unit is a transaction, MULTI goes before its first (staged) command.
    queueAhead("*1\r\n$5\r\nMULTI\r\n");
    flush();
  } else if (unitCount > 1) flush();
  if (dbId != lastDb) {
    w.begin(2); w.argAscii("SELECT"); w.argI64(dbId);
    lastDb = dbId;
  }
  w.begin(n);
  unitCount++;
}

export function arg(p: usize, n: i32): void { if (writing) w.arg(p, n); }
export function argAscii(s: string): void { if (writing) w.argAscii(s); }
export function argKey(k: string): void { if (writing) w.argKey(k); }
export function argI64(v: i64): void { if (writing) w.argI64(v); }
export function argU64(v: u64): void { if (writing) w.argU64(v); }
export function argId(ms: u64, seq: u64): void { if (writing) w.argId(ms, seq); }

/** The command as the client sent it. */
export function verbatim(a: Args, dbId: i32): void {
  effect(a.count, dbId);
  if (!writing) return;
  for (let i = 0; i < a.count; i++) w.arg(a.ptr(i), a.len(i));
}

/** Moves up to `cap` bytes of pending effects to dst; returns how many (none while a unit is open). */
export function readEffects(dst: usize, cap: i32): i32 {
  if (depth > 0) return 0;
  flush();
  return queue.drainTo(dst, cap);
}

export function pendingEffects(): i64 { return queue.pending + <i64>staged.len; }

/** After loading or a snapshot the next effect must re-state its database. */
export function forgetDb(): void { lastDb = -1; }

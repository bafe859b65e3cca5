// The exports of assembly/abi.ts (the contract: constants, record layouts, signatures; docs/ABI.md).
// The only place that knows the scratch region. Integers and bytes only, so a C host on wasm3 drives
// it with memcpy.
import { Client } from "./server/client";
import { clients, dbs, config, setNow, nowMs, takeRequests } from "./server/state";
import { SCRATCH_CAP, SNAPSHOT_FORMAT, FeedStatus, HostRequest, UnblockMode, BatchResult, BuildInfo, DatasetStats, SnapshotStart } from "./abi";
import { jobs } from "./server/jobs";
import { completeJob } from "./commands/persistence";
import { setHostInfo, countConnection, uncountConnection, replyUnblocked } from "./commands/server";
import { bytesToKey } from "./resp/args";
import { processInput, drainResumed } from "./server/dispatch";
import { unpark, announce, nextReady, hasAnnounced, allBlocked } from "./server/blocking";
import { registerCommands } from "./commands/table";
import { expireBlocked } from "./commands/xread";
import { usedMemory } from "./util/memory";
import * as W from "./resp/writer";
import { setGrowLimit, collectIfLow, roomForDelivery } from "./util/heap";
import { readEffects, setEffectsEnabled, setEffectsWanted, forgetDb } from "./server/effects";
import { beginSnapshot, readSnapshot, abortSnapshot } from "./server/snapshot";
import { dirty } from "./server/state";
import { xaddBatch } from "./server/fastpath";
import { serveBlockedAfterWrite } from "./server/dispatch";
import { beginLoading, loadInput, loadOverflow, writeLoadStatus } from "./server/loading";
import { BUILD_HASH } from "./build-info";
import { settingValue } from "./commands/config";
import { DB_COUNT, TYPE_STREAM, StreamValue } from "./core/keyspace";

const SCRATCH: usize = memory.data(SCRATCH_CAP, 16);

registerCommands();

export function rv_scratch_ptr(): usize { return SCRATCH; }
export function rv_scratch_cap(): i32 { return SCRATCH_CAP; }

export function rv_open(conn: i32): i32 {
  if (conn < 0 || clients.has(conn)) return -1;
  const c = new Client(conn, dbs[0]);
  c.authenticated = config.requirepass.length == 0;
  c.createdMs = nowMs;
  c.lastInteractionMs = nowMs;
  clients.set(conn, c);
  countConnection();
  // A connection costs memory too: under a page budget with too little room it is refused the way
  // Redis refuses one past maxclients (the error, then CLOSE in its status).
  collectIfLow();
  if (config.pageBudget > 0 && !roomForDelivery()) {
    W.setTarget(c.output, c.resp);
    W.error("ERR max number of clients reached");
    c.closeAfterReply = true;
  }
  return 0;
}

export function rv_close(conn: i32): void {
  if (!clients.has(conn)) return;
  const c = clients.get(conn);
  unpark(c, false);
  c.closed = true;
  c.free();
  clients.delete(conn);
}

let pendingRequests: i32 = 0;

function status(c: Client): i32 {
  pendingRequests |= takeRequests();
  let s = 0;
  if (pendingRequests & HostRequest.SHUTDOWN) s |= FeedStatus.SHUTDOWN;
  if (pendingRequests != 0) s |= FeedStatus.REQUESTS;
  if (c.output.len > c.output.pos) s |= FeedStatus.OUTPUT;
  if (c.closeAfterReply) s |= FeedStatus.CLOSE;
  if (c.parked) s |= FeedStatus.BLOCKED;
  if (hasAnnounced()) s |= FeedStatus.OTHERS_READY;
  return s;
}

export function rv_feed(conn: i32, len: i32, now: f64): i32 {
  if (!clients.has(conn)) return -1;
  setNow(now);
  const c = clients.get(conn);
  if (c.closeAfterReply) return status(c);
  c.lastInteractionMs = now;
  if (c.createdMs == 0) c.createdMs = now;
  // Client query buffer limit: like Redis, the connection is closed (no reply). The input buffer also
  // never grows past what a 32-bit linear memory can safely reallocate, nor, under a page budget, past
  // an eighth of it (at least two feeds) or what the budget has room for (util/heap.ts).
  let inputLimit = min<i64>(config.queryBufferLimit + 65536, 768 << 20);
  if (config.pageBudget > 0) inputLimit = min<i64>(inputLimit, max<i64>((<i64>config.pageBudget << 16) / 8, 2 * <i64>SCRATCH_CAP));
  c.input.limit = <i32>inputLimit;
  if (len > 0) c.input.appendBytes(SCRATCH, len < SCRATCH_CAP ? len : SCRATCH_CAP);
  if (c.input.overflowed || <i64>(c.input.len - c.input.pos) > config.queryBufferLimit) {
    if (c.loading) loadOverflow(c);
    c.input.clear();
    c.closeAfterReply = true;
    return status(c);
  }
  setEffectsEnabled(!c.loading);
  if (c.loading) loadInput(c);
  else if (!c.parked) processInput(c);
  drainResumed(c);
  setEffectsEnabled(true);
  return status(c);
}

export function rv_read(conn: i32): i32 {
  if (!clients.has(conn)) return 0;
  return clients.get(conn).output.drainTo(SCRATCH, SCRATCH_CAP);
}

export function rv_ready_next(): i32 { return nextReady(); }

export function rv_tick(now: f64): i32 {
  setNow(now);
  const blocked = new Array<Client>();
  allBlocked(blocked, clients);
  return expireBlocked(now, blocked);
}

export function rv_next_deadline(): f64 {
  let best: f64 = -1;
  const vals = clients.values();
  for (let i = 0; i < vals.length; i++) {
    const b = vals[i].blocked;
    if (b == null || b.deadline == 0) continue;
    if (best < 0 || b.deadline < best) best = b.deadline;
  }
  return best;
}

export function rv_unblock(conn: i32, mode: i32): i32 {
  if (!clients.has(conn)) return 0;
  const c = clients.get(conn);
  if (c.blocked == null) return 0;
  replyUnblocked(c, mode == UnblockMode.ERROR);
  unpark(c, true);
  drainResumed(c);
  return 1;
}

/**
 * Sets the page budget (64 KiB pages, 0 = none) and returns the budget in effect: linear memory never
 * grows past it (util/heap.ts; a budget below the current size means "no more than now"). The budget is
 * grown into at once, so a device host reallocates its memory once, at start.
 */
export function rv_set_page_budget(pages: i32): i32 {
  if (pages <= 0) { config.pageBudget = 0; setGrowLimit(0); return 0; }
  const current = memory.size();
  if (pages < current) pages = current;
  config.pageBudget = pages;
  setGrowLimit(pages);
  // The allocator rounds a request up by at most 1/16 and grows by what the rounded request needs:
  // ask for 15/16 of the spare pages so that growth stays within them (the rest grows on demand).
  const spare = <i64>pages - <i64>memory.size();
  const ask = ((spare << 16) * 15) / 16 - 8192;
  if (ask > 0) heap.free(heap.alloc(<usize>ask));
  return pages;
}

export function rv_used_memory(): f64 { return <f64>usedMemory(); }

/** Status bits of a connection (for connections reported by rv_ready_next). */
export function rv_status(conn: i32): i32 { return clients.has(conn) ? status(clients.get(conn)) : FeedStatus.CLOSE; }

/** Marks a connection as replaying an AOF / snapshot (server/loading.ts): its writes produce no
 *  effects, are never refused for memory, ignore trim LIMITs and never block; replies are dropped. */
export function rv_set_loading(conn: i32, on: i32): void {
  if (!clients.has(conn)) return;
  const c = clients.get(conn);
  if (on != 0) beginLoading(c);
  else { c.loading = false; forgetDb(); }
}

/** Turns the effect stream on (1) or off (0, the default): hosts that persist or forward writes enable it. */
export function rv_effects_enable(on: i32): void { setEffectsWanted(on != 0); }

/** Moves up to scratch-cap bytes of pending effects (RESP commands) into scratch; 0 when none. */
export function rv_effects_read(): i32 { return readEffects(SCRATCH, SCRATCH_CAP); }

/** Number of changes since start (Redis's dirty counter); hosts diff it to decide on saves. */
export function rv_dirty(): f64 { return <f64>dirty; }

/** Host requests raised by commands (SAVE, BGSAVE, BGREWRITEAOF, SHUTDOWN, CONFIG changes); cleared when read. */
export function rv_take_requests(): i32 {
  const r = pendingRequests | takeRequests();
  pendingRequests = 0;
  // The host writes the dataset of a SAVE it takes now: later SAVEs need another one.
  if (r & HostRequest.SAVE) jobs.saveTaken();
  return r;
}

/** Scratch holds "<peer ip:port> <local ip:port>". */
export function rv_conn_set_addr(conn: i32, len: i32): void {
  if (!clients.has(conn)) return;
  const c = clients.get(conn);
  const s = bytesToKey(SCRATCH, len);
  const sp = s.indexOf(" ");
  c.addr = sp < 0 ? s : s.substring(0, sp);
  c.laddr = sp < 0 ? "" : s.substring(sp + 1);
}

/** Scratch holds the host's INFO lines: "section\tfield:value\n" each. */
export function rv_set_host_info(len: i32): void { setHostInfo(SCRATCH, len); }

/**
 * Typed fast path: XADD * of many entries sharing one field list (layout in server/fastpath.ts).
 * Returns how many were added (their IDs are then in scratch as u64 pairs) or a BatchResult.
 */
export function rv_xadd_batch(conn: i32, len: i32, now: f64): i32 {
  if (!clients.has(conn)) return BatchResult.MALFORMED;
  setNow(now);
  const n = xaddBatch(clients.get(conn), SCRATCH, len < SCRATCH_CAP ? len : SCRATCH_CAP);
  if (n > 0) { serveBlockedAfterWrite(); drainResumed(null); }
  return n;
}

/** Marks a host's own control connection: hidden from CLIENT LIST and INFO, not killable, no AUTH. */
export function rv_set_internal(conn: i32): void {
  if (!clients.has(conn)) return;
  const c = clients.get(conn);
  if (!c.internal) uncountConnection();
  c.internal = true;
  c.authenticated = true;
}

// ───────────────────────────────────────────────────────────────────── engine-reported facts
// What hosts used to learn by probing with commands (a throw-away PING, an empty snapshot, SCAN +
// TYPE + XLEN over every database) or by re-parsing their own files.

/** The connection's LoadStatus record (server/loading.ts) and its texts → scratch; their length. */
export function rv_load_status(conn: i32): i32 {
  if (!clients.has(conn)) return -1;
  return writeLoadStatus(clients.get(conn), SCRATCH);
}

/** BuildInfo record, then the build hash → scratch; their length. */
export function rv_build_info(): i32 {
  const r = changetype<BuildInfo>(SCRATCH);
  r.snapshotFormat = SNAPSHOT_FORMAT;
  r.hashLen = BUILD_HASH.length;
  const at = SCRATCH + offsetof<BuildInfo>();
  for (let i = 0; i < BUILD_HASH.length; i++) store<u8>(at + <usize>i, <u8>BUILD_HASH.charCodeAt(i));
  return <i32>offsetof<BuildInfo>() + BUILD_HASH.length;
}

/** 1 when requirepass is set. */
export function rv_auth_required(): i32 { return config.requirepass.length > 0 ? 1 : 0; }

/** DatasetStats record over all databases → scratch; its length. */
export function rv_dataset_stats(): i32 {
  let keys: i64 = 0, streamKeys: i64 = 0, entries: i64 = 0;
  for (let d = 0; d < DB_COUNT; d++) {
    const db = dbs[d];
    keys += db.size;
    if (db.size == 0) continue;
    const values = db.map.values();
    for (let i = 0; i < values.length; i++) {
      if (values[i].type != TYPE_STREAM) continue;
      streamKeys++;
      entries += changetype<StreamValue>(values[i]).stream.length;
    }
  }
  const r = changetype<DatasetStats>(SCRATCH);
  r.keys = <f64>keys;
  r.streamKeys = <f64>streamKeys;
  r.streamEntries = <f64>entries;
  return <i32>offsetof<DatasetStats>();
}

/** Scratch holds a setting name; its value replaces it (cut to the scratch size). Its length, or -1. */
export function rv_config_get(len: i32): i32 {
  const value = settingValue(bytesToKey(SCRATCH, len < SCRATCH_CAP ? len : SCRATCH_CAP));
  if (value == null) return -1;
  const v = value;
  const n = v.length < SCRATCH_CAP ? v.length : SCRATCH_CAP;
  for (let i = 0; i < n; i++) store<u8>(SCRATCH + <usize>i, <u8>v.charCodeAt(i));
  return v.length;
}

// ---------------------------------------------------------------------------------------------
// Persistence jobs (docs/ABI.md, "Host loop for persistence"). Kinds are the request bits:
// SAVE = 1, BGSAVE = 2, REWRITE = 4.
// ---------------------------------------------------------------------------------------------

/** The host runs persistence jobs (1) or not (0, the default: SAVE / BGSAVE / BGREWRITEAOF fail to
 *  start, as on a Redis that cannot write its files). */
export function rv_persistence_enable(on: i32): void { jobs.enabled = on != 0; }

/**
 * A job the host starts itself (save point, automatic rewrite, appendonly yes, SHUTDOWN SAVE); kind
 * may carry 8 = SCHEDULE. Returns 0 = started (run it, then rv_job_done), 1 = a job of this kind runs
 * already (for SAVE: a BGSAVE or SAVE), 2 = another background job runs, 3 = scheduled instead (with
 * SCHEDULE: raised as a request when the running job is done), -1 = unknown kind.
 */
export function rv_job_start(kind: i32, now: f64): i32 {
  setNow(now);
  return jobs.startByHost(kind, now);
}

/**
 * The host finished a job: status 1 = ok, 0 = failed, 2 = aborted (stopped by the host; no status
 * change). SAVE clients waiting for it get +OK / -ERR and become ready (rv_ready_next), their pending
 * input runs; a scheduled job may now be raised as a request (rv_take_requests). Returns how many
 * connections became ready, or -1 when no job of that kind was running.
 */
export function rv_job_done(kind: i32, status: i32, now: f64): i32 {
  setNow(now);
  return completeJob(kind, status, now);
}

// ---- Snapshots by cursor (server/snapshot.ts; consistency rule in core/snapview.ts) ----

/**
 * Starts a snapshot of the dataset as it is now; a SnapshotStart. Effects read after this call belong
 * after the snapshot (AOF rewrite = snapshot + the effects produced after begin).
 */
export function rv_snapshot_begin(): i32 {
  const r = beginSnapshot();
  if (r == SnapshotStart.STARTED) forgetDb();
  return r;
}

/**
 * Serializes the next part and moves up to min(max, scratch cap) bytes of it into scratch; returns
 * the byte count, 0 when the snapshot is complete (it then ends by itself), -1 when none is running.
 */
export function rv_snapshot_read(max: i32): i32 {
  return readSnapshot(SCRATCH, max < 1 || max > SCRATCH_CAP ? SCRATCH_CAP : max);
}

/** Gives the running snapshot up (no-op when none runs). */
export function rv_snapshot_abort(): void { abortSnapshot(); }

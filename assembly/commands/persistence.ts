// Commands that exist for persistence: SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE (rdb.c / aof.c), the job
// completion that answers waiting SAVEs, INFO persistence, and the snapshot header. The job state is
// server/jobs.ts; the host writes the files.
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError, replyErrorToBlocked, drainResumed } from "../server/dispatch";
import { clients, nowMs, startMs, inExec } from "../server/state";
import { jobs, unixSecs } from "../server/jobs";
import { announce, resumeLater } from "../server/blocking";
import { parseIntArg, argInt, syntaxError } from "./common";
import { SNAPSHOT_FORMAT, JobKind, JobStatus } from "../abi";

// SAVE
export function saveCommand(c: Client, a: Args): void {
  if (jobs.bgsaveRunning) { replyError("ERR Background save already in progress"); return; }
  const round = jobs.requestSave();
  // No host writes files: the save fails as rdbSave does (addReplyErrorObject(shared.err)).
  if (round == 0) { replyError("ERR"); return; }
  // The reply waits for the host (completeJob); so does the rest of this client's input.
  c.saveRound = round;
}

// BGSAVE [SCHEDULE]
export function bgsaveCommand(c: Client, a: Args): void {
  let schedule = false;
  if (a.count > 1) {
    if (a.count == 2 && a.is(1, "schedule")) schedule = true;
    else { syntaxError(); return; }
  }
  if (jobs.bgsaveRunning) {
    replyError("ERR Background save already in progress");
  } else if (jobs.rewriteRunning || inExec) {
    if (schedule || inExec) {
      jobs.bgsaveScheduled = true;
      W.simple("Background saving scheduled");
    } else {
      replyError("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
    }
  } else if (jobs.startBgsave(nowMs)) {
    W.simple("Background saving started");
  } else {
    replyError("ERR");
  }
}

// BGREWRITEAOF
export function bgrewriteaofCommand(c: Client, a: Args): void {
  if (jobs.rewriteRunning) {
    replyError("ERR Background append only file rewriting already in progress");
  } else if (jobs.bgsaveRunning || inExec) {
    jobs.rewriteScheduled = true;
    W.simple("Background append only file rewriting scheduled");
  } else if (jobs.startRewrite(nowMs)) {
    W.simple("Background append only file rewriting started");
  } else {
    replyError("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.");
  }
}

// LASTSAVE
export function lastsaveCommand(c: Client, a: Args): void { W.integer(lastSaveSecs()); }

function lastSaveSecs(): i64 { return unixSecs(jobs.lastSaveMs > 0 ? jobs.lastSaveMs : startMs); }

/**
 * The host finished a job (rv_job_done). A finished SAVE answers every client waiting for that round
 * or an earlier one: +OK, or -ERR as Redis's failed rdbSave (counted as a failed SAVE call). Returns
 * how many clients became ready, or -1 when no such job was running.
 */
export function completeJob(kind: i32, status: i32, now: f64): i32 {
  const round = jobs.done(kind, status, now);
  if (round < 0) return -1;
  if (kind != JobKind.SAVE) return 0;
  let woken = 0;
  const all = clients.values();
  for (let i = 0; i < all.length; i++) {
    const c = all[i];
    if (c.saveRound == 0 || c.saveRound > round) continue;
    c.saveRound = 0;
    if (status == JobStatus.OK) { W.setTarget(c.output, c.resp); W.ok(); }
    else replyErrorToBlocked(c, "ERR");
    resumeLater(c);
    announce(c);
    woken++;
  }
  drainResumed(null);
  return woken;
}

/** The engine-owned lines of INFO persistence, in Redis's order, merged with the host's lines. */
export function persistenceInfo(host: Array<string> | null, now: f64): Array<string> {
  const out = new Array<string>();
  out.push("loading:0");
  out.push("rdb_changes_since_last_save:" + jobs.changesSinceSave().toString());
  out.push("rdb_bgsave_in_progress:" + (jobs.bgsaveRunning ? "1" : "0"));
  out.push("rdb_last_save_time:" + lastSaveSecs().toString());
  out.push("rdb_last_bgsave_status:" + (jobs.lastBgsaveOk ? "ok" : "err"));
  out.push("rdb_last_bgsave_time_sec:" + jobs.lastBgsaveSecs.toString());
  out.push("rdb_current_bgsave_time_sec:" + (jobs.bgsaveRunning ? unixSecs(now) - unixSecs(jobs.bgsaveStartMs) : -1).toString());
  out.push("rdb_saves:" + jobs.saves.toString());
  let aofBlock = false;
  if (host != null) {
    for (let i = 0; i < host.length; i++) {
      const line = host[i];
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.substring(0, colon);
      if (field == "aof_enabled") { out.push(line); aofLines(out, now); aofBlock = true; }
      // The host may name aof_pending_rewrite to place it (Redis shows it with the AOF sizes).
      else if (field == "aof_pending_rewrite") out.push("aof_pending_rewrite:" + (jobs.rewriteScheduled ? "1" : "0"));
      else if (!isEngineOwned(field)) out.push(line);
    }
  }
  if (!aofBlock) { out.push("aof_enabled:0"); aofLines(out, now); }
  return out;
}

function aofLines(out: Array<string>, now: f64): void {
  out.push("aof_rewrite_in_progress:" + (jobs.rewriteRunning ? "1" : "0"));
  out.push("aof_rewrite_scheduled:" + (jobs.rewriteScheduled ? "1" : "0"));
  out.push("aof_last_rewrite_time_sec:" + jobs.lastRewriteSecs.toString());
  out.push("aof_current_rewrite_time_sec:" + (jobs.rewriteRunning ? unixSecs(now) - unixSecs(jobs.rewriteStartMs) : -1).toString());
  out.push("aof_last_bgrewrite_status:" + (jobs.lastRewriteOk ? "ok" : "err"));
  out.push("aof_rewrites:" + jobs.rewrites.toString());
}

const ENGINE_OWNED: string[] = [
  "loading", "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time", "rdb_last_bgsave_status",
  "rdb_last_bgsave_time_sec", "rdb_current_bgsave_time_sec", "rdb_saves", "aof_rewrite_in_progress",
  "aof_rewrite_scheduled", "aof_last_rewrite_time_sec", "aof_current_rewrite_time_sec", "aof_last_bgrewrite_status",
  "aof_rewrites",
];

function isEngineOwned(field: string): bool { return ENGINE_OWNED.includes(field); }

// RIVULET.SNAPSHOT format-version build-hash
export function snapshotHeaderCommand(c: Client, a: Args): void {
  if (!parseIntArg(a, 1)) return;
  if (argInt != SNAPSHOT_FORMAT) {
    replyError("ERR unsupported snapshot format version " + argInt.toString() + " (this engine reads " + SNAPSHOT_FORMAT.toString() + ")");
    return;
  }
  W.ok();
}

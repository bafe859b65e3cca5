// Persistence jobs: SAVE, BGSAVE and the AOF rewrite. The host does the writing; the engine owns the
// job state Redis keeps in `server` (child_type, rdb_bgsave_scheduled, aof_rewrite_scheduled, dirty,
// lastsave, lastbgsave_status, the save / rewrite times and counters), so commands answer from it
// (rdb.c's saveCommand / bgsaveCommand, aof.c's bgrewriteaofCommand) and INFO persistence is live.
//
//   engine-started (a command, or a scheduled job coming due): state set, request bit raised
//   host-started   (save points, automatic rewrite, appendonly yes, SHUTDOWN SAVE): startByHost
//   either way the host ends it with done(kind, status)
//
// A background job here is what a forked child is in Redis: at most one runs, and a BGSAVE or rewrite
// asked for meanwhile is scheduled. SAVE is not a child: it runs in the host's turn, while clients wait.
import { dirty, requestHost } from "./state";
import { HostRequest, JobKind, JobStart, JobStatus } from "../abi";

/** Redis retries a failed scheduled BGSAVE only after CONFIG_BGSAVE_RETRY_DELAY seconds. */
const BGSAVE_RETRY_DELAY_MS: f64 = 5000;

/** Unix seconds of a time in ms (time(NULL) in Redis). */
@inline export function unixSecs(ms: f64): i64 { return <i64>Math.floor(ms / 1000); }

@final
export class Jobs {
  /** A host that runs jobs said so (rv_persistence_enable); otherwise every job fails to start. */
  enabled: bool = false;

  bgsaveRunning: bool = false;
  bgsaveScheduled: bool = false;
  bgsaveStartMs: f64 = 0;
  bgsaveDirtyAtStart: i64 = 0;
  lastBgsaveTryMs: f64 = 0;
  lastBgsaveOk: bool = true;
  lastBgsaveSecs: i64 = -1;

  rewriteRunning: bool = false;
  rewriteScheduled: bool = false;
  rewriteStartMs: f64 = 0;
  lastRewriteOk: bool = true;
  lastRewriteSecs: i64 = -1;

  /** SAVE: raised but not yet taken by the host / being written by the host. */
  saveRequested: bool = false;
  saveRunning: bool = false;
  /** Number of the SAVE requested or running; a waiting client waits for its round. */
  saveRound: i32 = 0;
  /** A SAVE arrived while one was being written: another one follows it. */
  saveAgain: bool = false;
  saveDirtyAtStart: i64 = 0;

  /** When the last successful save (SAVE or BGSAVE) started writing (0 = none since start). */
  lastSaveMs: f64 = 0;
  dirtyAtLastSave: i64 = 0;
  /** INFO rdb_saves / aof_rewrites (started, as Redis counts them; CONFIG RESETSTAT zeroes them). */
  saves: i64 = 0;
  rewrites: i64 = 0;

  @inline get childActive(): bool { return this.bgsaveRunning || this.rewriteRunning; }

  /** rdbSaveBackground for a command or a scheduled job: raises the host request, or returns false
   *  (and the status is err) when no host runs jobs. */
  startBgsave(now: f64): bool {
    if (!this.enabled) {
      this.saves++;
      this.lastBgsaveTryMs = now;
      this.lastBgsaveOk = false;
      return false;
    }
    this.beginBgsave(now);
    requestHost(HostRequest.BGSAVE);
    return true;
  }

  private beginBgsave(now: f64): void {
    this.saves++;
    this.lastBgsaveTryMs = now;
    this.bgsaveRunning = true;
    this.bgsaveScheduled = false;
    this.bgsaveStartMs = now;
    this.bgsaveDirtyAtStart = dirty;
  }

  /** rewriteAppendOnlyFileBackground for a command or a scheduled job: raises the host request, or
   *  returns false (status err) when it cannot start. */
  startRewrite(now: f64): bool {
    if (!this.enabled) { this.lastRewriteOk = false; return false; }
    this.beginRewrite(now);
    requestHost(HostRequest.BGREWRITEAOF);
    return true;
  }

  private beginRewrite(now: f64): void {
    this.rewrites++;
    this.rewriteRunning = true;
    this.rewriteScheduled = false;
    this.rewriteStartMs = now;
  }

  /**
   * SAVE asks for a save; returns the round the client waits for, or 0 when it fails at once (no host
   * runs jobs). A SAVE arriving before the host took the request shares it; one arriving while the
   * host writes waits for the next round, so every SAVE covers the writes before it.
   */
  requestSave(): i32 {
    this.saves++;
    if (!this.enabled) return 0;
    if (this.saveRunning) { this.saveAgain = true; return this.saveRound + 1; }
    if (!this.saveRequested) this.raiseSave();
    return this.saveRound;
  }

  private raiseSave(): void {
    this.saveRound++;
    this.saveRequested = true;
    requestHost(HostRequest.SAVE);
  }

  /** The host took the SAVE request (rv_take_requests): it is writing that dataset now. */
  saveTaken(): void {
    if (!this.saveRequested) return;
    this.saveRequested = false;
    this.saveRunning = true;
    this.saveDirtyAtStart = dirty;
  }

  /** A job the host starts itself; JobStart.STARTED means it runs now and the host ends it with done(). */
  startByHost(kind: i32, now: f64): i32 {
    const schedule = (kind & JobKind.SCHEDULE) != 0;
    kind &= ~JobKind.SCHEDULE;
    if (kind == JobKind.SAVE) {
      if (this.bgsaveRunning || this.saveRunning || this.saveRequested) return JobStart.BUSY_SAME;
      this.saves++;
      this.saveRound++;
      this.saveRunning = true;
      this.saveDirtyAtStart = dirty;
      return JobStart.STARTED;
    }
    if (kind != JobKind.BGSAVE && kind != JobKind.REWRITE) return JobStart.BAD_KIND;
    const same = kind == JobKind.BGSAVE ? this.bgsaveRunning : this.rewriteRunning;
    if (same) return JobStart.BUSY_SAME;
    if (this.childActive) {
      if (!schedule) return JobStart.BUSY_OTHER;
      if (kind == JobKind.BGSAVE) this.bgsaveScheduled = true; else this.rewriteScheduled = true;
      return JobStart.SCHEDULED;
    }
    if (kind == JobKind.BGSAVE) this.beginBgsave(now); else this.beginRewrite(now);
    return JobStart.STARTED;
  }

  /**
   * The host finished a job. Returns -1 when no such job was running; for SAVE, the round that ended
   * (the caller answers the clients waiting for it and earlier rounds); otherwise 0.
   */
  done(kind: i32, status: i32, now: f64): i32 {
    if (kind == JobKind.SAVE) {
      if (!this.saveRunning) return -1;
      this.saveRunning = false;
      if (status == JobStatus.OK) this.saved(now, this.saveDirtyAtStart);
      const round = this.saveRound;
      if (this.saveAgain) { this.saveAgain = false; this.raiseSave(); }
      return round;
    }
    if (kind == JobKind.BGSAVE) {
      if (!this.bgsaveRunning) return -1;
      this.bgsaveRunning = false;
      if (status == JobStatus.OK) this.saved(now, this.bgsaveDirtyAtStart);
      else if (status == JobStatus.FAILED) this.lastBgsaveOk = false;
      this.lastBgsaveSecs = unixSecs(now) - unixSecs(this.bgsaveStartMs);
    } else if (kind == JobKind.REWRITE) {
      if (!this.rewriteRunning) return -1;
      this.rewriteRunning = false;
      if (status == JobStatus.OK) this.lastRewriteOk = true;
      else if (status == JobStatus.FAILED) this.lastRewriteOk = false;
      this.lastRewriteSecs = unixSecs(now) - unixSecs(this.rewriteStartMs);
    } else return -1;
    this.startScheduled(now);
    return 0;
  }

  private saved(now: f64, dirtyAtStart: i64): void {
    this.lastSaveMs = now;
    this.dirtyAtLastSave = dirtyAtStart;
    this.lastBgsaveOk = true;
  }

  /**
   * Starts a scheduled job once no other runs (Redis's serverCron: the rewrite first), raising its
   * request bit. Called when a job ends and after EXEC.
   */
  startScheduled(now: f64): void {
    if (this.childActive) return;
    if (this.rewriteScheduled) { this.startRewrite(now); return; }
    if (this.bgsaveScheduled && (this.lastBgsaveOk || now - this.lastBgsaveTryMs > BGSAVE_RETRY_DELAY_MS)) {
      this.startBgsave(now);
    }
  }

  /** INFO rdb_changes_since_last_save. */
  @inline changesSinceSave(): i64 { return dirty - this.dirtyAtLastSave; }

  resetStats(): void { this.saves = 0; this.rewrites = 0; }
}

export const jobs = new Jobs();

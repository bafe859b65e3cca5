/**
 * Persistence for every TypeScript host (the Node server, the in-process engine, the browser
 * worker): which file to load at start, the AOF and its fsync policy, SAVE / BGSAVE / BGREWRITEAOF
 * and save points, automatic rewrites, the INFO persistence lines the host owns, and the final
 * flush. It plugs into the {@link HostLoop} as its {@link Durability}; files go through a
 * {@link Storage}, so the same code persists to a directory, OPFS or IndexedDB.
 *
 * Files (names configurable): `appendonly.aof` — the effects, preceded after a rewrite by a
 * snapshot; `dump.rvs` — the snapshot of SAVE / BGSAVE / save points; `temp-*` — jobs in progress,
 * put in place by an atomic replace when complete and removed at start when left over.
 */
import { HostRequest, JobKind as EngineJob, JobStart, JobStatus } from '../../bindings/abi.gen.js';
import type { Durability, HostLoop } from '../../bindings/loop.js';
import { AppendOnlyFile, type FsyncPolicy } from './aof.js';
import { humanBytes, type Logger } from './log.js';
import { CorruptFileError, replayFile, type ReplayResult } from './replay.js';
import { isTempName, SnapshotJob, tempName, type JobKind } from './snapshot-job.js';
import type { Storage, StorageLock, Awaitable } from './storage.js';

/** rv_take_requests bits (generated from assembly/abi.ts). */
export const REQ_SAVE = HostRequest.SAVE;
export const REQ_BGSAVE = HostRequest.BGSAVE;
export const REQ_BGREWRITEAOF = HostRequest.BGREWRITEAOF;
export const REQ_SHUTDOWN = HostRequest.SHUTDOWN;
export const REQ_SHUTDOWN_NOSAVE = HostRequest.SHUTDOWN_NOSAVE;
export const REQ_SHUTDOWN_SAVE = HostRequest.SHUTDOWN_SAVE;
export const REQ_CONFIG_CHANGED = HostRequest.CONFIG_CHANGED;

/** The engine's JobKind of a job of this host ("Host loop for persistence" in docs/ABI.md). */
function jobCode(kind: JobKind | 'save'): number {
  return kind === 'save' ? EngineJob.SAVE : kind === 'rewrite' ? EngineJob.REWRITE : EngineJob.BGSAVE;
}

export interface PersistenceSettings {
  appendonly: boolean;
  appendfsync: FsyncPolicy;
  appendfilename: string;
  dbfilename: string;
  /** save points: [seconds, changes] pairs. */
  save: Array<[number, number]>;
  autoAofRewritePercentage: number;
  autoAofRewriteMinSize: number;
  aofLoadTruncated: boolean;
}

export const DEFAULT_SETTINGS: PersistenceSettings = {
  appendonly: true,
  appendfsync: 'everysec',
  appendfilename: 'appendonly.aof',
  dbfilename: 'dump.rvs',
  save: [],
  autoAofRewritePercentage: 100,
  autoAofRewriteMinSize: 64 << 20,
  aofLoadTruncated: true,
};

export interface PersistenceOptions {
  storage: Storage;
  settings?: Partial<PersistenceSettings>;
  log: Logger;
  /** Who this is, for the lock ("rivulet server", "in-process engine"). */
  owner?: string;
  /** A tag for temp-file names (the pid in Node). */
  tag?: string | number;
  /** A write error made continuing impossible: stop the host. */
  onFatal: (msg: string) => void;
  /** Requests the persistence layer does not handle itself (SHUTDOWN, CONFIG changes). */
  onRequests?: (bits: number) => void;
  /** Each effects chunk also goes here (replication, `onEffects`), after the AOF append. */
  onEffects?: (chunk: Uint8Array) => void;
  /** Progress-line interval while loading big files (ms; 0 = every read). */
  loadProgressMs?: number;
}

/** Redis-style exact message for a file that cannot be loaded. */
export class LoadError extends Error {}

export class Persistence implements Durability {
  readonly storage: Storage;
  readonly settings: PersistenceSettings;
  readonly #loop: HostLoop;
  readonly #log: Logger;
  readonly #opts: PersistenceOptions;
  #lock: StorageLock | null = null;
  #aof: AppendOnlyFile | null = null;
  #job: SnapshotJob | null = null;
  #jobRunning: Promise<void> | null = null;
  #pendingJobs = new Set<JobKind>();
  #closed = false;
  // the save-point policy (the job state and its INFO fields are the engine's: rv_job_start / rv_job_done)
  #lastSaveTime = Math.floor(Date.now() / 1000);
  #dirtyAtSave = 0;
  #lastBgsaveOk = true;
  #lastBgsaveTry = 0;
  #lastSecond = 0;

  private constructor(loop: HostLoop, opts: PersistenceOptions) {
    this.#loop = loop;
    this.storage = opts.storage;
    this.settings = { ...DEFAULT_SETTINGS, ...opts.settings };
    this.#log = opts.log;
    this.#opts = opts;
  }

  /**
   * Takes the storage (one owner at a time), removes leftover temp files, loads the AOF or the
   * snapshot into the engine, opens the AOF and plugs itself into the loop.
   */
  static async open(loop: HostLoop, opts: PersistenceOptions): Promise<Persistence> {
    const p = new Persistence(loop, opts);
    p.#lock = await opts.storage.lock(opts.owner ?? 'rivulet');
    try {
      await p.#cleanTempFiles();
      await p.#load();
    } catch (e) {
      await p.#lock.release();
      p.#lock = null;
      throw e;
    }
    p.#dirtyAtSave = loop.raw.dirty();
    loop.setDurability(p);
    // this host writes the files of SAVE / BGSAVE / BGREWRITEAOF and tells the engine when each ends
    loop.raw.persistenceEnable(true);
    return p;
  }

  /** One line saying how the data is kept (logged at start). */
  summary(): string {
    const s = this.settings;
    const at = this.storage.location;
    return (
      `Persistence: appendonly ${s.appendonly ? 'yes' : 'no'}` +
      (s.appendonly ? `, appendfsync ${s.appendfsync}, file ${at}/${s.appendfilename}` : '') +
      `, save ${s.save.length ? `"${s.save.flat().join(' ')}"` : '""'}, snapshots ${at}/${s.dbfilename}`
    );
  }

  get aof(): AppendOnlyFile | null {
    return this.#aof;
  }

  get jobKind(): JobKind | null {
    return this.#job?.kind ?? null;
  }

  async #cleanTempFiles(): Promise<void> {
    for (const f of await this.storage.list()) {
      if (!isTempName(f)) continue;
      try {
        await this.storage.remove(f);
        this.#log.notice(`Removed the leftover temp file ${f} (an interrupted save or rewrite)`);
      } catch {
        /* ignore */
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // loading
  // ---------------------------------------------------------------------------------------------

  async #load(): Promise<void> {
    const s = this.settings;
    const st = this.storage;
    const aofName = s.appendfilename;
    const dumpName = s.dbfilename;
    const aofExists = (await st.size(aofName)) >= 0;
    const dumpExists = (await st.size(dumpName)) >= 0;
    let source: 'aof' | 'dump' | null = null;
    if (s.appendonly && aofExists) source = 'aof';
    else if (dumpExists) source = 'dump';
    if (!s.appendonly && aofExists && !dumpExists) {
      this.#log.warn(`appendonly is no: ${st.location}/${aofName} is not loaded (start with --appendonly yes to use it)`);
    }
    if (source) {
      const name = source === 'aof' ? aofName : dumpName;
      const path = `${st.location}/${name}`;
      const what = source === 'aof' ? 'the append only file' : 'the snapshot';
      this.#log.notice(`Loading ${what} ${path} (${humanBytes(await st.size(name))})...`);
      let r: ReplayResult;
      try {
        r = await replayFile(this.#loop.raw, st, name, source === 'aof' ? 'AOF' : 'snapshot', {
          log: this.#log,
          progressMs: this.#opts.loadProgressMs,
          clock: this.#loop.clock,
        });
      } catch (e) {
        if (e instanceof CorruptFileError) {
          throw new LoadError(
            `Bad file format reading ${what} ${path} at offset ${e.offset}: ${e.reason}. ` +
              `Nothing after that point can be trusted, so Rivulet will not start. ` +
              `'rivulet check-aof --fix ${path}' truncates the file at the last valid record before offset ${e.offset} ` +
              `(everything after it is lost); keep a copy first.`,
          );
        }
        throw e;
      }
      if (r.torn) {
        const lost = r.size - r.validLength;
        if (source === 'dump') {
          throw new LoadError(`The snapshot ${path} is truncated (${r.torn}, offset ${r.validLength}); snapshots are written atomically, so the file is damaged. Move it away to start empty.`);
        }
        if (!s.aofLoadTruncated) {
          throw new LoadError(`The AOF ${path} ends with a torn record (${r.torn}) at offset ${r.validLength}; aof-load-truncated is no, so Rivulet will not start.`);
        }
        this.#log.warn(`!!! Warning: the AOF ${path} ends with a torn record (${r.torn}) !!!`);
        this.#log.warn(`AOF loaded anyway because aof-load-truncated is enabled: truncating ${lost} bytes at offset ${r.validLength}`);
        await st.truncate(name, r.validLength);
      }
      const sum = datasetSummary(this.#loop);
      this.#log.notice(
        `DB loaded from ${source === 'aof' ? 'append only file' : 'snapshot'}: ${(r.ms / 1000).toFixed(3)} seconds, ` +
          `${sum.keys} keys, ${sum.entries} stream entries, ${r.commands} commands, ${humanBytes(r.validLength)}`,
      );
    } else {
      this.#log.notice('No AOF or snapshot found: starting with an empty dataset');
    }
    if (s.appendonly) {
      this.#aof = this.#newAof();
      if (source !== 'aof' && datasetSummary(this.#loop).keys > 0) {
        // AOF on but none yet (first start with a snapshot): create it from the dataset
        this.#log.notice(`Creating ${st.location}/${aofName} from the loaded dataset`);
        this.#aof.beginRewrite();
        const job = await SnapshotJob.start(this.#loop.raw, st, 'rewrite', this.#tmp('rewrite'), aofName);
        await job.runToEnd();
        await this.#aof.finishRewrite(job.file, job.tmpName);
        job.releaseFile();
      } else {
        await this.#aof.open();
      }
    }
  }

  #newAof(): AppendOnlyFile {
    return new AppendOnlyFile(this.storage, this.settings.appendfilename, this.settings.appendfsync, this.#log, this.#opts.onFatal);
  }

  #tmp(kind: JobKind): string {
    return tempName(kind, this.#opts.tag ?? 'rivulet');
  }

  // ---------------------------------------------------------------------------------------------
  // the loop's Durability
  // ---------------------------------------------------------------------------------------------

  effects(chunk: Uint8Array): void {
    this.#aof?.append(chunk);
    this.#opts.onEffects?.(chunk);
  }

  commit(): Awaitable<void> {
    return this.#aof?.commit();
  }

  /** SAVE holds the replies of its pass until the snapshot is durable (the loop waits for it). */
  requests(bits: number): Awaitable<void> {
    if (bits & REQ_BGSAVE) this.startJob('bgsave', 'BGSAVE');
    if (bits & REQ_BGREWRITEAOF) this.startJob('rewrite', 'BGREWRITEAOF');
    const rest = bits & ~(REQ_SAVE | REQ_BGSAVE | REQ_BGREWRITEAOF);
    if (rest) this.#opts.onRequests?.(rest);
    if (bits & REQ_SAVE) return this.save('SAVE', true).then(() => {});
  }

  /**
   * Tells the engine a job ended: clients waiting on a SAVE get their replies (through a settle
   * pass, after the effects of their pipelined input); a scheduled job may now be requested.
   */
  #jobDone(kind: JobKind | 'save', status: number): void {
    if (this.#loop.failure !== null) return;
    this.#loop.run(-1, (raw) => raw.jobDone(jobCode(kind), status, this.#loop.clock()));
  }

  /** A job this host decides on (save point, automatic rewrite, appendonly yes): the engine agrees first. */
  #startHostJob(kind: JobKind, why: string, schedule = false): void {
    if (this.#closed) return;
    const r = this.#loop.raw.jobStart(jobCode(kind) | (schedule ? EngineJob.SCHEDULE : 0), this.#loop.clock());
    if (r === JobStart.STARTED) this.startJob(kind, why);
    else if (r === JobStart.SCHEDULED) this.#log.notice(`${why}: scheduled after the running background job`);
    // otherwise a job of this kind runs (it will do) or another one does (a save point waits)
  }

  // ---------------------------------------------------------------------------------------------
  // settings changed at run time (CONFIG SET through the host)
  // ---------------------------------------------------------------------------------------------

  /** Applies new values of the persistence settings (appendonly on/off, fsync policy, save points…). */
  async apply(next: Partial<PersistenceSettings>): Promise<void> {
    const s = this.settings;
    if (next.appendfsync && next.appendfsync !== s.appendfsync) {
      s.appendfsync = next.appendfsync;
      if (this.#aof) this.#aof.policy = next.appendfsync;
      this.#log.notice(`appendfsync is now ${next.appendfsync}`);
    }
    for (const k of ['save', 'autoAofRewritePercentage', 'autoAofRewriteMinSize', 'dbfilename', 'aofLoadTruncated'] as const) {
      if (next[k] !== undefined) (s as unknown as Record<string, unknown>)[k] = next[k];
    }
    if (next.appendonly !== undefined && next.appendonly !== s.appendonly) {
      s.appendonly = next.appendonly;
      if (next.appendonly) {
        this.#log.notice('Turning the AOF on: writing a snapshot as its start');
        this.#aof = this.#newAof();
        // the file comes into being when the rewrite completes; until then appends go to its tail
        this.#aof.beginRewrite();
        this.#startHostJob('rewrite', 'appendonly yes', true);
      } else {
        this.#log.notice('Turning the AOF off');
        if (this.#job?.kind === 'rewrite') await this.#abortJob();
        this.#pendingJobs.delete('rewrite');
        this.#loop.flush();
        const aof = this.#aof;
        this.#aof = null;
        await aof?.close();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // jobs
  // ---------------------------------------------------------------------------------------------

  /**
   * SAVE (`requested`: the engine asked for it and its clients wait for rv_job_done) and SHUTDOWN
   * SAVE (a job this host starts): resolves true once the snapshot is durable in place.
   */
  async save(why: string, requested = false): Promise<boolean> {
    // the engine has one snapshot at a time: finish the running job first
    while (this.#jobRunning) await this.#jobRunning;
    if (!requested) this.#loop.raw.jobStart(EngineJob.SAVE, this.#loop.clock());
    const t0 = Date.now();
    let job: SnapshotJob | null = null;
    let ok = false;
    try {
      job = await SnapshotJob.start(this.#loop.raw, this.storage, 'bgsave', this.#tmp('bgsave'), this.settings.dbfilename);
      await job.runToEnd();
      await job.commit();
      this.#lastSaveTime = Math.floor(Date.now() / 1000);
      this.#dirtyAtSave = job.dirtyAtStart;
      this.#lastBgsaveOk = true;
      this.#log.notice(`DB saved on disk (${why}): ${this.storage.location}/${this.settings.dbfilename}, ${humanBytes(job.written)} in ${Date.now() - t0} ms`);
      ok = true;
    } catch (e) {
      await job?.abort();
      this.#log.warn(`Failed saving the DB (${why}): ${(e as Error).message}`);
    }
    this.#jobDone('save', ok ? JobStatus.OK : JobStatus.FAILED);
    return ok;
  }

  /**
   * BGSAVE / BGREWRITEAOF / save points / automatic rewrites, once the engine marked the job running
   * (its request, or rv_job_start): runs in steps between client work. The engine schedules what is
   * asked for while another job runs; `#pendingJobs` only bridges the moment between a job's end
   * (rv_job_done) and this host letting go of it.
   */
  startJob(kind: JobKind, why: string): void {
    // closing: the job will not run (no SAVE waits on a background job: no settle pass needed)
    if (this.#closed) return void this.#loop.raw.jobDone(jobCode(kind), JobStatus.FAILED, this.#loop.clock());
    if (this.#jobRunning) {
      if (this.#job?.kind === kind) return; // the running one will do
      this.#pendingJobs.add(kind);
      this.#log.notice(`${why}: scheduled after the running ${this.#job?.kind === 'rewrite' ? 'AOF rewrite' : 'background save'}`);
      return;
    }
    const run = this.#runJob(kind, why).finally(() => {
      this.#jobRunning = null;
      const next = this.#pendingJobs.values().next();
      if (!next.done && !this.#closed) {
        this.#pendingJobs.delete(next.value);
        this.startJob(next.value, 'scheduled');
      }
    });
    this.#jobRunning = run;
  }

  async #runJob(kind: JobKind, why: string): Promise<void> {
    this.#loop.flush(); // effects made before the snapshot belong to the current AOF only
    const aof = this.#aof;
    try {
      if (kind === 'rewrite') {
        aof?.beginRewrite(); // (a new snapshot includes whatever an earlier tail held)
      } else {
        this.#lastBgsaveTry = Date.now();
      }
      this.#job = await SnapshotJob.start(this.#loop.raw, this.storage, kind, this.#tmp(kind), kind === 'rewrite' ? this.settings.appendfilename : this.settings.dbfilename);
      this.#log.notice(
        kind === 'rewrite'
          ? `Background append only file rewriting started (${why})`
          : `Background saving started (${why})`,
      );
    } catch (e) {
      aof?.abortRewrite();
      this.#job = null;
      if (kind !== 'rewrite') this.#lastBgsaveOk = false;
      this.#log.warn(`Can't start the ${kind === 'rewrite' ? 'AOF rewrite' : 'background save'}: ${(e as Error).message}`);
      this.#jobDone(kind, JobStatus.FAILED);
      return;
    }
    const job = this.#job;
    // a few MB per turn, yielding to clients in between
    while (!(await job.step())) {
      await new Promise<void>((r) => setTimeout(r, 0));
      if (this.#job !== job) return; // aborted
    }
    await this.#completeJob(job);
  }

  /** The running job wrote its whole snapshot: make it durable and put it in place. */
  async #completeJob(job: SnapshotJob): Promise<void> {
    this.#job = null;
    const secs = Math.round((Date.now() - job.startedAt) / 1000);
    try {
      if (job.kind === 'rewrite') {
        this.#loop.flush(); // the latest effects go to the old file and the tail alike
        if (this.#aof) {
          await this.#aof.finishRewrite(job.file, job.tmpName);
          job.releaseFile();
        } else {
          await job.commit(); // BGREWRITEAOF with appendonly no: a one-off compacted file
        }
        this.#log.notice(`Background AOF rewrite finished successfully: ${this.storage.location}/${this.settings.appendfilename} is now ${humanBytes(this.#aof?.size ?? job.written)}`);
      } else {
        await job.commit();
        this.#lastSaveTime = Math.floor(Date.now() / 1000);
        this.#dirtyAtSave = job.dirtyAtStart;
        this.#lastBgsaveOk = true;
        this.#log.notice(`Background saving terminated with success: ${this.storage.location}/${this.settings.dbfilename} (${humanBytes(job.written)}, ${secs} s)`);
      }
    } catch (e) {
      await job.abort();
      if (job.kind === 'rewrite') {
        if (this.#aof && !this.#aof.isOpen) {
          // the AOF is being created (appendonly turned on): keep collecting the tail and retry
          this.#log.warn(`Creating the AOF failed: ${(e as Error).message}; retrying in 5 seconds`);
          this.#jobDone(job.kind, JobStatus.FAILED);
          setTimeout(() => this.#aof && !this.#aof.isOpen && this.#startHostJob('rewrite', 'retry', true), 5000);
          return;
        }
        this.#aof?.abortRewrite();
      } else this.#lastBgsaveOk = false;
      this.#log.warn(`${job.kind === 'rewrite' ? 'AOF rewrite' : 'Background save'} failed: ${(e as Error).message}`);
      this.#jobDone(job.kind, JobStatus.FAILED);
      return;
    }
    this.#jobDone(job.kind, JobStatus.OK);
  }

  async #abortJob(): Promise<void> {
    const job = this.#job;
    if (!job) return;
    this.#job = null;
    await job.abort();
    if (job.kind === 'rewrite') this.#aof?.abortRewrite();
    this.#log.notice(`${job.kind === 'rewrite' ? 'AOF rewrite' : 'Background save'} aborted`);
    this.#jobDone(job.kind, JobStatus.ABORTED);
  }

  // ---------------------------------------------------------------------------------------------
  // cron, INFO, close
  // ---------------------------------------------------------------------------------------------

  /** Every 100 ms or so: everysec syncs, write retries, save points, automatic AOF rewrite. */
  cron(now: number): void {
    if (this.#closed) return;
    this.#aof?.cron(now);
    if (now - this.#lastSecond < 1000) return;
    this.#lastSecond = now;
    const dirty = this.#loop.raw.dirty();
    if (!this.#jobRunning) {
      for (const [secs, changes] of this.settings.save) {
        if (
          dirty - this.#dirtyAtSave >= changes &&
          now / 1000 - this.#lastSaveTime >= secs &&
          (this.#lastBgsaveOk || now - this.#lastBgsaveTry > 5000)
        ) {
          this.#lastBgsaveTry = now;
          this.#startHostJob('bgsave', `${changes} changes in ${secs} seconds`);
          break;
        }
      }
    }
    const aof = this.#aof;
    const { autoAofRewritePercentage: perc, autoAofRewriteMinSize: min } = this.settings;
    if (aof?.isOpen && !this.#jobRunning && perc > 0 && aof.size > min) {
      const base = aof.baseSize || 1;
      const growth = Math.floor(((aof.size - base) * 100) / base);
      if (growth >= perc) this.#startHostJob('rewrite', `automatic, ${growth}% growth`);
    }
  }

  /**
   * INFO persistence lines only this host knows (`section\tfield:value`, rv_set_host_info form); the
   * engine adds its job fields (rdb_*, aof_rewrite*) after aof_enabled, live.
   */
  infoLines(): string[] {
    const aof = this.#aof;
    const lines = [
      `persistence\taof_enabled:${this.settings.appendonly ? 1 : 0}`,
      `persistence\taof_last_write_status:${aof?.lastWriteError ? 'err' : 'ok'}`,
    ];
    if (aof) {
      lines.push(
        `persistence\taof_current_size:${aof.size}`,
        `persistence\taof_base_size:${aof.baseSize}`,
        `persistence\taof_pending_rewrite`, // placed here; the engine fills in its value
        `persistence\taof_rewrite_buffer_length:${aof.rewriteTailBytes}`,
        `persistence\taof_delayed_fsync:${aof.delayedFsyncs}`,
      );
    }
    return lines;
  }

  /**
   * The final flush: stops jobs, writes and syncs the AOF, snapshots when asked (`save`: true =
   * always, false = never, undefined = when save points are configured, as Redis), releases the
   * storage. Resolves false when a requested save failed.
   */
  async close(save?: boolean): Promise<boolean> {
    if (this.#closed) return true;
    let ok = true;
    try {
      if (this.#job) {
        this.#log.notice(`There is a ${this.#job.kind === 'rewrite' ? 'AOF rewrite' : 'background save'} running: stopping it`);
        await this.#abortJob();
      }
      while (this.#jobRunning) await this.#jobRunning.catch(() => {});
      this.#closed = true;
      this.#loop.flush();
      await this.#loop.idle();
      if (this.#aof) {
        this.#log.notice('Calling fsync() on the AOF file.');
        await this.#aof.close();
      }
      if (save ?? this.settings.save.length > 0) {
        this.#log.notice('Saving the final snapshot before exiting.');
        ok = await this.save('shutdown');
      }
    } finally {
      this.#closed = true;
      this.#loop.setDurability(null);
      await this.#lock?.release();
      this.#lock = null;
    }
    return ok;
  }
}

/** Keys and stream entries in every database (rv_dataset_stats). */
export function datasetSummary(loop: HostLoop): { keys: number; entries: number } {
  const s = loop.raw.datasetStats();
  return { keys: s.keys, entries: s.streamEntries };
}

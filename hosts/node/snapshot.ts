/**
 * Writing snapshots (`rv_snapshot()` bytes) to disk: `<dir>/dump.rvs` for SAVE / BGSAVE / save
 * points / SHUTDOWN SAVE, and the first part of a rewritten AOF.
 *
 * The engine serializes the whole dataset at once into its own buffer (`rv_snapshot`), so the data
 * is a consistent point in time; the host then copies it out with `rv_snapshot_read` in scratch-
 * sized pieces into a temp file — a few MB per event-loop turn for background jobs, so clients keep
 * being served — and finally fsyncs it, renames it into place and fsyncs the directory.
 */
import { closeSync, fdatasyncSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EngineHost } from './engine.ts';
import { fsyncDir, writeFully } from './aof.ts';

export type JobKind = 'bgsave' | 'rewrite';

export class SnapshotJob {
  readonly kind: JobKind;
  readonly tmpPath: string;
  readonly finalPath: string;
  readonly startedAt = Date.now();
  /** rv_dirty() when the snapshot was taken. */
  readonly dirtyAtStart: number;
  readonly totalBytes: number;
  written = 0;
  #fd: number;
  #engine: EngineHost;
  #done = false;

  /** Takes the snapshot now (the caller has already persisted the effects produced before it). */
  constructor(engine: EngineHost, kind: JobKind, tmpPath: string, finalPath: string) {
    this.kind = kind;
    this.tmpPath = tmpPath;
    this.finalPath = finalPath;
    this.#engine = engine;
    this.#fd = openSync(tmpPath, 'w');
    this.dirtyAtStart = engine.raw.dirty();
    this.totalBytes = engine.raw.snapshot();
  }

  get fd(): number {
    return this.#fd;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Copies up to `budget` bytes to the temp file; returns true once everything is written. */
  step(budget = 4 << 20): boolean {
    const raw = this.#engine.raw;
    let moved = 0;
    while (moved < budget) {
      const n = raw.snapshotRead();
      if (n === 0) {
        this.#done = true;
        return true;
      }
      writeFully(this.#fd, raw.scratch().subarray(0, n));
      moved += n;
      this.written += n;
    }
    return false;
  }

  runToEnd(): void {
    while (!this.step(64 << 20));
  }

  /** Makes the temp file durable and renames it into place (not for rewrites: see AppendOnlyFile.finishRewrite). */
  commit(): void {
    fdatasyncSync(this.#fd);
    closeSync(this.#fd);
    this.#fd = -1;
    renameSync(this.tmpPath, this.finalPath);
    fsyncDir(dirname(this.finalPath));
  }

  /** Gives up: closes and removes the temp file. The engine's snapshot buffer is drained. */
  abort(): void {
    if (!this.#done) {
      const raw = this.#engine.raw;
      while (raw.snapshotRead() > 0);
    }
    if (this.#fd >= 0) {
      try {
        closeSync(this.#fd);
      } catch {
        /* already closed */
      }
      this.#fd = -1;
    }
    try {
      unlinkSync(this.tmpPath);
    } catch {
      /* gone */
    }
  }

  /** Marks the fd as taken over (AppendOnlyFile.finishRewrite closes it). */
  releaseFd(): void {
    this.#fd = -1;
  }
}

/** SAVE: the whole snapshot written and durable before returning. */
export function saveSnapshotSync(engine: EngineHost, tmpPath: string, finalPath: string): { bytes: number; dirty: number } {
  const job = new SnapshotJob(engine, 'bgsave', tmpPath, finalPath);
  try {
    job.runToEnd();
    job.commit();
  } catch (e) {
    job.abort();
    throw e;
  }
  return { bytes: job.written, dirty: job.dirtyAtStart };
}

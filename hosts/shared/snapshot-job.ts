/**
 * Writing a snapshot (the engine's point-in-time dataset as RESP commands) into a temp file of a
 * storage, in steps: a few MB per step for background jobs, so clients keep being served, then
 * sync and replace into place — or, for an AOF rewrite, handed to AppendOnlyFile.finishRewrite.
 * The engine writes it by cursor (`rv_snapshot_begin`, then `rv_snapshot_read` part by part): the
 * dataset as of the start, whatever runs between steps (docs/PERSISTENCE.md).
 */
import type { RawEngine } from '../../bindings/raw.js';
import { SnapshotStart } from '../../bindings/abi.js';
import type { Storage, WriteHandle } from './storage.js';

export type JobKind = 'bgsave' | 'rewrite';

/** Temp-file names; leftovers of an interrupted job are removed at start (`isTempName`). */
export function tempName(kind: JobKind, tag: string | number): string {
  return kind === 'rewrite' ? `temp-rewriteaof-${tag}.aof` : `temp-${tag}.rvs`;
}

export function isTempName(name: string): boolean {
  return /^temp-(rewriteaof-)?[\w.-]+\.(aof|rvs)$/.test(name);
}

export class SnapshotJob {
  readonly kind: JobKind;
  readonly tmpName: string;
  readonly finalName: string;
  readonly startedAt = Date.now();
  /** rv_dirty() when the snapshot was taken. */
  readonly dirtyAtStart: number;
  written = 0;
  #raw: RawEngine;
  #storage: Storage;
  #file: WriteHandle | null = null;
  #done = false;

  /** Takes the snapshot now (the caller has already persisted the effects produced before it). */
  private constructor(raw: RawEngine, storage: Storage, kind: JobKind, tmpName: string, finalName: string) {
    this.kind = kind;
    this.tmpName = tmpName;
    this.finalName = finalName;
    this.#raw = raw;
    this.#storage = storage;
    const started = raw.snapshotBegin();
    if (started !== SnapshotStart.STARTED) {
      throw new Error(started === SnapshotStart.RUNNING ? 'a snapshot is already running' : 'not enough memory under the page budget to start a snapshot');
    }
    this.dirtyAtStart = raw.dirty();
  }

  static async start(raw: RawEngine, storage: Storage, kind: JobKind, tmpName: string, finalName: string): Promise<SnapshotJob> {
    const job = new SnapshotJob(raw, storage, kind, tmpName, finalName);
    try {
      job.#file = await storage.create(tmpName);
    } catch (e) {
      job.#endEngine();
      throw e;
    }
    return job;
  }

  get file(): WriteHandle {
    return this.#file!;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Copies up to `budget` bytes to the temp file; resolves true once everything is written. */
  async step(budget = 4 << 20): Promise<boolean> {
    const raw = this.#raw;
    let moved = 0;
    while (moved < budget) {
      const n = raw.snapshotRead(raw.scratchCap);
      if (n < 0) throw new Error('the engine has no snapshot running');
      if (n === 0) {
        this.#done = true;
        return true;
      }
      const r = this.#file!.append(raw.scratch().subarray(0, n));
      if (r instanceof Promise) await r;
      moved += n;
      this.written += n;
    }
    return false;
  }

  async runToEnd(): Promise<void> {
    while (!(await this.step(64 << 20)));
  }

  /** Makes the temp file durable and puts it in place (not for rewrites: see AppendOnlyFile.finishRewrite). */
  async commit(): Promise<void> {
    const f = this.#file!;
    await f.sync();
    await f.close();
    this.#file = null;
    await this.#storage.replace(this.tmpName, this.finalName);
  }

  /** Gives up: closes and removes the temp file and ends the engine's snapshot. */
  async abort(): Promise<void> {
    this.#endEngine();
    const f = this.#file;
    this.#file = null;
    try {
      await f?.close();
    } catch {
      /* already closed */
    }
    try {
      await this.#storage.remove(this.tmpName);
    } catch {
      /* gone */
    }
  }

  /** The temp file was taken over (AppendOnlyFile.finishRewrite closes it). */
  releaseFile(): void {
    this.#file = null;
  }

  #endEngine(): void {
    if (this.#done) return;
    this.#done = true;
    this.#raw.snapshotAbort();
  }
}

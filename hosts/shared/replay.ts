/**
 * Reading a persisted file (an AOF or a snapshot: both are RESP commands) back into the engine.
 * The host parses nothing: it feeds the file through a loading connection in chunks and asks the
 * engine what happened (`rv_load_status`) — bytes consumed by complete commands, an open MULTI, an
 * incomplete last frame, a NUL-filled tail, the first failing command or invalid input, each with
 * its offset. From that record:
 *
 * - a torn last record (an incomplete frame, a MULTI without EXEC, a NUL tail — what a crash leaves)
 *   is reported with the length of the usable part (the caller truncates or refuses);
 * - invalid input or a command whose reply is an error means the file does not describe a valid
 *   dataset: CorruptFileError names its offset, and the valid part ends just before it.
 */
import type { LoadReport, RawEngine } from '../../bindings/raw.js';
import { decodeReply } from '../../bindings/resp.js';
import { humanBytes, type Logger } from './log.js';
import type { Storage } from './storage.js';

/** The connection id replay uses (hosts allocate theirs from 0 upwards). */
export const LOADING_CONN = 0x7ffffff0;

/** Bytes read from the storage and fed per step. */
const READ_CHUNK = 1 << 20;

export class CorruptFileError extends Error {
  constructor(
    readonly path: string,
    readonly offset: number,
    readonly reason: string,
    /** Where the last complete record before the problem ends (what `check-aof --fix` keeps). */
    readonly validLength: number,
  ) {
    super(`${path}: ${reason} at offset ${offset}`);
    this.name = 'CorruptFileError';
  }
}

export interface ReplayResult {
  /** Bytes of complete, usable records (the file is valid up to here). */
  validLength: number;
  size: number;
  /** Why the tail after validLength is unusable (null when validLength === size). */
  torn: string | null;
  commands: number;
  ms: number;
}

export interface ReplayOptions {
  log: Logger;
  /** Progress lines every this many ms for files of 32 MB and more (0 = after every read, any size). */
  progressMs?: number;
  /** The engine's clock (ms since the epoch) for the replayed commands. */
  clock?: () => number;
}

/** Replays file `name` into the engine through a loading connection. */
export async function replayFile(raw: RawEngine, storage: Storage, name: string, what: string, opts: ReplayOptions): Promise<ReplayResult> {
  const t0 = Date.now();
  const path = `${storage.location}/${name}`;
  const size = await storage.size(name);
  if (size < 0) throw new Error(`${path}: no such file`);
  const clock = opts.clock ?? Date.now;
  const progressMs = opts.progressMs ?? 1000;
  const sizeForProgress = progressMs === 0 ? 0 : 32 << 20;
  let lastLog = Date.now();
  const conn = LOADING_CONN;
  if (raw.open(conn) !== 0) throw new Error('rivulet: the loading connection id is in use');
  raw.setLoading(conn, true);
  try {
    let st: LoadReport | null = null;
    for (let off = 0; off < size; ) {
      const bytes = await storage.read(name, off, Math.min(READ_CHUNK, size - off));
      if (bytes.length === 0) break;
      raw.feedBytes(conn, bytes, clock());
      off += bytes.length;
      st = raw.loadStatus(conn)!;
      if (st.protocolErrorAt >= 0) {
        throw new CorruptFileError(path, st.protocolErrorAt, `bad file format: ${st.protocolErrorText}`, validBefore(st, st.protocolErrorAt));
      }
      if (st.firstErrorAt >= 0) {
        const cmd = await describeAt(storage, name, st.firstErrorAt);
        throw new CorruptFileError(path, st.firstErrorAt, `replaying ${cmd} failed: ${st.errorText}`, validBefore(st, st.firstErrorAt));
      }
      if (size >= sizeForProgress && Date.now() - lastLog >= progressMs) {
        lastLog = Date.now();
        opts.log.notice(`Loading ${what}: ${Math.floor((off / size) * 100)}% (${humanBytes(off)} of ${humanBytes(size)}, ${st.commands} commands)`);
      }
    }
    st ??= raw.loadStatus(conn)!;
    return { ...tornTail(st, size), commands: st.commands, ms: Date.now() - t0 };
  } finally {
    raw.setLoading(conn, false);
    raw.close(conn);
  }
}

/** The usable part before a bad record at `at`: an open MULTI before it is not usable either. */
function validBefore(st: LoadReport, at: number): number {
  return st.multiStart >= 0 && st.multiStart < at ? st.multiStart : at;
}

function tornTail(st: LoadReport, size: number): { validLength: number; size: number; torn: string | null } {
  if (st.inMulti) return { validLength: st.multiStart, size, torn: 'a MULTI without EXEC at the end of the file' };
  if (st.pending > 0) return { validLength: st.consumed, size, torn: `the last record is incomplete (${st.pending} bytes)` };
  if (st.nulTail > 0) return { validLength: st.consumed, size, torn: 'the file ends in NUL bytes (an interrupted write)' };
  return { validLength: st.consumed, size, torn: null };
}

/** Short printable form of the command at `at` for messages ("XADD s 1-0 f v"). */
async function describeAt(storage: Storage, name: string, at: number): Promise<string> {
  const bytes = await storage.read(name, at, 4096);
  const d = decodeReply(bytes, 0, bytes.length);
  if (!d || !Array.isArray(d.value)) return `the command at offset ${at}`;
  const parts = d.value.slice(0, 8).map((v) => {
    const s = String(v).slice(0, 40);
    return /^[\x21-\x7e]+$/.test(s) ? s : JSON.stringify(s);
  });
  if (d.value.length > 8) parts.push('...');
  return parts.join(' ');
}

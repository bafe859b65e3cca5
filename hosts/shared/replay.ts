/**
 * Reading persisted files back: the AOF and snapshots are both a sequence of RESP commands
 * (`*<n>\r\n` followed by n `$<len>\r\n<bytes>\r\n`). This module
 *
 * - scans a file frame by frame in bounded memory (`scanFile`), classifying the end of the file:
 *   clean, a torn last record (an incomplete frame at EOF, a MULTI without EXEC at EOF, or a tail of
 *   NUL bytes left by a crash), or corrupt (invalid RESP with more data after it);
 * - replays it into the engine through a loading connection (`replayFile`), asking the engine after
 *   each batch (rv_load_status): an error reply means the file does not describe a valid dataset,
 *   and start-up stops naming the offset of the command.
 */
import type { RawEngine } from '../../bindings/raw.js';
import { humanBytes, type Logger } from './log.js';
import type { Storage } from './storage.js';

/** The connection id replay uses (hosts allocate theirs from 0 upwards). */
export const LOADING_CONN = 0x7ffffff0;

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

/** How a scanned file ends. */
export interface ScanEnd {
  /** Bytes of complete, usable records (the file is valid up to here). */
  validLength: number;
  /** File size. */
  size: number;
  /** Why the tail after validLength is unusable (null when validLength === size). */
  torn: string | null;
  commands: number;
}

class FormatError extends Error {
  constructor(
    readonly at: number,
    msg: string,
  ) {
    super(msg);
  }
}

const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
const MAX_ARGS = 1 << 30;
const MAX_BULK = 2 ** 32;

/** Reads `<digits>\r\n` at pos; returns [value, next] or null when incomplete. Throws FormatError. */
function readNumber(buf: Uint8Array, pos: number, end: number, what: string): [number, number] | null {
  let v = 0;
  let i = pos;
  for (; i < end; i++) {
    const c = buf[i];
    if (c === CR) break;
    if (c < 48 || c > 57 || i - pos > 12) throw new FormatError(pos, `invalid ${what}`);
    v = v * 10 + (c - 48);
  }
  if (i + 1 >= end) return null;
  if (i === pos || buf[i + 1] !== LF) throw new FormatError(pos, `invalid ${what}`);
  return [v, i + 2];
}

export interface Frame {
  start: number;
  end: number;
  /** The command name kind the scanner cares about. */
  kind: 'multi' | 'exec' | 'other';
}

/**
 * Length of one command frame at `pos`, or -1 if incomplete before `end`. Throws FormatError on
 * bytes that are not a RESP command.
 */
export function frameAt(buf: Uint8Array, pos: number, end: number): { end: number; kind: Frame['kind'] } | null {
  if (pos >= end) return null;
  if (buf[pos] !== STAR) throw new FormatError(pos, `expected '*' (a RESP array), found byte 0x${buf[pos].toString(16).padStart(2, '0')}`);
  const n = readNumber(buf, pos + 1, end, 'array length');
  if (!n) return null;
  const [count, afterCount] = n;
  if (count < 1 || count > MAX_ARGS) throw new FormatError(pos, `invalid array length ${count}`);
  let p = afterCount;
  let kind: Frame['kind'] = 'other';
  for (let k = 0; k < count; k++) {
    if (p >= end) return null;
    if (buf[p] !== DOLLAR) throw new FormatError(p, `expected '$' (a bulk string), found byte 0x${buf[p].toString(16).padStart(2, '0')}`);
    const l = readNumber(buf, p + 1, end, 'bulk length');
    if (!l) return null;
    const [len, data] = l;
    if (len > MAX_BULK) throw new FormatError(p, `invalid bulk length ${len}`);
    if (data + len + 2 > end) return null;
    if (buf[data + len] !== CR || buf[data + len + 1] !== LF) throw new FormatError(data + len, 'bulk string not terminated by CRLF');
    if (k === 0 && count === 1 && (len === 5 || len === 4)) {
      const w = String.fromCharCode(...buf.subarray(data, data + len)).toUpperCase();
      if (w === 'MULTI') kind = 'multi';
      else if (w === 'EXEC') kind = 'exec';
    }
    p = data + len + 2;
  }
  return { end: p, kind };
}

function allZero(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Scans file `name` of `storage`, calling `onFrames(buf, frames, fileOffsetOfBuf)` with batches of
 * complete frames (offsets relative to `buf`, valid only during the call). Frames after an unclosed
 * MULTI are delivered too (the engine just queues them); the end result tells where the usable part
 * ends. Throws CorruptFileError for invalid RESP that is not at the end of the file.
 */
export async function scanFile(
  storage: Storage,
  name: string,
  onFrames?: (buf: Uint8Array, frames: Frame[], base: number) => void,
  onProgress?: (done: number, size: number, commands: number) => void,
): Promise<ScanEnd> {
  const path = `${storage.location}/${name}`;
  const size = await storage.size(name);
  if (size < 0) throw new Error(`${path}: no such file`);
  let buf = new Uint8Array(Math.min(Math.max(size, 1), 4 << 20));
  let len = 0; // bytes in buf
  let base = 0; // file offset of buf[0]
  let eof = false;
  let commands = 0;
  let multiStart = -1; // file offset of an open MULTI
  const BATCH_BYTES = 256 << 10;
  const fill = async () => {
    if (len === buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf.subarray(0, len));
      buf = bigger;
    }
    const chunk = await storage.read(name, base + len, buf.length - len);
    if (chunk.length === 0) eof = true;
    buf.set(chunk, len);
    len += chunk.length;
  };
  const finish = (validEnd: number, torn: string | null): ScanEnd => {
    if (multiStart >= 0) {
      return { validLength: multiStart, size, torn: 'a MULTI without EXEC at the end of the file', commands };
    }
    return { validLength: validEnd, size, torn, commands };
  };
  let pos = 0;
  for (;;) {
    // parse as many frames as the buffer holds
    const frames: Frame[] = [];
    let batchStart = pos;
    let fault: FormatError | null = null;
    for (;;) {
      let f: { end: number; kind: Frame['kind'] } | null;
      try {
        f = frameAt(buf, pos, len);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        fault = e;
        break;
      }
      if (!f) break;
      frames.push({ start: pos, end: f.end, kind: f.kind });
      if (f.kind === 'multi') multiStart = base + pos;
      else if (f.kind === 'exec') multiStart = -1;
      pos = f.end;
      commands++;
      if (pos - batchStart >= BATCH_BYTES) {
        onFrames?.(buf, frames.splice(0), base);
        batchStart = pos;
      }
    }
    if (frames.length) onFrames?.(buf, frames, base);
    if (fault) {
      // invalid bytes: a crash can leave a NUL-filled tail; anything else is corruption
      while (!eof) {
        // make sure we know whether more (non-zero) data follows
        if (len - pos > 64 << 20) break;
        await fill();
      }
      if (eof && allZero(buf, pos, len)) return finish(base + pos, 'the file ends in NUL bytes (an interrupted write)');
      throw new CorruptFileError(path, base + fault.at, `bad file format: ${fault.message}`, multiStart >= 0 ? multiStart : base + pos);
    }
    if (eof) {
      if (pos < len) return finish(base + pos, `the last record is incomplete (${len - pos} bytes)`);
      return finish(base + pos, null);
    }
    // keep the unparsed rest, read more
    if (pos > 0) {
      buf.copyWithin(0, pos, len);
      base += pos;
      len -= pos;
      pos = 0;
    }
    await fill();
    onProgress?.(base + len, size, commands);
  }
}

export interface ReplayResult extends ScanEnd {
  ms: number;
}

export interface ReplayOptions {
  log: Logger;
  /** Progress lines every this many ms for files of 32 MB and more (0 = after every read, any size). */
  progressMs?: number;
  /** The engine's clock (ms since the epoch) for the replayed commands. */
  clock?: () => number;
}

/**
 * Replays file `name` into the engine through a loading connection. An error reply (or an error
 * inside an EXEC reply) throws CorruptFileError naming the command's offset. A torn tail is
 * reported in the result (the caller truncates or refuses).
 */
export async function replayFile(raw: RawEngine, storage: Storage, name: string, what: string, opts: ReplayOptions): Promise<ReplayResult> {
  const t0 = Date.now();
  const path = `${storage.location}/${name}`;
  const conn = LOADING_CONN;
  if (raw.open(conn) !== 0) throw new Error('rivulet: the loading connection id is in use');
  raw.setLoading(conn, true);
  let lastLog = Date.now();
  const progressMs = opts.progressMs ?? 1000;
  const clock = opts.clock ?? Date.now;
  const sizeForProgress = progressMs === 0 ? 0 : 32 << 20;
  try {
    const end = await scanFile(
      storage,
      name,
      (buf, frames, base) => {
        const from = frames[0].start;
        const to = frames[frames.length - 1].end;
        raw.feedBytes(conn, buf.subarray(from, to), clock());
        // the engine drops a loading connection's replies and reports its errors (rv_load_status)
        const st = raw.loadStatus(conn)!;
        const failed = st.firstErrorAt >= 0;
        const at = failed ? st.firstErrorAt : st.protocolErrorAt;
        if (at >= 0) {
          const f = frames.find((x) => base + x.start === at);
          const what = f ? describe(buf, f) : 'the command';
          const why = failed ? st.errorText : st.protocolErrorText;
          throw new CorruptFileError(path, at, `replaying ${what} failed: ${why}`, at);
        }
      },
      (done, size, commands) => {
        if (size < sizeForProgress) return;
        const now = Date.now();
        if (now - lastLog < progressMs) return;
        lastLog = now;
        opts.log.notice(`Loading ${what}: ${Math.floor((done / size) * 100)}% (${humanBytes(done)} of ${humanBytes(size)}, ${commands} commands)`);
      },
    );
    return { ...end, ms: Date.now() - t0 };
  } finally {
    raw.setLoading(conn, false);
    raw.close(conn);
  }
}

/** Short printable form of a command frame for messages. */
export function describe(buf: Uint8Array, f: Frame): string {
  const parts: string[] = [];
  let p = f.start;
  const n = readNumber(buf, p + 1, f.end, 'n')!;
  p = n[1];
  for (let k = 0; k < n[0] && parts.length < 8; k++) {
    const l = readNumber(buf, p + 1, f.end, 'l')!;
    const s = String.fromCharCode(...buf.subarray(l[1], l[1] + Math.min(l[0], 40)));
    parts.push(/^[\x21-\x7e]*$/.test(s) && s.length ? s : JSON.stringify(s));
    p = l[1] + l[0] + 2;
  }
  if (n[0] > 8) parts.push('...');
  return parts.join(' ');
}

/**
 * The wasm ABI contract of `rivulet.wasm` as TypeScript (see docs/ABI.md): export signatures, the
 * status bits of `rv_feed`, the unblock modes, and the one import (`env.abort`).
 *
 * Nothing here holds state; {@link RawEngine} (raw.ts) is the thin class over an instance.
 */

/** The exports of `rivulet.wasm`, one to one with docs/ABI.md. Times are f64 ms since the epoch. */
export interface RivuletExports {
  readonly memory: WebAssembly.Memory;
  /** Byte offset of the scratch region. */
  rv_scratch_ptr(): number;
  /** Size of the scratch region in bytes (65536). */
  rv_scratch_cap(): number;
  /** Registers a host-allocated connection id (≥ 0): 0 = ok, -1 = id in use. */
  rv_open(conn: number): number;
  /** Forgets the connection (silently unblocks it, drops MULTI state and pending output). */
  rv_close(conn: number): void;
  /** `len` input bytes were copied into scratch; runs every complete command; returns {@link FeedStatus} bits. */
  rv_feed(conn: number, len: number, now: number): number;
  /** Moves up to `rv_scratch_cap()` bytes of pending output into scratch; returns how many (0 = none left). */
  rv_read(conn: number): number;
  /** A connection woken by another connection's write or by a timeout, or -1 when none remain. */
  rv_ready_next(): number;
  /** Times out blocked connections whose deadline ≤ now; returns how many became ready. */
  rv_tick(now: number): number;
  /** Earliest deadline of a blocked connection, or -1 when none has one. */
  rv_next_deadline(): number;
  /** CLIENT UNBLOCK: mode {@link UNBLOCK_TIMEOUT} or {@link UNBLOCK_ERROR}; 1 if the connection was blocked. */
  rv_unblock(conn: number, mode: number): number;
  /** Hard linear-memory budget in 64 KiB pages (0 = none). */
  rv_set_page_budget(pages: number): number;
  /** Bytes the engine accounts as used (INFO used_memory). */
  rv_used_memory(): number;

  // Persistence and server hosting (docs/ABI.md, second part); optional for older builds.
  /** Current status bits of a connection (CLOSE for one that is gone or was killed). */
  rv_status?(conn: number): number;
  /** The connection replays an AOF / snapshot: no effects, never refused for memory. */
  rv_set_loading?(conn: number, on: number): void;
  /** Typed fast path: XADD * of many entries in one crossing (layout: assembly/server/fastpath.ts). */
  rv_xadd_batch?(conn: number, len: number, now: number): number;
  /** Turns the effect stream on (1) or off (0, the default). */
  rv_effects_enable?(on: number): void;
  /** Moves up to scratch-cap bytes of pending effects (RESP commands) into scratch; 0 when none. */
  rv_effects_read?(): number;
  /** Serializes the dataset into an internal buffer; returns its size in bytes. */
  rv_snapshot?(): number;
  /** Moves the next ≤ scratch-cap bytes of that snapshot into scratch; 0 when done. */
  rv_snapshot_read?(): number;
  /** Redis's dirty counter (changes since start). */
  rv_dirty?(): number;
  /** SAVE / BGSAVE / BGREWRITEAOF / SHUTDOWN requests as bits; cleared when read. */
  rv_take_requests?(): number;
  /** Scratch holds `"<peer ip:port> <local ip:port>"` for CLIENT LIST / KILL ADDR. */
  rv_conn_set_addr?(conn: number, len: number): void;
  /** Scratch holds INFO lines the host owns (`section\tfield:value\n`). */
  rv_set_host_info?(len: number): void;
}

/** Names of the functions every `rivulet.wasm` exports (checked at instantiation). */
export const EXPORT_NAMES = [
  'rv_scratch_ptr',
  'rv_scratch_cap',
  'rv_open',
  'rv_close',
  'rv_feed',
  'rv_read',
  'rv_ready_next',
  'rv_tick',
  'rv_next_deadline',
  'rv_unblock',
  'rv_set_page_budget',
  'rv_used_memory',
] as const;

/** Status bits returned by `rv_feed`. */
export const FeedStatus = {
  /** This connection has output to `rv_read`. */
  OUTPUT: 1,
  /** Close the connection after sending its output (protocol error, QUIT). */
  CLOSE: 2,
  /** The connection is parked on a blocking command (further input is buffered, not run). */
  BLOCKED: 4,
  /** Other connections became ready: drain `rv_ready_next()`. */
  OTHERS_READY: 8,
  /** SHUTDOWN was called (server hosts). */
  SHUTDOWN: 16,
  /** SAVE / BGSAVE / BGREWRITEAOF asked for a snapshot or rewrite (`rv_take_requests`). */
  SAVE: 32,
} as const;

/** `rv_unblock` mode: answer the blocked command as if it timed out (null reply). */
export const UNBLOCK_TIMEOUT = 0;
/** `rv_unblock` mode: answer `-UNBLOCKED client unblocked via CLIENT UNBLOCK`. */
export const UNBLOCK_ERROR = 1;

/** Reads an AssemblyScript string (UTF-16LE, byte length as u32 at ptr - 4) out of linear memory. */
export function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return '';
  const buf = memory.buffer;
  if (ptr < 4 || ptr > buf.byteLength) return `<bad string pointer ${ptr}>`;
  const bytes = new DataView(buf).getUint32(ptr - 4, true);
  if (ptr + bytes > buf.byteLength) return `<bad string pointer ${ptr}>`;
  const units = new Uint16Array(buf, ptr, bytes >>> 1);
  let s = '';
  for (let i = 0; i < units.length; i += 4096) {
    s += String.fromCharCode.apply(null, units.subarray(i, i + 4096) as unknown as number[]);
  }
  return s;
}

/** The Error thrown by `env.abort` (an engine bug, never user input). Poisons the instance. */
export class EngineAbortError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineAbortError';
  }
}

/**
 * The import object for one instance. `memory()` is called lazily (the abort may run before the
 * instance is fully known to the caller); `onAbort` learns the error before it is thrown into wasm.
 */
export function createImports(
  memory: () => WebAssembly.Memory | undefined,
  onAbort: (err: EngineAbortError) => void,
): WebAssembly.Imports {
  return {
    env: {
      abort(msg: number, file: number, line: number, col: number): never {
        const mem = memory();
        const text = mem ? readAsString(mem, msg) : `<message at ${msg}>`;
        const where = mem ? readAsString(mem, file) : `<file at ${file}>`;
        const err = new EngineAbortError(`rivulet engine abort: ${text} at ${where}:${line}:${col}`);
        onAbort(err);
        throw err;
      },
    },
  };
}

/** Throws a TypeError naming what is missing when `exports` is not a rivulet.wasm instance. */
export function checkExports(exports: WebAssembly.Exports): RivuletExports {
  const missing: string[] = EXPORT_NAMES.filter((n) => typeof exports[n] !== 'function');
  if (!(exports.memory instanceof WebAssembly.Memory)) missing.push('memory');
  if (missing.length) {
    throw new TypeError(`not a rivulet.wasm module: missing export(s) ${missing.join(', ')}`);
  }
  return exports as unknown as RivuletExports;
}

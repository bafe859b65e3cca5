/**
 * The wasm ABI contract of `rivulet.wasm` as TypeScript (see docs/ABI.md): the export signatures,
 * constants and record layouts generated from assembly/abi.ts (abi.gen.ts), the one import
 * (`env.abort`), and the instantiation check.
 *
 * Nothing here holds state; {@link RawEngine} (raw.ts) is the thin class over an instance.
 */
import { EXPORT_NAMES, UnblockMode, type RivuletExports } from './abi.gen.js';

export {
  EXPORT_NAMES,
  EXPORT_SIGNATURES,
  FeedStatus,
  HostRequest,
  UnblockMode,
  BatchResult,
  SnapshotStart,
  JobKind,
  JobStart,
  JobStatus,
  SCRATCH_CAP,
  BATCH_MAX_ROWS,
  BATCH_MAX_FIELDS,
  SNAPSHOT_FORMAT,
  LOAD_ERROR_TEXT_MAX,
  LOAD_STATUS_SIZE,
  BUILD_INFO_SIZE,
  DATASET_STATS_SIZE,
  readLoadStatus,
  readBuildInfo,
  readDatasetStats,
  type RivuletExports,
  type LoadStatus,
  type BuildInfo,
  type DatasetStats,
} from './abi.gen.js';

/** `rv_unblock` mode: answer the blocked command as if it timed out (null reply). */
export const UNBLOCK_TIMEOUT = UnblockMode.TIMEOUT;
/** `rv_unblock` mode: answer `-UNBLOCKED client unblocked via CLIENT UNBLOCK`. */
export const UNBLOCK_ERROR = UnblockMode.ERROR;

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

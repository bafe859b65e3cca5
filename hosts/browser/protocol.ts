/**
 * The messages between a page (client.ts) and the engine's worker (worker.ts), over one
 * MessagePort per page. Calls are RESP bytes: everything a page sends in one turn is one `batch`
 * (one ArrayBuffer, transferred, plus a list of ops); everything the worker has for a page after
 * one turn is one `output` message the same way. Structured-clone friendly, nothing else shared.
 */
import type { FsyncPolicy } from '../shared/aof.js';

/** `batch.ops` is a flat Int32Array of [op, conn, length] triples (length: bytes of `data` used). */
export const OP_OPEN = 1;
export const OP_FEED = 2;
/** Answer the connection's blocked command as a timeout (its call was aborted by the page). */
export const OP_UNBLOCK = 3;
export const OP_CLOSE = 4;

/** In `output.segs` statuses: the engine closed the connection (QUIT, protocol error, CLIENT KILL). */
export const STATUS_GONE = 1 << 20;
/** No status with this segment (more bytes follow in the same message). */
export const STATUS_NONE = -1;

export type StorageKind = 'opfs' | 'indexeddb' | 'memory';

/** The engine's settings, chosen by the page that starts the worker. */
export interface WorkerSettings {
  name: string;
  /** `auto`: OPFS where this worker has sync access handles, else IndexedDB. */
  storage: StorageKind | 'auto';
  appendonly?: boolean;
  appendfsync?: FsyncPolicy;
  save?: Array<[number, number]>;
  autoAofRewriteMinSize?: number;
  maxmemory?: number;
  pageBudget?: number;
  /** `deferred` (default): one settle pass (one commit, one flush) per turn of the worker. */
  mode?: 'inline' | 'deferred';
  /** Send log lines to the page (`log` messages). */
  log?: boolean;
}

/** The first message to the worker (`worker.postMessage`, the port transferred). */
export interface InitMessage {
  t: 'init';
  module: WebAssembly.Module;
  port: MessagePort;
  settings: WorkerSettings;
}

export interface BatchMessage {
  t: 'batch';
  ops: Int32Array;
  data: ArrayBuffer;
}

/** The page closes the engine: persistence is flushed and released, then `closed`. */
export interface CloseMessage {
  t: 'close';
}

export type ToWorker = BatchMessage | CloseMessage;

export interface ReadyMessage {
  t: 'ready';
  location: string;
  storage: StorageKind;
}

/** `segs`: flat [conn, length, status] triples; a segment's bytes follow the previous one's in `data`. */
export interface OutputMessage {
  t: 'output';
  segs: Int32Array;
  data: ArrayBuffer;
}

/** Starting failed, or the engine failed (an abort, a fatal write error): nothing more will come. */
export interface FailMessage {
  t: 'fail';
  name: string;
  message: string;
  /** At start (openEngine rejects) rather than later (pending calls reject). */
  starting: boolean;
}

export interface LogMessage {
  t: 'log';
  line: string;
}

export interface ClosedMessage {
  t: 'closed';
}

export type FromWorker = ReadyMessage | OutputMessage | FailMessage | LogMessage | ClosedMessage;

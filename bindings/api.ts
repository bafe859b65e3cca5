/**
 * Everything every entry exports besides its `createEngine`: the idiomatic API (Engine, Connection,
 * stream helpers), the thin ABI-level RawEngine, the RESP codec, and the error classes.
 */
export { Engine, type EngineOptions } from './engine.js';
export { Connection } from './connection.js';
export {
  StreamCommands,
  mapAwaitable,
  type Awaitable,
  type CallOptions,
  type DeletionPolicy,
  type IdmpOptions,
  type RangeOptions,
  type StreamEntry,
  type StreamEntryPairs,
  type StreamFields,
  type StreamRead,
  type TrimOptions,
  type XAddOptions,
  type XReadOptions,
} from './streams.js';
export {
  GroupCommands,
  type AutoClaimResult,
  type ConsumerInfo,
  type ConsumerInfoFull,
  type GroupEntry,
  type GroupInfo,
  type GroupInfoFull,
  type GroupRead,
  type GroupStreams,
  type NackMode,
  type PendingEntry,
  type PendingSummary,
  type PolicyOptions,
  type StreamInfo,
  type StreamInfoBase,
  type StreamInfoFull,
  type XAutoClaimOptions,
  type XCfgSetOptions,
  type XClaimOptions,
  type XGroupCreateOptions,
  type XGroupSetIdOptions,
  type XInfoStreamOptions,
  type XNackOptions,
  type XPendingRangeOptions,
  type XReadGroupOptions,
} from './groups.js';
export { RawEngine, type LoadReport, type EngineBuildInfo } from './raw.js';
export {
  FeedStatus,
  HostRequest,
  BatchResult,
  JobKind,
  JobStart,
  JobStatus,
  UNBLOCK_TIMEOUT,
  UNBLOCK_ERROR,
  EXPORT_NAMES,
  EngineAbortError,
  type RivuletExports,
  type DatasetStats,
} from './abi.js';
export { AbortError, ConnectionClosedError, EngineClosedError } from './errors.js';
export { type WasmSource } from './loader.js';
export {
  ReplyError,
  RespProtocolError,
  decodeReply,
  encodeCommand,
  encodeCommandInto,
  replyLength,
  type CommandArg,
  type RespValue,
} from './resp.js';

// The host contract of rivulet.wasm, in one place: every constant a host needs, the layouts of the
// records the engine writes into scratch, and every export with its wasm signature. The engine
// imports its constants from here; scripts/gen-abi.mjs reads this file and writes the copies hosts
// use (bindings/abi.gen.ts, the C header of the device host, test/wasm3/abi_constants.py and the
// tables of docs/ABI.md). Change it here, then run `node scripts/gen-abi.mjs` (the build does).
//
// The generator understands exactly these forms, each preceded by a /** one-paragraph doc */:
//   export const NAME: i32 = <integer>;
//   export const enum Name { /** doc */ MEMBER = <integer>, ... }
//   @unmanaged export class Name { /** doc */ field: i32 | f64; ... }   (no padding: f64s first)
//   export type rv_name = (arg: i32 | f64, ...) => i32 | f64 | void;   (one per export)
// and `// @section <id> <title>` lines, which group the exports that follow (one table each).

// ─────────────────────────────────────────────────────────────────────────────── constants

/** Size in bytes of the scratch region every export reads its input from and writes its output to. */
export const SCRATCH_CAP: i32 = 65536;

/** Most rows one `rv_xadd_batch` call takes: their IDs (16 bytes each) must fit in scratch. */
export const BATCH_MAX_ROWS: i32 = 4096;

/** Most field names one `rv_xadd_batch` row may have. */
export const BATCH_MAX_FIELDS: i32 = 4096;

/** Version of the snapshot format (`RIVULET.SNAPSHOT <format> <build-hash>` heads every snapshot). */
export const SNAPSHOT_FORMAT: i32 = 1;

/** Most bytes of an error text a LoadStatus record carries (longer texts are cut). */
export const LOAD_ERROR_TEXT_MAX: i32 = 256;

/** Status bits returned by `rv_feed` and `rv_status`. */
export const enum FeedStatus {
  /** This connection has output to `rv_read`. */
  OUTPUT = 1,
  /** Close the connection after sending its output (protocol error, QUIT, CLIENT KILL). */
  CLOSE = 2,
  /** The connection is parked on a blocking command (further input is buffered, not run). */
  BLOCKED = 4,
  /** Other connections became ready: drain `rv_ready_next()`. */
  OTHERS_READY = 8,
  /** SHUTDOWN was called: flush, fsync, close everything, exit. */
  SHUTDOWN = 16,
  /** A command raised host requests (SAVE, BGSAVE, BGREWRITEAOF, SHUTDOWN, CONFIG_CHANGED): read them with `rv_take_requests`. */
  REQUESTS = 32,
}

/** Request bits of `rv_take_requests` (cleared when read). */
export const enum HostRequest {
  /** SAVE: a synchronous snapshot. */
  SAVE = 1,
  /** BGSAVE: a background snapshot. */
  BGSAVE = 2,
  /** BGREWRITEAOF: rewrite the AOF. */
  BGREWRITEAOF = 4,
  /** SHUTDOWN. */
  SHUTDOWN = 8,
  /** Modifier of SHUTDOWN: NOSAVE. */
  SHUTDOWN_NOSAVE = 16,
  /** Modifier of SHUTDOWN: SAVE. */
  SHUTDOWN_SAVE = 32,
  /** CONFIG SET changed a setting the host acts on, or requirepass: read it again (`rv_config_get`). */
  CONFIG_CHANGED = 64,
}

/** Modes of `rv_unblock` (CLIENT UNBLOCK). */
export const enum UnblockMode {
  /** Answer the blocked command as if it timed out (a null reply). */
  TIMEOUT = 0,
  /** Answer `-UNBLOCKED client unblocked via CLIENT UNBLOCK`. */
  ERROR = 1,
}

/** Negative results of `rv_xadd_batch` (nothing was added). */
export const enum BatchResult {
  /** The key holds another type (WRONGTYPE). */
  WRONGTYPE = -1,
  /** Refused for memory (OOM, maxmemory or the page budget). */
  OOM = -2,
  /** The scratch layout is malformed or over the limits (nothing changed). */
  MALFORMED = -3,
  /** The stream's last possible ID is used. */
  EXHAUSTED = -4,
  /** The connection is inside MULTI, blocked or loading. */
  BUSY = -5,
}

/** Results of `rv_snapshot_begin`. */
export const enum SnapshotStart {
  /** Started: read it with `rv_snapshot_read` (or give it up with `rv_snapshot_abort`). */
  STARTED = 0,
  /** A snapshot is already running (one at a time). */
  RUNNING = -1,
  /** Not enough room under the page budget for its key list (12 bytes per key). */
  NO_MEMORY = -2,
}

/** Persistence job kinds (the HostRequest bits of SAVE, BGSAVE and BGREWRITEAOF), and a flag of `rv_job_start`. */
export const enum JobKind {
  /** SAVE: a snapshot written in the host's turn while its clients wait. */
  SAVE = 1,
  /** BGSAVE: a snapshot written in the background (a forked child in Redis). */
  BGSAVE = 2,
  /** The AOF rewrite (BGREWRITEAOF, automatic rewrites, appendonly yes). */
  REWRITE = 4,
  /** `rv_job_start` only: when another background job runs, schedule this one instead of refusing. */
  SCHEDULE = 8,
}

/** Results of `rv_job_start`. */
export const enum JobStart {
  /** Started: the host runs it, then calls `rv_job_done` (no request bit is raised). */
  STARTED = 0,
  /** A job of this kind runs already (for SAVE: a SAVE or a BGSAVE). */
  BUSY_SAME = 1,
  /** Another background job runs. */
  BUSY_OTHER = 2,
  /** Scheduled (SCHEDULE given): raised as a request when the running job is done. */
  SCHEDULED = 3,
  /** Not a job kind. */
  BAD_KIND = -1,
}

/** How a job ended (`rv_job_done`). */
export const enum JobStatus {
  /** Failed: BGSAVE / rewrite status err; waiting SAVE clients get `-ERR`. */
  FAILED = 0,
  /** Done: the file is in place. */
  OK = 1,
  /** Stopped by the host (AOF turned off, shutdown): no status change, like a child killed on purpose. */
  ABORTED = 2,
}

// ─────────────────────────────────────────────────────────────────────────────── records

/**
 * What a loading connection (`rv_set_loading(conn, 1)`) did with its input so far, written by
 * `rv_load_status`. Offsets count input bytes fed since loading was turned on. Its replies are
 * dropped inside the engine; error replies are counted here instead.
 *
 * ╒═════════════════ LoadStatus (80 bytes, little-endian) ═════════════════╕
 *    0 f64 consumed        │  8 f64 commands       │ 16 f64 pending
 *   24 f64 multiStart      │ 32 f64 errors         │ 40 f64 firstErrorAt
 *   48 f64 protocolErrorAt │ 56 f64 nulTail
 *   64 i32 inMulti │ 68 i32 errorLen │ 72 i32 protocolErrorLen │ 76 i32 reserved
 *   80 errorLen bytes of text │ then protocolErrorLen bytes of text
 * ╘═════════════════════════════════════════════════════════════════════════╛
 * A host replaying a file feeds it, then asks: `protocolErrorAt ≥ 0` or `errors > 0` is a corrupt
 * file (at that offset); otherwise the usable part ends at `inMulti ? multiStart : consumed`, and
 * `pending`, `nulTail` or `inMulti` tell why the rest (a torn tail) is not.
 */
@unmanaged export class LoadStatus {
  /** Bytes of input consumed by complete commands. */
  consumed: f64;
  /** Complete commands consumed (commands queued inside MULTI included). */
  commands: f64;
  /** Bytes buffered as an incomplete command (a torn last record when the input ended). */
  pending: f64;
  /** Input offset of the MULTI that is still open, or -1. */
  multiStart: f64;
  /** Error replies (inside EXEC included). */
  errors: f64;
  /** Input offset of the first command whose reply was (or contained) an error, or -1. */
  firstErrorAt: f64;
  /** Input offset of invalid input (not a RESP command; NUL bytes followed by data), or -1. Input after it is not run. */
  protocolErrorAt: f64;
  /** NUL bytes that followed the last complete command (a crash can leave such a tail); not counted in consumed. */
  nulTail: f64;
  /** 1 while a MULTI is open (its commands are queued, not run). */
  inMulti: i32;
  /** Bytes of the first error reply's text (without `-` and CRLF) after the record, at most LOAD_ERROR_TEXT_MAX. */
  errorLen: i32;
  /** Bytes of the protocol error's text after those. */
  protocolErrorLen: i32;
  /** Always 0 (keeps the record a multiple of 8 bytes). */
  reserved: i32;
}

/**
 * Facts about this engine build, written by `rv_build_info`.
 *
 * ╒════════ BuildInfo (8 bytes) ════════╕
 *   0 i32 snapshotFormat │ 4 i32 hashLen
 *   8 hashLen bytes: the build hash (ASCII)
 * ╘═════════════════════════════════════╛
 */
@unmanaged export class BuildInfo {
  /** SNAPSHOT_FORMAT of the snapshots this build writes and reads. */
  snapshotFormat: i32;
  /** Bytes of the build hash that follow the record (the one in `RIVULET.SNAPSHOT`). */
  hashLen: i32;
}

/**
 * Size of the dataset over all databases, written by `rv_dataset_stats`.
 *
 * ╒════════════ DatasetStats (24 bytes) ════════════╕
 *   0 f64 keys │ 8 f64 streamKeys │ 16 f64 streamEntries
 * ╘═════════════════════════════════════════════════╛
 */
@unmanaged export class DatasetStats {
  /** Keys of every type. */
  keys: f64;
  /** Keys holding a stream. */
  streamKeys: f64;
  /** Entries in all streams (XLEN summed). */
  streamEntries: f64;
}

// ─────────────────────────────────────────────────────────────────────────────── exports
// Times are f64 milliseconds since the Unix epoch, supplied by the host. "scratch" is the region
// at rv_scratch_ptr() of SCRATCH_CAP bytes.

// @section loop The host loop

/** Byte offset of the scratch region (fixed for the instance's life). */
export type rv_scratch_ptr = () => i32;
/** Its size in bytes (SCRATCH_CAP). */
export type rv_scratch_cap = () => i32;
/** Registers a host-allocated connection id (≥ 0): 0 = ok, -1 = id in use. Under a page budget without room for another connection it opens with `-ERR max number of clients reached` as its output and CLOSE in its status (as Redis past maxclients). */
export type rv_open = (conn: i32) => i32;
/** Forgets the connection (silently unblocks it, drops MULTI state and pending output). */
export type rv_close = (conn: i32) => void;
/** The host copied `len` input bytes into scratch; the engine appends them to the connection's input, runs every complete command and returns FeedStatus bits. */
export type rv_feed = (conn: i32, len: i32, now: f64) => i32;
/** Moves up to SCRATCH_CAP bytes of the connection's pending output into scratch; returns how many (0 = none left). */
export type rv_read = (conn: i32) => i32;
/** A connection that got output because of another connection's write (a woken blocked reader) or a timeout; -1 when none remain. Each wake is reported once. */
export type rv_ready_next = () => i32;
/** Times out blocked connections whose deadline ≤ now; returns how many became ready (collect them with `rv_ready_next`). */
export type rv_tick = (now: f64) => i32;
/** Earliest deadline of a blocked connection, or -1 when none has one. */
export type rv_next_deadline = () => f64;
/** CLIENT UNBLOCK with an UnblockMode; returns 1 if the connection was blocked. */
export type rv_unblock = (conn: i32, mode: i32) => i32;
/** Current FeedStatus bits of a connection (for connections returned by `rv_ready_next`, which may also carry CLOSE, e.g. after CLIENT KILL); CLOSE for an unknown id. */
export type rv_status = (conn: i32) => i32;
/** Hard linear-memory budget in 64 KiB pages (0 = none): linear memory never grows past it (grown into at once; see "The page budget"). A budget below the current size means "no more than now". Returns the budget in effect. */
export type rv_set_page_budget = (pages: i32) => i32;
/** Bytes the engine accounts as used (INFO used_memory). */
export type rv_used_memory = () => f64;

// @section persistence Persistence

/** 1: the connection replays an AOF or snapshot (its writes emit no effects, obey no maxmemory — under a page budget they fail with OOM past it —, ignore trim LIMITs and never block; its replies are dropped and its input is tracked in a LoadStatus record, which this resets); 0: back to normal. */
export type rv_set_loading = (conn: i32, on: i32) => void;
/** Writes the connection's LoadStatus record and its texts into scratch; returns their byte length (-1 for an unknown id). */
export type rv_load_status = (conn: i32) => i32;
/** Effects are off by default (an in-process engine pays nothing for them); a host that persists or forwards writes turns them on (1) once at start. */
export type rv_effects_enable = (on: i32) => void;
/** Moves up to SCRATCH_CAP bytes of pending effects (RESP commands reproducing every write with concrete values, in execution order) into scratch; 0 when none. */
export type rv_effects_read = () => i32;
/** Starts a snapshot by cursor of the dataset as it is now (docs/PERSISTENCE.md): a SnapshotStart. Effects read after it returns are the ones produced after the snapshot's point in time (AOF rewrite = snapshot + them). */
export type rv_snapshot_begin = () => i32;
/** Serializes the next part of the running snapshot and moves up to min(max, SCRATCH_CAP) bytes of it into scratch (max < 1: SCRATCH_CAP); returns the byte count, 0 when it is complete (it then ends by itself), -1 when none runs. Commands may run between any two calls. */
export type rv_snapshot_read = (max: i32) => i32;
/** Gives the running snapshot up (no-op when none runs); what was kept for it is released. */
export type rv_snapshot_abort = () => void;
/** Redis's dirty counter (changes since start, never reset); hosts diff it for save policies (INFO reports rdb_changes_since_last_save itself). */
export type rv_dirty = () => f64;

// @section server Server hosting

/** HostRequest bits raised by commands since the last call; cleared when read. */
export type rv_take_requests = () => i32;
/** Marks the host's own control connection: hidden from CLIENT LIST and INFO, never killed by CLIENT KILL, never asked to AUTH, and allowed to CONFIG SET immutable and protected settings (to apply a config file). */
export type rv_set_internal = (conn: i32) => void;
/** Scratch holds `"<peer ip:port> <local ip:port>"` (`len` bytes) for CLIENT LIST / INFO / KILL ADDR. */
export type rv_conn_set_addr = (conn: i32, len: i32) => void;
/** Scratch holds `len` bytes of INFO lines the host owns, `section\tfield:value\n` each; INFO merges them into its sections (the persistence job fields are the engine's: see "Host loop for persistence"). */
export type rv_set_host_info = (len: i32) => void;

// @section jobs Persistence jobs (see "Host loop for persistence")

/** 1: this host runs persistence jobs and ends each with `rv_job_done`; 0 (the default): SAVE, BGSAVE and BGREWRITEAOF fail to start, as on a Redis that cannot write its files. */
export type rv_persistence_enable = (on: i32) => void;
/** A job the host decides on (save point, automatic rewrite, appendonly yes, SHUTDOWN SAVE): a JobKind, optionally with SCHEDULE; returns a JobStart. */
export type rv_job_start = (kind: i32, now: f64) => i32;
/** The host finished a job with a JobStatus: clients waiting on a SAVE get `+OK` / `-ERR` and become ready (`rv_ready_next`), their pipelined input runs; a scheduled job may now be requested (`rv_take_requests`). Returns how many connections became ready, or -1 when no job of that kind was running. */
export type rv_job_done = (kind: i32, status: i32, now: f64) => i32;

// @section facts Engine facts

/** Writes the BuildInfo record and the build hash into scratch; returns their byte length. */
export type rv_build_info = () => i32;
/** 1 when a password is set (requirepass): new connections must AUTH; else 0. */
export type rv_auth_required = () => i32;
/** Writes the DatasetStats record into scratch; returns its byte length. */
export type rv_dataset_stats = () => i32;
/** Scratch holds a setting name (`len` bytes, any case); its value (as CONFIG GET shows it) replaces it in scratch. Returns the value's length (only its first SCRATCH_CAP bytes are written when it is longer), or -1 for an unknown name. */
export type rv_config_get = (len: i32) => i32;

// @section fastpath Typed fast paths

/** XADD `*` of many entries sharing one field list, without RESP. Scratch holds `u32 keyLen, key, u32 nfields, nfields × (u32 len, name), u32 count, count × nfields × (u32 len, value)` (little-endian), count ≤ BATCH_MAX_ROWS, nfields ≤ BATCH_MAX_FIELDS. Returns the number added (their IDs are then in scratch as `count × (u64 ms, u64 seq)`) or a BatchResult. Same stream rules, wake-ups, dirty counter and effects as XADD. All or nothing: under a page budget a batch is refused (OOM) unless an upper bound of what it allocates — with effects on, its effects and their replay too — fits with the reserve left. */
export type rv_xadd_batch = (conn: i32, len: i32, now: f64) => i32;

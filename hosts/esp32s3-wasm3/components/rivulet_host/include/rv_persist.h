/* Persistence for the C host, mirroring hosts/shared/{aof,replay,snapshot-job,persistence}.ts and
 * writing the same files through an rv_storage:
 *
 *   appendonly.aof   the engine's effects (RESP commands); after a rewrite it starts with a snapshot
 *   dump.rvs         the snapshot of SAVE / BGSAVE / save points
 *   temp-*           jobs in progress, replaced into place when complete, removed at start
 *
 * At start: take the storage's lock, remove leftover temp files, replay the AOF (appendonly yes)
 * or else the snapshot through a loading connection, truncating a torn AOF tail (aof-load-truncated
 * yes); then open the AOF (creating it from the loaded dataset when there was none). Settings are
 * the engine's CONFIG values (the host mirrors its own into the engine at start and re-reads them
 * when CONFIG SET changes one). */
#ifndef RV_PERSIST_H
#define RV_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "rv_loop.h"
#include "rv_storage.h"

typedef enum { RV_FSYNC_ALWAYS, RV_FSYNC_EVERYSEC, RV_FSYNC_NO } rv_fsync_policy;

/* Growing byte buffer (host memory; a failed growth is reported, never fatal). */
typedef struct rv_bytes {
  uint8_t *p;
  size_t len, cap;
} rv_bytes;
int rv_bytes_add(rv_bytes *b, const uint8_t *p, size_t n);
void rv_bytes_free(rv_bytes *b);

/* ------------------------------------------------------------------ the append-only file */

typedef struct rv_aof {
  const rv_storage *st;
  char name[64];
  rv_fsync_policy policy;
  rv_file *file;
  uint64_t base_size;
  uint64_t unsynced;
  double last_sync;
  uint64_t delayed_fsyncs;
  /* appends that failed to be written (retried by cron) */
  rv_bytes failed;
  int write_error;
  char last_error[128];
  /* a rewrite runs: appends are also kept here, then written after the snapshot */
  int rewriting;
  rv_bytes tail;
  size_t tail_max;
  int tail_overflow;
} rv_aof;

/* ------------------------------------------------------------------ replay */

typedef struct rv_replay_result {
  uint64_t size;         /* file size */
  uint64_t valid_length; /* bytes of complete, usable records */
  double commands;
  const char *torn;      /* why the tail after valid_length is unusable, or NULL */
  int corrupt;           /* an error reply or invalid RESP before the end: do not start */
  uint64_t error_at;
  char error[300];
} rv_replay_result;

/* The connection ids the host reserves (as the TypeScript hosts do). */
#define RV_LOADING_CONN 0x7ffffff0
#define RV_CONTROL_CONN 0x7ffffff2

/* Replays `name` into the engine through a loading connection; 0 = read to the end (see r), -1 =
 * the file could not be read (r->error). */
int rv_replay_file(rv_engine *e, const rv_storage *st, const char *name, double now, rv_replay_result *r);

/* ------------------------------------------------------------------ snapshot jobs */

/* Jobs are the engine's (docs/ABI.md, "Host loop for persistence"): kinds are enum rv_job_kind of
 * rivulet_abi.h (RV_JOB_KIND_SAVE, _BGSAVE, _REWRITE); the host writes the files and ends each job
 * with rv_job_done. */
typedef struct rv_snapshot_job {
  int32_t kind;
  char tmp_name[64];
  char final_name[64];
  rv_file *file;
  uint64_t written;
  double dirty_at_start;
  double started_mono;
  int done;
} rv_snapshot_job;

/* Takes the snapshot (cursor) and creates the temp file: 0, or -1 with the reason in err. */
int rv_snapshot_job_start(rv_snapshot_job *j, rv_engine *e, const rv_storage *st, int32_t kind, const char *tmp,
                          const char *final_name, double mono, char *err, size_t errlen);
/* Copies up to `budget` bytes to the temp file: 1 = everything written, 0 = more to do, -1 = failed. */
int rv_snapshot_job_step(rv_snapshot_job *j, rv_engine *e, const rv_storage *st, size_t budget);
/* Sync, close and replace into place (not for rewrites: rv_aof finishes those). */
int rv_snapshot_job_commit(rv_snapshot_job *j, const rv_storage *st);
void rv_snapshot_job_abort(rv_snapshot_job *j, rv_engine *e, const rv_storage *st);

/* ------------------------------------------------------------------ the whole */

typedef struct rv_persist rv_persist;

typedef void (*rv_log_fn)(void *ctx, char level, const char *msg);

typedef struct rv_persist_options {
  const rv_storage *storage;
  rv_log_fn log;
  void *log_ctx;
  /* Owner text for the lock ("rivulet-device pid 123"), tag for temp names (the pid). */
  const char *owner;
  const char *tag;
  /* A write error made continuing impossible (appendfsync always): the host stops. */
  void (*fatal)(void *ctx, const char *msg);
  /* Requests persistence does not handle (SHUTDOWN bits, CONFIG_CHANGED). */
  void (*other_requests)(void *ctx, int32_t bits);
  void *ctx;
  /* Bytes a rewrite may hold in memory for the writes made while it runs (0: 8 MiB). */
  size_t rewrite_tail_max;
} rv_persist_options;

/* Takes the storage, loads the data, opens the AOF, plugs itself into the loop. NULL on failure
 * (why in err: a corrupt file, the storage in use, ...). */
rv_persist *rv_persist_open(rv_loop *loop, const rv_persist_options *o, char *err, size_t errlen);
/* Every ~100 ms: everysec fsyncs, write retries, save points, automatic rewrites, job steps. */
void rv_persist_cron(rv_persist *p);
/* Whether a background job has work left (the port then polls without sleeping long). */
int rv_persist_busy(const rv_persist *p);
/* CONFIG SET changed a persistence setting: read them again from the engine. */
void rv_persist_reload_settings(rv_persist *p);
/* Appends the INFO persistence lines (`persistence\tfield:value\n`) to out; returns bytes added. */
size_t rv_persist_info(rv_persist *p, char *out, size_t cap);
/* SAVE (and SHUTDOWN SAVE): 0 once the snapshot is durable in place; ends the engine's SAVE job. */
int rv_persist_save(rv_persist *p, const char *why);
/* The final flush: stop jobs, fsync the AOF, save when asked (1 always, 0 never, -1 when save
 * points are configured), release the storage. 0 = ok. */
int rv_persist_close(rv_persist *p, int save);

/* The control connection: runs one command (args as C strings) on the host's internal connection;
 * the raw reply goes to out (cut at cap). Returns the reply length, or -1. */
int rv_control_command(rv_engine *e, int argc, const char *const *argv, uint8_t *out, size_t cap, double now);
/* CONFIG GET through rv_config_get: the value's length (copied NUL-terminated into out), -1 unknown. */
int rv_config_value(rv_engine *e, const char *name, char *out, size_t cap);

#endif

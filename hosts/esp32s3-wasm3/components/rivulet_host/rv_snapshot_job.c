/* A snapshot (the dataset as RESP commands, headed by RIVULET.SNAPSHOT) written into a temp file
 * in steps, so clients keep being served, then synced and replaced into place — or, for an AOF
 * rewrite, handed to the AOF (hosts/shared/snapshot-job.ts). */
#include <stdio.h>
#include <string.h>

#include "rv_persist.h"

/* The engine's snapshot: begin, read the next part into scratch (0 = done), give up. */
static int snap_begin(rv_engine *e) {
  int32_t r = rv_i(e, rv_snapshot_begin);
  return rv_engine_failure(e) || r != 0 ? -1 : 0;
}
static int32_t snap_read(rv_engine *e, int32_t max) {
  return rv_i(e, rv_snapshot_read, max);
}
static void snap_abort(rv_engine *e) {
  rv_v(e, rv_snapshot_abort);
}

int rv_snapshot_job_start(rv_snapshot_job *j, rv_engine *e, const rv_storage *st, int32_t kind, const char *tmp,
                          const char *final_name, double mono, char *err, size_t errlen) {
  memset(j, 0, sizeof *j);
  j->kind = kind;
  snprintf(j->tmp_name, sizeof j->tmp_name, "%s", tmp);
  snprintf(j->final_name, sizeof j->final_name, "%s", final_name);
  j->started_mono = mono;
  j->dirty_at_start = rv_f(e, rv_dirty);
  j->file = st->create(st->ctx, tmp);
  if (!j->file) {
    snprintf(err, errlen, "creating %s/%s: %s", st->location, tmp, st->last_error(st->ctx));
    return -1;
  }
  if (snap_begin(e) != 0) {
    snprintf(err, errlen, "the engine could not start a snapshot");
    st->close(st->ctx, j->file);
    st->remove(st->ctx, tmp);
    j->file = NULL;
    return -1;
  }
  return 0;
}

int rv_snapshot_job_step(rv_snapshot_job *j, rv_engine *e, const rv_storage *st, size_t budget) {
  size_t moved = 0;
  while (moved < budget) {
    int32_t n = snap_read(e, RV_SCRATCH_CAP);
    if (rv_engine_failure(e)) return -1;
    if (n <= 0) {
      j->done = 1;
      return 1;
    }
    if (st->append(st->ctx, j->file, rv_scratch(e), (size_t)n) != 0) return -1;
    moved += (size_t)n;
    j->written += (uint64_t)n;
  }
  return 0;
}

int rv_snapshot_job_commit(rv_snapshot_job *j, const rv_storage *st) {
  rv_file *f = j->file;
  j->file = NULL;
  if (st->sync(st->ctx, f) != 0) {
    st->close(st->ctx, f);
    return -1;
  }
  if (st->close(st->ctx, f) != 0) return -1;
  return st->replace(st->ctx, j->tmp_name, j->final_name);
}

void rv_snapshot_job_abort(rv_snapshot_job *j, rv_engine *e, const rv_storage *st) {
  if (!j->done && !rv_engine_failure(e)) snap_abort(e);
  j->done = 1;
  if (j->file) st->close(st->ctx, j->file);
  j->file = NULL;
  st->remove(st->ctx, j->tmp_name);
}

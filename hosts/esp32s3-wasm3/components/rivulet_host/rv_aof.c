/* The append-only file (hosts/shared/aof.ts): effects appended as they come; fsync policies
 * always (before the replies of the pass go out), everysec (at most once a second, from cron) and
 * no (the storage decides); a rewrite keeps appending to the current file (a crash mid-rewrite loses
 * nothing) while also keeping a copy (the tail) that goes after the snapshot in the new file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv_persist.h"

int rv_bytes_add(rv_bytes *b, const uint8_t *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    uint8_t *q = (uint8_t *)realloc(b->p, cap);
    if (!q) return -1;
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
  return 0;
}

void rv_bytes_free(rv_bytes *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

int rv_aof_open(rv_aof *a, double mono);
void rv_aof_append(rv_aof *a, const uint8_t *p, size_t n);
int rv_aof_sync(rv_aof *a, double mono);
int rv_aof_commit(rv_aof *a, double mono);
void rv_aof_cron(rv_aof *a, double mono);
void rv_aof_begin_rewrite(rv_aof *a);
void rv_aof_abort_rewrite(rv_aof *a);
int rv_aof_finish_rewrite(rv_aof *a, rv_file *tmp, const char *tmp_name, double mono);
int rv_aof_close(rv_aof *a, double mono);

int rv_aof_open(rv_aof *a, double mono) {
  if (a->file) return 0;
  a->file = a->st->open_append(a->st->ctx, a->name);
  if (!a->file) return -1;
  a->base_size = a->st->file_size(a->st->ctx, a->file);
  a->unsynced = 0;
  a->last_sync = mono;
  return 0;
}

static void write_failed(rv_aof *a, const uint8_t *p, size_t n) {
  snprintf(a->last_error, sizeof a->last_error, "%s", a->st->last_error(a->st->ctx));
  a->write_error = 1;
  /* kept and retried every second; a failure to keep them is a lost write, reported as such */
  if (n && rv_bytes_add(&a->failed, p, n) != 0) snprintf(a->last_error, sizeof a->last_error, "out of memory keeping unwritten AOF bytes");
}

void rv_aof_append(rv_aof *a, const uint8_t *p, size_t n) {
  if (n == 0) return;
  if (a->rewriting && !a->tail_overflow) {
    if ((a->tail_max && a->tail.len + n > a->tail_max) || rv_bytes_add(&a->tail, p, n) != 0) a->tail_overflow = 1;
  }
  if (!a->file) return; /* being created by a rewrite: the tail is all there is */
  if (a->failed.len) {
    write_failed(a, p, n);
    return;
  }
  if (a->st->append(a->st->ctx, a->file, p, n) != 0) {
    write_failed(a, p, n);
    return;
  }
  a->unsynced += n;
}

static void retry_failed(rv_aof *a) {
  if (!a->failed.len || !a->file) return;
  if (a->st->append(a->st->ctx, a->file, a->failed.p, a->failed.len) != 0) return;
  a->unsynced += a->failed.len;
  a->failed.len = 0;
  a->write_error = 0;
  a->last_error[0] = 0;
}

int rv_aof_sync(rv_aof *a, double mono) {
  if (!a->file) return 0;
  if (a->st->sync(a->st->ctx, a->file) != 0) {
    snprintf(a->last_error, sizeof a->last_error, "fsync: %s", a->st->last_error(a->st->ctx));
    return -1;
  }
  a->unsynced = 0;
  a->last_sync = mono;
  return 0;
}

/* The end of a settle pass: with `always`, everything appended is durable when this returns 0. */
int rv_aof_commit(rv_aof *a, double mono) {
  if (a->policy == RV_FSYNC_ALWAYS && a->write_error) return -1;
  if (a->policy != RV_FSYNC_ALWAYS || a->unsynced == 0 || !a->file) return 0;
  return rv_aof_sync(a, mono);
}

void rv_aof_cron(rv_aof *a, double mono) {
  retry_failed(a);
  if (a->policy != RV_FSYNC_EVERYSEC || !a->file || a->unsynced == 0) return;
  if (mono - a->last_sync < 1000) return;
  if (rv_aof_sync(a, mono) != 0) a->delayed_fsyncs++;
}

void rv_aof_begin_rewrite(rv_aof *a) {
  a->rewriting = 1;
  a->tail.len = 0;
  a->tail_overflow = 0;
}

void rv_aof_abort_rewrite(rv_aof *a) {
  a->rewriting = 0;
  a->tail_overflow = 0;
  rv_bytes_free(&a->tail);
}

/* `tmp` holds the snapshot: append the tail, sync, replace the AOF with it, append there from now
 * on. -1 (the old file stays in use) when any step fails. */
int rv_aof_finish_rewrite(rv_aof *a, rv_file *tmp, const char *tmp_name, double mono) {
  const rv_storage *st = a->st;
  if (a->tail_overflow) {
    snprintf(a->last_error, sizeof a->last_error, "the writes made during the rewrite exceeded its buffer");
    st->close(st->ctx, tmp);
    return -1;
  }
  if ((a->tail.len && st->append(st->ctx, tmp, a->tail.p, a->tail.len) != 0) || st->sync(st->ctx, tmp) != 0) {
    snprintf(a->last_error, sizeof a->last_error, "%s", st->last_error(st->ctx));
    st->close(st->ctx, tmp);
    return -1;
  }
  st->close(st->ctx, tmp);
  if (st->replace(st->ctx, tmp_name, a->name) != 0) {
    snprintf(a->last_error, sizeof a->last_error, "%s", st->last_error(st->ctx));
    return -1;
  }
  if (a->file) st->close(st->ctx, a->file);
  a->file = NULL;
  a->failed.len = 0; /* those bytes were in the tail, hence in the new file */
  a->write_error = 0;
  rv_aof_abort_rewrite(a);
  if (rv_aof_open(a, mono) != 0) {
    snprintf(a->last_error, sizeof a->last_error, "reopening: %s", st->last_error(st->ctx));
    a->write_error = 1;
    return -1;
  }
  return 0;
}

int rv_aof_close(rv_aof *a, double mono) {
  if (!a->file) return 0;
  retry_failed(a);
  int rc = rv_aof_sync(a, mono);
  a->st->close(a->st->ctx, a->file);
  a->file = NULL;
  rv_bytes_free(&a->failed);
  rv_aof_abort_rewrite(a);
  return rc;
}

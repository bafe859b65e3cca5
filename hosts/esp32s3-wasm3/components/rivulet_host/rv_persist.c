/* Persistence orchestration (hosts/shared/persistence.ts): which file to load, the AOF, SAVE /
 * BGSAVE / BGREWRITEAOF as jobs in steps, save points, automatic rewrites, INFO lines, the final
 * flush. It is the loop's durability. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv_persist.h"

int rv_aof_open(rv_aof *a, double mono);
void rv_aof_append(rv_aof *a, const uint8_t *p, size_t n);
int rv_aof_sync(rv_aof *a, double mono);
int rv_aof_commit(rv_aof *a, double mono);
void rv_aof_cron(rv_aof *a, double mono);
void rv_aof_begin_rewrite(rv_aof *a);
void rv_aof_abort_rewrite(rv_aof *a);
int rv_aof_finish_rewrite(rv_aof *a, rv_file *tmp, const char *tmp_name, double mono);
int rv_aof_close(rv_aof *a, double mono);

#define MAX_SAVE_POINTS 8
/* Bytes a background job writes per cron step (clients are served in between). */
#define JOB_STEP_BYTES (256 * 1024)

struct rv_persist {
  rv_loop *loop;
  rv_engine *e;
  rv_persist_options o;
  const rv_storage *st;
  rv_durability dur;
  /* settings (the engine's CONFIG values) */
  int appendonly;
  char appendfilename[64];
  char dbfilename[64];
  int aof_load_truncated;
  double save_points[MAX_SAVE_POINTS][2];
  int nsave;
  double rewrite_perc, rewrite_min;
  /* state */
  rv_aof aof;
  int aof_on;
  rv_snapshot_job job;
  int job_running;
  int closed;
  /* the save-point policy (the job state and its INFO fields are the engine's) */
  double last_save_time; /* unix seconds */
  double dirty_at_save;
  int last_bgsave_ok;
  double last_bgsave_try;
  double last_second;
};

static double mono(rv_persist *p) { return rv_loop_mono(p->loop); }
static double now(rv_persist *p) { return rv_loop_now(p->loop); }

static void say(rv_persist *p, char level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(rv_persist *p, char level, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (p->o.log) p->o.log(p->o.log_ctx, level, msg);
}

/* ------------------------------------------------------------------ control connection */

static int ensure_control(rv_engine *e) {
  if (!(rv_i(e, rv_status, RV_CONTROL_CONN) & RV_FEED_STATUS_CLOSE)) return 0;
  rv_v(e, rv_close, RV_CONTROL_CONN);
  if (rv_i(e, rv_open, RV_CONTROL_CONN) != 0) return -1;
  static const char addr[] = "internal:0 internal:0";
  rv_scratch_put(e, addr, sizeof addr - 1);
  rv_v(e, rv_conn_set_addr, RV_CONTROL_CONN, (int32_t)(sizeof addr - 1));
  rv_v(e, rv_set_internal, RV_CONTROL_CONN);
  return 0;
}

int rv_control_command(rv_engine *e, int argc, const char *const *argv, uint8_t *out, size_t cap, double t) {
  if (ensure_control(e) != 0) return -1;
  uint8_t *s = rv_scratch(e);
  size_t k = (size_t)snprintf((char *)s, RV_SCRATCH_CAP, "*%d\r\n", argc);
  for (int i = 0; i < argc; i++) {
    size_t n = strlen(argv[i]);
    if (k + n + 32 > RV_SCRATCH_CAP) return -1;
    k += (size_t)snprintf((char *)s + k, RV_SCRATCH_CAP - k, "$%u\r\n", (unsigned)n);
    memcpy(s + k, argv[i], n);
    k += n;
    s[k++] = '\r';
    s[k++] = '\n';
  }
  rv_i(e, rv_feed, RV_CONTROL_CONN, (int32_t)k, t);
  size_t got = 0;
  int32_t n;
  while ((n = rv_i(e, rv_read, RV_CONTROL_CONN)) > 0) {
    size_t take = got + (size_t)n <= cap ? (size_t)n : cap - got;
    memcpy(out + got, rv_scratch(e), take);
    got += take;
  }
  if (got < cap) out[got] = 0;
  return rv_engine_failure(e) ? -1 : (int)got;
}

int rv_config_value(rv_engine *e, const char *name, char *out, size_t cap) {
  size_t n = strlen(name);
  rv_scratch_put(e, name, n);
  int32_t len = rv_i(e, rv_config_get, (int32_t)n);
  if (len < 0 || rv_engine_failure(e)) {
    if (cap) out[0] = 0;
    return -1;
  }
  size_t k = (size_t)len < cap ? (size_t)len : cap - 1;
  memcpy(out, rv_scratch(e), k);
  out[k] = 0;
  return len;
}

/* ------------------------------------------------------------------ settings */

static void read_settings(rv_persist *p) {
  char v[256];
  rv_config_value(p->e, "appendonly", v, sizeof v);
  p->appendonly = strcmp(v, "yes") == 0;
  rv_config_value(p->e, "appendfsync", v, sizeof v);
  p->aof.policy = strcmp(v, "always") == 0 ? RV_FSYNC_ALWAYS : strcmp(v, "no") == 0 ? RV_FSYNC_NO : RV_FSYNC_EVERYSEC;
  rv_config_value(p->e, "appendfilename", p->appendfilename, sizeof p->appendfilename);
  rv_config_value(p->e, "dbfilename", p->dbfilename, sizeof p->dbfilename);
  rv_config_value(p->e, "aof-load-truncated", v, sizeof v);
  p->aof_load_truncated = strcmp(v, "no") != 0;
  rv_config_value(p->e, "auto-aof-rewrite-percentage", v, sizeof v);
  p->rewrite_perc = atof(v);
  rv_config_value(p->e, "auto-aof-rewrite-min-size", v, sizeof v);
  p->rewrite_min = atof(v);
  rv_config_value(p->e, "save", v, sizeof v);
  p->nsave = 0;
  char *q = v;
  while (p->nsave < MAX_SAVE_POINTS) {
    char *end;
    double secs = strtod(q, &end);
    if (end == q) break;
    q = end;
    double changes = strtod(q, &end);
    if (end == q) break;
    q = end;
    p->save_points[p->nsave][0] = secs;
    p->save_points[p->nsave][1] = changes;
    p->nsave++;
  }
}

static void tmp_name(rv_persist *p, int32_t kind, char *out, size_t cap) {
  if (kind == RV_JOB_KIND_REWRITE) snprintf(out, cap, "temp-rewriteaof-%s.aof", p->o.tag ? p->o.tag : "device");
  else snprintf(out, cap, "temp-%s.rvs", p->o.tag ? p->o.tag : "device");
}

/* temp-*.aof / temp-*.rvs left by an interrupted job (hosts/shared/snapshot-job.ts isTempName) */
static int is_temp_name(const char *n) {
  size_t len = strlen(n);
  if (strncmp(n, "temp-", 5) != 0 || len < 10) return 0;
  const char *ext = n + len - 4;
  if (strcmp(ext, ".aof") != 0 && strcmp(ext, ".rvs") != 0) return 0;
  for (const char *c = n + 5; c < ext; c++) {
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-')) return 0;
  }
  return 1;
}

typedef struct names {
  char n[16][64];
  int count;
} names;

static void collect_temp(void *arg, const char *name) {
  names *ns = (names *)arg;
  if (is_temp_name(name) && ns->count < 16 && strlen(name) < 64) strcpy(ns->n[ns->count++], name);
}

/* ------------------------------------------------------------------ the loop's durability */

static void d_effects(void *ctx, const uint8_t *chunk, size_t n) {
  rv_persist *p = (rv_persist *)ctx;
  if (p->aof_on) rv_aof_append(&p->aof, chunk, n);
}

static void d_commit(void *ctx) {
  rv_persist *p = (rv_persist *)ctx;
  if (!p->aof_on) return;
  if (rv_aof_commit(&p->aof, mono(p)) != 0) {
    char msg[256];
    snprintf(msg, sizeof msg, "Can't persist the AOF with appendfsync always (%s). Exiting...", p->aof.last_error);
    if (p->o.fatal) p->o.fatal(p->o.ctx, msg);
  }
}

static void start_job(rv_persist *p, int32_t kind, const char *why, int requested);
static int rv_persist_snapshot_now(rv_persist *p, const char *why);

/* Effects still in the engine go to the AOF (and a rewrite's tail) now: a job's snapshot must
 * come after every effect the AOF already holds. Called outside and inside a settle pass alike. */
static void drain_effects(rv_persist *p) {
  int32_t n;
  while ((n = rv_i(p->e, rv_effects_read)) > 0) d_effects(p, rv_scratch(p->e), (size_t)n);
}

/* Ends the engine's job: SAVE clients waiting for it become ready, a scheduled job may be raised. */
static void job_done(rv_persist *p, int32_t kind, int32_t status) {
  rv_i(p->e, rv_job_done, kind, status, now(p));
  rv_loop_touch(p->loop, -1); /* the next settle pass collects them and takes the requests */
}

static void d_requests(void *ctx, int32_t bits) {
  rv_persist *p = (rv_persist *)ctx;
  /* the engine started these jobs when it answered the command */
  if (bits & RV_HOST_REQUEST_BGSAVE) start_job(p, RV_JOB_KIND_BGSAVE, "BGSAVE", 1);
  if (bits & RV_HOST_REQUEST_BGREWRITEAOF) start_job(p, RV_JOB_KIND_REWRITE, "BGREWRITEAOF", 1);
  /* SAVE: its clients are parked until rv_job_done, after the snapshot is on disk */
  if (bits & RV_HOST_REQUEST_SAVE) {
    drain_effects(p);
    int ok = rv_persist_snapshot_now(p, "SAVE") == 0;
    job_done(p, RV_JOB_KIND_SAVE, ok ? RV_JOB_STATUS_OK : RV_JOB_STATUS_FAILED);
  }
  int32_t rest = bits & ~(RV_HOST_REQUEST_SAVE | RV_HOST_REQUEST_BGSAVE | RV_HOST_REQUEST_BGREWRITEAOF);
  if (rest & RV_HOST_REQUEST_CONFIG_CHANGED) rv_persist_reload_settings(p);
  if (rest && p->o.other_requests) p->o.other_requests(p->o.ctx, rest);
}

/* ------------------------------------------------------------------ jobs */

/* A snapshot reached dump.rvs (or failed to): the save points count from here. */
static void saved(rv_persist *p, int ok, double dirty_at_start) {
  p->last_bgsave_ok = ok;
  if (!ok) return;
  p->last_save_time = now(p) / 1000;
  p->dirty_at_save = dirty_at_start;
}

static const char *job_name(int32_t kind) { return kind == RV_JOB_KIND_REWRITE ? "AOF rewrite" : "background save"; }

static void finish_job(rv_persist *p) {
  rv_snapshot_job *j = &p->job;
  p->job_running = 0;
  int ok;
  if (j->kind == RV_JOB_KIND_REWRITE) {
    if (p->aof_on) {
      drain_effects(p); /* the latest effects go to the old file and the tail alike */
      rv_file *f = j->file;
      j->file = NULL;
      ok = rv_aof_finish_rewrite(&p->aof, f, j->tmp_name, mono(p)) == 0;
      if (!ok) p->st->remove(p->st->ctx, j->tmp_name);
    } else {
      ok = rv_snapshot_job_commit(j, p->st) == 0; /* BGREWRITEAOF with appendonly no: a one-off file */
    }
    if (ok) {
      say(p, '*', "Background AOF rewrite finished successfully: %s/%s (%llu bytes of snapshot)", p->st->location,
          p->appendfilename, (unsigned long long)j->written);
    } else {
      say(p, '#', "AOF rewrite failed: %s", p->aof.last_error[0] ? p->aof.last_error : p->st->last_error(p->st->ctx));
      rv_aof_abort_rewrite(&p->aof);
    }
  } else {
    ok = rv_snapshot_job_commit(j, p->st) == 0;
    if (ok) {
      say(p, '*', "Background saving terminated with success: %s/%s (%llu bytes)", p->st->location, p->dbfilename,
          (unsigned long long)j->written);
    } else {
      say(p, '#', "Background save failed: %s", p->st->last_error(p->st->ctx));
      p->st->remove(p->st->ctx, j->tmp_name);
    }
  }
  if (j->kind == RV_JOB_KIND_BGSAVE) saved(p, ok, j->dirty_at_start);
  job_done(p, j->kind, ok ? RV_JOB_STATUS_OK : RV_JOB_STATUS_FAILED);
}

/* Starts a background job: `requested` = the engine raised it (BGSAVE, BGREWRITEAOF, a scheduled
 * one); otherwise the host decided (save point, automatic rewrite, appendonly yes) and asks the
 * engine first, which may refuse (another job runs) or schedule it. */
static void start_job(rv_persist *p, int32_t kind, const char *why, int requested) {
  if (p->closed) {
    if (requested) job_done(p, kind, RV_JOB_STATUS_FAILED);
    return;
  }
  if (!requested) {
    int32_t r = rv_i(p->e, rv_job_start, kind | (kind == RV_JOB_KIND_REWRITE ? RV_JOB_KIND_SCHEDULE : 0), now(p));
    if (r == RV_JOB_START_SCHEDULED) say(p, '*', "%s: scheduled after the running job", why);
    if (r != RV_JOB_START_STARTED) return;
  }
  if (p->job_running) {
    /* the engine runs one background job at a time: not reached */
    job_done(p, kind, RV_JOB_STATUS_FAILED);
    return;
  }
  drain_effects(p); /* effects made before the snapshot belong to the current AOF only */
  char tmp[64], err[256];
  tmp_name(p, kind, tmp, sizeof tmp);
  if (kind == RV_JOB_KIND_REWRITE && p->aof_on) rv_aof_begin_rewrite(&p->aof);
  if (rv_snapshot_job_start(&p->job, p->e, p->st, kind, tmp, kind == RV_JOB_KIND_REWRITE ? p->appendfilename : p->dbfilename,
                            mono(p), err, sizeof err) != 0) {
    if (kind == RV_JOB_KIND_REWRITE) rv_aof_abort_rewrite(&p->aof);
    say(p, '#', "Can't start the %s: %s", job_name(kind), err);
    job_done(p, kind, RV_JOB_STATUS_FAILED);
    return;
  }
  p->job_running = 1;
  say(p, '*', kind == RV_JOB_KIND_REWRITE ? "Background append only file rewriting started (%s)" : "Background saving started (%s)", why);
}

static void step_job(rv_persist *p) {
  if (!p->job_running) return;
  int r = rv_snapshot_job_step(&p->job, p->e, p->st, JOB_STEP_BYTES);
  if (r == 0) return;
  if (r < 0) {
    int32_t kind = p->job.kind;
    say(p, '#', "%s failed: %s", job_name(kind), p->st->last_error(p->st->ctx));
    rv_snapshot_job_abort(&p->job, p->e, p->st);
    p->job_running = 0;
    if (kind == RV_JOB_KIND_REWRITE) rv_aof_abort_rewrite(&p->aof);
    job_done(p, kind, RV_JOB_STATUS_FAILED);
    return;
  }
  finish_job(p);
}

static void run_job_to_end(rv_persist *p) {
  while (p->job_running) step_job(p);
}

/* Stops the running job without a status change (AOF turned off, shutdown). */
static void abort_job(rv_persist *p) {
  if (!p->job_running) return;
  int32_t kind = p->job.kind;
  rv_snapshot_job_abort(&p->job, p->e, p->st);
  p->job_running = 0;
  if (kind == RV_JOB_KIND_REWRITE) rv_aof_abort_rewrite(&p->aof);
  job_done(p, kind, RV_JOB_STATUS_ABORTED);
  say(p, '*', "%s aborted", kind == RV_JOB_KIND_REWRITE ? "AOF rewrite" : "Background save");
}

/* Writes dump.rvs now (SAVE's work, the engine's job bookkeeping aside). */
static int rv_persist_snapshot_now(rv_persist *p, const char *why) {
  /* the engine has one snapshot at a time: finish the running job first */
  run_job_to_end(p);
  char tmp[64], err[256];
  tmp_name(p, RV_JOB_KIND_BGSAVE, tmp, sizeof tmp);
  rv_snapshot_job j;
  double t0 = mono(p);
  if (rv_snapshot_job_start(&j, p->e, p->st, RV_JOB_KIND_SAVE, tmp, p->dbfilename, t0, err, sizeof err) != 0) {
    say(p, '#', "Failed saving the DB (%s): %s", why, err);
    return -1;
  }
  int r;
  while ((r = rv_snapshot_job_step(&j, p->e, p->st, 1 << 30)) == 0) {
  }
  if (r < 0 || rv_snapshot_job_commit(&j, p->st) != 0) {
    rv_snapshot_job_abort(&j, p->e, p->st);
    say(p, '#', "Failed saving the DB (%s): %s", why, p->st->last_error(p->st->ctx));
    saved(p, 0, 0);
    return -1;
  }
  say(p, '*', "DB saved on disk (%s): %s/%s, %llu bytes in %.0f ms", why, p->st->location, p->dbfilename,
      (unsigned long long)j.written, mono(p) - t0);
  saved(p, 1, j.dirty_at_start);
  return 0;
}

int rv_persist_save(rv_persist *p, const char *why) {
  if (rv_i(p->e, rv_job_start, RV_JOB_KIND_SAVE, now(p)) != RV_JOB_START_STARTED) {
    say(p, '#', "Failed saving the DB (%s): a background save is running", why);
    return -1;
  }
  drain_effects(p);
  int rc = rv_persist_snapshot_now(p, why);
  job_done(p, RV_JOB_KIND_SAVE, rc == 0 ? RV_JOB_STATUS_OK : RV_JOB_STATUS_FAILED);
  return rc;
}

/* ------------------------------------------------------------------ loading */

static int load(rv_persist *p, char *err, size_t errlen) {
  const rv_storage *st = p->st;
  int aof_exists = st->size(st->ctx, p->appendfilename) >= 0;
  int dump_exists = st->size(st->ctx, p->dbfilename) >= 0;
  const char *name = NULL;
  int is_aof = 0;
  if (p->appendonly && aof_exists) {
    name = p->appendfilename;
    is_aof = 1;
  } else if (dump_exists) {
    name = p->dbfilename;
  }
  if (!p->appendonly && aof_exists && !dump_exists) {
    say(p, '#', "appendonly is no: %s/%s is not loaded (start with --appendonly yes to use it)", st->location, p->appendfilename);
  }
  if (name) {
    const char *what = is_aof ? "the append only file" : "the snapshot";
    say(p, '*', "Loading %s %s/%s (%lld bytes)...", what, st->location, name, (long long)st->size(st->ctx, name));
    double t0 = mono(p);
    rv_replay_result r;
    if (rv_replay_file(p->e, st, name, now(p), &r) != 0) {
      snprintf(err, errlen, "Loading %s %s/%s failed: %s", what, st->location, name, r.error);
      return -1;
    }
    if (r.corrupt) {
      snprintf(err, errlen,
               "Bad file format reading %s %s/%s at offset %llu: %s. Nothing after that point can be trusted, so Rivulet will "
               "not start. 'rivulet check-aof --fix %s/%s' truncates the file at the last valid record before that offset "
               "(everything after it is lost); keep a copy first.",
               what, st->location, name, (unsigned long long)r.error_at, r.error, st->location, name);
      return -1;
    }
    if (r.torn) {
      if (!is_aof) {
        snprintf(err, errlen, "The snapshot %s/%s is truncated (%s, offset %llu); snapshots are written atomically, so the file is damaged. Move it away to start empty.",
                 st->location, name, r.torn, (unsigned long long)r.valid_length);
        return -1;
      }
      if (!p->aof_load_truncated) {
        snprintf(err, errlen, "The AOF %s/%s ends with a torn record (%s) at offset %llu; aof-load-truncated is no, so Rivulet will not start.",
                 st->location, name, r.torn, (unsigned long long)r.valid_length);
        return -1;
      }
      say(p, '#', "!!! Warning: the AOF %s/%s ends with a torn record (%s) !!!", st->location, name, r.torn);
      say(p, '#', "AOF loaded anyway because aof-load-truncated is enabled: truncating %llu bytes at offset %llu",
          (unsigned long long)(r.size - r.valid_length), (unsigned long long)r.valid_length);
      if (st->truncate(st->ctx, name, r.valid_length) != 0) {
        snprintf(err, errlen, "Truncating %s/%s failed: %s", st->location, name, st->last_error(st->ctx));
        return -1;
      }
    }
    rv_i(p->e, rv_dataset_stats);
    rv_dataset_stats_t ds;
    memcpy(&ds, rv_scratch(p->e), sizeof ds);
    say(p, '*', "DB loaded from %s: %.3f seconds, %.0f keys, %.0f stream entries, %.0f commands, %llu bytes",
        is_aof ? "append only file" : "snapshot", (mono(p) - t0) / 1000, ds.keys, ds.stream_entries, r.commands,
        (unsigned long long)r.valid_length);
    if (!is_aof && p->appendonly && ds.keys > 0) {
      /* AOF on but none yet (first start with a snapshot): create it from the dataset */
      say(p, '*', "Creating %s/%s from the loaded dataset", st->location, p->appendfilename);
      p->aof_on = 1;
      start_job(p, RV_JOB_KIND_REWRITE, "creating the AOF", 0);
      run_job_to_end(p);
      if (!p->aof.file) {
        snprintf(err, errlen, "Creating %s/%s failed", st->location, p->appendfilename);
        return -1;
      }
      return 0;
    }
  } else {
    say(p, '*', "No AOF or snapshot found: starting with an empty dataset");
  }
  if (p->appendonly) {
    p->aof_on = 1;
    if (rv_aof_open(&p->aof, mono(p)) != 0) {
      snprintf(err, errlen, "Opening %s/%s failed: %s", st->location, p->appendfilename, st->last_error(st->ctx));
      return -1;
    }
  }
  return 0;
}

rv_persist *rv_persist_open(rv_loop *loop, const rv_persist_options *o, char *err, size_t errlen) {
  rv_persist *p = (rv_persist *)calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  p->loop = loop;
  p->e = rv_loop_engine(loop);
  p->o = *o;
  p->st = o->storage;
  p->aof.st = o->storage;
  p->aof.tail_max = o->rewrite_tail_max ? o->rewrite_tail_max : 8u << 20;
  p->last_bgsave_ok = 1;
  p->last_save_time = now(p) / 1000;
  read_settings(p);
  snprintf(p->aof.name, sizeof p->aof.name, "%s", p->appendfilename);
  if (p->st->lock(p->st->ctx, o->owner ? o->owner : "rivulet-device", err, errlen) != 0) {
    free(p);
    return NULL;
  }
  names ns;
  ns.count = 0;
  p->st->list(p->st->ctx, collect_temp, &ns);
  for (int i = 0; i < ns.count; i++) {
    if (p->st->remove(p->st->ctx, ns.n[i]) == 0) say(p, '*', "Removed the leftover temp file %s (an interrupted save or rewrite)", ns.n[i]);
  }
  p->dur.ctx = p;
  p->dur.effects = d_effects;
  p->dur.commit = d_commit;
  p->dur.requests = d_requests;
  /* effects are on from here: writes replayed by a loading connection emit none */
  rv_loop_set_durability(loop, &p->dur);
  rv_v(p->e, rv_persistence_enable, 1); /* SAVE / BGSAVE / BGREWRITEAOF are run here */
  if (load(p, err, errlen) != 0) {
    rv_v(p->e, rv_persistence_enable, 0);
    rv_loop_set_durability(loop, NULL);
    p->st->unlock(p->st->ctx);
    rv_aof_close(&p->aof, mono(p));
    free(p);
    return NULL;
  }
  p->dirty_at_save = rv_f(p->e, rv_dirty);
  return p;
}

void rv_persist_reload_settings(rv_persist *p) {
  int was_on = p->appendonly;
  rv_fsync_policy was = p->aof.policy;
  read_settings(p);
  if (p->aof.policy != was) say(p, '*', "appendfsync is now %s", p->aof.policy == RV_FSYNC_ALWAYS ? "always" : p->aof.policy == RV_FSYNC_NO ? "no" : "everysec");
  if (p->appendonly && !was_on) {
    say(p, '*', "Turning the AOF on: writing a snapshot as its start");
    p->aof_on = 1; /* the file comes into being when the rewrite completes */
    if (!(p->job_running && p->job.kind == RV_JOB_KIND_REWRITE)) start_job(p, RV_JOB_KIND_REWRITE, "appendonly yes", 0);
  } else if (!p->appendonly && was_on) {
    say(p, '*', "Turning the AOF off");
    if (p->job_running && p->job.kind == RV_JOB_KIND_REWRITE) abort_job(p);
    rv_aof_close(&p->aof, mono(p));
    p->aof_on = 0;
  }
}

int rv_persist_busy(const rv_persist *p) { return p->job_running; }

void rv_persist_cron(rv_persist *p) {
  if (p->closed) return;
  double m = mono(p);
  if (p->aof_on) rv_aof_cron(&p->aof, m);
  step_job(p);
  if (m - p->last_second < 1000) return;
  p->last_second = m;
  double dirty = rv_f(p->e, rv_dirty);
  if (!p->job_running) {
    for (int i = 0; i < p->nsave; i++) {
      if (dirty - p->dirty_at_save >= p->save_points[i][1] && now(p) / 1000 - p->last_save_time >= p->save_points[i][0] &&
          (p->last_bgsave_ok || m - p->last_bgsave_try > 5000)) {
        char why[80];
        snprintf(why, sizeof why, "%.0f changes in %.0f seconds", p->save_points[i][1], p->save_points[i][0]);
        p->last_bgsave_try = m;
        start_job(p, RV_JOB_KIND_BGSAVE, why, 0);
        break;
      }
    }
  }
  if (p->aof_on && p->aof.file && !p->job_running && p->rewrite_perc > 0) {
    double size = (double)p->st->file_size(p->st->ctx, p->aof.file);
    double base = p->aof.base_size ? (double)p->aof.base_size : 1;
    if (size > p->rewrite_min) {
      double growth = (size - base) * 100 / base;
      if (growth >= p->rewrite_perc) {
        char why[64];
        snprintf(why, sizeof why, "automatic, %.0f%% growth", growth);
        start_job(p, RV_JOB_KIND_REWRITE, why, 0);
      }
    }
  }
}

size_t rv_persist_info(rv_persist *p, char *out, size_t cap) {
  /* what only the host knows; the engine adds its job fields after aof_enabled */
  int n = snprintf(out, cap, "persistence\taof_enabled:%d\npersistence\taof_last_write_status:%s\n", p->appendonly,
                   p->aof.write_error ? "err" : "ok");
  if (n < 0 || (size_t)n >= cap) return 0;
  if (p->aof_on && p->aof.file) {
    int k = snprintf(out + n, cap - (size_t)n,
                     "persistence\taof_current_size:%llu\n"
                     "persistence\taof_base_size:%llu\n"
                     "persistence\taof_pending_rewrite\n" /* placed here; the engine fills in its value */
                     "persistence\taof_rewrite_buffer_length:%llu\n"
                     "persistence\taof_delayed_fsync:%llu\n",
                     (unsigned long long)p->st->file_size(p->st->ctx, p->aof.file), (unsigned long long)p->aof.base_size,
                     (unsigned long long)p->aof.tail.len, (unsigned long long)p->aof.delayed_fsyncs);
    if (k > 0 && (size_t)(n + k) < cap) n += k;
  }
  return (size_t)n;
}

int rv_persist_close(rv_persist *p, int save) {
  if (p->closed) return 0;
  int rc = 0;
  if (p->job_running) {
    say(p, '*', "There is a %s running: stopping it", job_name(p->job.kind));
    abort_job(p);
  }
  if (!rv_engine_failure(p->e)) rv_loop_settle(p->loop);
  p->closed = 1;
  if (p->aof_on) {
    say(p, '*', "Calling fsync() on the AOF file.");
    if (rv_aof_close(&p->aof, mono(p)) != 0) rc = -1;
  }
  if (!rv_engine_failure(p->e) && (save == 1 || (save < 0 && p->nsave > 0))) {
    say(p, '*', "Saving the final snapshot before exiting.");
    if (rv_persist_save(p, "shutdown") != 0) rc = -1;
  }
  rv_v(p->e, rv_persistence_enable, 0);
  rv_loop_set_durability(p->loop, NULL);
  p->st->unlock(p->st->ctx);
  free(p);
  return rc;
}

/* The host loop (see rv_loop.h; the TypeScript twin is bindings/loop.ts). */
#include "rv_loop.h"

#include <stdlib.h>

typedef struct conn {
  const rv_sink *sink;
  void *ctx;
  uint8_t used;
  uint8_t touched;
  uint8_t blocked;
  uint8_t stalled;
} conn;

struct rv_loop {
  rv_engine *e;
  const rv_clock *clock;
  const rv_durability *dur;
  conn *conns;
  int max_conns;
  int may_be_ready;
  int deadline_dirty;
  double deadline;
};

rv_loop *rv_loop_new(rv_engine *e, const rv_clock *clock, int max_conns) {
  rv_loop *l = (rv_loop *)calloc(1, sizeof *l);
  if (!l) return NULL;
  l->conns = (conn *)calloc((size_t)max_conns, sizeof(conn));
  if (!l->conns) {
    free(l);
    return NULL;
  }
  l->e = e;
  l->clock = clock;
  l->max_conns = max_conns;
  l->deadline = -1;
  return l;
}

void rv_loop_free(rv_loop *l) {
  if (!l) return;
  free(l->conns);
  free(l);
}

rv_engine *rv_loop_engine(rv_loop *l) { return l->e; }
double rv_loop_now(rv_loop *l) { return l->clock->now_ms(l->clock->ctx); }
double rv_loop_mono(rv_loop *l) { return l->clock->mono_ms(l->clock->ctx); }
const char *rv_loop_failure(const rv_loop *l) { return rv_engine_failure(l->e); }

void rv_loop_set_durability(rv_loop *l, const rv_durability *d) {
  l->dur = d;
  rv_v(l->e, rv_effects_enable, d ? 1 : 0);
}

static conn *get(const rv_loop *l, int id) {
  if (id < 0 || id >= l->max_conns || !l->conns[id].used) return NULL;
  return &l->conns[id];
}

int rv_loop_open(rv_loop *l, const rv_sink *sink, void *ctx) {
  if (rv_engine_failure(l->e)) return -1;
  for (int id = 0; id < l->max_conns; id++) {
    if (l->conns[id].used) continue;
    if (rv_i(l->e, rv_open, id) != 0) return -1;
    conn *c = &l->conns[id];
    c->sink = sink;
    c->ctx = ctx;
    c->used = 1;
    c->touched = c->blocked = c->stalled = 0;
    return id;
  }
  return -1;
}

static void forget(rv_loop *l, int id) {
  l->conns[id].used = 0;
  l->conns[id].touched = 0;
  rv_v(l->e, rv_close, id);
  l->deadline_dirty = 1;
}

void rv_loop_close(rv_loop *l, int id) {
  if (!get(l, id)) return;
  forget(l, id);
  l->may_be_ready = 1; /* closing can release others (CLIENT PAUSE-like waits, none today) */
}

/* The engine closed it (or forgot it): tell the sink once. */
static void closed_by_engine(rv_loop *l, int id) {
  conn *c = get(l, id);
  if (!c) return;
  const rv_sink *s = c->sink;
  void *ctx = c->ctx;
  forget(l, id);
  s->closed(ctx);
}

static void fed(rv_loop *l, int id, int32_t st) {
  conn *c = &l->conns[id];
  c->blocked = (st & RV_FEED_STATUS_BLOCKED) != 0;
  c->touched = 1;
  if (st & RV_FEED_STATUS_BLOCKED) l->deadline_dirty = 1;
  if (st & RV_FEED_STATUS_OTHERS_READY) l->may_be_ready = 1;
}

void rv_loop_feed(rv_loop *l, int id, const uint8_t *bytes, size_t n) {
  double now = rv_loop_now(l);
  size_t off = 0;
  while (off < n && get(l, id) && !rv_engine_failure(l->e)) {
    size_t k = n - off < RV_LOOP_FEED_PIECE ? n - off : RV_LOOP_FEED_PIECE;
    rv_scratch_put(l->e, bytes + off, k);
    int32_t st = rv_i(l->e, rv_feed, id, (int32_t)k, now);
    off += k;
    if (st < 0) {
      closed_by_engine(l, id);
      return;
    }
    fed(l, id, st);
  }
}

void rv_loop_resume(rv_loop *l, int id) {
  conn *c = get(l, id);
  if (!c || !c->stalled) return;
  c->stalled = 0;
  c->touched = 1;
}

int rv_loop_stalled(const rv_loop *l, int id) {
  conn *c = get(l, id);
  return c ? c->stalled : 0;
}

int rv_loop_blocked(const rv_loop *l, int id) {
  conn *c = get(l, id);
  return c ? c->blocked : 0;
}

void rv_loop_touch(rv_loop *l, int id) {
  conn *c = get(l, id);
  if (c) c->touched = 1;
  l->may_be_ready = 1;
  l->deadline_dirty = 1;
}

static void collect_ready(rv_loop *l) {
  l->may_be_ready = 0;
  int32_t id;
  while (!rv_engine_failure(l->e) && (id = rv_i(l->e, rv_ready_next)) >= 0) {
    conn *c = get(l, id);
    if (!c) continue;
    if (c->blocked) {
      /* commands sent while it was parked wait in the engine's input: an empty feed runs them */
      c->blocked = 0;
      int32_t st = rv_i(l->e, rv_feed, id, 0, rv_loop_now(l));
      if (st >= 0) {
        c->blocked = (st & RV_FEED_STATUS_BLOCKED) != 0;
        if (st & RV_FEED_STATUS_OTHERS_READY) l->may_be_ready = 1;
      }
    }
    c->touched = 1;
    l->deadline_dirty = 1;
  }
}

/* Moves a connection's output to its sink (until it says stop), then acts on its status. */
static void deliver(rv_loop *l, int id) {
  conn *c = get(l, id);
  if (!c || c->stalled) return;
  c->touched = 0;
  int32_t n;
  while ((n = rv_i(l->e, rv_read, id)) > 0) {
    if (!c->sink->write(c->ctx, rv_scratch(l->e), (size_t)n)) {
      c->stalled = 1;
      break;
    }
    if (n < RV_SCRATCH_CAP) break; /* rv_read hands out min(pending, cap): nothing is left */
  }
  if (rv_engine_failure(l->e) || !get(l, id)) return;
  int32_t st = rv_i(l->e, rv_status, id);
  c->blocked = (st & RV_FEED_STATUS_BLOCKED) != 0;
  if ((st & RV_FEED_STATUS_CLOSE) && !(st & RV_FEED_STATUS_OUTPUT)) closed_by_engine(l, id);
}

void rv_loop_settle(rv_loop *l) {
  rv_engine *e = l->e;
  for (int round = 0; !rv_engine_failure(e); round++) {
    if (l->may_be_ready) collect_ready(l);
    const rv_durability *d = l->dur;
    if (d) {
      int32_t n;
      while ((n = rv_i(e, rv_effects_read)) > 0) d->effects(d->ctx, rv_scratch(e), (size_t)n);
      d->commit(d->ctx);
      int32_t req = rv_i(e, rv_take_requests);
      if (req) d->requests(d->ctx, req);
    }
    for (int id = 0; id < l->max_conns; id++) {
      if (l->conns[id].used && l->conns[id].touched) deliver(l, id);
    }
    /* a delivery or an empty feed ran queued input that woke others */
    if (!l->may_be_ready) break;
  }
  if (l->deadline_dirty && !rv_engine_failure(e)) {
    l->deadline_dirty = 0;
    l->deadline = rv_f(e, rv_next_deadline);
  }
}

void rv_loop_timers(rv_loop *l) {
  if (l->deadline < 0 || rv_engine_failure(l->e)) return;
  double now = rv_loop_now(l);
  if (now < l->deadline) return;
  rv_i(l->e, rv_tick, now);
  l->may_be_ready = 1;
  l->deadline_dirty = 1;
  rv_loop_settle(l);
}

double rv_loop_next_timeout(rv_loop *l) {
  if (l->deadline < 0) return -1;
  double ms = l->deadline - rv_loop_now(l);
  return ms < 0 ? 0 : ms;
}

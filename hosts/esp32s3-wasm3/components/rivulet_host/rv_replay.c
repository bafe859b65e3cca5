/* Loading a persisted file (the AOF or a snapshot: both RESP commands) through a loading
 * connection. The engine runs its commands, drops their replies and keeps a LoadStatus record
 * (rv_load_status): how far the input was consumed, errors, an open MULTI, a NUL tail. So the
 * host only reads the file into scratch in pieces; the engine tells where the usable part ends. */
#include <stdio.h>
#include <string.h>

#include "rv_persist.h"

#define PIECE 16384

static int load_status(rv_engine *e, rv_load_status_t *s, char *text, size_t cap) {
  int32_t n = rv_i(e, rv_load_status, RV_LOADING_CONN);
  if (n < (int32_t)sizeof *s) return -1;
  const uint8_t *p = rv_scratch(e);
  memcpy(s, p, sizeof *s);
  if (text && cap) {
    size_t k = 0;
    const uint8_t *t = p + sizeof *s; /* the error text, then the protocol error's */
    int32_t len = s->error_len > 0 ? s->error_len : s->protocol_error_len;
    for (int32_t i = 0; i < len && k + 1 < cap; i++) text[k++] = (char)t[i];
    text[k] = 0;
  }
  return 0;
}

int rv_replay_file(rv_engine *e, const rv_storage *st, const char *name, double now, rv_replay_result *r) {
  memset(r, 0, sizeof *r);
  int64_t size = st->size(st->ctx, name);
  if (size < 0) {
    snprintf(r->error, sizeof r->error, "%s/%s: no such file", st->location, name);
    return -1;
  }
  r->size = (uint64_t)size;
  if (rv_i(e, rv_open, RV_LOADING_CONN) != 0) {
    snprintf(r->error, sizeof r->error, "the loading connection id is in use");
    return -1;
  }
  rv_v(e, rv_set_loading, RV_LOADING_CONN, 1);
  rv_load_status_t s;
  int rc = 0;
  uint64_t at = 0;
  while (at < r->size) {
    size_t want = r->size - at < PIECE ? (size_t)(r->size - at) : PIECE;
    int64_t got = st->read(st->ctx, name, at, rv_scratch(e), want);
    if (got <= 0) {
      snprintf(r->error, sizeof r->error, "reading %s/%s at offset %llu: %s", st->location, name, (unsigned long long)at,
               got < 0 ? st->last_error(st->ctx) : "unexpected end of file");
      rc = -1;
      break;
    }
    rv_i(e, rv_feed, RV_LOADING_CONN, (int32_t)got, now);
    at += (uint64_t)got;
    if (rv_engine_failure(e)) break;
    /* an error stops at once: nothing after it can be trusted */
    if (load_status(e, &s, NULL, 0) != 0) break;
    if (s.first_error_at >= 0 || s.protocol_error_at >= 0) break;
  }
  if (rc == 0 && rv_engine_failure(e)) {
    snprintf(r->error, sizeof r->error, "%s", rv_engine_failure(e));
    rc = -1;
  }
  if (rc == 0 && load_status(e, &s, r->error, sizeof r->error) != 0) {
    snprintf(r->error, sizeof r->error, "rv_load_status failed");
    rc = -1;
  }
  if (rc == 0) {
    r->commands = s.commands;
    if (s.first_error_at >= 0 || s.protocol_error_at >= 0) {
      r->corrupt = 1;
      r->error_at = (uint64_t)(s.first_error_at >= 0 ? s.first_error_at : s.protocol_error_at);
    } else {
      r->valid_length = s.in_multi ? (uint64_t)s.multi_start : (uint64_t)s.consumed;
      if (s.in_multi) r->torn = "a MULTI without EXEC at the end of the file";
      else if (s.nul_tail > 0) r->torn = "the file ends in NUL bytes (an interrupted write)";
      else if (s.pending > 0) r->torn = "the last record is incomplete";
      else if (r->valid_length < r->size) r->torn = "unusable bytes at the end of the file";
    }
  }
  if (!rv_engine_failure(e)) {
    rv_v(e, rv_set_loading, RV_LOADING_CONN, 0);
    rv_v(e, rv_close, RV_LOADING_CONN);
  }
  return rc;
}

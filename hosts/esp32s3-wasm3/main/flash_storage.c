/* See flash_storage.h. Each operation is packed into a request, handed to the flash task through a
 * queue, and the caller waits for it on a semaphore (storage calls are synchronous anyway). */
#include "flash_storage.h"

#include <string.h>

#include "freertos/FreeRTOS.h"
#include "freertos/queue.h"
#include "freertos/semphr.h"
#include "freertos/task.h"

typedef enum { OP_SIZE, OP_READ, OP_OPEN_APPEND, OP_CREATE, OP_APPEND, OP_SYNC, OP_CLOSE, OP_REPLACE, OP_TRUNCATE, OP_REMOVE, OP_LIST, OP_LOCK } op_kind;

typedef struct request {
  op_kind op;
  const char *name, *name2;
  rv_file *file;
  uint8_t *buf;
  const uint8_t *bytes;
  size_t n;
  uint64_t at;
  void (*each)(void *, const char *);
  void *arg;
  char *err;
  int64_t result;
  rv_file *file_result;
} request;

static const rv_storage *inner;
static QueueHandle_t queue;
static SemaphoreHandle_t done;
static SemaphoreHandle_t one_caller;

static void flash_task(void *unused) {
  for (;;) {
    request *r;
    if (xQueueReceive(queue, &r, portMAX_DELAY) != pdTRUE) continue;
    void *c = inner->ctx;
    switch (r->op) {
      case OP_SIZE: r->result = inner->size(c, r->name); break;
      case OP_READ: r->result = inner->read(c, r->name, r->at, r->buf, r->n); break;
      case OP_OPEN_APPEND: r->file_result = inner->open_append(c, r->name); break;
      case OP_CREATE: r->file_result = inner->create(c, r->name); break;
      case OP_APPEND: r->result = inner->append(c, r->file, r->bytes, r->n); break;
      case OP_SYNC: r->result = inner->sync(c, r->file); break;
      case OP_CLOSE: r->result = inner->close(c, r->file); break;
      case OP_REPLACE: r->result = inner->replace(c, r->name, r->name2); break;
      case OP_TRUNCATE: r->result = inner->truncate(c, r->name, r->at); break;
      case OP_REMOVE: r->result = inner->remove(c, r->name); break;
      case OP_LIST: r->result = inner->list(c, r->each, r->arg); break;
      case OP_LOCK: r->result = inner->lock(c, r->name, r->err, r->n); break;
    }
    xSemaphoreGive(done);
  }
}

static void call(request *r) {
  xSemaphoreTake(one_caller, portMAX_DELAY);
  xQueueSend(queue, &r, portMAX_DELAY);
  xSemaphoreTake(done, portMAX_DELAY);
  xSemaphoreGive(one_caller);
}

static int64_t f_size(void *ctx, const char *name) {
  request r = {.op = OP_SIZE, .name = name};
  call(&r);
  return r.result;
}
static int64_t f_read(void *ctx, const char *name, uint64_t at, uint8_t *buf, size_t n) {
  request r = {.op = OP_READ, .name = name, .at = at, .buf = buf, .n = n};
  call(&r);
  return r.result;
}
static rv_file *f_open_append(void *ctx, const char *name) {
  request r = {.op = OP_OPEN_APPEND, .name = name};
  call(&r);
  return r.file_result;
}
static rv_file *f_create(void *ctx, const char *name) {
  request r = {.op = OP_CREATE, .name = name};
  call(&r);
  return r.file_result;
}
static int f_append(void *ctx, rv_file *f, const uint8_t *bytes, size_t n) {
  request r = {.op = OP_APPEND, .file = f, .bytes = bytes, .n = n};
  call(&r);
  return (int)r.result;
}
static int f_sync(void *ctx, rv_file *f) {
  request r = {.op = OP_SYNC, .file = f};
  call(&r);
  return (int)r.result;
}
static uint64_t f_file_size(void *ctx, rv_file *f) { return inner->file_size(inner->ctx, f); /* no flash access */ }
static int f_close(void *ctx, rv_file *f) {
  request r = {.op = OP_CLOSE, .file = f};
  call(&r);
  return (int)r.result;
}
static int f_replace(void *ctx, const char *from, const char *to) {
  request r = {.op = OP_REPLACE, .name = from, .name2 = to};
  call(&r);
  return (int)r.result;
}
static int f_truncate(void *ctx, const char *name, uint64_t n) {
  request r = {.op = OP_TRUNCATE, .name = name, .at = n};
  call(&r);
  return (int)r.result;
}
static int f_remove(void *ctx, const char *name) {
  request r = {.op = OP_REMOVE, .name = name};
  call(&r);
  return (int)r.result;
}
static int f_list(void *ctx, void (*each)(void *, const char *), void *arg) {
  request r = {.op = OP_LIST, .each = each, .arg = arg};
  call(&r);
  return (int)r.result;
}
static int f_lock(void *ctx, const char *owner, char *err, size_t errlen) {
  request r = {.op = OP_LOCK, .name = owner, .err = err, .n = errlen};
  call(&r);
  return (int)r.result;
}
static void f_unlock(void *ctx) { inner->unlock(inner->ctx); }
static const char *f_last_error(void *ctx) { return inner->last_error(inner->ctx); }

int rv_flash_storage_init(rv_storage *out, const rv_storage *in) {
  inner = in;
  queue = xQueueCreate(1, sizeof(request *));
  done = xSemaphoreCreateBinary();
  one_caller = xSemaphoreCreateMutex();
  if (!queue || !done || !one_caller) return -1;
  /* internal RAM stack (xTaskCreate allocates from internal memory by default) */
  if (xTaskCreate(flash_task, "rv_flash", 6144, NULL, 5, NULL) != pdPASS) return -1;
  memset(out, 0, sizeof *out);
  out->ctx = NULL;
  out->location = in->location;
  out->size = f_size;
  out->read = f_read;
  out->open_append = f_open_append;
  out->create = f_create;
  out->append = f_append;
  out->sync = f_sync;
  out->file_size = f_file_size;
  out->close = f_close;
  out->replace = f_replace;
  out->truncate = f_truncate;
  out->remove = f_remove;
  out->list = f_list;
  out->lock = f_lock;
  out->unlock = f_unlock;
  out->last_error = f_last_error;
  return 0;
}

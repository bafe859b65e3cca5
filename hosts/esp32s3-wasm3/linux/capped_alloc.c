/* The capped allocator of the POSIX port: every malloc/calloc/realloc/free of the binary (wasm3's
 * runtime, compiled code and linear memory, the host's buffers) goes through here (GNU ld
 * --wrap), counted against --memory-budget. realloc always allocates anew and copies, so a
 * growth needs old + new at once, as it would on a board; a request over the budget fails (NULL),
 * which wasm3 turns into memory.grow = -1 and the engine into an OOM reply. */
#include "capped_alloc.h"

#include <stdint.h>
#include <string.h>

void *__real_malloc(size_t n);
void __real_free(void *p);

/* 16 bytes before each block: its size (keeps 16-byte alignment). */
#define HDR 16

static size_t used_bytes, peak_bytes, cap_bytes, failures;

void rv_heap_set_cap(size_t cap) { cap_bytes = cap; }
size_t rv_heap_cap(void) { return cap_bytes; }
size_t rv_heap_used(void) { return used_bytes; }
size_t rv_heap_peak(void) { return peak_bytes; }
size_t rv_heap_failures(void) { return failures; }
void rv_heap_reset_peak(void) { peak_bytes = used_bytes; }

void *__wrap_malloc(size_t n) {
  if (n > SIZE_MAX - HDR || (cap_bytes && used_bytes + n > cap_bytes)) {
    failures++;
    return NULL;
  }
  uint8_t *p = (uint8_t *)__real_malloc(n + HDR);
  if (!p) {
    failures++;
    return NULL;
  }
  memcpy(p, &n, sizeof n);
  used_bytes += n;
  if (used_bytes > peak_bytes) peak_bytes = used_bytes;
  return p + HDR;
}

void __wrap_free(void *q) {
  if (!q) return;
  uint8_t *p = (uint8_t *)q - HDR;
  size_t n;
  memcpy(&n, p, sizeof n);
  used_bytes -= n;
  __real_free(p);
}

void *__wrap_calloc(size_t k, size_t n) {
  if (n && k > SIZE_MAX / n) return NULL;
  void *p = __wrap_malloc(k * n);
  if (p) memset(p, 0, k * n);
  return p;
}

void *__wrap_realloc(void *q, size_t n) {
  if (!q) return __wrap_malloc(n);
  if (n == 0) {
    __wrap_free(q);
    return NULL;
  }
  size_t old;
  memcpy(&old, (uint8_t *)q - HDR, sizeof old);
  void *p = __wrap_malloc(n);
  if (!p) return NULL;
  memcpy(p, q, old < n ? old : n);
  __wrap_free(q);
  return p;
}

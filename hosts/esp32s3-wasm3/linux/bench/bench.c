/* rivulet-bench: instructions per XADD under wasm3, measured with callgrind around two functions
 * that do nothing but drive the engine (everything outside them is excluded):
 *
 *   valgrind --tool=callgrind --toggle-collect=bench_resp --toggle-collect=bench_batch \
 *     build/device/x86_64/rivulet-bench build/rivulet.wasm [N]
 *
 * bench_resp: N XADDs, one RESP command per rv_feed (what a socket client costs);
 * bench_batch: N rows through rv_xadd_batch, ROWS per call (the typed fast path).
 * Then divide each function's inclusive Ir by N (printed). Also prints wall-clock rates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rv_engine.h"

#define ROWS 2000

static double ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000.0 + t.tv_nsec / 1e6;
}

static double clock_ms = 1.7e12;

__attribute__((noinline)) void bench_resp(rv_engine *e, int n) {
  static const char cmd[] = "*7\r\n$4\r\nXADD\r\n$6\r\nsensor\r\n$1\r\n*\r\n$4\r\ntemp\r\n$4\r\n21.5\r\n$3\r\nhum\r\n$2\r\n40\r\n";
  for (int i = 0; i < n; i++) {
    rv_scratch_put(e, cmd, sizeof cmd - 1);
    rv_i(e, rv_feed, 0, (int32_t)(sizeof cmd - 1), clock_ms += 1);
    while (rv_i(e, rv_read, 0) > 0) {
    }
  }
}

static size_t put_u32(uint8_t *p, uint32_t v) {
  memcpy(p, &v, 4);
  return 4;
}

__attribute__((noinline)) void bench_batch(rv_engine *e, int n) {
  static uint8_t buf[RV_SCRATCH_CAP];
  for (int done = 0; done < n; done += ROWS) {
    size_t k = 0;
    k += put_u32(buf + k, 7);
    memcpy(buf + k, "sensorb", 7), k += 7;
    k += put_u32(buf + k, 2);
    k += put_u32(buf + k, 4), memcpy(buf + k, "temp", 4), k += 4;
    k += put_u32(buf + k, 3), memcpy(buf + k, "hum", 3), k += 3;
    k += put_u32(buf + k, ROWS);
    for (int r = 0; r < ROWS; r++) {
      k += put_u32(buf + k, 4), memcpy(buf + k, "21.5", 4), k += 4;
      k += put_u32(buf + k, 2), memcpy(buf + k, "40", 2), k += 2;
    }
    rv_scratch_put(e, buf, k);
    int32_t got = rv_i(e, rv_xadd_batch, 0, (int32_t)k, clock_ms += 1);
    if (got != ROWS) {
      fprintf(stderr, "rv_xadd_batch returned %d\n", (int)got);
      exit(1);
    }
  }
}

int main(int argc, char **argv) {
  int N = argc > 2 ? atoi(argv[2]) : 20000;
  const char *path = argc > 1 ? argv[1] : "build/rivulet.wasm";
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  static uint8_t wasm[1 << 21];
  size_t len = fread(wasm, 1, sizeof wasm, f);
  fclose(f);
  char err[512];
  rv_engine *e = rv_engine_load(wasm, len, 32768, err, sizeof err);
  if (!e || rv_i(e, rv_open, 0) != 0) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  /* warm up: compile the paths once, outside the measured functions */
  bench_resp(e, 0);
  {
    static const char warm[] = "*5\r\n$4\r\nXADD\r\n$4\r\nwarm\r\n$1\r\n*\r\n$1\r\na\r\n$1\r\nb\r\n";
    rv_scratch_put(e, warm, sizeof warm - 1);
    rv_i(e, rv_feed, 0, (int32_t)(sizeof warm - 1), clock_ms);
    while (rv_i(e, rv_read, 0) > 0) {
    }
  }
  double t0 = ms();
  bench_resp(e, N);
  double t1 = ms();
  bench_batch(e, N);
  double t2 = ms();
  static const char xlen[] = "*2\r\n$4\r\nXLEN\r\n$6\r\nsensor\r\n";
  rv_scratch_put(e, xlen, sizeof xlen - 1);
  rv_i(e, rv_feed, 0, (int32_t)(sizeof xlen - 1), clock_ms);
  int32_t rn = rv_i(e, rv_read, 0);
  char want[32];
  int wn = snprintf(want, sizeof want, ":%d\r\n", N);
  if (rn != wn || memcmp(rv_scratch(e), want, (size_t)wn) != 0) {
    fprintf(stderr, "XLEN sensor is not %d after the RESP run\n", N);
    return 1;
  }
  if (rv_engine_failure(e)) {
    fprintf(stderr, "%s\n", rv_engine_failure(e));
    return 1;
  }
  printf("N=%d: RESP XADD %.0f/s, rv_xadd_batch (%d rows) %.0f rows/s; divide callgrind Ir of bench_resp / bench_batch by %d\n", N,
         N / ((t1 - t0) / 1000), ROWS, N / ((t2 - t1) / 1000), N);
  return 0;
}

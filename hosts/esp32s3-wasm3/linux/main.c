/* rivulet-device for Linux: the device host's portable core (components/rivulet_host) serving
 * RESP on TCP, persisting to a directory, with the board's limits made visible — a capped heap
 * (--memory-budget) and the engine on a thread with a fixed, painted stack (INFO reports its high
 * water). Everything here is the POSIX port; the ESP-IDF port is main/app_main.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bsd_server.h"
#include "wasm3.h"
#include "capped_alloc.h"
#include "posix_storage.h"
#include "rv_engine.h"
#include "rv_loop.h"
#include "rv_persist.h"

#define CRON_MS 100
#define STR_(x) #x
#define STR(x) STR_(x)
#define WASM3_VERSION STR(M3_VERSION_MAJOR) "." STR(M3_VERSION_MINOR) "." STR(M3_VERSION_REV)
#define STACK_PAINT 0xA5

static const char usage[] =
    "Usage: rivulet-device [options]\n"
    "  --port <port>            TCP port (default 6379; 0 = any free port, logged)\n"
    "  --bind <ipv4>            address to listen on (default 127.0.0.1)\n"
    "  --dir <path>             data directory for the AOF and snapshots (default ./data)\n"
    "  --appendonly yes|no      log every write to <dir>/appendonly.aof (default yes)\n"
    "  --appendfsync always|everysec|no   (default everysec)\n"
    "  --save \"<secs> <changes> ...\"      snapshot points (default none)\n"
    "  --requirepass <password> password of the default user\n"
    "  --memory-budget <bytes>  cap on all heap memory (wasm3, compiled code, linear memory,\n"
    "                           buffers); writes get OOM replies before it is reached (0 = none)\n"
    "  --maxclients <n>         (default 64)\n"
    "  --stack-size <bytes>     native stack of the engine thread (default 1048576)\n"
    "  --value-stack <bytes>    wasm3 value stack (default 32768)\n"
    "  --wasm <path>            the engine (default: rivulet.wasm next to this binary, or $RIVULET_WASM)\n";

typedef struct opts {
  int port;
  const char *bind, *dir, *appendonly, *appendfsync, *save, *requirepass, *wasm;
  size_t budget, stack_size;
  unsigned value_stack;
  int maxclients;
} opts;

static opts O = {6379, "127.0.0.1", "./data", "yes", "everysec", "", "", NULL, 0, 1 << 20, 32768, 64};
static volatile sig_atomic_t stop_signal;
static int shutdown_requested, shutdown_save = -1;
static uint8_t *stack_lo;
static size_t stack_len;
static double started_mono;

/* ------------------------------------------------------------------ log, clock */

static void log_line(void *ctx, char level, const char *msg) {
  (void)ctx;
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  time_t t = tv.tv_sec;
  localtime_r(&t, &tm);
  char stamp[64];
  strftime(stamp, sizeof stamp, "%d %b %Y %H:%M:%S", &tm);
  fprintf(stdout, "%ld:M %s.%03d %c %s\n", (long)getpid(), stamp, (int)(tv.tv_usec / 1000), level, msg);
  fflush(stdout);
}

static void say(char level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(char level, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  log_line(NULL, level, msg);
}

static double now_ms(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec * 1000 + (double)(ts.tv_nsec / 1000000);
}

static double mono_ms(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

static const rv_clock clock_ = {NULL, now_ms, mono_ms};

/* ------------------------------------------------------------------ host hooks */

static void on_fatal(void *ctx, const char *msg) {
  (void)ctx;
  say('#', "%s", msg);
  exit(1);
}

static void on_requests(void *ctx, int32_t bits) {
  (void)ctx;
  if (bits & RV_HOST_REQUEST_SHUTDOWN) {
    shutdown_requested = 1;
    shutdown_save = bits & RV_HOST_REQUEST_SHUTDOWN_SAVE ? 1 : bits & RV_HOST_REQUEST_SHUTDOWN_NOSAVE ? 0 : -1;
  }
}

static void on_signal(int sig) { stop_signal = sig; }

/* Bytes of the engine thread's stack ever touched (the paint below the deepest frame is intact). */
static size_t stack_high_water(void) {
  size_t i = 0;
  while (i < stack_len && stack_lo[i] == STACK_PAINT) i++;
  return stack_len - i;
}

static void refresh_host_info(rv_engine *e, rv_server *srv, rv_persist *p) {
  static char buf[4096];
  double up = (mono_ms(NULL) - started_mono) / 1000;
  int n = snprintf(buf, sizeof buf,
                   "server\trivulet_host:device-posix\n"
                   "server\tprocess_id:%ld\n"
                   "server\ttcp_port:%d\n"
                   "server\tuptime_in_seconds:%.0f\n"
                   "server\tuptime_in_days:%.0f\n"
                   "server\twasm3_version:" WASM3_VERSION "\n"
                   "memory\tdevice_heap_used:%zu\n"
                   "memory\tdevice_heap_peak:%zu\n"
                   "memory\tdevice_heap_budget:%zu\n"
                   "memory\tdevice_alloc_failures:%zu\n"
                   "memory\tdevice_linear_memory:%u\n"
                   "memory\tdevice_native_stack_peak:%zu\n"
                   "memory\tdevice_native_stack_size:%zu\n"
                   "clients\tmaxclients:%d\n"
                   "stats\ttotal_net_input_bytes:%llu\n"
                   "stats\ttotal_net_output_bytes:%llu\n"
                   "stats\trejected_connections:%llu\n",
                   (long)getpid(), srv ? rv_server_port(srv) : O.port, up, up / 86400, rv_heap_used(), rv_heap_peak(),
                   rv_heap_cap(), rv_heap_failures(), rv_memory_bytes(e), stack_high_water(), stack_len, O.maxclients,
                   srv ? rv_server_net_in(srv) : 0ULL, srv ? rv_server_net_out(srv) : 0ULL, srv ? rv_server_rejected(srv) : 0ULL);
  if (p && n > 0 && (size_t)n < sizeof buf) n += (int)rv_persist_info(p, buf + n, sizeof buf - (size_t)n);
  if (n > RV_SCRATCH_CAP) n = RV_SCRATCH_CAP;
  rv_scratch_put(e, buf, (size_t)n);
  rv_v(e, rv_set_host_info, n);
}

static int config_set(rv_engine *e, const char *name, const char *value) {
  const char *argv[] = {"CONFIG", "SET", name, value};
  uint8_t out[512];
  int n = rv_control_command(e, 4, argv, out, sizeof out - 1, now_ms(NULL));
  if (n < 0 || out[0] == '-') {
    say('#', "CONFIG SET %s %s failed: %.*s", name, value, n > 2 ? n - 2 : 0, (const char *)out);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ the engine thread */

static const uint8_t *wasm_bytes;
static size_t wasm_len;
static int exit_code;

/* How many pages the engine may have: what the budget leaves after everything allocated so far
 * and a reserve for the host's buffers, counting the one growth at start as old + new. */
static int32_t pages_for_budget(rv_engine *e, size_t reserve) {
  size_t used = rv_heap_used();
  if (O.budget <= used + reserve) return 0;
  size_t pages = (O.budget - used - reserve) / 65536;
  size_t cur = rv_memory_bytes(e) / 65536;
  return (int32_t)(pages < cur ? cur : pages);
}

static void *serve(void *arg) {
  (void)arg;
  char err[1024];
  started_mono = mono_ms(NULL);
  rv_engine *e = rv_engine_load(wasm_bytes, wasm_len, O.value_stack, err, sizeof err);
  if (!e) {
    say('#', "%s", err);
    exit_code = 1;
    return NULL;
  }
  if (O.budget) {
    if (rv_engine_compile_all(e, err, sizeof err) != 0) {
      say('#', "%s (the memory budget of %zu bytes is too small for the compiled engine)", err, O.budget);
      exit_code = 1;
      return NULL;
    }
    size_t reserve = 64 * 1024 + (size_t)O.maxclients * 4096;
    int32_t want = pages_for_budget(e, reserve);
    if (want <= 0) {
      say('#', "--memory-budget %zu is too small: the engine alone needs %zu bytes, plus %zu for the host's buffers", O.budget,
          rv_heap_used(), reserve);
      exit_code = 1;
      return NULL;
    }
    rv_heap_set_cap(O.budget);
    int32_t got = rv_i(e, rv_set_page_budget, want);
    say('*', "Memory budget %zu bytes: wasm3 + compiled code %zu bytes, page budget %d (%d KiB of linear memory)", O.budget,
        rv_heap_used() - rv_memory_bytes(e), (int)got, (int)got * 64);
  }
  uint8_t build[RV_SCRATCH_CAP < 256 ? RV_SCRATCH_CAP : 256];
  int32_t bn = rv_i(e, rv_build_info);
  rv_build_info_t bi;
  memcpy(&bi, rv_scratch(e), sizeof bi);
  int hl = bi.hash_len < (int)sizeof build - 1 ? bi.hash_len : (int)sizeof build - 1;
  memcpy(build, rv_scratch(e) + sizeof bi, (size_t)(bn > (int32_t)sizeof bi ? hl : 0));
  build[bn > (int32_t)sizeof bi ? hl : 0] = 0;
  say('*', "rivulet-device starting: pid=%ld, wasm3 " WASM3_VERSION ", engine build %s (snapshot format %d), %zu-bit", (long)getpid(),
      (const char *)build, (int)bi.snapshot_format, sizeof(void *) * 8);

  rv_loop *loop = rv_loop_new(e, &clock_, O.maxclients);
  char portbuf[16];
  snprintf(portbuf, sizeof portbuf, "%d", O.port);
  const char *mirrored[][2] = {{"appendonly", O.appendonly}, {"appendfsync", O.appendfsync}, {"save", O.save},
                               {"dir", O.dir},               {"bind", O.bind},               {"port", portbuf}};
  for (size_t i = 0; i < sizeof mirrored / sizeof mirrored[0]; i++) {
    if (config_set(e, mirrored[i][0], mirrored[i][1]) != 0) {
      exit_code = 1;
      return NULL;
    }
  }
  rv_storage st;
  rv_posix_storage pst;
  if (rv_posix_storage_init(&st, &pst, O.dir, err, sizeof err) != 0) {
    say('#', "%s", err);
    exit_code = 1;
    return NULL;
  }
  char owner[64], tag[24];
  snprintf(owner, sizeof owner, "rivulet-device pid %ld", (long)getpid());
  snprintf(tag, sizeof tag, "%ld", (long)getpid());
  rv_persist_options po = {&st, log_line, NULL, owner, tag, on_fatal, on_requests, NULL, O.budget ? O.budget / 8 : 0};
  say('*', "Data directory: %s", O.dir);
  rv_persist *p = rv_persist_open(loop, &po, err, sizeof err);
  if (!p) {
    say('#', "%s", err);
    exit_code = 1;
    return NULL;
  }
  if (O.requirepass[0] && config_set(e, "requirepass", O.requirepass) != 0) {
    exit_code = 1;
    return NULL;
  }
  rv_i(e, rv_take_requests); /* CONFIG SET at start raised CONFIG_CHANGED: nothing to do */
  rv_server_options so = {O.bind, O.port, O.maxclients, 1 << 20};
  rv_server *srv = rv_server_start(loop, &so, err, sizeof err);
  if (!srv) {
    say('#', "%s", err);
    rv_persist_close(p, 0);
    exit_code = 1;
    return NULL;
  }
  snprintf(portbuf, sizeof portbuf, "%d", rv_server_port(srv));
  config_set(e, "port", portbuf);
  rv_i(e, rv_take_requests);
  say('*', "Listening on %s:%d (TCP)", O.bind, rv_server_port(srv));
  refresh_host_info(e, srv, p);
  say('*', "Ready to accept connections");

  double next_cron = mono_ms(NULL) + CRON_MS, next_info = 0;
  while (!stop_signal && !shutdown_requested) {
    double m = mono_ms(NULL);
    double wait = next_cron - m;
    double dl = rv_loop_next_timeout(loop);
    if (dl >= 0 && dl < wait) wait = dl;
    if (rv_persist_busy(p)) wait = 0;
    if (wait < 0) wait = 0;
    rv_server_turn(srv, (int)(wait + 0.999));
    if (rv_loop_failure(loop)) break;
    m = mono_ms(NULL);
    if (m >= next_cron) {
      next_cron = m + CRON_MS;
      rv_persist_cron(p);
      if (m >= next_info) {
        next_info = m + 1000;
        refresh_host_info(e, srv, p);
      }
    }
    if (rv_loop_failure(loop)) break;
  }
  if (rv_loop_failure(loop)) {
    say('#', "The engine failed: %s. Exiting; the AOF holds every acknowledged write.", rv_loop_failure(loop));
    rv_persist_close(p, 0);
    exit_code = 1;
    return NULL;
  }
  say('#', stop_signal ? "Received a signal, scheduling shutdown..." : "User requested shutdown...");
  rv_loop_settle(loop);
  if (rv_persist_close(p, shutdown_save) != 0 && shutdown_save == 1) say('#', "Error trying to save the DB, exiting anyway.");
  rv_server_stop(srv, 1000);
  say('*', "Native stack high water: %zu of %zu bytes; heap peak %zu bytes", stack_high_water(), stack_len, rv_heap_peak());
  say('*', "Rivulet is now ready to exit, bye bye...");
  return NULL;
}

/* ------------------------------------------------------------------ main */

static const char *next_arg(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) {
    fprintf(stderr, "rivulet-device: %s needs a value\n%s", argv[*i], usage);
    exit(2);
  }
  return argv[++*i];
}

static size_t parse_size(const char *flag, const char *v) {
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (errno || end == v || *end) {
    fprintf(stderr, "rivulet-device: %s expects a number of bytes, got '%s'\n", flag, v);
    exit(2);
  }
  return (size_t)n;
}

static void parse_args(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage, stdout);
      exit(0);
    } else if (!strcmp(a, "--port")) {
      O.port = (int)parse_size(a, next_arg(argc, argv, &i));
      if (O.port > 65535) {
        fprintf(stderr, "rivulet-device: --port must be 0..65535\n");
        exit(2);
      }
    } else if (!strcmp(a, "--bind")) O.bind = next_arg(argc, argv, &i);
    else if (!strcmp(a, "--dir")) O.dir = next_arg(argc, argv, &i);
    else if (!strcmp(a, "--appendonly")) O.appendonly = next_arg(argc, argv, &i);
    else if (!strcmp(a, "--appendfsync")) O.appendfsync = next_arg(argc, argv, &i);
    else if (!strcmp(a, "--save")) O.save = next_arg(argc, argv, &i);
    else if (!strcmp(a, "--requirepass")) O.requirepass = next_arg(argc, argv, &i);
    else if (!strcmp(a, "--memory-budget")) O.budget = parse_size(a, next_arg(argc, argv, &i));
    else if (!strcmp(a, "--maxclients")) O.maxclients = (int)parse_size(a, next_arg(argc, argv, &i));
    else if (!strcmp(a, "--stack-size")) O.stack_size = parse_size(a, next_arg(argc, argv, &i));
    else if (!strcmp(a, "--value-stack")) O.value_stack = (unsigned)parse_size(a, next_arg(argc, argv, &i));
    else if (!strcmp(a, "--wasm")) O.wasm = next_arg(argc, argv, &i);
    else {
      fprintf(stderr, "rivulet-device: unknown option '%s'\n%s", a, usage);
      exit(2);
    }
  }
  if (strcmp(O.appendfsync, "always") && strcmp(O.appendfsync, "everysec") && strcmp(O.appendfsync, "no")) {
    fprintf(stderr, "rivulet-device: --appendfsync must be always, everysec or no\n");
    exit(2);
  }
  if (O.maxclients < 1 || O.maxclients > 1000) {
    fprintf(stderr, "rivulet-device: --maxclients must be 1..1000 (select() limits)\n");
    exit(2);
  }
  if (O.stack_size < 65536) O.stack_size = 65536;
}

/* The .wasm, mapped read-only (on a board it stays in flash: not part of the heap budget). */
static int map_wasm(const char *argv0) {
  static char path[PATH_MAX];
  const char *p = O.wasm ? O.wasm : getenv("RIVULET_WASM");
  if (!p) {
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    if (n <= 0) {
      snprintf(path, sizeof path, "%s", argv0);
      n = (ssize_t)strlen(path);
    }
    path[n] = 0;
    char *slash = strrchr(path, '/');
    snprintf(slash ? slash + 1 : path, sizeof path - (size_t)(slash ? slash + 1 - path : 0), "rivulet.wasm");
    p = path;
  }
  int fd = open(p, O_RDONLY);
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb) != 0) {
    fprintf(stderr, "rivulet-device: cannot open the engine %s: %s (build it with npm run build:device)\n", p, strerror(errno));
    return -1;
  }
  void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (m == MAP_FAILED) return -1;
  wasm_bytes = (const uint8_t *)m;
  wasm_len = (size_t)sb.st_size;
  return 0;
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  if (map_wasm(argv[0]) != 0) return 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  /* the engine runs on a thread with a fixed stack, painted so its high water can be read */
  stack_len = O.stack_size;
  stack_lo = (uint8_t *)mmap(NULL, stack_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack_lo == MAP_FAILED) return 1;
  memset(stack_lo, STACK_PAINT, stack_len);
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstack(&at, stack_lo, stack_len);
  pthread_t t;
  if (pthread_create(&t, &at, serve, NULL) != 0) {
    fprintf(stderr, "rivulet-device: cannot start the engine thread\n");
    return 1;
  }
  pthread_join(t, NULL);
  return exit_code;
}

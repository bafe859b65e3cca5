/* The one host loop, in C: it mirrors bindings/loop.ts (docs/HOSTS.md) in its deferred mode. The
 * port feeds input as it arrives and calls rv_loop_settle once per turn of its event loop, which
 *
 *   1. collects connections the engine reports ready (woken blocked readers, CLIENT KILL/UNBLOCK,
 *      timeouts); a woken one gets an empty feed so commands it pipelined while parked run;
 *   2. hands every effect to the durability (the AOF) and commits it (fsync per policy);
 *   3. passes host requests (SAVE, BGSAVE, BGREWRITEAOF, SHUTDOWN, CONFIG changes) on;
 *   4. delivers each touched connection's output to its sink until the sink says stop, then acts
 *      on CLOSE.
 *
 * So no reply leaves before the write it acknowledges is as durable as the policy says, and one
 * fsync covers every client of the turn. rv_loop_next_timeout tells the port how long it may sleep
 * (the earliest BLOCK deadline); rv_loop_timers runs rv_tick when it is due. */
#ifndef RV_LOOP_H
#define RV_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "rv_clock.h"
#include "rv_engine.h"

/* Where a connection's output goes (a socket, a serial line). */
typedef struct rv_sink {
  /* Output bytes in order (valid only during the call: copy them). Return 0 to stop: the rest
   * stays in the engine until rv_loop_resume. */
  int (*write)(void *ctx, const uint8_t *bytes, size_t n);
  /* The engine closed the connection (QUIT, protocol error, CLIENT KILL) after its last output. */
  void (*closed)(void *ctx);
} rv_sink;

/* What a persisting host plugs in (rv_persist implements it). */
typedef struct rv_durability {
  void *ctx;
  void (*effects)(void *ctx, const uint8_t *chunk, size_t n);
  /* Makes the effects handed over so far durable per the fsync policy (replies wait for it). */
  void (*commit)(void *ctx);
  /* rv_take_requests bits; SAVE returns once the snapshot is on disk. */
  void (*requests)(void *ctx, int32_t bits);
} rv_durability;

typedef struct rv_loop rv_loop;

/* Bytes per rv_feed: the engine runs every complete command of a piece at once. */
#define RV_LOOP_FEED_PIECE 1024

rv_loop *rv_loop_new(rv_engine *e, const rv_clock *clock, int max_conns);
void rv_loop_free(rv_loop *l);
rv_engine *rv_loop_engine(rv_loop *l);
double rv_loop_now(rv_loop *l);
double rv_loop_mono(rv_loop *l);

/* Effects are turned on in the engine and flow to `d` from now on (NULL: off). */
void rv_loop_set_durability(rv_loop *l, const rv_durability *d);

/* Opens an engine connection delivering to `sink`; its id, or -1 (table full, engine failed). */
int rv_loop_open(rv_loop *l, const rv_sink *sink, void *ctx);
/* The host closed it (socket gone): the engine forgets it. */
void rv_loop_close(rv_loop *l, int id);
/* Input bytes, fed in pieces; output waits for the next settle. */
void rv_loop_feed(rv_loop *l, int id, const uint8_t *bytes, size_t n);
/* A sink that said stop can take output again. */
void rv_loop_resume(rv_loop *l, int id);
int rv_loop_stalled(const rv_loop *l, int id);
int rv_loop_blocked(const rv_loop *l, int id);
/* Marks a connection as having output to deliver (after the host ran an export for it). */
void rv_loop_touch(rv_loop *l, int id);

/* One settle pass (call once per event-loop turn, after feeding). */
void rv_loop_settle(rv_loop *l);
/* Runs rv_tick when the earliest deadline is due (then settles). */
void rv_loop_timers(rv_loop *l);
/* Milliseconds until the earliest BLOCK deadline (-1: none). */
double rv_loop_next_timeout(rv_loop *l);

/* NULL while healthy; why the engine failed otherwise (the host stops). */
const char *rv_loop_failure(const rv_loop *l);

#endif

/* The clock interface: the engine never reads a clock; the host passes time on every call. */
#ifndef RV_CLOCK_H
#define RV_CLOCK_H

typedef struct rv_clock {
  void *ctx;
  /* Milliseconds since the Unix epoch, an integer in a double (stream IDs, BLOCK deadlines). On a
   * board: SNTP-synchronised wall time. */
  double (*now_ms)(void *ctx);
  /* Milliseconds from any fixed point, never going back (fsync intervals, cron). */
  double (*mono_ms)(void *ctx);
} rv_clock;

#endif

/* The engine: rivulet.wasm loaded and linked with wasm3, its exports called through the generated
 * ABI table (rivulet_abi.h). Portable C99; the only import linked is env.abort.
 *
 *   rv_engine *e = rv_engine_load(wasm, len, 16 * 1024, err, sizeof err);
 *   int32_t st = rv_i(e, rv_feed, conn, n, now);      // an i32 export
 *   double d = rv_f(e, rv_next_deadline);             // an f64 export
 *   rv_v(e, rv_close, conn);                          // a void export
 *
 * Arguments follow the wasm signature: i32 as int32_t, f64 as double (write 0.0, not 0). After any
 * failed call (an abort, a trap, wasm3 out of memory) the engine is poisoned: every later call
 * returns 0 and rv_engine_failure() says why; the host stops (and a device re-creates the engine
 * from its files). The scratch address may move on any call that grows memory: take it again
 * after every call (rv_scratch). */
#ifndef RV_ENGINE_H
#define RV_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "rivulet_abi.h"

typedef struct rv_engine rv_engine;

/* One id per export of the ABI table, in its order. */
enum rv_export_id {
#define RV_EXPORT_ID(name, sig) RV_EXPORT_##name,
  RV_ABI_EXPORTS(RV_EXPORT_ID)
#undef RV_EXPORT_ID
  RV_EXPORT_COUNT_
};

/* Loads, links and starts the module. `wasm` must stay valid (it can be in flash) while the engine
 * lives. `value_stack` is wasm3's value stack in bytes (16 KiB is ample). NULL on failure, with
 * the reason in err. */
rv_engine *rv_engine_load(const uint8_t *wasm, size_t wasm_len, uint32_t value_stack, char *err, size_t errlen);
void rv_engine_free(rv_engine *e);

/* Compiles every function now (wasm3 compiles lazily by default): afterwards no call allocates
 * compiled code, so a fixed memory budget cannot run out in the middle of a command. */
int rv_engine_compile_all(rv_engine *e, char *err, size_t errlen);

/* NULL while healthy; the reason once a call failed. */
const char *rv_engine_failure(const rv_engine *e);

/* The scratch region (RV_SCRATCH_CAP bytes); valid until the next engine call. */
uint8_t *rv_scratch(rv_engine *e);
/* Bytes of linear memory now. */
uint32_t rv_memory_bytes(rv_engine *e);

/* Calls export `id` with the arguments its signature names; the result goes to *ret (an int32_t
 * or a double per the signature; NULL for none). 0 = ok, -1 = failed (the engine is poisoned). */
int rv_call(rv_engine *e, enum rv_export_id id, void *ret, ...);

int32_t rv_call_i(rv_engine *e, enum rv_export_id id, ...);
double rv_call_f(rv_engine *e, enum rv_export_id id, ...);

#define rv_i(e, name, ...) rv_call_i((e), RV_EXPORT_##name, ##__VA_ARGS__)
#define rv_f(e, name, ...) rv_call_f((e), RV_EXPORT_##name, ##__VA_ARGS__)
#define rv_v(e, name, ...) ((void)rv_call((e), RV_EXPORT_##name, NULL, ##__VA_ARGS__))

/* Copies `n` bytes into scratch (n ≤ RV_SCRATCH_CAP). */
void rv_scratch_put(rv_engine *e, const void *bytes, size_t n);

#endif

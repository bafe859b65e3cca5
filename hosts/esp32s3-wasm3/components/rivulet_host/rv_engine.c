/* rivulet.wasm under wasm3: parse in place, load, link env.abort, run the start function, find
 * every export of the ABI table and check its signature against the table's. */
#include "rv_engine.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "wasm3.h"

struct rv_engine {
  IM3Environment env;
  IM3Runtime rt;
  IM3Module mod;
  IM3Function fn[RV_EXPORT_COUNT_];
  int32_t scratch_off;
  char failure[320];
  int failed;
};

static const struct {
  const char *name;
  const char *sig;
} exports_table[RV_EXPORT_COUNT_] = {
#define RV_EXPORT_ROW(name, sig) {#name, sig},
    RV_ABI_EXPORTS(RV_EXPORT_ROW)
#undef RV_EXPORT_ROW
};

/* The signature of a wasm3 function in wasm3's own notation ("i(iiF)"). */
static void signature_of(IM3Function f, char *out, size_t cap) {
  static const char code[] = {'v', 'i', 'I', 'f', 'F'};
  size_t k = 0;
  uint32_t nr = m3_GetRetCount(f), na = m3_GetArgCount(f);
  if (nr == 0) out[k++] = 'v';
  for (uint32_t i = 0; i < nr && k + 4 < cap; i++) {
    M3ValueType t = m3_GetRetType(f, i);
    out[k++] = t <= c_m3Type_f64 ? code[t] : '?';
  }
  out[k++] = '(';
  for (uint32_t i = 0; i < na && k + 3 < cap; i++) {
    M3ValueType t = m3_GetArgType(f, i);
    out[k++] = t <= c_m3Type_f64 ? code[t] : '?';
  }
  out[k++] = ')';
  out[k] = 0;
}

/* AssemblyScript's abort(msg, file, line, col): strings are UTF-16 with their byte length at -4.
 * Only an engine bug reaches it; the reason is kept for the failure message. */
static m3ApiRawFunction(env_abort) {
  m3ApiGetArg(int32_t, msg);
  m3ApiGetArg(int32_t, file);
  m3ApiGetArg(int32_t, line);
  m3ApiGetArg(int32_t, col);
  rv_engine *e = (rv_engine *)m3_GetUserData(runtime);
  uint32_t size = m3_GetMemorySize(runtime);
  char text[2][96];
  int32_t at[2] = {msg, file};
  for (int s = 0; s < 2; s++) {
    size_t k = 0;
    int32_t p = at[s];
    if (p >= 4 && (uint32_t)p <= size) {
      uint32_t len = 0;
      memcpy(&len, (uint8_t *)_mem + p - 4, 4);
      for (uint32_t i = 0; i + 1 < len && (uint32_t)p + i + 1 < size && k + 1 < sizeof text[s]; i += 2) {
        uint16_t u = (uint16_t)(((uint8_t *)_mem)[p + i] | ((uint8_t *)_mem)[p + i + 1] << 8);
        text[s][k++] = u < 0x80 ? (char)u : '?';
      }
    }
    text[s][k] = 0;
  }
  snprintf(e->failure, sizeof e->failure, "engine abort: %s (%s:%d:%d)", text[0], text[1], (int)line, (int)col);
  m3ApiTrap(m3Err_trapAbort);
}

static void set_err(char *err, size_t errlen, const char *what, const char *why) {
  if (err && errlen) snprintf(err, errlen, "%s: %s", what, why);
}

rv_engine *rv_engine_load(const uint8_t *wasm, size_t wasm_len, uint32_t value_stack, char *err, size_t errlen) {
  rv_engine *e = (rv_engine *)calloc(1, sizeof *e);
  if (!e) {
    set_err(err, errlen, "rivulet", "out of memory");
    return NULL;
  }
  M3Result r;
  e->env = m3_NewEnvironment();
  if (!e->env) {
    set_err(err, errlen, "wasm3", "out of memory creating the environment");
    goto fail;
  }
  e->rt = m3_NewRuntime(e->env, value_stack, e);
  if (!e->rt) {
    set_err(err, errlen, "wasm3", "out of memory creating the runtime");
    goto fail;
  }
  r = m3_ParseModule(e->env, &e->mod, wasm, (uint32_t)wasm_len);
  if (r) {
    set_err(err, errlen, "parsing rivulet.wasm", r);
    goto fail;
  }
  r = m3_LoadModule(e->rt, e->mod);
  if (r) {
    m3_FreeModule(e->mod);
    set_err(err, errlen, "loading rivulet.wasm", r);
    goto fail;
  }
  r = m3_LinkRawFunction(e->mod, "env", "abort", "v(iiii)", env_abort);
  if (r && r != m3Err_functionLookupFailed) {
    set_err(err, errlen, "linking env.abort", r);
    goto fail;
  }
  r = m3_RunStart(e->mod);
  if (r) {
    set_err(err, errlen, "the module's start function", e->failure[0] ? e->failure : r);
    goto fail;
  }
  for (int i = 0; i < RV_EXPORT_COUNT_; i++) {
    r = m3_FindFunction(&e->fn[i], e->rt, exports_table[i].name);
    if (r) {
      char why[160];
      snprintf(why, sizeof why, "%s (the module and rivulet_abi.h come from different builds?)", r);
      set_err(err, errlen, exports_table[i].name, why);
      goto fail;
    }
    char sig[32];
    signature_of(e->fn[i], sig, sizeof sig);
    if (strcmp(sig, exports_table[i].sig) != 0) {
      char why[160];
      snprintf(why, sizeof why, "signature %s, the ABI table says %s", sig, exports_table[i].sig);
      set_err(err, errlen, exports_table[i].name, why);
      goto fail;
    }
  }
  if (rv_call(e, RV_EXPORT_rv_scratch_ptr, &e->scratch_off) != 0) {
    set_err(err, errlen, "rv_scratch_ptr", e->failure);
    goto fail;
  }
  return e;
fail:
  rv_engine_free(e);
  return NULL;
}

int rv_engine_compile_all(rv_engine *e, char *err, size_t errlen) {
  M3Result r = m3_CompileModule(e->mod);
  if (r) {
    set_err(err, errlen, "compiling rivulet.wasm", r);
    return -1;
  }
  return 0;
}

void rv_engine_free(rv_engine *e) {
  if (!e) return;
  if (e->rt) m3_FreeRuntime(e->rt);
  if (e->env) m3_FreeEnvironment(e->env);
  free(e);
}

const char *rv_engine_failure(const rv_engine *e) { return e->failed ? e->failure : NULL; }

uint8_t *rv_scratch(rv_engine *e) {
  uint32_t size = 0;
  uint8_t *base = m3_GetMemory(e->rt, &size, 0);
  return base + e->scratch_off;
}

uint32_t rv_memory_bytes(rv_engine *e) {
  uint32_t size = 0;
  m3_GetMemory(e->rt, &size, 0);
  return size;
}

void rv_scratch_put(rv_engine *e, const void *bytes, size_t n) {
  if (n > RV_SCRATCH_CAP) n = RV_SCRATCH_CAP;
  if (n) memcpy(rv_scratch(e), bytes, n);
}

static int call_va(rv_engine *e, enum rv_export_id id, void *ret, va_list ap) {
  if (e->failed) return -1;
  IM3Function f = e->fn[id];
  M3Result r = m3_CallVL(f, ap);
  if (!r && ret && m3_GetRetCount(f) > 0) r = m3_GetResultsV(f, ret);
  if (r) {
    if (!e->failure[0] || r != m3Err_trapAbort) {
      M3ErrorInfo info;
      m3_GetErrorInfo(e->rt, &info);
      snprintf(e->failure, sizeof e->failure, "%s in %s%s%s", r, exports_table[id].name, info.message ? ": " : "", info.message ? info.message : "");
    }
    e->failed = 1;
    return -1;
  }
  return 0;
}

int rv_call(rv_engine *e, enum rv_export_id id, void *ret, ...) {
  va_list ap;
  va_start(ap, ret);
  int r = call_va(e, id, ret, ap);
  va_end(ap);
  return r;
}

int32_t rv_call_i(rv_engine *e, enum rv_export_id id, ...) {
  int32_t v = 0;
  va_list ap;
  va_start(ap, id);
  if (call_va(e, id, &v, ap) != 0) v = 0;
  va_end(ap);
  return v;
}

double rv_call_f(rv_engine *e, enum rv_export_id id, ...) {
  double v = 0;
  va_list ap;
  va_start(ap, id);
  if (call_va(e, id, &v, ap) != 0) v = 0;
  va_end(ap);
  return v;
}

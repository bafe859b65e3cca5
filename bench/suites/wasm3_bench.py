"""§8 the same rivulet.wasm under wasm3 (pywasm3): instantiate time, XADD rate (RESP, and the typed
rv_xadd_batch fast path when the build exports it), and how many sensor entries fit in a page budget.

    python3 bench/suites/wasm3_bench.py WASM RUNS N_SINGLE N_BATCH      -> prints @@RESULT {json}
    python3 bench/suites/wasm3_bench.py WASM --xadd-only N              (for callgrind: N batched XADDs)

One command per rv_feed includes the Python binding's per-call cost (measured separately as
`py_call_ns`); a C host on a microcontroller pays far less per crossing, so the batched figure
(800 XADDs per rv_feed) is the engine's own speed under the interpreter.
"""
import json
import statistics
import sys
import time

import wasm3

SENSOR = b"*7\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$11\r\ntemperature\r\n$4\r\n23.5\r\n$8\r\nhumidity\r\n$2\r\n65\r\n"
PAGE = 65536


class Eng:
    def __init__(self, wasm):
        self.wasm = wasm
        self.env = wasm3.Environment()
        self.rt = self.env.new_runtime(256 * 1024)
        self.mod = self.env.parse_module(wasm)
        self.rt.load(self.mod)
        self.mod.link_function("env", "abort", "v(iiii)", self._abort)
        f = self.rt.find_function
        self.feed_fn, self.read_fn, self.open_fn = f("rv_feed"), f("rv_read"), f("rv_open")
        self.budget_fn, self.used_fn, self.cap_fn = f("rv_set_page_budget"), f("rv_used_memory"), f("rv_scratch_cap")
        self.scratch = f("rv_scratch_ptr")()
        self.cap = self.cap_fn()

    def _abort(self, *a):
        raise RuntimeError("engine abort %r" % (a,))

    def pages(self):
        return len(self.rt.get_memory(0)) // PAGE

    def feed(self, conn, data, now):
        mem = self.rt.get_memory(0)
        mem[self.scratch:self.scratch + len(data)] = data
        del mem
        return self.feed_fn(conn, len(data), now)

    def read(self, conn):
        out = []
        while True:
            n = self.read_fn(conn)
            if n <= 0:
                break
            mem = self.rt.get_memory(0)
            out.append(bytes(mem[self.scratch:self.scratch + n]))
            del mem
        return b"".join(out)


def now_ms():
    return float(int(time.time() * 1000))


def instantiate_ms(wasm):
    t = time.perf_counter()
    e = Eng(wasm)
    e.open_fn(1)  # first call: runs the start function (AS static init), compiles lazily
    return (time.perf_counter() - t) * 1e3, e


def xadd_single(wasm, n):
    e = Eng(wasm)
    e.open_fn(1)
    for _ in range(2000):
        e.feed(1, SENSOR, now_ms())
        e.read(1)
    t = time.perf_counter()
    for _ in range(n):
        e.feed(1, SENSOR, now_ms())
        e.read(1)
    return n / (time.perf_counter() - t)


def xadd_batch(wasm, n, per=800):
    e = Eng(wasm)
    e.open_fn(1)
    chunk = SENSOR * per
    e.feed(1, chunk, now_ms())
    e.read(1)
    done = 0
    t = time.perf_counter()
    while done < n:
        e.feed(1, chunk, now_ms())
        out = e.read(1)
        done += per
    dt = time.perf_counter() - t
    assert out.count(b"$") >= per, out[:200]
    return done / dt


def batch_frame(rows):
    """rv_xadd_batch frame (docs/ABI.md): key, field names, `rows` sensor rows."""
    import struct
    out = [struct.pack("<I", 1), b"s", struct.pack("<I", 2)]
    for f in (b"temperature", b"humidity"):
        out += [struct.pack("<I", len(f)), f]
    out.append(struct.pack("<I", rows))
    row = struct.pack("<I", 4) + b"23.5" + struct.pack("<I", 2) + b"65"
    out.append(row * rows)
    return b"".join(out)


def xadd_fastpath(wasm, n, per):
    """The typed fast path (rv_xadd_batch, no RESP), `per` rows per crossing; None if not exported."""
    e = Eng(wasm)
    try:
        fn = e.rt.find_function("rv_xadd_batch")
    except RuntimeError:
        return None
    e.open_fn(1)
    frame = batch_frame(per)
    done = 0
    t = time.perf_counter()
    while done < n:
        mem = e.rt.get_memory(0)
        mem[e.scratch:e.scratch + len(frame)] = frame
        del mem
        got = fn(1, len(frame), now_ms())
        if got != per:
            raise RuntimeError("rv_xadd_batch returned %r" % got)
        done += per
    return done / (time.perf_counter() - t)


def py_call_ns(wasm, n=200000):
    e = Eng(wasm)
    f = e.cap_fn
    t = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t) / n * 1e9


def capacity(wasm, extra_pages=None, budget=None):
    """Sensor entries accepted under a page budget: until the first OOM reply, and how many had been
    accepted while linear memory still fitted in the budget (the engine may grow past it)."""
    e = Eng(wasm)
    e.open_fn(1)
    start_pages = e.pages()
    b = budget if budget is not None else start_pages + extra_pages
    e.budget_fn(b)
    ok = 0
    within = 0
    max_pages = e.pages()
    per = 10
    chunk = SENSOR * per
    while True:
        e.feed(1, chunk, now_ms())
        out = e.read(1)
        good = out.count(b"$15\r\n") + out.count(b"$16\r\n") + out.count(b"$17\r\n")  # IDs like 1795319401686-123
        ok += good
        max_pages = max(max_pages, e.pages())
        if max_pages <= b:
            within = ok
        if b"-OOM" in out or good < per or ok > 10_000_000:
            break
    return {"budget_pages": b, "start_pages": start_pages, "entries": ok, "entries_within_budget": within,
            "max_pages": max_pages, "used_memory": e.used_fn()}


def main():
    wasm = open(sys.argv[1], "rb").read()
    if sys.argv[2] == "--xadd-only":
        n = int(sys.argv[3])
        e = Eng(wasm)
        e.open_fn(1)
        chunk = SENSOR * 500
        for _ in range(n // 500):
            e.feed(1, chunk, 1.7e12)
            e.read(1)
        return
    runs, n_single, n_batch = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    res = {"instantiate_ms": [], "xadd_single": [], "xadd_batch": [], "py_call_ns": [], "xadd_fast1": [], "xadd_fast": []}
    for _ in range(runs):
        ms, _e = instantiate_ms(wasm)
        res["instantiate_ms"].append(ms)
        res["xadd_single"].append(xadd_single(wasm, n_single))
        res["xadd_batch"].append(xadd_batch(wasm, n_batch))
        res["py_call_ns"].append(py_call_ns(wasm))
        f1 = xadd_fastpath(wasm, n_single, 1)
        if f1 is not None:
            res["xadd_fast1"].append(f1)
            res["xadd_fast"].append(xadd_fastpath(wasm, n_batch, 2000))
        print("  wasm3 round: single %.0f/s batch %.0f/s fast path %s" % (res["xadd_single"][-1], res["xadd_batch"][-1],
              "%.0f/s (1 row) %.0f/s (2000 rows)" % (res["xadd_fast1"][-1], res["xadd_fast"][-1]) if res["xadd_fast"] else "n/a"), file=sys.stderr)
    out = {k: {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v), "samples": v} for k, v in res.items() if v}
    out["cap_budget4"] = capacity(wasm, budget=4)
    out["cap_start_plus4"] = capacity(wasm, extra_pages=4)
    print("@@RESULT " + json.dumps({"suite": "wasm3", "params": {"n_single": n_single, "n_batch": n_batch, "wasm3": getattr(wasm3, "__version__", "?")}, "res": out}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Run the conformance corpus (test/conformance/expected.json) against build/rivulet.wasm under
pywasm3 (wasm3 v0.5.0), plus wasm3-only checks: OOM under a fixed page budget, the page budget as a
hard cap through snapshots, batches and wake-ups (check_budget), protocol errors, the facts the engine
reports to hosts (rv_load_status, rv_build_info, rv_auth_required, rv_dataset_stats, rv_config_get),
and the persistence-job host loop (SAVE / BGSAVE / BGREWRITEAOF with rv_job_start / rv_job_done).

    python3 test/wasm3/run_corpus.py [--wasm PATH] [--corpus PATH] [--only SUBSTR] [--max-fail N]
                                     [--skip-corpus] [--skip-newer] [--skip-oom] [--skip-budget]
                                     [--skip-protocol] [--skip-facts] [--skip-jobs] [-v]

Also runs test/conformance/cases-newer/*.txt (hand-written expectations for newer-Redis behaviour).

Each corpus case runs on a fresh wasm3 runtime (parse + load + link is well under a millisecond,
so there is no reason to share state between cases), with fresh connections. Replies are compared
byte for byte for every step with compare=true. Exit 0 when everything matches, 1 on any mismatch
(each one printed with the case, the step, the command as a redis-cli line, expected and got).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from typing import Any, Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BLOCKED, CLOSE, Engine, EngineAbort, encode, split_replies, to_redis_cli  # noqa: E402
from abi_constants import SNAPSHOT_FORMAT, FeedStatus, JobKind, JobStart, JobStatus  # noqa: E402

ROOT = harness.ROOT
DEFAULT_CORPUS = os.path.join(ROOT, "test", "conformance", "expected.json")

OOM_REPLY = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"


def show(b: Optional[bytes], limit: int = 600) -> str:
    if b is None:
        return "<no reply>"
    s = repr(b)[2:-1]
    return s if len(s) <= limit else s[:limit] + "...(%d bytes)" % len(b)


def diff_at(a: bytes, b: bytes) -> str:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return "first difference at byte %d (expected %s | got %s)" % (
        i, show(a[max(0, i - 20):i + 40], 200), show(b[max(0, i - 20):i + 40], 200))


# ----------------------------------------------------------------------------- corpus


def _bytes_of(v: Any, encoding: str) -> bytes:
    """A reply or argument from the corpus JSON as bytes."""
    if isinstance(v, bytes):
        return v
    if isinstance(v, dict):  # {"base64": ...} / {"hex": ...} escape hatches for binary data
        if "base64" in v:
            import base64
            return base64.b64decode(v["base64"])
        if "hex" in v:
            return bytes.fromhex(v["hex"])
        if "latin1" in v:
            return v["latin1"].encode("latin-1")
        if "utf8" in v:
            return v["utf8"].encode("utf-8")
    if isinstance(v, list):  # a reply given as several chunks
        return b"".join(_bytes_of(x, encoding) for x in v)
    if isinstance(v, (int, float)):
        return str(v).encode()
    return str(v).encode(encoding)


def load_corpus(path: str) -> Dict[str, Any]:
    with open(path, "rb") as f:
        data = json.load(f)
    if isinstance(data, list):
        data = {"cases": data}
    return data


class CaseResult:
    def __init__(self, name: str):
        self.name = name
        self.failures: List[str] = []
        self.compared = 0


def run_case(wasm: bytes, case: Dict[str, Any], encoding: str, verbose: bool) -> CaseResult:
    name = case.get("name") or case.get("id") or "?"
    res = CaseResult(name)
    t0 = case.get("now")
    eng = Engine(wasm, clock=harness.Clock(fixed=t0) if t0 is not None else None)
    conns: Dict[Any, harness.Conn] = {}

    def conn(key: Any) -> harness.Conn:
        if key not in conns:
            conns[key] = eng.connect()
        return conns[key]

    steps = case.get("steps") or []
    for i, step in enumerate(steps):
        key = step.get("conn", 0)
        mode = step.get("mode", "sync")
        raw_args = step.get("args") or []
        args = [_bytes_of(a, encoding) for a in raw_args]
        raw_bytes = step.get("raw")  # optional: bytes sent as they are (protocol cases)
        want = step.get("expect")
        compare = step.get("compare", True) and want is not None
        c = conn(key)
        label = "step %d conn %s %s: %s" % (i, key, mode, to_redis_cli(args) if args else show(_bytes_of(raw_bytes, encoding) if raw_bytes is not None else b""))
        got: Optional[bytes] = None
        try:
            if mode == "nowait":
                if raw_bytes is not None:
                    c.send(_bytes_of(raw_bytes, encoding))
                else:
                    c.send(encode(args))
                continue
            if mode == "await":
                # claim the oldest unclaimed reply of this connection (of an earlier nowait step);
                # firing deadlines, if any, until it arrives
                if args or raw_bytes is not None:
                    c.send(_bytes_of(raw_bytes, encoding) if raw_bytes is not None else encode(args))
                got = c.wait_reply()
            else:  # sync
                c.send(_bytes_of(raw_bytes, encoding) if raw_bytes is not None else encode(args))
                got = c.wait_reply()
        except EngineAbort as e:
            res.failures.append("%s\n      ENGINE ABORT: %s" % (label, e))
            break
        except Exception as e:  # a trap or a harness error: report, stop the case
            res.failures.append("%s\n      EXCEPTION: %s: %s" % (label, type(e).__name__, e))
            break
        if compare:
            res.compared += 1
            want_b = _bytes_of(want, encoding)
            if step.get("mask") == "time":
                got, want_b = mask_times(got), mask_times(want_b)
            if got != want_b:
                msg = "%s\n      expected: %s\n      got:      %s" % (label, show(want_b), show(got))
                if got is not None:
                    msg += "\n      " + diff_at(want_b, got)
                res.failures.append(msg)
        elif verbose:
            print("    %s -> %s" % (label, show(got, 120)))
    return res


def run_corpus(wasm: bytes, path: str, only: Optional[str], max_fail: int, verbose: bool,
               title: str = "corpus", cases: Optional[List[Dict[str, Any]]] = None) -> bool:
    if cases is None:
        if not os.path.exists(path):
            print("%s: %s not found" % (title, path))
            return False
        cases = load_corpus(path).get("cases") or []
    # args and expect are byte strings: one char = one byte (test/conformance/corpus.ts)
    encoding = "latin-1"
    if only:
        cases = [c for c in cases if only in str(c.get("name", ""))]
    t = time.perf_counter()
    failed: List[CaseResult] = []
    compared = 0
    for case in cases:
        r = run_case(wasm, case, encoding, verbose)
        compared += r.compared
        if r.failures:
            failed.append(r)
    dt = time.perf_counter() - t
    shown = 0
    for r in failed:
        if shown >= max_fail:
            break
        shown += 1
        print("FAIL %s" % r.name)
        for f in r.failures[:5]:
            print("    " + f)
        if len(r.failures) > 5:
            print("    ... %d more mismatches in this case" % (len(r.failures) - 5))
    if len(failed) > shown:
        print("... %d more failing cases not shown (--max-fail)" % (len(failed) - shown))
    print("%s: %d cases, %d replies compared, %d cases failed, %.2f s under wasm3 (%.1f ms/case)"
          % (title, len(cases), compared, len(failed), dt, 1000 * dt / max(1, len(cases))))
    if len(cases) == 0 and not only:
        print("%s: no cases in %s" % (title, path))
        return False
    return not failed


# ----------------------------------------------------------------------------- cases-newer/*.txt

NEWER_DIR = os.path.join(ROOT, "test", "conformance", "cases-newer")
_ESC = {"n": 10, "r": 13, "t": 9, "b": 8, "a": 7}
_HEX = "0123456789abcdefABCDEF"


def split_args(line: str) -> List[bytes]:
    """redis-cli (sdssplitargs) quoting: "..." with \\n \\r \\t \\b \\a \\xHH escapes, '...' with \\' only."""
    out: List[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            return out
        cur = bytearray()
        quote = line[i] if line[i] in "\"'" else None
        if quote is None:
            while i < n and not line[i].isspace():
                cur += line[i].encode("utf-8")
                i += 1
        else:
            i += 1
            while True:
                if i >= n:
                    raise ValueError("unbalanced quotes: " + line)
                ch = line[i]
                if quote == '"' and ch == "\\" and i + 3 < n and line[i + 1] == "x" and line[i + 2] in _HEX and line[i + 3] in _HEX:
                    cur.append(int(line[i + 2:i + 4], 16))
                    i += 4
                elif quote == '"' and ch == "\\" and i + 1 < n:
                    e = line[i + 1]
                    cur += bytes([_ESC[e]]) if e in _ESC else e.encode("utf-8")
                    i += 2
                elif quote == "'" and ch == "\\" and i + 1 < n and line[i + 1] == "'":
                    cur.append(39)
                    i += 2
                elif ch == quote:
                    i += 1
                    if i < n and not line[i].isspace():
                        raise ValueError("closing quote must be followed by a space: " + line)
                    break
                else:
                    cur += ch.encode("utf-8")
                    i += 1
        out.append(bytes(cur))


def mask_times(b: bytes) -> bytes:
    """The corpus time mask (test/conformance/README.md, *Time mask*): wall-clock ms → T, idle values → I."""
    b = re.sub(rb'(?<![^\n]):\d{13,}\r\n', b':T\r\n', b)
    b = re.sub(rb'((?<![^\n])\$4\r\nidle\r\n|(?<![^\n])\$8\r\ninactive\r\n):-?\d+\r\n', rb'\1:I\r\n', b)
    return re.sub(rb'((?<![^\n])\*4\r\n\$\d+\r\n\d+-\d+\r\n(?:\$\d+\r\n[^\r\n]*\r\n|\*\d+\r\n(?:\$\d+\r\n[^\r\n]*\r\n)*)):-?\d+(?=\r\n:)', rb'\1:I', b)


def load_newer_cases(d: str = NEWER_DIR) -> List[Dict[str, Any]]:
    """test/conformance/cases-newer/*.txt (format: test/conformance/corpus.ts) as corpus cases."""
    cases: List[Dict[str, Any]] = []
    if not os.path.isdir(d):
        return cases
    for fname in sorted(f for f in os.listdir(d) if f.endswith(".txt")):
        cur = None
        with open(os.path.join(d, fname), encoding="utf-8") as f:
            for raw in f:
                line = raw.strip()
                if line.startswith("###"):
                    cur = {"name": line[3:].strip(), "file": fname, "steps": []}
                    cases.append(cur)
                    continue
                if not line or line.startswith("#"):
                    continue
                if line.startswith("=>"):
                    text = line[2:].strip()
                    cur["steps"][-1]["expect"] = split_args('"' + text.replace('"', '\\"') + '"')[0]
                    continue
                compare, conn, mode, mask = True, 1, "sync", None
                while True:
                    if line == "?" or line.startswith("? "):
                        compare, line = False, line[1:].lstrip()
                        continue
                    if line.startswith("~ "):
                        mask, line = "time", line[1:].lstrip()
                        continue
                    m = re.match(r"^@(\d+)([&<]?)(?=\s|$)", line)
                    if m:
                        conn = int(m.group(1))
                        mode = {"&": "nowait", "<": "await"}.get(m.group(2), "sync")
                        line = line[m.end():].lstrip()
                        continue
                    break
                step = {"conn": conn, "mode": mode, "args": split_args(line), "compare": compare, "expect": None}
                if mask:
                    step["mask"] = mask
                cur["steps"].append(step)
    return cases


# ----------------------------------------------------------------------------- OOM under a page budget


def parse_flat(reply: bytes):
    """Tiny RESP value parser (for XRANGE replies in the OOM check)."""
    pos = 0

    def val():
        nonlocal pos
        nl = reply.index(b"\r\n", pos)
        t, line = reply[pos:pos + 1], reply[pos + 1:nl]
        pos = nl + 2
        if t in (b"+", b"-", b":"):
            return line
        if t == b"$":
            n = int(line)
            if n < 0:
                return None
            s = reply[pos:pos + n]
            pos += n + 2
            return s
        if t == b"*":
            n = int(line)
            if n < 0:
                return None
            return [val() for _ in range(n)]
        if t == b"_":
            return None
        raise ValueError("unexpected type %r" % t)

    v = val()
    return v


def _fill_until_oom(eng: Engine, c: harness.Conn, key: bytes, budget: int, cycle: int,
                    value: bytes, errs: List[str], limit: int = 200000):
    """XADD key ... until OOM; returns (acknowledged IDs, refused ID or None)."""
    acked: List[bytes] = []
    for i in range(1, limit + 1):
        ident = b"%d-%d" % (1000 * cycle + 1000 + i // 7, i % 7)
        r = c.call(b"XADD", key, ident, b"f", value, b"n", b"%d" % i)
        if eng.memory_pages() > budget:
            errs.append("memory grew to %d pages, over the budget of %d, during XADD #%d of cycle %d (reply %s)"
                        % (eng.memory_pages(), budget, i, cycle, show(r, 60)))
            return acked, None
        if r == OOM_REPLY:
            return acked, ident
        if r != b"$%d\r\n%s\r\n" % (len(ident), ident):
            errs.append("XADD %s %s ... #%d: unexpected reply %s" % (key.decode(), ident.decode(), i, show(r)))
            return acked, None
        acked.append(ident)
    errs.append("no OOM after %d XADDs with a budget of %d pages" % (limit, budget))
    return acked, None


def _check_contents(c: harness.Conn, key: bytes, acked: List[bytes], refused: bytes, value: bytes,
                    errs: List[str]) -> None:
    """Reads under OOM: XLEN, paged XRANGE, XREVRANGE see exactly the acknowledged entries."""
    n = len(acked)
    r = c.call(b"XLEN", key)
    if r != b":%d\r\n" % n:
        errs.append("XLEN after OOM: expected :%d, got %s" % (n, show(r)))
    seen: List[bytes] = []
    start = b"-"
    while True:
        r = c.call(b"XRANGE", key, start, b"+", b"COUNT", b"100")
        try:
            items = parse_flat(r)
        except Exception as e:
            errs.append("XRANGE %s + COUNT 100 after OOM: unparsable reply %s (%s)" % (start.decode(), show(r), e))
            return
        if not isinstance(items, list):
            errs.append("XRANGE %s + COUNT 100 after OOM: %s" % (start.decode(), show(r)))
            return
        if not items:
            break
        for ent in items:
            ident, fields = ent[0], ent[1]
            seen.append(ident)
            want_fields = [b"f", value, b"n", b"%d" % len(seen)]
            if fields != want_fields:
                errs.append("entry %s after OOM: fields %r, want %r" % (ident.decode(), fields[:4], want_fields))
                return
        start = b"(" + items[-1][0]
    if seen != acked:
        extra = [x for x in seen if x not in set(acked)]
        errs.append("XRANGE after OOM returned %d entries, %d were acknowledged (first extra: %s)"
                    % (len(seen), n, extra[:3]))
    r = c.call(b"XRANGE", key, refused, refused)
    if r != b"*0\r\n":
        errs.append("the refused entry %s is visible: XRANGE -> %s" % (refused.decode(), show(r)))
    r = c.call(b"XREVRANGE", key, b"+", b"-", b"COUNT", b"1")
    try:
        top = parse_flat(r)[0][0]
        if top != acked[-1]:
            errs.append("XREVRANGE + - COUNT 1 after OOM: top %s, want %s" % (top.decode(), acked[-1].decode()))
    except Exception:
        errs.append("XREVRANGE + - COUNT 1 after OOM: %s" % show(r))


def check_oom(wasm: bytes, budget_extra: int, cycles: int = 3) -> List[str]:
    """Under rv_set_page_budget(start + budget_extra): XADD until OOM; reads still work and see exactly
    the acknowledged entries; other writes are refused too; memory never exceeds the budget; DEL frees
    enough that the next fill gets about as far again (repeated `cycles` times)."""
    errs: List[str] = []
    eng = Engine(wasm)
    c = eng.connect()
    start_pages = eng.memory_pages()
    # The engine raises budgets below twice its current memory to that minimum; it returns the budget in effect.
    budget = eng.set_page_budget(start_pages + budget_extra) or (start_pages + budget_extra)
    value = b"v" * 100
    counts: List[int] = []
    t = time.perf_counter()
    for cycle in range(cycles):
        acked, refused = _fill_until_oom(eng, c, b"s", budget, cycle, value, errs)
        if refused is None:
            break
        counts.append(len(acked))
        if not acked:
            errs.append("cycle %d: the very first XADD got OOM (used_memory %d, budget %d pages)"
                        % (cycle, eng.used_memory(), budget))
            break
        for args in ([b"XADD", b"s", b"999999-1", b"f", value], [b"XADD", b"other", b"1-1", b"f", value]):
            r = c.call(*args)
            if r != OOM_REPLY:
                errs.append("%s after OOM: expected OOM, got %s" % (to_redis_cli(args), show(r)))
        _check_contents(c, b"s", acked, refused, value, errs)
        r = c.call(b"EXISTS", b"other")
        if r != b":0\r\n":
            errs.append("EXISTS other (its XADD got OOM): expected :0, got %s" % show(r))
        used_before = eng.used_memory()
        r = c.call(b"DEL", b"s")
        if r != b":1\r\n":
            errs.append("DEL s: expected :1, got %s" % show(r))
        used_after = eng.used_memory()
        if not used_after < used_before:
            errs.append("cycle %d: used_memory did not drop after DEL: %d -> %d" % (cycle, used_before, used_after))
        if cycle > 0 and counts[-1] < 0.8 * counts[0]:
            errs.append("cycle %d: only %d XADDs fit after DEL, %d in the first fill (memory not given back?)"
                        % (cycle, counts[-1], counts[0]))
        if errs:
            break
    if eng.memory_pages() > budget and not any("over the budget" in e for e in errs):
        errs.append("memory grew to %d pages, over the budget of %d" % (eng.memory_pages(), budget))
    print("oom: budget %d pages (start %d): XADDs acknowledged per fill/OOM/DEL cycle %s; used_memory %d, "
          "pages %d (%.2f s)%s" % (budget, start_pages, counts, eng.used_memory(), eng.memory_pages(),
                                   time.perf_counter() - t, "" if not errs else " FAILED"))
    return errs


# ----------------------------------------------------------------------------- the page budget is a hard cap

BUDGET_ERROR = b"-ERR reply exceeds the memory budget of this engine; read in smaller pieces (COUNT)\r\n"


def _paged_dump(c: harness.Conn, page: int = 100) -> str:
    """Everything a client can read of db 0, in pages (no reply may be large under a small budget).
    Pending entries whose stream entry is gone are left out: a snapshot drops them (docs/PERSISTENCE.md)."""
    out = []
    keys = sorted(parse_flat(c.call(b"KEYS", b"*")))
    for k in keys:
        if c.call(b"TYPE", k) != b"+stream\r\n":
            out.append((k, c.call(b"GET", k)))
            continue
        entries, start = [], b"-"
        while True:
            r = c.call(b"XRANGE", k, start, b"+", b"COUNT", page)
            if r.startswith(b"-"):
                raise RuntimeError("XRANGE: %s" % show(r))
            got = parse_flat(r)
            entries.extend(got)
            if len(got) < page:
                break
            start = b"(" + got[-1][0]
        exists = set(e[0] for e in entries)
        info = parse_flat(c.call(b"XINFO", b"STREAM", k))
        info = [x for i, x in enumerate(info) if not (i % 2 == 0 and x in (b"radix-tree-keys", b"radix-tree-nodes"))
                and not (i % 2 == 1 and info[i - 1] in (b"radix-tree-keys", b"radix-tree-nodes"))]
        groups = []
        for g in parse_flat(c.call(b"XINFO", b"GROUPS", k)):
            name = g[g.index(b"name") + 1]
            pending, start = [], b"-"
            while True:
                got = parse_flat(c.call(b"XPENDING", k, name, start, b"+", page))
                pending.extend(got)
                if len(got) < page:
                    break
                start = b"(" + got[-1][0]
            live = [p for p in pending if p[0] in exists]
            consumers = []
            for co in parse_flat(c.call(b"XINFO", b"CONSUMERS", k, name)):
                cname = co[co.index(b"name") + 1]
                consumers.append((cname, sum(1 for p in live if p[1] == cname)))
            gi = [x for i, x in enumerate(g) if g[i - (i % 2)] != b"pending"]
            groups.append((gi, live, consumers))
        out.append((k, entries, info, groups))
    return repr(out)


def _load_checked(eng: Engine, data: bytes, errs: List[str], what: str) -> None:
    """Replays `data` on a loading connection; its LoadStatus must show no error and no torn tail."""
    c = eng.connect()
    eng.set_loading(c.id, True)
    for off in range(0, len(data), eng.cap):
        c.send(data[off:off + eng.cap])
    r = eng.load_status(c.id)
    eng.set_loading(c.id, False)
    if r["errors"] or r["protocolErrorAt"] >= 0 or r["consumed"] != len(data):
        errs.append("%s: loading failed: %d errors (first %r), consumed %d of %d"
                    % (what, r["errors"], r["error_text"], r["consumed"], len(data)))
    c.close()


def _batch(key: bytes, fields: List[bytes], count: int) -> bytes:
    """rv_xadd_batch's scratch layout (assembly/server/fastpath.ts)."""
    u32 = lambda n: n.to_bytes(4, "little")
    out = [u32(len(key)), key, u32(len(fields))]
    for f in fields:
        out += [u32(len(f)), f]
    out.append(u32(count))
    for i in range(count):
        for j in range(len(fields)):
            v = str((i * 7 + j) % 100).encode()
            out += [u32(len(v)), v]
    return b"".join(out)


def check_budget(wasm: bytes, budget: int = 16) -> List[str]:
    """A 16-page budget as a hard cap under wasm3, memory capped at the budget in the module itself:
    fill to OOM with effects on and a consumer group with pending entries; SAVE (a snapshot in 16-64 KiB
    parts) and the AOF both rebuild the dataset in an engine of the same budget; XRANGE of everything
    answers the budget error; a 4,096-row batch is refused whole; a snapshot while writes go on plus the
    effects since its begin rebuild the dataset; a blocked XREAD is woken by a write. Pages never pass
    the budget (linear memory never shrinks: the last size is the peak)."""
    errs: List[str] = []
    t = time.perf_counter()
    capped = harness.with_memory_max(wasm, budget)
    clock = harness.Clock(fixed=1_700_000_000_000)  # one clock for every engine: the same `now` for dumps and loads

    def fresh() -> Engine:
        e = Engine(capped, clock=clock)
        if e.set_page_budget(budget) != budget:
            errs.append("rv_set_page_budget(%d) did not take" % budget)
        return e

    def within(e: Engine, where: str) -> bool:
        if e.memory_pages() > budget:
            errs.append("%s: memory grew to %d pages, over the budget of %d" % (where, e.memory_pages(), budget))
            return False
        return True

    eng = fresh()
    eng.effects_enable(True)
    c = eng.connect()
    aof = [eng.effects_read()]
    c.call(b"XGROUP", b"CREATE", b"sensor", b"g", b"$", b"MKSTREAM")
    added = 0
    while True:
        eng.clock.skew += 1
        r = c.call(b"XADD", b"sensor", b"*", b"temperature", str(20 + added % 10), b"humidity", b"65")
        aof.append(eng.effects_read())
        if r == OOM_REPLY:
            break
        if not r.startswith(b"$"):
            errs.append("XADD: %s" % show(r))
            return errs
        added += 1
        if added % 50 == 0:
            c.call(b"XREADGROUP", b"GROUP", b"g", b"c%d" % (added % 3), b"COUNT", b"50", b"STREAMS", b"sensor", b">")
            pending = parse_flat(c.call(b"XPENDING", b"sensor", b"g", b"-", b"+", b"40"))
            if pending:
                c.call(b"XACK", b"sensor", b"g", *[p[0] for p in pending[:35]])
            aof.append(eng.effects_read())
    if not within(eng, "fill") or added < 3000:
        errs.append("fill: only %d XADDs before OOM" % added)
        return errs
    before = _paged_dump(c)
    seed = [7]

    def part_size() -> int:
        seed[0] = (seed[0] * 1103515245 + 12345) & 0xFFFFFFFF
        return 16384 + seed[0] % 49152

    def snapshot(between=None) -> bytes:
        if eng.snapshot_begin() != 0:
            errs.append("rv_snapshot_begin refused")
            return b""
        parts, i = [], 0
        while True:
            p = eng.snapshot_read(part_size())
            if not p:
                return b"".join(parts)
            parts.append(p)
            within(eng, "snapshot part %d" % i)
            if between:
                between(i)
            i += 1

    save = snapshot()
    for what, data in (("SAVE", save), ("AOF", b"".join(aof))):
        e = fresh()
        _load_checked(e, data, errs, what)
        if _paged_dump(e.connect()) != before:
            errs.append("%s: the rebuilt dataset differs" % what)
        within(e, what + " load")
    r = c.call(b"XRANGE", b"sensor", b"-", b"+")
    if r != BUDGET_ERROR:
        errs.append("XRANGE of everything: %s" % show(r))
    n = eng.xadd_batch(c.id, _batch(b"sensor", [b"temperature", b"humidity"], 4096))
    aof.append(eng.effects_read())
    if n != -2:
        errs.append("a 4,096-row batch at OOM returned %d, want -2" % n)
    if _paged_dump(c) != before:
        errs.append("the dataset changed after SAVE / XRANGE / the refused batch")
    within(eng, "XRANGE and batch")

    tail: List[bytes] = []

    def writes(i: int) -> None:
        eng.clock.skew += 10
        first = parse_flat(c.call(b"XRANGE", b"sensor", b"-", b"+", b"COUNT", b"3"))
        if first:
            c.call(b"XDEL", b"sensor", first[0][0])
        pending = parse_flat(c.call(b"XPENDING", b"sensor", b"g", b"-", b"+", b"5"))
        if pending:
            c.call(b"XACK", b"sensor", b"g", pending[0][0])
        c.call(b"XREADGROUP", b"GROUP", b"g", b"late", b"COUNT", b"5", b"STREAMS", b"sensor", b">")
        if i % 4 == 0 and first:
            c.call(b"XTRIM", b"sensor", b"MINID", first[-1][0])
        c.call(b"XADD", b"sensor", b"*", b"temperature", b"1", b"humidity", b"2")
        tail.append(eng.effects_read())
        within(eng, "writes during the rewrite")

    rewrite = snapshot(writes)
    after = _paged_dump(c)
    e = fresh()
    _load_checked(e, rewrite + b"".join(tail), errs, "rewrite")
    if _paged_dump(e.connect()) != after:
        errs.append("rewrite: snapshot + effects since its begin do not rebuild the dataset")

    d = eng.connect()
    d.send_command(b"XREAD", b"BLOCK", b"0", b"STREAMS", b"sensor", b"$")
    if not (d.last_status & harness.BLOCKED):
        errs.append("XREAD BLOCK did not block")
    c.call(b"XTRIM", b"sensor", b"MAXLEN", str(added // 2))
    r = c.call(b"XADD", b"sensor", b"*", b"temperature", b"woke", b"humidity", b"0")
    if not r.startswith(b"$"):
        errs.append("XADD after the trim: %s" % show(r))
    if not d.replies or b"woke" not in d.replies[-1]:
        errs.append("the blocked XREAD was not woken: %r" % d.replies[-1:])
    within(eng, "end")
    print("budget: %d pages, %d XADDs to OOM, snapshot %d B in parts of 16-64 KiB, %d pages at the end (%.2f s)%s"
          % (budget, added, len(save), eng.memory_pages(), time.perf_counter() - t, "" if not errs else " FAILED"))
    return errs


# ----------------------------------------------------------------------------- protocol errors

# Exact replies of redis-server 7.0.15 (observed), connection closed after each.
PROTOCOL_CASES = [
    (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\n+foo\r\n", b"-ERR Protocol error: expected '$', got '+'\r\n"),
    (b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$-3\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$600000000\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$4\r\nPING\r\n*abc\r\n", b"+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*3\r\n$4\r\nPING\r\n*abc\r\n", b"-ERR Protocol error: expected '$', got '*'\r\n"),
    (b"\"unbalanced\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
]


def check_protocol(wasm: bytes) -> List[str]:
    errs: List[str] = []
    eng = Engine(wasm)
    for data, want in PROTOCOL_CASES:
        c = eng.connect()
        st = c.send(data)
        got = b"".join(c.replies) + c.buf
        if not (st & CLOSE):
            errs.append("%s: status %d has no CLOSE bit (reply %s)" % (show(data), st, show(got)))
        if b"-ERR Protocol error" not in got:
            errs.append("%s: no '-ERR Protocol error' reply, got %s" % (show(data), show(got)))
        elif got != want:
            errs.append("%s: expected %s, got %s" % (show(data), show(want), show(got)))
        c.close()
    # the same garbage fed one byte at a time (the engine buffers partial input)
    c = eng.connect()
    st = 0
    for b in b"*1\r\n$4\r\nPING\r\n*abc\r\n":
        st |= c.send(bytes([b]))
        if st & CLOSE:  # a host stops feeding a connection it is closing
            break
    got = b"".join(c.replies) + c.buf
    if not (st & CLOSE) or got != b"+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n":
        errs.append("byte-at-a-time garbage: status %d, got %s" % (st, show(got)))
    # other connections are unaffected
    d = eng.connect()
    r = d.call(b"PING")
    if r != b"+PONG\r\n":
        errs.append("PING on a healthy connection after protocol errors: %s" % show(r))
    print("protocol: %d garbage inputs checked" % (len(PROTOCOL_CASES) + 1))
    return errs


# ----------------------------------------------------------------------------- engine facts

FACTS_GOOD = b"".join([
    encode(["XADD", "s", "1-1", "f", "v"]),
    encode(["SELECT", "3"]),
    encode(["XADD", "t", "5-0", "a", "b"]),
    encode(["MULTI"]),
    encode(["XADD", "t", "6-0", "a", "b"]),
    encode(["EXEC"]),
    encode(["XREAD", "BLOCK", "0", "STREAMS", "t", "$"]),
    encode(["SELECT", "0"]),
    encode(["SET", "k", "x" * 3000]),
])


def _load(eng: Engine, data: bytes, chunk: int):
    c = eng.connect()
    eng.set_loading(c.id, True)
    st = 0
    for at in range(0, len(data), chunk):
        st |= eng.feed(c.id, data[at:at + chunk])
    out = eng.read(c.id)
    r = eng.load_status(c.id)
    return c, st, out, r


def check_facts(wasm: bytes) -> List[str]:
    """rv_load_status, rv_build_info, rv_auth_required, rv_dataset_stats, rv_config_get under wasm3."""
    errs: List[str] = []

    def expect(what: str, got, want) -> None:
        if got != want:
            errs.append("%s: got %r, want %r" % (what, got, want))

    # a clean file, in several chunkings: the same record, no output, nothing blocked
    records = []
    for chunk in (1, 7, 100, 65536):
        eng = Engine(wasm)
        c, st, out, r = _load(eng, FACTS_GOOD, chunk)
        expect("clean load output (chunk %d)" % chunk, out, b"")
        expect("clean load status bits (chunk %d)" % chunk, st & (harness.OUTPUT | harness.BLOCKED), 0)
        records.append(r)
    r = records[0]
    for k, want in (("consumed", len(FACTS_GOOD)), ("commands", 9), ("pending", 0), ("errors", 0), ("firstErrorAt", -1),
                    ("protocolErrorAt", -1), ("nulTail", 0), ("inMulti", 0), ("multiStart", -1)):
        expect("clean load %s" % k, r[k], want)
    for other in records[1:]:
        expect("record independent of chunking", other, r)

    # torn tails
    tail = b"*3\r\n$4\r\nXLEN\r\n$1\r\ns"
    _, _, _, r = _load(Engine(wasm), FACTS_GOOD + tail, 50)
    expect("incomplete tail", (r["consumed"], r["pending"], r["protocolErrorAt"]), (len(FACTS_GOOD), len(tail), -1))
    multi = encode(["MULTI"]) + encode(["XADD", "s", "9-9", "f", "v"])
    _, _, _, r = _load(Engine(wasm), FACTS_GOOD + multi, 50)
    expect("MULTI without EXEC", (r["inMulti"], r["multiStart"], r["errors"]), (1, len(FACTS_GOOD), 0))
    _, _, _, r = _load(Engine(wasm), FACTS_GOOD + bytes(3000), 999)
    expect("NUL tail", (r["nulTail"], r["consumed"], r["protocolErrorAt"]), (3000, len(FACTS_GOOD), -1))

    # a corrupt middle, and NUL bytes followed by data
    at = FACTS_GOOD.index(b"*5\r\n$4\r\nXADD\r\n$1\r\nt")
    bad = FACTS_GOOD[:at] + b"!" + FACTS_GOOD[at + 1:]
    eng = Engine(wasm)
    c, st, _, r = _load(eng, bad, 64)
    expect("corrupt middle", (r["protocolErrorAt"], r["protocol_error_text"], r["consumed"]),
           (at, b"Protocol error: expected '*', got '!'", at))
    expect("corrupt middle closes", bool(st & CLOSE), True)
    d = eng.connect()
    d.call("SELECT", "3")
    expect("nothing ran after the corruption", d.call("EXISTS", "t"), b":0\r\n")
    _, _, _, r = _load(Engine(wasm), FACTS_GOOD + bytes(10) + FACTS_GOOD, 64)
    expect("NULs then data", (r["protocolErrorAt"], r["protocol_error_text"]),
           (len(FACTS_GOOD), b"Protocol error: NUL bytes followed by more data"))

    # failing commands: counted, the first reported, the replay goes on
    failing = encode(["XADD", "s", "1-0", "f", "v"])
    after = encode(["XADD", "s", "3-1", "f", "v"])
    eng = Engine(wasm)
    _, _, _, r = _load(eng, FACTS_GOOD + failing + failing + after, 64)
    expect("failing commands", (r["errors"], r["firstErrorAt"], r["error_text"], r["consumed"]),
           (2, len(FACTS_GOOD), b"ERR The ID specified in XADD is equal or smaller than the target stream top item",
            len(FACTS_GOOD) + 2 * len(failing) + len(after)))
    d = eng.connect()
    expect("replay went on", d.call("XLEN", "s"), b":2\r\n")

    # build info: the snapshot header's format and hash
    eng = Engine(wasm)
    fmt, build = eng.build_info()
    expect("build info format", fmt, SNAPSHOT_FORMAT)
    expect("snapshot begins", eng.snapshot_begin(), 0)
    snap = b""
    while True:
        part = eng.snapshot_read(eng.cap)
        if not part:
            break
        snap += part
    expect("build info hash", snap.startswith(encode(["RIVULET.SNAPSHOT", str(fmt), build])), True)

    # auth required, as a new connection sees it
    c = eng.connect()
    expect("no password", eng.auth_required(), False)
    c.call("CONFIG", "SET", "requirepass", "pw")
    expect("password set", eng.auth_required(), True)
    expect("a new connection needs AUTH", eng.connect().call("PING").startswith(b"-NOAUTH"), True)
    c.call("CONFIG", "SET", "requirepass", "")
    expect("password cleared", eng.auth_required(), False)

    # dataset stats of a known dataset (an emptied stream is still a key)
    for db, cmds in ((0, [["XADD", "a", "*", "f", "v"], ["XADD", "a", "*", "f", "v"], ["SET", "b", "1"]]),
                     (5, [["XADD", "c", "*", "f", "v"], ["XADD", "d", "MAXLEN", "0", "*", "f", "v"]]), (15, [["SET", "e", "x"]])):
        c.call("SELECT", str(db))
        for x in cmds:
            c.call(*x)
    expect("dataset stats", eng.dataset_stats(), {"keys": 5, "streamKeys": 3, "streamEntries": 3})

    # rv_config_get: what CONFIG GET shows, any case; None for unknown
    c.call("CONFIG", "SET", "maxmemory", "64mb", "save", "3600 1")
    for name in ("maxmemory", "save", "MAXMEMORY", "appendfsync", "tcp-backlog"):
        expect("rv_config_get %s" % name, eng.config_get(name), parse_flat(c.call("CONFIG", "GET", name))[1])
    expect("rv_config_get unknown", eng.config_get("nosuch"), None)

    print("facts: load status, build info, auth, dataset stats and config checked")
    return errs


# ----------------------------------------------------------------------------- persistence jobs


def check_jobs(wasm: bytes) -> List[str]:
    """The persistence host loop as a C host runs it: SAVE parks its client until rv_job_done, BGSAVE /
    BGREWRITEAOF answer from the engine's job state, a scheduled job is raised when the running one ends."""
    errs: List[str] = []

    def expect(what: str, got: Any, want: Any) -> None:
        if got != want:
            errs.append("%s: expected %r, got %r" % (what, want, got))

    eng = Engine(wasm, clock=harness.Clock(fixed=1_700_000_000_000))
    eng.persistence_enable(True)
    c, d = eng.connect(), eng.connect()
    expect("XADD", c.call("XADD", "s", "1-1", "f", "v"), b"$3\r\n1-1\r\n")
    st = c.send_command("SAVE")
    expect("SAVE status bits", st & (BLOCKED | FeedStatus.REQUESTS), BLOCKED | FeedStatus.REQUESTS)
    c.send_command("XLEN", "s")  # pipelined behind the SAVE: waits
    expect("replies while the host saves", c.replies, [])
    expect("SAVE request", eng.take_requests(), JobKind.SAVE)
    expect("XLEN on another connection meanwhile", d.call("XLEN", "s"), b":1\r\n")
    expect("rv_job_done(SAVE)", eng.job_done(JobKind.SAVE, JobStatus.OK), 1)
    expect("SAVE reply, then the pipelined XLEN", [c.take_reply(), c.take_reply()], [b"+OK\r\n", b":1\r\n"])
    expect("LASTSAVE", c.call("LASTSAVE"), b":1700000000\r\n")
    expect("BGSAVE", c.call("BGSAVE"), b"+Background saving started\r\n")
    expect("BGSAVE request", eng.take_requests(), JobKind.BGSAVE)
    expect("BGSAVE again", c.call("BGSAVE"), b"-ERR Background save already in progress\r\n")
    expect("BGREWRITEAOF during BGSAVE", c.call("BGREWRITEAOF"), b"+Background append only file rewriting scheduled\r\n")
    expect("rv_job_done(BGSAVE)", eng.job_done(JobKind.BGSAVE, JobStatus.OK), 0)
    expect("scheduled rewrite raised", eng.take_requests(), JobKind.REWRITE)
    expect("rv_job_start(BGSAVE) during the rewrite", eng.job_start(JobKind.BGSAVE), JobStart.BUSY_OTHER)
    expect("rv_job_start(BGSAVE|SCHEDULE)", eng.job_start(JobKind.BGSAVE | JobKind.SCHEDULE), JobStart.SCHEDULED)
    expect("rv_job_done(REWRITE, failed)", eng.job_done(JobKind.REWRITE, JobStatus.FAILED), 0)
    expect("scheduled BGSAVE raised", eng.take_requests(), JobKind.BGSAVE)
    info = c.call("INFO", "persistence")
    for field in (b"rdb_bgsave_in_progress:1", b"aof_last_bgrewrite_status:err", b"rdb_changes_since_last_save:0", b"rdb_saves:3", b"aof_rewrites:1"):
        if field not in info:
            errs.append("INFO persistence lacks %r: %s" % (field, show(info)))
    expect("rv_job_done with no such job", eng.job_done(JobKind.REWRITE, JobStatus.OK), -1)
    print("jobs: SAVE / BGSAVE / BGREWRITEAOF host loop checked")
    return errs


# ----------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wasm", default=harness.DEFAULT_WASM)
    ap.add_argument("--corpus", default=os.environ.get("RIVULET_CORPUS", DEFAULT_CORPUS))
    ap.add_argument("--only", help="run only corpus cases whose name contains this")
    ap.add_argument("--max-fail", type=int, default=30, help="failing cases to print in full")
    ap.add_argument("--oom-pages", default="4,9,21",
                    help="page budgets above the starting size, comma-separated (one OOM check each)")
    ap.add_argument("--skip-corpus", action="store_true")
    ap.add_argument("--skip-newer", action="store_true", help="skip test/conformance/cases-newer/*.txt")
    ap.add_argument("--skip-oom", action="store_true")
    ap.add_argument("--skip-budget", action="store_true")
    ap.add_argument("--skip-protocol", action="store_true")
    ap.add_argument("--skip-facts", action="store_true")
    ap.add_argument("--skip-jobs", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    if not os.path.exists(a.wasm):
        print("FAIL: %s not found (build it: npm run build)" % a.wasm)
        return 1
    with open(a.wasm, "rb") as f:
        wasm = f.read()
    t = time.perf_counter()
    Engine(wasm)
    print("wasm3 %s: %s (%d bytes), instantiate %.2f ms"
          % (getattr(harness.wasm3, "M3_VERSION", "?"), os.path.relpath(a.wasm, ROOT), len(wasm),
             1000 * (time.perf_counter() - t)))

    ok = True
    if not a.skip_corpus:
        ok = run_corpus(wasm, a.corpus, a.only, a.max_fail, a.verbose) and ok
    if not a.skip_newer:
        newer = load_newer_cases()
        if newer:
            ok = run_corpus(wasm, NEWER_DIR, a.only, a.max_fail, a.verbose, "newer", newer) and ok
    checks = []
    if not a.skip_oom:
        for extra in [int(x) for x in a.oom_pages.split(",") if x.strip()]:
            checks.append(("oom", lambda extra=extra: check_oom(wasm, extra)))
    if not a.skip_budget:
        checks.append(("budget", lambda: check_budget(wasm)))
    if not a.skip_protocol:
        checks.append(("protocol", lambda: check_protocol(wasm)))
    if not a.skip_facts:
        checks.append(("facts", lambda: check_facts(wasm)))
    if not a.skip_jobs:
        checks.append(("jobs", lambda: check_jobs(wasm)))
    for title, fn in checks:
        try:
            errs = fn()
        except Exception as e:
            errs = ["%s: %s" % (type(e).__name__, e)]
        for e in errs:
            print("FAIL %s: %s" % (title, e))
        ok = ok and not errs
    print("wasm3: %s" % ("all checks passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

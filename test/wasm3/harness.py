"""Drive build/rivulet.wasm under pywasm3 (wasm3 v0.5.0) through the Rivulet ABI (docs/ABI.md).

This is the Python twin of what a C host on an ESP32 does: integers and bytes only, one scratch
region, memory re-fetched after every call (wasm3 grows linear memory with realloc, so the base
address — and any memoryview of it — can change on any call that may allocate).

    eng = Engine.load("build/rivulet.wasm")
    c = eng.connect()
    c.call("XADD", "s", "1-1", "f", "v")   # -> b"$3\r\n1-1\r\n"

Also: a RESP command encoder (`encode`) and a reply splitter (`split_replies`) for RESP2/RESP3.
No third-party code; only the `wasm3` module from pywasm3.
"""

from __future__ import annotations

import os
import struct
import sys
import time
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import wasm3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from abi_constants import EXPORTS, FeedStatus, LoadStatus, BuildInfo, DatasetStats, JobKind, JobStart, JobStatus  # generated from assembly/abi.ts

# status bits returned by rv_feed (names kept for the scripts that import them from here)
OUTPUT = FeedStatus.OUTPUT
CLOSE = FeedStatus.CLOSE
BLOCKED = FeedStatus.BLOCKED
OTHERS_READY = FeedStatus.OTHERS_READY

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_WASM = os.environ.get("RIVULET_WASM", os.path.join(ROOT, "build", "rivulet.wasm"))

Arg = Union[str, bytes, int]


class EngineAbort(RuntimeError):
    """The engine called env.abort (an engine bug by contract: never on user input)."""


def _leb(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _read_leb(b: bytes, at: int) -> Tuple[int, int]:
    v = shift = 0
    while True:
        x = b[at]
        at += 1
        v |= (x & 0x7F) << shift
        if not x & 0x80:
            return v, at
        shift += 7


def with_memory_max(wasm: bytes, max_pages: int) -> bytes:
    """The module with its memory's maximum set to max_pages: wasm3 then refuses to grow past it, as a
    device's memory limit does (a page budget that grew past it would trap instead of passing)."""
    at = 8
    while at < len(wasm):
        sid = wasm[at]
        size, body = _read_leb(wasm, at + 1)
        if sid == 5:
            count, p = _read_leb(wasm, body)
            if count != 1:
                raise ValueError("expected one memory")
            flags = wasm[p]
            initial, q = _read_leb(wasm, p + 1)
            end = _read_leb(wasm, q)[1] if flags & 1 else q
            if end != body + size:
                raise ValueError("unexpected memory section layout")
            section = b"\x01\x01" + _leb(initial) + _leb(max_pages)
            return wasm[:at] + b"\x05" + _leb(len(section)) + section + wasm[body + size:]
        at = body + size
    raise ValueError("no memory section")


# ----------------------------------------------------------------------------- RESP helpers


def _b(a: Arg) -> bytes:
    if isinstance(a, bytes):
        return a
    if isinstance(a, int):
        return str(a).encode()
    return a.encode("utf-8")


def encode(args: Sequence[Arg]) -> bytes:
    """One RESP multibulk command."""
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = _b(a)
        parts.append(b"$%d\r\n" % len(b))
        parts.append(b)
        parts.append(b"\r\n")
    return b"".join(parts)


class ReplyParseError(ValueError):
    pass


def _reply_end(buf: bytes, pos: int) -> int:
    """End offset of the complete RESP2/RESP3 reply starting at pos, or -1 when incomplete."""
    n = len(buf)
    # A stack of "how many more elements this aggregate needs" (iterative: no recursion limits).
    pending = [1]
    while pending:
        if pos >= n:
            return -1
        nl = buf.find(b"\r\n", pos)
        if nl < 0:
            return -1
        t = buf[pos:pos + 1]
        line = buf[pos + 1:nl]
        pos = nl + 2
        pending[-1] -= 1
        if t in (b"+", b"-", b":", b"_", b",", b"#", b"("):
            pass
        elif t in (b"$", b"!", b"="):
            try:
                ln = int(line)
            except ValueError:
                raise ReplyParseError("bad bulk length %r" % line)
            if ln >= 0:
                if pos + ln + 2 > n:
                    return -1
                if buf[pos + ln:pos + ln + 2] != b"\r\n":
                    raise ReplyParseError("bulk not terminated by CRLF at %d" % (pos + ln))
                pos += ln + 2
        elif t in (b"*", b"~", b">", b"%", b"|"):
            try:
                cnt = int(line)
            except ValueError:
                raise ReplyParseError("bad aggregate length %r" % line)
            if t in (b"%", b"|"):
                cnt *= 2
            if t == b"|":
                cnt += 1  # an attribute is followed by the reply it decorates
            if cnt > 0:
                pending.append(cnt)
        else:
            raise ReplyParseError("unknown RESP type byte %r at %d" % (t, pos))
        while pending and pending[-1] == 0:
            pending.pop()
    return pos


def split_replies(buf: bytes) -> Tuple[List[bytes], bytes]:
    """Split a byte stream into complete replies; returns (replies, incomplete rest)."""
    out = []
    pos = 0
    while pos < len(buf):
        end = _reply_end(buf, pos)
        if end < 0:
            break
        out.append(buf[pos:end])
        pos = end
    return out, buf[pos:]


# ----------------------------------------------------------------------------- engine


class Clock:
    """Host clock in ms since the epoch (integer-valued float).

    Follows real time plus a skew; `advance_to` jumps forward instead of sleeping (the engine never
    reads a clock, so jumping is indistinguishable from waiting)."""

    def __init__(self, fixed: Optional[float] = None):
        self.fixed = fixed
        self.skew = 0.0

    def now(self) -> float:
        if self.fixed is not None:
            return float(self.fixed) + self.skew
        return float(int(time.time() * 1000)) + self.skew

    def advance_to(self, t: float) -> None:
        cur = self.now()
        if t > cur:
            self.skew += t - cur


class Engine:
    def __init__(self, wasm_bytes: bytes, stack_bytes: int = 256 * 1024, clock: Optional[Clock] = None):
        self.wasm_bytes = wasm_bytes  # wasm3 requires the bytes to outlive the module (0.5.0 doesn't keep them)
        self.env = wasm3.Environment()
        self.rt = self.env.new_runtime(stack_bytes)
        self.mod = self.env.parse_module(wasm_bytes)
        self.rt.load(self.mod)
        self.abort_message: Optional[str] = None
        self.mod.link_function("env", "abort", "v(iiii)", self._abort)
        self.fn = {}
        for name, (_, params, results) in EXPORTS.items():  # every export is required
            f = self.rt.find_function(name)
            if tuple(f.arg_types) != params or tuple(f.ret_types) != results:
                raise RuntimeError("%s: signature %r -> %r, the ABI says %r -> %r"
                                   % (name, f.arg_types, f.ret_types, params, results))
            self.fn[name] = f
        self.clock = clock or Clock()
        self.scratch = self.fn["rv_scratch_ptr"]()
        self.cap = self.fn["rv_scratch_cap"]()
        self._next_conn = 0
        self.conns = {}

    @classmethod
    def load(cls, path: str = DEFAULT_WASM, **kw) -> "Engine":
        with open(path, "rb") as f:
            return cls(f.read(), **kw)

    # -- memory and strings
    def mem(self) -> memoryview:
        """The linear memory as of now. Never keep it across a wasm call."""
        return self.rt.get_memory(0)

    def _as_string(self, ptr: int) -> str:
        if ptr == 0:
            return "<null>"
        mem = self.mem()
        if ptr < 4 or ptr > len(mem):
            return "<bad ptr %d>" % ptr
        size = int.from_bytes(bytes(mem[ptr - 4:ptr]), "little")  # rtSize: byte length of UTF-16LE data
        if size > 1 << 20 or ptr + size > len(mem):
            return "<bad string at %d>" % ptr
        return bytes(mem[ptr:ptr + size]).decode("utf-16-le", errors="replace")

    def _abort(self, msg: int, file: int, line: int, col: int) -> None:
        text = "%s at %s:%d:%d" % (self._as_string(msg), self._as_string(file), line, col)
        self.abort_message = text
        raise EngineAbort("engine abort: " + text)

    def _call(self, name: str, *args):
        try:
            return self.fn[name](*args)
        except EngineAbort:
            raise
        except RuntimeError as e:
            if self.abort_message:
                raise EngineAbort("engine abort: %s (%s)" % (self.abort_message, e)) from None
            raise

    # -- raw ABI
    def open(self, conn: int) -> int:
        return self._call("rv_open", conn)

    def close(self, conn: int) -> None:
        self._call("rv_close", conn)

    def feed(self, conn: int, data: bytes, now: Optional[float] = None) -> int:
        """Copy data into scratch (in chunks of at most cap bytes) and run it; returns OR of statuses."""
        st = 0
        if now is None:
            now = self.clock.now()
        if not data:
            return self._call("rv_feed", conn, 0, now)
        for off in range(0, len(data), self.cap):
            chunk = data[off:off + self.cap]
            mem = self.mem()  # re-fetch: the base may have moved in the previous call
            mem[self.scratch:self.scratch + len(chunk)] = chunk
            del mem
            st |= self._call("rv_feed", conn, len(chunk), now)
        return st

    def read(self, conn: int) -> bytes:
        """Drain all pending output of conn."""
        out = []
        while True:
            n = self._call("rv_read", conn)
            if n <= 0:
                break
            mem = self.mem()
            out.append(bytes(mem[self.scratch:self.scratch + n]))
            del mem
        return b"".join(out)

    def ready_next(self) -> int:
        return self._call("rv_ready_next")

    def tick(self, now: Optional[float] = None) -> int:
        return self._call("rv_tick", self.clock.now() if now is None else now)

    def next_deadline(self) -> float:
        return self._call("rv_next_deadline")

    def unblock(self, conn: int, mode: int) -> int:
        return self._call("rv_unblock", conn, mode)

    def set_page_budget(self, pages: int) -> None:
        return self._call("rv_set_page_budget", pages)

    def used_memory(self) -> float:
        return self._call("rv_used_memory")

    def take_requests(self) -> int:
        return self._call("rv_take_requests")

    def persistence_enable(self, on: bool) -> None:
        self._call("rv_persistence_enable", 1 if on else 0)

    def job_start(self, kind: int, now: Optional[float] = None) -> int:
        return self._call("rv_job_start", kind, self.clock.now() if now is None else now)

    def job_done(self, kind: int, status: int, now: Optional[float] = None) -> int:
        """Ends a job; answers waiting SAVE clients (collected here, like drain_ready)."""
        n = self._call("rv_job_done", kind, status, self.clock.now() if now is None else now)
        if n > 0:
            self.drain_ready()
        return n

    def memory_pages(self) -> int:
        return len(self.mem()) // 65536

    def status(self, conn: int) -> int:
        return self._call("rv_status", conn)

    def set_loading(self, conn: int, on: bool) -> None:
        self._call("rv_set_loading", conn, 1 if on else 0)

    def set_internal(self, conn: int) -> None:
        self._call("rv_set_internal", conn)

    def _scratch_bytes(self, n: int) -> bytes:
        mem = self.mem()
        b = bytes(mem[self.scratch:self.scratch + n])
        del mem
        return b

    def load_status(self, conn: int) -> Optional[dict]:
        """rv_load_status as a dict of the LoadStatus fields plus error_text / protocol_error_text."""
        n = self._call("rv_load_status", conn)
        if n < 0:
            return None
        raw = self._scratch_bytes(n)
        r = dict(zip(LoadStatus.FIELDS, struct.unpack_from(LoadStatus.STRUCT, raw)))
        at = LoadStatus.SIZE
        r["error_text"] = raw[at:at + r["errorLen"]]
        r["protocol_error_text"] = raw[at + r["errorLen"]:at + r["errorLen"] + r["protocolErrorLen"]]
        return r

    def build_info(self) -> Tuple[int, str]:
        """rv_build_info: (snapshot format, build hash)."""
        n = self._call("rv_build_info")
        raw = self._scratch_bytes(n)
        fmt, hash_len = struct.unpack_from(BuildInfo.STRUCT, raw)
        return fmt, raw[BuildInfo.SIZE:BuildInfo.SIZE + hash_len].decode("ascii")

    def auth_required(self) -> bool:
        return self._call("rv_auth_required") == 1

    def dataset_stats(self) -> dict:
        n = self._call("rv_dataset_stats")
        return dict(zip(DatasetStats.FIELDS, struct.unpack_from(DatasetStats.STRUCT, self._scratch_bytes(n))))

    def config_get(self, name: str) -> Optional[bytes]:
        data = name.encode()
        mem = self.mem()
        mem[self.scratch:self.scratch + len(data)] = data
        del mem
        n = self._call("rv_config_get", len(data))
        return None if n < 0 else self._scratch_bytes(min(n, self.cap))

    def effects_enable(self, on: bool) -> None:
        self._call("rv_effects_enable", 1 if on else 0)

    def effects_read(self) -> bytes:
        """All pending effects."""
        out = []
        while True:
            n = self._call("rv_effects_read")
            if n <= 0:
                return b"".join(out)
            out.append(self._scratch_bytes(n))

    def snapshot_begin(self) -> int:
        return self._call("rv_snapshot_begin")

    def snapshot_read(self, max_bytes: int) -> bytes:
        """The next part (b"" once the snapshot is complete); raises when none is running."""
        n = self._call("rv_snapshot_read", max_bytes)
        if n < 0:
            raise RuntimeError("rv_snapshot_read: no snapshot running")
        return self._scratch_bytes(n)

    def snapshot_abort(self) -> None:
        self._call("rv_snapshot_abort")

    def xadd_batch(self, conn: int, data: bytes, now: Optional[float] = None) -> int:
        """rv_xadd_batch with `data` (the scratch layout of assembly/server/fastpath.ts) in scratch."""
        mem = self.mem()
        mem[self.scratch:self.scratch + len(data)] = data
        del mem
        return self._call("rv_xadd_batch", conn, len(data), self.clock.now() if now is None else now)

    # -- connection layer
    def connect(self) -> "Conn":
        cid = self._next_conn
        self._next_conn += 1
        if self.open(cid) != 0:
            raise RuntimeError("rv_open(%d) refused" % cid)
        c = Conn(self, cid)
        self.conns[cid] = c
        return c

    def drain_ready(self) -> None:
        """Deliver output of connections woken by others or by timeouts."""
        while True:
            cid = self.ready_next()
            if cid < 0:
                break
            c = self.conns.get(cid)
            data = self.read(cid)
            if c is not None:
                c._receive(data)
                if self._call("rv_status", cid) & CLOSE:
                    c.closed = True

    def advance_time(self) -> bool:
        """Jump the clock to the next deadline and fire it; False when nobody has a deadline."""
        d = self.next_deadline()
        if d < 0:
            return False
        self.clock.advance_to(d)
        self.tick()
        self.drain_ready()
        return True


class Conn:
    def __init__(self, engine: Engine, cid: int):
        self.engine = engine
        self.id = cid
        self.buf = b""
        self.replies: List[bytes] = []
        self.closed = False
        self.last_status = 0

    def _receive(self, data: bytes) -> None:
        if data:
            self.buf += data
            reps, self.buf = split_replies(self.buf)
            self.replies.extend(reps)

    def send(self, data: bytes) -> int:
        """Feed raw bytes; collect this connection's output and that of woken others."""
        e = self.engine
        st = e.feed(self.id, data)
        self.last_status = st
        self._receive(e.read(self.id))
        if st & OTHERS_READY:
            e.drain_ready()
        if st & CLOSE:
            self.closed = True
        return st

    def send_command(self, *args: Arg) -> int:
        return self.send(encode(args))

    def take_reply(self) -> Optional[bytes]:
        return self.replies.pop(0) if self.replies else None

    def wait_reply(self, max_time_jumps: int = 1000) -> Optional[bytes]:
        """The next reply; if none is there, fire deadlines (advancing the clock) until one arrives.
        None when the connection is parked with no deadline (would wait forever)."""
        jumps = 0
        while not self.replies:
            if jumps >= max_time_jumps or not self.engine.advance_time():
                return None
            jumps += 1
        return self.replies.pop(0)

    def call(self, *args: Arg) -> bytes:
        """Send one command and return its raw reply (firing timeouts if it blocks with a deadline)."""
        self.send_command(*args)
        r = self.wait_reply()
        if r is None:
            raise RuntimeError("no reply to %r (blocked without deadline?)" % (args,))
        return r

    def close(self) -> None:
        self.engine.close(self.id)
        self.engine.conns.pop(self.id, None)
        self.closed = True


def to_redis_cli(args: Iterable[Arg]) -> str:
    """A command as a redis-cli line (quoted where needed), for readable failure output."""
    out = []
    for a in args:
        s = _b(a).decode("utf-8", errors="backslashreplace")
        if s == "" or any(ch in s for ch in " \"'\\\t\r\n") or not s.isprintable():
            s = '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t") + '"'
        out.append(s)
    return " ".join(out)

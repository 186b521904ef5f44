# mpboard.py - the Python side of the original-board simulator (device-runtime/src/original).
#
# Runs eval source the way the original mqrepl does (compile as expression -> repr, else exec
# with captured output) in a CPython process, with just enough of MicroPython's modules for the
# snippets hosts send (uos, uhashlib, ubinascii, gc, machine, time, watchdog, logging), all file
# access confined to the board root.
#
# THIS IS A DEV/TEST SIMULATOR, NOT A SANDBOX. Root confinement keeps honest snippets (and
# mistakes such as '/../../etc/passwd') inside the board's folder; code that wants to escape
# CPython can (introspection reaches real modules). Never feed it untrusted code.
#
# Wire to Node: stdin/stdout carry frames of a 4-byte big-endian length + UTF-8 JSON.
#   request  {"op": "eval", "src": str}            -> {"ok": true, "out": base64}
#                                                   | {"ok": false, "kind": "value", "msg": str}
#                                                   | {"ok": false, "kind": "exc", "text": str, "short": str}
#   request  {"op": "path", "path": str}           -> {"ok": true, "host": str} | {"ok": false, ...exc}
#   request  {"op": "settled"}                     -> {"ok": true}   (watchdog.first = None)
#   event    {"event": "log", "level": "I", "name": str, "text": str}
#   event    {"event": "reset", "how": "hard" | "soft" | "delayed", "normal": bool | null}
#   event    {"event": "feed"} / {"event": "normalboot", "normal": bool}
# Real stdout (fd 1) is moved aside for the protocol; stray output goes to stderr (the board's
# serial console, which the original never sends over MQTT either).
#
# Parts: mp_base.py (settings, the frame protocol, module/error helpers), mp_fs.py (root
# confinement, uos, open), and this file (the other MicroPython modules, imports, eval).

import base64
import binascii as _binascii
import builtins
import hashlib as _hashlib
import io
import os as _os
import posixpath
import sys as _sys
import time as _time
import traceback

# mp_base must come first: importing it moves the real stdout aside for the Node protocol.
from mp_base import BOOT_MS, EPOCH_2000, OUT_LIMIT, PREFIX, RESET_CAUSE, SAFEMODE, _Attrs, _mod, _recv, _send  # noqa: E402
from mp_fs import _host, _open, uos  # noqa: E402
import mp_fs  # noqa: E402


# ---------- uhashlib / ubinascii ----------
class _sha256:
    # MicroPython's hash objects have update() and digest() only: no hexdigest().
    def __init__(self, data=None):
        self._h = _hashlib.sha256()
        if data is not None:
            self._h.update(data)

    def update(self, data):
        self._h.update(data)

    def digest(self):
        return self._h.digest()


# No sha1 on purpose: like the esp32 builds without SSL (wire facts, "Measured").
uhashlib = _mod("uhashlib", sha256=_sha256)


def _hexlify(data, sep=None):
    h = _binascii.hexlify(data)
    if sep is None:
        return h
    s = sep.encode() if isinstance(sep, str) else sep
    return s.join(h[i : i + 2] for i in range(0, len(h), 2))


ubinascii = _mod(
    "ubinascii",
    hexlify=_hexlify,
    unhexlify=_binascii.unhexlify,
    a2b_base64=_binascii.a2b_base64,
    b2a_base64=_binascii.b2a_base64,
    crc32=_binascii.crc32,
)


# ---------- time ----------
def ticks_ms():
    return int(_time.time() * 1000 - BOOT_MS) & 0x3FFFFFFF


def ticks_diff(a, b):
    d = (a - b) & 0x3FFFFFFF
    return d - 0x40000000 if d >= 0x20000000 else d


def _localtime(secs=None):
    t = _time.gmtime((_time.time() - EPOCH_2000 if secs is None else secs) + EPOCH_2000)
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, t.tm_wday, t.tm_yday)


utime = _mod(
    "utime",
    time=lambda: int(_time.time()) - EPOCH_2000,
    time_ns=lambda: _time.time_ns() - EPOCH_2000 * 10**9,
    sleep=_time.sleep,
    sleep_ms=lambda ms: _time.sleep(ms / 1000),
    sleep_us=lambda us: _time.sleep(us / 1e6),
    ticks_ms=ticks_ms,
    ticks_us=lambda: int((_time.time() * 1000 - BOOT_MS) * 1000) & 0x3FFFFFFF,
    ticks_cpu=lambda: int((_time.time() * 1000 - BOOT_MS) * 1000) & 0x3FFFFFFF,
    ticks_diff=ticks_diff,
    ticks_add=lambda a, d: (a + d) & 0x3FFFFFFF,
    localtime=_localtime,
    gmtime=_localtime,
    mktime=lambda t: int(_time.mktime(tuple(t[:6]) + (0, 0, 0))) - _time.timezone - EPOCH_2000,
)


# ---------- gc / micropython ----------
_HEAP = 111168


def _mem_free():
    return max(4096, _HEAP - 9744 - (len(_globals) * 64))


ugc = _mod(
    "gc",
    mem_free=_mem_free,
    mem_alloc=lambda: _HEAP - _mem_free(),
    collect=lambda: None,
    threshold=lambda *_a: -1,
    enable=lambda: None,
    disable=lambda: None,
    isenabled=lambda: True,
)
micropython = _mod(
    "micropython",
    const=lambda x: x,
    opt_level=lambda *_a: 0,
    mem_info=lambda *_a: print("stack: 736 out of 15360\nGC: total: %d, used: %d, free: %d" % (_HEAP, _HEAP - _mem_free(), _mem_free())),
    qstr_info=lambda *_a: None,
    alloc_emergency_exception_buf=lambda _n: None,
    schedule=lambda f, a: f(a),
)


# ---------- logging (lines go to Node, which publishes them on P/log) ----------
_LEVELS = {50: "C", 40: "E", 30: "W", 20: "I", 10: "D"}


class Logger:
    level = 0

    def __init__(self, name):
        self.name = name

    def setLevel(self, level):
        self.level = level

    def isEnabledFor(self, level):
        return level >= (self.level or 20)

    def log(self, level, msg, *args):
        if not self.isEnabledFor(level):
            return
        text = (msg % args) if args else str(msg)
        _send({"event": "log", "level": _LEVELS.get(level, "I"), "name": str(self.name), "text": text})

    def debug(self, msg, *args):
        self.log(10, msg, *args)

    def info(self, msg, *args):
        self.log(20, msg, *args)

    def warning(self, msg, *args):
        self.log(30, msg, *args)

    def error(self, msg, *args):
        self.log(40, msg, *args)

    def critical(self, msg, *args):
        self.log(50, msg, *args)

    def exc(self, e, msg, *args):
        self.log(40, msg, *args)
        self.log(40, "".join(traceback.format_exception_only(type(e), e)).rstrip())

    def exception(self, msg, *args):
        self.exc(_sys.exc_info()[1], msg, *args)


_loggers = {}


def getLogger(name=None):
    if name not in _loggers:
        _loggers[name] = Logger(name)
    return _loggers[name]


logging = _mod(
    "logging",
    CRITICAL=50, ERROR=40, WARNING=30, INFO=20, DEBUG=10, NOTSET=0,
    Logger=Logger, getLogger=getLogger,
    info=lambda m, *a: getLogger(None).info(m, *a),
    debug=lambda m, *a: getLogger(None).debug(m, *a),
    basicConfig=lambda **_kw: None,
)


# ---------- machine / watchdog (state and timers live in Node) ----------
def _reset_and_wait(how, normal=None):
    _send({"event": "reset", "how": how, "normal": normal})
    # machine.reset() never returns on a board: Node tears this process down.
    while True:
        _time.sleep(3600)


class _RTC:
    _mem = b""

    def memory(self, data=None):
        if data is None:
            return _RTC._mem
        _RTC._mem = bytes(data)

    def datetime(self, *_a):
        return _localtime()[:3] + (_localtime()[6], ) + _localtime()[3:6] + (0,)


class _WDT:
    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout

    def feed(self):
        _send({"event": "feed"})


machine = _mod(
    "machine",
    PWRON_RESET=1, HARD_RESET=2, WDT_RESET=3, DEEPSLEEP_RESET=4, SOFT_RESET=5,
    reset=lambda: _reset_and_wait("hard"),
    soft_reset=lambda: _reset_and_wait("soft"),
    reset_cause=lambda: RESET_CAUSE,
    unique_id=lambda: _hashlib.sha256(PREFIX.encode()).digest()[:6],
    freq=lambda *_a: 240000000,
    idle=lambda: None,
    RTC=_RTC,
    WDT=_WDT,
)


def _normalboot(normal):
    _send({"event": "normalboot", "normal": bool(normal)})


watchdog = _mod(
    "watchdog",
    MAGIC1=0xF00D, MAGIC2=0xBEEF, CMD="cmd/eval/0F00D/", MSG=b"\x80\x00watchdog.feed()",
    feed=lambda: _send({"event": "feed"}),
    normalboot=_normalboot,
    # The original's reset(normal) sets the boot mode, then resets after a second.
    reset=lambda normal: _send({"event": "reset", "how": "delayed", "normal": bool(normal)}),
    wdt=_WDT(),
    # The original's time of the first feed: None once the running firmware is marked valid.
    first=0,
    safemode=SAFEMODE,
    log=getLogger("watchdog"),
)


# ---------- sys / imports ----------
def _print_exception(e, file=None):
    (file or _sys.stdout).write(_mp_traceback(e))


usys = _mod(
    "sys",
    platform="esp32",
    implementation=_Attrs(name="micropython", version=tuple(int(x) for x in _os.environ.get("MQB_FW_RELEASE", "1.12.0").split(".")), mpy=10757),
    version="3.4.0",
    version_info=(3, 4, 0),
    byteorder="little",
    maxsize=2**31 - 1,
    path=["", "/lib", "/src"],
    argv=[],
    print_exception=_print_exception,
    exc_info=_sys.exc_info,
    exit=_sys.exit,
)

_FAKE = {
    "uos": uos, "os": uos,
    "uhashlib": uhashlib, "hashlib": uhashlib,
    "ubinascii": ubinascii, "binascii": ubinascii,
    "utime": utime, "time": utime,
    "gc": ugc,
    "micropython": micropython,
    "machine": machine,
    "watchdog": watchdog,
    "logging": logging,
    "sys": usys, "usys": usys,
}
_io = _mod("uio", BytesIO=io.BytesIO, StringIO=io.StringIO, open=_open)
_FAKE["uio"] = _FAKE["io"] = _io
# Pure-computation CPython modules that stand in for MicroPython's u-modules.
_REAL = {
    "ujson": "json", "json": "json", "ustruct": "struct", "struct": "struct",
    "ure": "re", "re": "re", "ucollections": "collections", "collections": "collections",
    "uerrno": "errno", "errno": "errno", "urandom": "random", "random": "random",
    "uarray": "array", "array": "array", "math": "math", "cmath": "cmath",
    "uheapq": "heapq", "heapq": "heapq", "uzlib": "zlib", "zlib": "zlib",
}
usys.modules = dict(_FAKE)


def _usys_getattr(attr):
    # print(..., file=sys.stdout) and sys.stdout.write() must reach the current capture.
    if attr in ("stdout", "stderr", "stdin"):
        return getattr(_sys, attr)
    raise AttributeError("'module' object has no attribute '%s'" % attr)


usys.__getattr__ = _usys_getattr


# Device paths of the board modules compiled so far: the only files a traceback may name. Every
# other file is the simulator's or CPython's own, on the host, which a board would never show.
_BOARD_FILES = set()


def _load_board_module(name):
    # Modules on the board's filesystem, searched along sys.path like MicroPython does.
    rel = name.replace(".", "/")
    for d in usys.path:
        base = d if d else mp_fs.uos.getcwd()
        for cand, pkg in ((rel + ".py", False), (rel + "/__init__.py", True)):
            bp = posixpath.join(base, cand)
            try:
                host = _host(bp)
            except OSError:
                continue
            if not _os.path.isfile(host):
                continue
            with io.open(host, "rb") as f:
                src = f.read()
            m = _mod(name, __file__=bp, __builtins__=_builtins)
            if pkg:
                m.__path__ = [posixpath.dirname(bp)]
            del m.__dict__["__getattr__"]
            usys.modules[name] = m
            _BOARD_FILES.add(bp)
            try:
                exec(compile(src, bp, "exec"), m.__dict__)
            except BaseException:
                del usys.modules[name]
                raise
            return m
    return None


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    if level:
        raise ImportError("relative import not supported")
    if name in usys.modules:
        m = usys.modules[name]
    elif name in _REAL:
        return __import__(_REAL[name])
    else:
        m = None
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            sub = ".".join(parts[:i])
            parent = m
            m = usys.modules.get(sub) or _load_board_module(sub)
            if m is None:
                raise ImportError("no module named '%s'" % name)
            if parent is not None:
                setattr(parent, parts[i - 1], m)
    if fromlist:
        # "from pkg import sub" may name a submodule that is not loaded yet.
        for item in fromlist:
            if hasattr(m, "__path__") and item != "*" and item not in m.__dict__:
                sub = _load_board_module(name + "." + item)
                if sub is not None:
                    setattr(m, item, sub)
        return m
    return usys.modules.get(name.split(".")[0], m)


_builtins = dict(builtins.__dict__)
_builtins.update(__import__=_import, open=_open, print=print)
_globals = {"__builtins__": _builtins, "__name__": "__main__"}
_globals.update(sys=usys, log=getLogger("main"), watchdog=watchdog, gc=ugc)
usys.modules["__main__"] = _mod("__main__", GLOBALS=lambda: _globals, safemode=SAFEMODE)
uos.dupterm = lambda *_a: None


# ---------- eval ----------
def _mp_traceback(e):
    # MicroPython-style: frames of board code only, then "Type: message".
    lines = ["Traceback (most recent call last):\n"]
    for fs in traceback.extract_tb(e.__traceback__):
        if fs.filename.startswith("<") or fs.filename in _BOARD_FILES:
            lines.append('  File "%s", line %d, in %s\n' % (fs.filename, fs.lineno, fs.name))
    name, msg = type(e).__name__, str(e)
    if isinstance(e, SyntaxError):
        lines.append('  File "%s", line %s\n' % (e.filename, e.lineno))
        msg = e.msg
    elif isinstance(e, OSError):
        name = "OSError"  # MicroPython has no PermissionError/FileNotFoundError subclasses
    lines.append("%s: %s\n" % (name, msg) if msg else "%s\n" % name)
    return "".join(lines)


class _Capture(io.TextIOBase):
    # A bounded capture like the original's BytesIO(BUFLEN) behind os.dupterm. On the esp32 port
    # stdout is "cooked" before it reaches dupterm (mp_hal_stdout_tx_strn_cooked): every "\n"
    # arrives as "\r\n", so hosts parsing eval output must strip the "\r".
    def __init__(self):
        self.buf = bytearray()

    def write(self, s):
        if isinstance(s, str):
            b = s.replace("\n", "\r\n").encode("utf-8")
        else:
            b = bytes(s).replace(b"\n", b"\r\n")
        room = OUT_LIMIT - len(self.buf)
        if room > 0:
            self.buf += b[:room]
        return len(s)

    def writable(self):
        return True


def _eval(src):
    try:
        code = compile(src, "<eval>", "eval")
    except SyntaxError:
        code = None
    if code is not None:
        return repr(eval(code, _globals, None)).encode("utf-8")
    cap = _Capture()
    old = _sys.stdout
    _sys.stdout = cap
    try:
        exec(compile(src, "<exec>", "exec"), _globals, None)
    finally:
        _sys.stdout = old
    return bytes(cap.buf)


def _error_reply(e):
    # The original turns any ValueError into "MQRepl protocol error <cmd>: <args[0]>".
    if isinstance(e, ValueError):
        return {"ok": False, "kind": "value", "msg": str(e.args[0]) if e.args else ""}
    return {"ok": False, "kind": "exc", "text": _mp_traceback(e), "short": str(e)}


def main():
    _send({"event": "ready"})
    while True:
        req = _recv()
        if req is None:
            return
        try:
            if req["op"] == "eval":
                out = _eval(req["src"])
                _send({"ok": True, "out": base64.b64encode(out).decode("ascii")})
            elif req["op"] == "path":
                _send({"ok": True, "host": _host(req["path"])})
            elif req["op"] == "settled":
                # Node decided the all-OK (its timers are there): mirror it where code reads it.
                watchdog.first = None
                _send({"ok": True})
            else:
                _send({"ok": False, "kind": "exc", "text": "bad op\n", "short": "bad op"})
        except SystemExit:
            _send({"ok": True, "out": ""})
        except BaseException as e:  # noqa: B036 - everything goes back as a reply, like the board
            _send(_error_reply(e))


main()

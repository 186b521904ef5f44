# The device's files: the root jail, the native file commands (ls, stat, sha, rm, mkdir, rmdir,
# mv) and the atomic writer behind put. Device paths are absolute ("/lib/foo.py"); `root` is
# where they live on this port ("" on a board, the --root folder on the unix port).
import errno
import hashlib
import json
import os
import sys
import time

PRIVATE_DIR = ".mqboard"
MAX_LS_ENTRIES = 2000
_CHUNK = 1024

_S_DIR = 0x4000
_S_FILE = 0x8000
_S_LINK = 0xA000
_S_FMT = 0xF000

# Named through the errno module: the numbers differ between ports (the WebAssembly port's
# ENOENT is 44, not 2).
_POSIX = {"ENOTDIR": 20, "ENOSPC": 28, "ENOTEMPTY": 39}
# The WebAssembly port's filesystem raises Emscripten's numbers, whatever its errno module says.
_WASM = {"ENOENT": 44, "EACCES": 2, "EEXIST": 20, "ENOTDIR": 54, "EISDIR": 31, "EINVAL": 28, "ENOSPC": 51, "ENOTEMPTY": 55}
_ERRNO = {}
for _name, _text in (
    ("ENOENT", "no such file or directory"),
    ("EACCES", "permission denied"),
    ("EEXIST", "file already exists"),
    ("ENOTDIR", "not a directory"),
    ("EISDIR", "is a directory"),
    ("EINVAL", "invalid argument"),
    ("ENOSPC", "no space left on device"),
    ("ENOTEMPTY", "directory not empty"),
):
    if sys.platform == "webassembly":
        _n = _WASM[_name]
    else:
        # MicroPython's errno module names only some codes; the rest are the POSIX numbers.
        _n = getattr(errno, _name, None) or _POSIX.get(_name)
    if _n is not None:
        _ERRNO[_n] = (_name, _text)

# Ports whose epoch is 2000 (older ESP32 builds) report mtimes 30 years early.
_EPOCH_OFFSET = 946684800 if time.gmtime(0)[0] == 2000 else 0


class DeviceError(Exception):
    """An error in device terms, sent to the host as it is."""


def fs_error(e, device):
    if isinstance(e, DeviceError):
        return e
    code = e.args[0] if isinstance(e, OSError) and e.args and isinstance(e.args[0], int) else None
    if code in _ERRNO:
        name, text = _ERRNO[code]
        return DeviceError("%s: %s: %s" % (name, text, device))
    return DeviceError("%s: %s" % (e, device))


class Path:
    __slots__ = ("host", "device", "is_root")

    def __init__(self, host, device):
        self.host = host
        self.device = device
        self.is_root = device == "/"


def resolve(root, device_path):
    """Maps a device path into the root, refusing anything that could leave it."""
    if "\x00" in device_path:
        raise DeviceError("invalid path: contains NUL")
    if len(device_path) > 4096:
        raise DeviceError("invalid path: too long")
    segs = [s for s in device_path.split("/") if s and s != "."]
    if ".." in segs:
        raise DeviceError("path escapes the device root: %s" % device_path)
    device = "/" + "/".join(segs)
    if segs and segs[0].lower() == PRIVATE_DIR:
        raise DeviceError("path is reserved for the runtime: %s" % device)
    return Path(root + device if segs else (root or "/"), device)


def private(root, *parts):
    return "/".join((root + "/" + PRIVATE_DIR,) + parts)


def basename(p):
    return p[p.rfind("/") + 1 :]


def dirname(p):
    i = p.rfind("/")
    return p[:i] if i > 0 else "/"


def stat(host):
    try:
        return os.stat(host)
    except OSError:
        return None


def exists(host):
    return stat(host) is not None


def is_dir(host):
    st = stat(host)
    return st is not None and st[0] & _S_FMT == _S_DIR


def entry(name, st):
    fmt = st[0] & _S_FMT
    kind = "file" if fmt == _S_FILE else "dir" if fmt == _S_DIR else "link" if fmt == _S_LINK else "other"
    e = {"name": name, "type": kind}
    if kind == "file":
        e["size"] = st[6]
    if st[8]:
        e["mtime"] = (st[8] + _EPOCH_OFFSET) * 1000
    return e


def makedirs(host):
    parts = host.split("/")
    cur = ""
    for i, part in enumerate(parts):
        cur = part if i == 0 else cur + "/" + part
        if not cur or is_dir(cur):
            continue
        os.mkdir(cur)


def remove_tree(host):
    if is_dir(host):
        for name in os.listdir(host):
            remove_tree(host + "/" + name)
        os.rmdir(host)
    else:
        os.remove(host)


def sha256_file(host):
    h = hashlib.sha256()
    size = 0
    buf = bytearray(_CHUNK)
    mv = memoryview(buf)
    with open(host, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(mv[:n])
            size += n
    return hexlify(h.digest()), size


def hexlify(b):
    return "".join("%02x" % x for x in b)


def _opts(body):
    if not body:
        return {}
    if len(body) > 4096:
        raise DeviceError("options larger than 4096 bytes")
    try:
        o = json.loads(body)
    except ValueError:
        raise DeviceError("options are not JSON")
    if not isinstance(o, dict):
        raise DeviceError("options must be an object")
    return o


def _refuse_root(p, what):
    if p.is_root:
        raise DeviceError("cannot %s /" % what)


def _ls(root, p, o):
    st = os.stat(p.host)
    if st[0] & _S_FMT != _S_DIR:
        return {"path": p.device, "entries": [entry(basename(p.device), st)]}
    entries = []

    def walk(host, rel):
        names = sorted(os.listdir(host))
        for name in names:
            if host == p.host and p.is_root and name == PRIVATE_DIR:
                continue
            if len(entries) >= MAX_LS_ENTRIES:
                raise DeviceError("ls reply too large: %s holds more than %d entries; list its subdirectories instead" % (p.device, MAX_LS_ENTRIES))
            s = stat(host + "/" + name)
            if s is None:
                continue
            rn = rel + "/" + name if rel else name
            entries.append(entry(rn, s))
            if o.get("recursive") is True and s[0] & _S_FMT == _S_DIR:
                walk(host + "/" + name, rn)

    walk(p.host, "")
    return {"path": p.device, "entries": entries}


def _stat(root, p, o):
    r = {"path": p.device}
    r.update(entry(basename(p.device) or "/", os.stat(p.host)))
    return r


def _sha(root, p, o):
    if not is_dir(p.host) and exists(p.host):
        sha, size = sha256_file(p.host)
        return {"path": p.device, "sha256": sha, "size": size}
    os.stat(p.host)  # ENOENT in device terms
    raise DeviceError("not a regular file: %s" % p.device)


def _done(p):
    return {"ok": True, "path": p.device}


def _rm(root, p, o):
    _refuse_root(p, "remove")
    if is_dir(p.host):
        if o.get("recursive") is not True:
            raise DeviceError("EISDIR: is a directory (use recursive): %s" % p.device)
        remove_tree(p.host)
    else:
        os.remove(p.host)
    return _done(p)


def _mkdir(root, p, o):
    if p.is_root and o.get("parents") is True:
        return _done(p)
    _refuse_root(p, "create")
    if o.get("parents") is True:
        makedirs(p.host)
    else:
        os.mkdir(p.host)
    return _done(p)


def _rmdir(root, p, o):
    _refuse_root(p, "remove")
    if not is_dir(p.host):
        os.stat(p.host)
        raise DeviceError("ENOTDIR: not a directory: %s" % p.device)
    if o.get("recursive") is True:
        remove_tree(p.host)
    else:
        os.rmdir(p.host)
    return _done(p)


def _mv(root, p, o):
    _refuse_root(p, "move")
    to = o.get("to")
    if not isinstance(to, str):
        raise DeviceError("mv needs a string 'to'")
    dest = resolve(root, to)
    _refuse_root(dest, "move onto")
    os.stat(p.host)
    if exists(dest.host):
        if o.get("overwrite") is not True:
            raise DeviceError("EEXIST: file exists: %s" % dest.device)
        if not is_dir(dest.host):
            os.remove(dest.host)  # FAT cannot rename over a file
    try:
        os.rename(p.host, dest.host)
    except OSError as e:
        raise fs_error(e, dest.device)
    return _done(dest)


HANDLERS = {"ls": _ls, "stat": _stat, "sha": _sha, "rm": _rm, "mkdir": _mkdir, "rmdir": _rmdir, "mv": _mv}


def run(root, cmd, tail, body):
    """Runs one file command; returns the JSON-able reply. Raises DeviceError."""
    o = _opts(body)
    p = resolve(root, tail or "/")
    try:
        return HANDLERS[cmd](root, p, o)
    except Exception as e:
        raise fs_error(e, p.device)


class AtomicWriter:
    """Writes to a temp file beside the runtime's state, hashing as it goes; `commit` renames
    it over the real name only after the checks, so the real file is either old or new."""

    def __init__(self, tmp_dir, name):
        makedirs(tmp_dir)
        self.path = tmp_dir + "/" + name
        self.f = open(self.path, "wb")
        self.h = hashlib.sha256()
        self.size = 0
        self._sha = None

    def write(self, data):
        self.f.write(data)
        self.h.update(data)
        self.size += len(data)

    def sha256(self):
        if self._sha is None:
            self._sha = hexlify(self.h.digest())
        return self._sha

    def verify(self, sha, size):
        if size is not None and size != self.size:
            raise DeviceError("size mismatch: got %d bytes, expected %d" % (self.size, size))
        if sha is not None and sha != self.sha256():
            raise DeviceError("SHA-256 mismatch: got %s, expected %s" % (self.sha256(), sha))

    def close(self):
        if self.f:
            self.f.close()
            self.f = None

    def commit(self, dest):
        self.close()
        if hasattr(os, "sync"):
            os.sync()
        try:
            os.rename(self.path, dest)
        except OSError:
            # FAT refuses to rename over an existing file; littlefs and POSIX replace it.
            if not exists(dest) or is_dir(dest):
                raise
            os.remove(dest)
            os.rename(self.path, dest)

    def discard(self):
        self.close()
        try:
            os.remove(self.path)
        except OSError:
            pass

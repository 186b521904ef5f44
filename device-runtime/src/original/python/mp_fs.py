# mp_fs.py - the board's filesystem for the original-board simulator: board paths confined to
# the board root, and MicroPython's uos and open() on top of them.

import errno as _errno
import io
import os as _os
import posixpath
import stat as _stat
import sys as _sys

from mp_base import EPOCH_2000, FLASH_BLOCKS, ROOT, _Attrs, _mod, _oserror


# ---------- root confinement ----------
_cwd = "/"


def _board_path(p):
    """Board path -> normalized absolute board path; refuses climbing above '/'."""
    if isinstance(p, bytes):
        p = p.decode("utf-8")
    if not isinstance(p, str):
        raise TypeError("can't convert '%s' object to str implicitly" % type(p).__name__)
    full = p if p.startswith("/") else posixpath.join(_cwd, p)
    parts = []
    for part in full.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise _oserror(_errno.EACCES)  # would leave the board root
            parts.pop()
        else:
            parts.append(part)
    return "/" + "/".join(parts)


def _host(p):
    """Board path -> host path inside ROOT; symlinks leading out are refused too."""
    host = _os.path.join(ROOT, _board_path(p).lstrip("/"))
    real = _os.path.realpath(host)
    if real != ROOT and not real.startswith(ROOT + _os.sep):
        raise _oserror(_errno.EACCES)
    return host


def _wrap_os(fn):
    def call(*a):
        try:
            return fn(*a)
        except OSError as e:
            # Re-raise without the host path: the board only knows its own paths.
            raise _oserror(e.errno or _errno.EIO) from None

    return call


# ---------- uos ----------
def _listdir(d=""):
    return sorted(_wrap_os(_os.listdir)(_host(d or _cwd)))


def _ilistdir(d=""):
    host = _host(d or _cwd)
    for name in _listdir(d):
        st = _os.lstat(_os.path.join(host, name))
        kind = 0x4000 if _stat.S_ISDIR(st.st_mode) else 0x8000
        yield (name, kind, 0, 0 if kind == 0x4000 else st.st_size)


def _stat_(p):
    st = _wrap_os(_os.stat)(_host(p))
    mode = 0x4000 if _stat.S_ISDIR(st.st_mode) else 0x8000
    t = int(st.st_mtime) - EPOCH_2000
    return (mode, 0, 0, 0, 0, 0, st.st_size, t, t, t)


def _chdir(p):
    global _cwd
    bp = _board_path(p)
    if not _os.path.isdir(_host(bp)):
        raise _oserror(_errno.ENOENT)
    _cwd = bp


def _rename(a, b):
    _wrap_os(_os.rename)(_host(a), _host(b))


def _du_blocks():
    n = 0
    for base, dirs, files in _os.walk(ROOT):
        n += len(dirs)
        for f in files:
            try:
                n += (_os.lstat(_os.path.join(base, f)).st_size + 4095) // 4096
            except OSError:
                pass
    return n


def _statvfs(_p="/"):
    free = max(0, FLASH_BLOCKS - _du_blocks())
    return (4096, 4096, FLASH_BLOCKS, free, free, 0, 0, 0, 0, 255)


def _uname():
    return _Attrs(
        sysname="esp32",
        nodename="esp32",
        release=_os.environ.get("MQB_FW_RELEASE", "1.12.0"),
        version="%s on 2020-05-23 (simulated in CPython %s)" % (_os.environ.get("MQB_FW_VERSION", "v1.12"), _sys.version.split()[0]),
        machine="ESP32 module with ESP32 (simulated)",
    )


uos = _mod(
    "uos",
    listdir=_listdir,
    ilistdir=_ilistdir,
    stat=_stat_,
    remove=lambda p: _wrap_os(_os.remove)(_host(p)),
    rmdir=lambda p: _wrap_os(_os.rmdir)(_host(p)),
    mkdir=lambda p: _wrap_os(_os.mkdir)(_host(p)),
    rename=_rename,
    getcwd=lambda: _cwd,
    chdir=_chdir,
    statvfs=_statvfs,
    uname=_uname,
    sync=lambda: None,
    urandom=_os.urandom,
    sep="/",
)


def _open(file, mode="r", *args, **kw):
    if isinstance(file, int):
        raise _oserror(_errno.EBADF)  # no raw fds on the board
    return _wrap_os(io.open)(_host(file), mode, *args, **kw)


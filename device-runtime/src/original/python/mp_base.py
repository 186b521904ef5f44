# mp_base.py - what every part of the original-board simulator's Python side shares: the
# board's settings from the environment, the frame protocol to Node on stdin/stdout, and
# MicroPython-style module and error objects. See mpboard.py for the whole picture.

import errno as _errno
import json
import os as _os
import struct
import sys as _sys
import time as _time
import types

ROOT = _os.path.realpath(_os.environ["MQB_ROOT"])
BOOT_MS = float(_os.environ.get("MQB_BOOT_EPOCH_MS", str(_time.time() * 1000)))
SAFEMODE = _os.environ.get("MQB_SAFEMODE") == "1"
RESET_CAUSE = int(_os.environ.get("MQB_RESET_CAUSE", "1"))
PREFIX = _os.environ.get("MQB_PREFIX", "esp32/sim")
OUT_LIMIT = 2800  # the original captures exec output in a 2800-byte buffer (BUFLEN)
FLASH_BLOCKS = 512  # a 2 MiB littlefs partition of 4 KiB blocks, for statvfs
EPOCH_2000 = 946684800  # MicroPython's esp32 epoch is 2000-01-01

_proto_out = _os.fdopen(_os.dup(1), "wb", buffering=0)
_os.dup2(2, 1)
_sys.stdout = _sys.stderr
_proto_in = _sys.stdin.buffer


def _send(obj):
    data = json.dumps(obj).encode("utf-8")
    _proto_out.write(struct.pack(">I", len(data)) + data)


def _recv():
    head = _proto_in.read(4)
    if len(head) < 4:
        return None
    (n,) = struct.unpack(">I", head)
    return json.loads(_proto_in.read(n).decode("utf-8"))


def _oserror(code):
    # MicroPython prints OSErrors as "[Errno 2] ENOENT"; the second arg gives that text.
    return OSError(code, _errno.errorcode.get(code, str(code)))


class _Attrs(types.SimpleNamespace):
    # MicroPython prints attrtuples such as sys.implementation as "(name='micropython', ...)".
    def __repr__(self):
        return "(" + ", ".join("%s=%r" % kv for kv in self.__dict__.items()) + ")"


def _mod(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)

    def missing(attr):
        # MicroPython's wording, e.g. for uhashlib.sha1 on builds without SSL.
        raise AttributeError("'module' object has no attribute '%s'" % attr)

    m.__getattr__ = missing
    return m


# Crash records: a small ring of JSON files under the device root's /crash/ (readable with the
# file commands), written before the restart and published, retained, at `P/mqb/crash` on every
# connect. Bounded: newest KEEP records, stack and log cut, so flash never fills up with them.
import json
import os
import time

KEEP = 10
MAX_STACK = 4096
MAX_MESSAGE = 1024
_EPOCH_OFFSET = 946684800 if time.gmtime(0)[0] == 2000 else 0


def now_ms():
    return (time.time() + _EPOCH_OFFSET) * 1000


def _dir(root):
    return root + "/crash"


def _ids(root):
    try:
        names = os.listdir(_dir(root))
    except OSError:
        return []
    ids = []
    for n in names:
        if n.startswith("c") and n.endswith(".json") and n[1:-5].isdigit():
            ids.append(int(n[1:-5]))
    ids.sort()
    return ids


def write(root, reason, message, stack, log_lines, boot_count, mode):
    """Writes one record; never raises (a crash handler must not crash)."""
    try:
        try:
            os.mkdir(_dir(root))
        except OSError:
            pass
        ids = _ids(root)
        n = ids[-1] + 1 if ids else 1
        rec = {
            "id": "c%d" % n,
            "time": now_ms(),
            "bootCount": boot_count,
            "mode": mode,
            "reason": reason,
            "message": str(message)[:MAX_MESSAGE],
            "log": [l.decode() if isinstance(l, bytes) else l for l in log_lines],
        }
        if stack:
            rec["stack"] = stack[:MAX_STACK]
        tmp = _dir(root) + "/.c%d.tmp" % n
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.rename(tmp, _dir(root) + "/c%d.json" % n)
        for old in ids[: max(0, len(ids) + 1 - KEEP)]:
            os.remove(_dir(root) + "/c%d.json" % old)
        return rec
    except Exception as e:
        print("crash record not written:", e)
        return None


def load(root):
    out = []
    for n in _ids(root):
        try:
            with open(_dir(root) + "/c%d.json" % n) as f:
                r = json.load(f)
            if isinstance(r, dict):
                out.append(r)
        except Exception:
            pass  # a record cut short by a power loss is skipped, not fatal
    return out


def encode(records):
    return json.dumps({"crashes": records[-KEEP:]})

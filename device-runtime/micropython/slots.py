# Two OTA slots as files under the runtime's private folder, like an ESP32's two app
# partitions: an image goes to the inactive slot in 4 KiB blocks, is checked, and marked to boot
# next; the next boot runs it on trial until the watchdog's "all OK" confirms it, and a boot
# that finds the trial unconfirmed rolls back. The state file is replaced atomically (written
# beside, then renamed), so a power loss leaves the old or the new state, never a mix.
#
# The unix and WebAssembly ports use this; board_esp32.py maps the same calls onto
# esp32.Partition and the bootloader's rollback.
import json
import os

BLOCK = 4096


def _fresh():
    return {"active": "a", "pending": None, "confirmed": True, "previous": None, "trialBoots": 0, "slots": {"a": None, "b": None}}


def other(s):
    return "b" if s == "a" else "a"


class FileSlots:
    def __init__(self, state_dir, max_image):
        self.dir = state_dir
        self.max_image = max_image
        self.state = self._load()

    def _path(self, name):
        return self.dir + "/" + name

    def _load(self):
        try:
            with open(self._path("state.json")) as f:
                s = json.load(f)
            if s.get("active") in ("a", "b") and isinstance(s.get("slots"), dict):
                return s
        except Exception:
            pass
        return _fresh()

    def _save(self):
        tmp = self._path("state.tmp")
        with open(tmp, "w") as f:
            json.dump(self.state, f)
        os.rename(tmp, self._path("state.json"))

    def boot(self):
        """Called once per boot, before anything else; returns the boot reason it implies, or None."""
        s = self.state
        if s["pending"]:
            s["previous"] = s["active"]
            s["active"] = s["pending"]
            s["pending"] = None
            s["confirmed"] = False
            s["trialBoots"] = 1
            self._save()
            return "ota"
        if not s["confirmed"]:
            # Booted again without reaching "all OK" on trial: back to the previous image.
            if s["previous"]:
                s["active"] = s["previous"]
            s["previous"] = None
            s["confirmed"] = True
            s["trialBoots"] = 0
            self._save()
            return "rollback"
        return None

    def mark_valid(self):
        s = self.state
        if not s["confirmed"]:
            s["confirmed"] = True
            s["trialBoots"] = 0
            self._save()
            return True
        return False

    def info(self):
        s = self.state
        slots = []
        for n in ("a", "b"):
            m = s["slots"].get(n)
            slots.append({"name": n, "version": m["version"] if m else None})
        return {"active": s["active"], "confirmed": s["confirmed"], "slots": slots}

    def open_update(self):
        return _SlotWriter(self)


class _SlotWriter:
    """Writes the inactive slot in whole blocks, as flash is written."""

    def __init__(self, slots):
        import hashlib

        self.slots = slots
        self.slot = other(slots.state["active"])
        try:
            os.mkdir(slots.dir)
        except OSError:
            pass
        self.tmp = slots._path("slot-%s.part" % self.slot)
        self.f = open(self.tmp, "wb")
        self.h = hashlib.sha256()
        self.size = 0
        self.buf = bytearray()

    def write(self, data):
        if self.size + len(data) > self.slots.max_image:
            raise ValueError("image larger than %d bytes" % self.slots.max_image)
        self.h.update(data)
        self.size += len(data)
        self.buf.extend(data)
        while len(self.buf) >= BLOCK:
            self.f.write(self.buf[:BLOCK])
            self.buf = self.buf[BLOCK:]

    def digest(self):
        return self.h.digest()

    def commit(self, sha_hex):
        """The image is verified: make it the slot's content and boot it next."""
        if self.buf:
            self.f.write(self.buf)
            self.buf = bytearray()
        self.f.close()
        self.f = None
        s = self.slots.state
        # The slot is marked empty before it is replaced, so no state names a half slot.
        s["slots"][self.slot] = None
        if s["pending"] == self.slot:
            s["pending"] = None
        self.slots._save()
        os.rename(self.tmp, self.slots._path("slot-%s.bin" % self.slot))
        s["slots"][self.slot] = {"sha256": sha_hex, "size": self.size, "version": sha_hex[:12]}
        s["pending"] = self.slot
        self.slots._save()
        return self.slot

    def abort(self):
        if self.f:
            self.f.close()
            self.f = None
        try:
            os.remove(self.tmp)
        except OSError:
            pass

# Board services on MicroPython's unix and WebAssembly ports, where there is no RTC memory,
# hardware watchdog or flash partition: each is backed by a file under the root's private
# folder, so a restart of the process (the unix port's reset) sees them as a board would.
# Unlike real RTC memory the file also survives a power loss; that only matters for telling a
# cold boot from a reset.
import json
import sys
import time

from slots import FileSlots

NAME = "unix"
# Largest OTA image; an ESP32 app partition is about 1.5-2 MiB.
MAX_IMAGE = 2 * 1024 * 1024


def firmware():
    v = sys.implementation.version
    return "MicroPython %d.%d.%d" % (v[0], v[1], v[2])


class Board:
    def __init__(self, root):
        self.root = root
        self.state_dir = root + "/.mqboard"

    def firmware(self):
        return firmware()

    def rtc_load(self):
        try:
            with open(self.state_dir + "/rtc.json") as f:
                v = json.load(f)
            return v if isinstance(v, dict) else {}
        except Exception:
            return {}

    def rtc_save(self, v):
        tmp = self.state_dir + "/rtc.tmp"
        with open(tmp, "w") as f:
            json.dump(v, f)
        import os

        os.rename(tmp, self.state_dir + "/rtc.json")

    def slots(self):
        return FileSlots(self.state_dir + "/ota", MAX_IMAGE)

    def wdt(self, timeout_ms):
        return SoftWDT(timeout_ms)

    def interrupter(self, timer_id):
        """None: the unix port has no hardware timer to stop a running evaluation with."""
        return None

    def hard_reset_cause(self):
        """What the hardware says about the last reset; None where there is no such register."""
        return None


class SoftWDT:
    """The watchdog as a deadline the device's watchdog task checks: it catches a device that
    cannot feed (no broker round trip), not a blocked event loop (that needs a hardware timer)."""

    def __init__(self, timeout_ms):
        self.timeout_ms = timeout_ms
        self.deadline = time.ticks_add(time.ticks_ms(), timeout_ms)

    def feed(self):
        self.deadline = time.ticks_add(time.ticks_ms(), self.timeout_ms)

    def expired(self):
        return time.ticks_diff(time.ticks_ms(), self.deadline) > 0

# Board services on an ESP32: RTC memory, the hardware watchdog and the two app partitions with
# the bootloader's rollback. Everything ESP32-only lives here, so the rest of the package runs
# unchanged on the unix and WebAssembly ports (board_unix.py).
#
# Not run in CI: there is no ESP32 there. It is written to MicroPython's esp32/machine API
# (esp32.Partition, machine.WDT, machine.RTC().memory(), machine.reset_cause()).
import io
import json
import os
import sys

import esp32
import machine
import micropython

import interrupt

NAME = "esp32"
BLOCK = 4096


def firmware():
    v = sys.implementation.version
    return "MicroPython %d.%d.%d" % (v[0], v[1], v[2])


class Board:
    def __init__(self, root):
        self.root = root
        self.state_dir = root + "/.mqboard"
        self._rtc = machine.RTC()

    def firmware(self):
        return firmware()

    def rtc_load(self):
        # RTC memory survives resets but not power loss: blank memory means a cold boot.
        try:
            v = json.loads(self._rtc.memory() or b"{}")
            return v if isinstance(v, dict) else {}
        except Exception:
            return {}

    def rtc_save(self, v):
        self._rtc.memory(json.dumps(v).encode())

    def slots(self):
        return PartitionSlots(self)

    def wdt(self, timeout_ms):
        # A hardware watchdog can be re-armed with a longer timeout but never stopped.
        return machine.WDT(timeout=timeout_ms)

    def interrupter(self, timer_id):
        # A build without dupterm (or its notify) cannot raise the interrupt: no time limit then.
        if not (hasattr(os, "dupterm") and hasattr(os, "dupterm_notify")):
            return None
        return Esp32Interrupter(timer_id)

    def hard_reset_cause(self):
        c = machine.reset_cause()
        if c == machine.WDT_RESET:
            return "watchdog"
        if c == machine.PWRON_RESET:
            return "cold"
        return None


class PartitionSlots:
    """The FileSlots interface on esp32.Partition. The bootloader (built with app rollback) boots
    a new image on trial and rolls back at the next reset unless the app was marked valid."""

    def __init__(self, board):
        self.board = board
        self.running = esp32.Partition(esp32.Partition.RUNNING)
        self.max_image = self.running.get_next_update().ioctl(4, 0) * BLOCK

    def _name(self, p):
        return p.info()[4]

    def boot(self):
        # What the last boot expected is remembered in RTC memory: `otaNext` (set with set_boot)
        # and `otaTrial` (the image on trial until "all OK").
        rtc = self.board.rtc_load()
        running = self._name(self.running)
        expected = rtc.pop("otaNext", None)
        trial = rtc.pop("otaTrial", None)
        reason = None
        if expected is not None:
            if expected == running:
                rtc["otaTrial"] = running
                reason = "ota"
            else:
                reason = "rollback"  # the bootloader refused the new image
        elif trial is not None:
            if trial == running:
                # Booted again on trial without "all OK" and the bootloader kept it (a build
                # without app rollback): roll back ourselves.
                self.board.rtc_save(rtc)
                esp32.Partition.mark_app_invalid_rollback_and_reboot()
            reason = "rollback"
        self.board.rtc_save(rtc)
        return reason

    def mark_valid(self):
        esp32.Partition.mark_app_valid_cancel_rollback()
        rtc = self.board.rtc_load()
        if rtc.pop("otaTrial", None) is None:
            return False
        self.board.rtc_save(rtc)
        return True

    def info(self):
        cur = self._name(self.running)
        nxt = self._name(self.running.get_next_update())
        confirmed = "otaTrial" not in self.board.rtc_load()
        return {"active": cur, "confirmed": confirmed, "slots": [{"name": cur, "version": firmware()}, {"name": nxt, "version": None}]}

    def open_update(self):
        return _PartitionWriter(self)


class _PartitionWriter:
    def __init__(self, slots):
        import hashlib

        self.slots = slots
        self.part = slots.running.get_next_update()
        self.slot = slots._name(self.part)
        self.h = hashlib.sha256()
        self.size = 0
        self.block = 0
        self.buf = bytearray()

    def write(self, data):
        if self.size + len(data) > self.slots.max_image:
            raise ValueError("image larger than %d bytes" % self.slots.max_image)
        self.h.update(data)
        self.size += len(data)
        self.buf.extend(data)
        while len(self.buf) >= BLOCK:
            self.part.writeblocks(self.block, self.buf[:BLOCK])
            self.block += 1
            self.buf = self.buf[BLOCK:]

    def digest(self):
        return self.h.digest()

    def commit(self, sha_hex):
        if self.buf:
            self.part.writeblocks(self.block, self.buf + b"\xff" * (BLOCK - len(self.buf)))
            self.buf = bytearray()
        self.part.set_boot()
        rtc = self.slots.board.rtc_load()
        rtc["otaNext"] = self.slot
        self.slots.board.rtc_save(rtc)
        return self.slot

    def abort(self):
        self.buf = bytearray()


class _CtrlC(io.IOBase):
    """A terminal stream with one byte to give, Ctrl-C, when asked to have it."""

    def __init__(self):
        self.ready = False

    def readinto(self, buf):
        if not self.ready:
            return None  # nothing to read (EAGAIN for a dupterm stream)
        self.ready = False
        buf[0] = 3
        return 1

    def write(self, buf):
        return len(buf)

    def ioctl(self, req, arg):
        return 0


class Esp32Interrupter(interrupt.Interrupter):
    """tick() from a hardware timer (its callback is scheduled: it runs between two bytecodes of
    the evaluation, on the main thread); the interrupt through dupterm, as WebREPL's: attached
    for the moment, os.dupterm_notify() reads the Ctrl-C from it and, since it is the interrupt
    character, calls mp_sched_keyboard_interrupt(). The port has a single dupterm slot: whatever
    held it (WebREPL) is put back at once."""

    def __init__(self, timer_id):
        super().__init__()
        self._timer = machine.Timer(timer_id)
        self._stream = _CtrlC()
        self._cb = self.tick

    def _start(self):
        self._timer.init(period=interrupt.TICK_MS, mode=machine.Timer.PERIODIC, callback=self._cb)

    def _stop(self):
        self._timer.deinit()

    def _raise(self):
        micropython.kbd_intr(3)
        self._stream.ready = True
        prev = os.dupterm(self._stream, 0)
        try:
            os.dupterm_notify(None)
        finally:
            os.dupterm(prev, 0)

# Stopping a running evaluation from outside it: the `eval` time limit and Ctrl-C in a terminal
# session. An evaluation runs synchronously and holds the event loop, so neither the loop nor
# the MQTT client can stop it; what can is MicroPython's own keyboard interrupt, raised as soon
# as the VM resumes, when `mp_sched_keyboard_interrupt()` has been called. Python reaches it
# through `os.dupterm_notify()` reading an interrupt character from a dupterm stream
# (extmod/os_dupterm.c), which is how WebREPL interrupts loops on an ESP32; an exception raised
# in a scheduled callback does not do it (it is printed and dropped).
#
# `tick()` does the checking: on an ESP32 a hardware timer calls it while an evaluation runs
# (board_esp32.py); the WebAssembly port has no timer that can run during Python code, so there
# it runs only when something calls it (board_wasm.py).
import time

# How often the board's timer calls tick() while an evaluation runs.
TICK_MS = 50
# After firing, fire again this often while armed: code that catches KeyboardInterrupt (a bare
# `except:`) must not escape the limit.
REFIRE_MS = 200


class Interrupter:
    def __init__(self):
        self.armed = False
        # Why the last armed evaluation was interrupted: None, "timeout" or "interrupt".
        self.fired = None
        self._deadline = 0
        self._next = 0
        self._check = None

    def arm(self, ms, check=None):
        """Until disarm(): interrupt after `ms`, or as soon as `check()` says so."""
        self.fired = None
        self._check = check
        now = time.ticks_ms()
        self._deadline = time.ticks_add(now, ms)
        self._next = now
        self.armed = True
        self._start()

    def disarm(self):
        self.armed = False
        self._stop()

    def tick(self, _=None):
        # Runs between two bytecodes of the evaluation (a scheduled timer callback): it must
        # neither raise nor allocate much.
        if not self.armed:
            return
        now = time.ticks_ms()
        if time.ticks_diff(now, self._next) < 0:
            return
        why = self.fired
        if why is None:
            if time.ticks_diff(now, self._deadline) >= 0:
                why = "timeout"
            elif self._check is not None and self._check():
                why = "interrupt"
            else:
                return
        self.fired = why
        self._next = time.ticks_add(now, REFIRE_MS)
        self._raise()

    # ---- the port's part ----
    def _start(self):
        pass

    def _stop(self):
        pass

    def _raise(self):
        raise NotImplementedError


def settle():
    """Runs a few branches: a keyboard interrupt scheduled just before the evaluation ended is
    raised here, inside the caller's try, and not later in the device's own code."""
    n = 0
    while n < 4:
        n += 1

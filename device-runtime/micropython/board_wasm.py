# Board services on the WebAssembly port as the demo fleet and the tests run it
# (device-runtime/src/micropython-wasm/): those of the unix port (board_unix.py), plus what the
# host side emulates of an ESP32 through the JS module `mqb_hw`: a hardware watchdog that ends
# the interpreter when its feeds stop (a loop that holds the event loop included), and the
# reset cause it leaves for the next boot.
import mqb_hw

import board_unix
import interrupt
from board_unix import firmware  # noqa: F401  (the board module's interface)

NAME = "wasm"
# The soft deadline (board_unix.SoftWDT) fires first while the event loop still runs, so that
# case leaves its crash record; the hardware one catches a loop that no longer runs.
HW_MARGIN_MS = 2000


class WasmInterrupter(interrupt.Interrupter):
    """The port has no timer that runs during Python code, so tick() runs only when the code
    calls it (`device.irq.tick()`); the interrupt is the C function os.dupterm_notify() ends in,
    mp_sched_keyboard_interrupt(), called from JS. A loop that never calls it is stopped by the
    hardware watchdog."""

    def _raise(self):
        mqb_hw.interrupt()


class WDT(board_unix.SoftWDT):
    def __init__(self, timeout_ms):
        super().__init__(timeout_ms)
        mqb_hw.wdt(timeout_ms + HW_MARGIN_MS)

    def feed(self):
        super().feed()
        mqb_hw.feed()


class Board(board_unix.Board):
    def wdt(self, timeout_ms):
        return WDT(timeout_ms)

    def interrupter(self, timer_id):
        return WasmInterrupter()

    def hard_reset_cause(self):
        c = mqb_hw.reset_cause()
        return c if c == "watchdog" else None

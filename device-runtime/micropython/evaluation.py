# Evaluation for `eval` and the terminal: expression -> repr, statements -> printed output
# (bounded), exception -> traceback; in the device's globals; cut off at the device's time limit
# or by Ctrl-C through the board's interrupter (interrupt.py).
import io
import sys

import interrupt

MAX_EVAL_OUTPUT = 2800


# The frame of `run` below: the framework's own, not the user's, so a traceback leaves it out.
_OWN_FRAME = 'evaluation.py", line '


def traceback_text(e):
    buf = io.StringIO()
    sys.print_exception(e, buf)
    return "".join(l + "\n" for l in buf.getvalue().split("\n") if l and not (l.startswith('  File "') and _OWN_FRAME in l))


class _Output:
    """What `print` writes to during an eval: bounded, like the original's ~2.8 KB."""

    def __init__(self, limit):
        self.parts = []
        self.n = 0
        self.limit = limit
        self.cut = False

    def write(self, s):
        if self.n >= self.limit:
            self.cut = True
            return
        self.parts.append(s)
        self.n += len(s)

    def text(self):
        t = "".join(self.parts)
        if self.cut or len(t) > self.limit:
            t = t[: self.limit] + "\n[output cut at %d characters]\n" % self.limit
        return t


def run(dev, src, limit=MAX_EVAL_OUTPUT, check=None):
    """Runs `src` in the device's globals, cut off after dev.eval_timeout_ms, or when `check()`
    (polled while it runs) says Ctrl-C arrived; returns (ok, text)."""
    out = _Output(limit)
    g = dev.globals
    irq = dev.irq

    def _print(*args, sep=" ", end="\n", file=None):
        (file or out).write(sep.join(str(a) for a in args) + end)

    g["print"] = _print
    try:
        try:
            if irq is not None:
                irq.arm(dev.eval_timeout_ms, check)
            try:
                code = compile(src, "<eval>", "eval")
            except SyntaxError:
                code = None
            if code is not None:
                return True, repr(eval(code, g))
            exec(src, g)
            return True, out.text()
        finally:
            if irq is not None:
                try:
                    irq.disarm()
                    # An interrupt fired just before the end lands here, not in our own code.
                    interrupt.settle()
                except KeyboardInterrupt:
                    irq.disarm()
    except KeyboardInterrupt as e:
        text = traceback_text(e)
        if irq is not None and irq.fired == "timeout":
            text += "eval timed out after %d ms\n" % dev.eval_timeout_ms
        return False, text
    except Exception as e:
        return False, traceback_text(e)

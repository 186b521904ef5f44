# Terminal sessions (docs/protocol.md, "Terminal sessions"): an interactive REPL per session on
# `P/mqb/term/<sid>/in|ctl` (host -> device) and `out|evt` (device -> host), with line editing,
# history, multi-line blocks, tab completion of globals, Ctrl-C clearing the line and Ctrl-D
# ending the session. Output is flow-controlled by the host's acks (a window of bytes).
#
# Evaluations are synchronous, in the device's globals (shared with `eval`), and hold the event
# loop while they run: Ctrl-C reaches a running one through the board's interrupter
# (interrupt.py), whose timer looks at the bytes waiting on the MQTT socket for this session's
# interrupt message; the same message is read again afterwards and then ignored once.
import asyncio
import json
import sys
import time

import wire

MAX_SESSIONS = 4
IDLE_MS = 3600000
HISTORY = 20
OUT_CAP = 16384
MAX_LINE = 1024
_INTERRUPT = b'{"op":"interrupt'
# How long the echo of a line may take to go out before the line runs.
FLUSH_MS = 500
_SID_OK = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


def valid_sid(sid):
    if not 0 < len(sid) <= 32:
        return False
    for c in sid:
        if c not in _SID_OK:
            return False
    return True


class Session:
    def __init__(self, server, sid, window, cols):
        self.server = server
        self.sid = sid
        self.window = window
        self.cols = cols
        self.sent = 0
        self.acked = 0
        self.out_seq = 0
        self.expect_in = 0
        self.queue = bytearray()
        self.dropped = 0
        self.active = time.ticks_ms()
        self.line = ""
        self.cur = 0
        self.block = []
        self.history = []
        self.hpos = 0
        self.esc = b""
        # The interrupt message that stopped a running evaluation: still to come through MQTT.
        self.stopped_by_interrupt = False
        # A complete line or block, for feed() to run.
        self.ready = None
        # Keystrokes waiting for the line editor, fed by a task of their own (see TermServer.input).
        self.inq = []
        self.feeding = False

    # ---- output, flow-controlled ----
    def write(self, text):
        data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode()
        room = OUT_CAP - len(self.queue)
        if len(data) > room:
            self.dropped += len(data) - max(0, room)
            data = data[: max(0, room)]
        self.queue.extend(data)
        self.pump()

    def pump(self):
        if self.dropped and len(self.queue) < OUT_CAP // 2:
            self.queue.extend(("\r\n[%d bytes of output dropped: the host was not keeping up]\r\n" % self.dropped).encode())
            self.dropped = 0
        chunk = self.server.dev.max_chunk
        while self.queue:
            room = self.window - (self.sent - self.acked)
            if room <= 0:
                return
            n = min(room, chunk, len(self.queue))
            self.server.dev.send(self.server.topic(self.sid, "out"), wire.frame(self.out_seq, False, bytes(self.queue[:n])))
            self.queue = self.queue[n:]
            self.out_seq = (self.out_seq + 1) & 0x7FFF
            self.sent += n

    def ack(self, total):
        if isinstance(total, int) and self.acked < total <= self.sent:
            self.acked = total
            self.pump()

    # ---- the line editor ----
    def prompt(self):
        return "... " if self.block else ">>> "

    def redraw(self):
        # Back to the line's start, rewrite it, clear the rest, put the cursor back.
        tail = len(self.line) - self.cur
        self.write("\r" + self.prompt() + self.line + "\x1b[K" + ("\x1b[%dD" % tail if tail else ""))

    def set_line(self, s):
        self.line = s
        self.cur = len(s)
        self.redraw()

    async def feed(self, data):
        try:
            text = data.decode()
        except UnicodeError:
            text = "".join(chr(b) if b < 128 else "?" for b in data)
        for ch in text:
            if not self.server.sessions.get(self.sid) is self:
                return  # ended by Ctrl-D part way through the input
            self.key(ch)
            if self.ready is not None:
                src = self.ready
                self.ready = None
                # The echo (the line, its newline) goes out before the evaluation holds the loop.
                await self.server.dev.flush_out(FLUSH_MS)
                self.run(src)
                self.write(self.prompt())

    def key(self, ch):
        if self.esc:
            self.esc += ch.encode()
            seq = self.esc
            if len(seq) == 2 and seq != b"\x1b[" and seq != b"\x1bO":
                self.esc = b""
            elif len(seq) >= 3 and (65 <= seq[-1] <= 90 or 97 <= seq[-1] <= 122 or seq[-1] == 126):
                self.esc = b""
                self.escape(seq[2:].decode())
            return
        o = ord(ch)
        if ch == "\x1b":
            self.esc = b"\x1b"
        elif ch in "\r\n":
            self.enter()
        elif o in (0x7F, 0x08):
            if self.cur:
                self.line = self.line[: self.cur - 1] + self.line[self.cur :]
                self.cur -= 1
                self.redraw()
        elif o == 0x03:
            self.interrupt()
        elif o == 0x04:
            if not self.line and not self.block:
                self.write("\r\n")
                self.server.end(self, "exit")
        elif o == 0x01:
            self.cur = 0
            self.redraw()
        elif o == 0x05:
            self.cur = len(self.line)
            self.redraw()
        elif o == 0x09:
            self.complete()
        elif o >= 0x20 and len(self.line) < MAX_LINE:
            self.line = self.line[: self.cur] + ch + self.line[self.cur :]
            self.cur += 1
            if self.cur == len(self.line):
                self.write(ch)
            else:
                self.redraw()

    def escape(self, code):
        if code == "D" and self.cur > 0:
            self.cur -= 1
            self.write("\x1b[D")
        elif code == "C" and self.cur < len(self.line):
            self.cur += 1
            self.write("\x1b[C")
        elif code == "A" and self.hpos > 0:
            self.hpos -= 1
            self.set_line(self.history[self.hpos])
        elif code == "B" and self.hpos < len(self.history):
            self.hpos += 1
            self.set_line(self.history[self.hpos] if self.hpos < len(self.history) else "")
        elif code in ("H", "1~"):
            self.cur = 0
            self.redraw()
        elif code in ("F", "4~"):
            self.cur = len(self.line)
            self.redraw()
        elif code == "3~" and self.cur < len(self.line):
            self.line = self.line[: self.cur] + self.line[self.cur + 1 :]
            self.redraw()

    def interrupt_waiting(self):
        """Whether this session's interrupt message is among the bytes that arrived while an
        evaluation runs (called from the board's timer: no awaiting, nothing consumed). The
        message is a PUBLISH to .../ctl whose payload starts with {"op":"interrupt", after the
        2-byte packet id of QoS 1."""
        data = self.server.dev.mqtt.peek()
        if not data:
            return False
        t = self.server.topic(self.sid, "ctl").encode()
        i = data.find(t)
        while i >= 0:
            j = i + len(t)
            if data[j : j + 16] == _INTERRUPT or data[j + 2 : j + 18] == _INTERRUPT:
                return True
            i = data.find(t, j)
        return False

    def interrupt(self):
        """Ctrl-C at the line editor: the line (and any block) is dropped."""
        self.write("^C\r\nKeyboardInterrupt\r\n")
        self.line = ""
        self.cur = 0
        self.block = []
        self.write(self.prompt())

    def complete(self):
        start = self.cur
        while start > 0 and (self.line[start - 1].isalpha() or self.line[start - 1].isdigit() or self.line[start - 1] in "_."):
            start -= 1
        word = self.line[start : self.cur]
        if "." in word:
            dot = word.rfind(".")
            base, part = word[:dot], word[dot + 1 :]
            try:
                names = dir(eval(base, self.server.dev.globals))
            except Exception:
                return
        else:
            part = word
            names = list(self.server.dev.globals.keys()) + dir(__import__("builtins"))
        hits = sorted(set(n for n in names if n.startswith(part) and not n.startswith("__")))
        if not hits:
            return
        common = hits[0]
        for h in hits[1:]:
            while not h.startswith(common):
                common = common[:-1]
        if len(hits) > 1 and common == part:
            self.write("\r\n" + "  ".join(hits) + "\r\n")
        add = common[len(part) :]
        self.line = self.line[: self.cur] + add + self.line[self.cur :]
        self.cur += len(add)
        self.redraw()

    def enter(self):
        line = self.line
        self.write("\r\n")
        self.line = ""
        self.cur = 0
        if line.strip() and (not self.history or self.history[-1] != line):
            self.history.append(line)
            if len(self.history) > HISTORY:
                self.history.pop(0)
        self.hpos = len(self.history)
        if self.block:
            if line.strip():
                self.block.append(line)
                self.write(self.prompt())
                return
            src = "\n".join(self.block)
            self.block = []
        elif line.rstrip().endswith(":"):
            self.block = [line]
            self.write(self.prompt())
            return
        else:
            src = line
        if src.strip():
            self.ready = src  # run by feed(), once the echo is out
        else:
            self.write(self.prompt())

    def run(self, src):
        dev = self.server.dev
        ok, text = dev.evaluate(src, limit=OUT_CAP, check=self.interrupt_waiting)
        if dev.irq is not None and dev.irq.fired == "interrupt":
            self.stopped_by_interrupt = True
        dev.mqtt.nudge()
        if ok and text == "None":
            return  # an expression statement that returned nothing, as at a REPL
        if text:
            self.write(text if text.endswith("\n") else text + "\n")


class TermServer:
    def __init__(self, dev):
        self.dev = dev
        self.sessions = {}
        self.told = []

    def topic(self, sid, d):
        return self.dev.prefix + "/mqb/term/" + sid + "/" + d

    def subscriptions(self):
        return [self.topic("+", "in"), self.topic("+", "ctl")]

    def parse(self, topic):
        head = self.dev.prefix + "/mqb/term/"
        if not topic.startswith(head):
            return None
        rest = topic[len(head) :].split("/")
        if len(rest) != 2 or rest[1] not in ("in", "ctl") or not valid_sid(rest[0]):
            return None
        return rest[0], rest[1]

    def evt(self, sid, e):
        self.dev.send(self.topic(sid, "evt"), json.dumps(e))

    def on_message(self, sid, d, payload):
        try:
            if d == "ctl":
                self.control(sid, payload)
            else:
                self.input(sid, payload)
        except Exception as e:
            # A terminal fault is the session's problem, never the device's.
            self.dev.log.error("terminal %s: %r" % (sid, e))

    def control(self, sid, payload):
        c = None
        if len(payload) <= 4096:
            try:
                c = json.loads(payload)
            except ValueError:
                pass
        if not isinstance(c, dict) or not isinstance(c.get("op"), str):
            return self.evt(sid, {"op": "error", "message": "bad control message"})
        op = c["op"]
        if op == "open":
            return self.open(sid, c)
        s = self.sessions.get(sid)
        if s is None:
            return self.unknown(sid)
        s.active = time.ticks_ms()
        if op == "ack":
            s.ack(c.get("bytes"))
        elif op == "interrupt":
            self.queue(s, None)  # in order with the keystrokes before it
        elif op == "resize":
            if isinstance(c.get("cols"), int):
                s.cols = c["cols"]
        elif op == "close":
            self.end(s, "closed by host")

    def open(self, sid, c):
        window = c.get("window", 262144)
        if not isinstance(window, int) or window < 1024:
            window = 262144
        if sid in self.sessions:
            return self.evt(sid, {"op": "opened", "window": window})  # a redelivered open
        if len(self.sessions) >= MAX_SESSIONS:
            oldest = min(self.sessions.values(), key=lambda s: s.active)
            self.end(oldest, "replaced by a newer session")
        s = Session(self, sid, window, c.get("cols", 80))
        self.sessions[sid] = s
        self.dev.log.info("terminal %s opened" % sid)
        self.evt(sid, {"op": "opened", "window": window})
        v = sys.implementation.version
        s.write("MicroPython %d.%d.%d on %s (%s); Ctrl-D ends the session\r\n" % (v[0], v[1], v[2], sys.platform, self.dev.prefix))
        s.write(s.prompt())

    def input(self, sid, payload):
        s = self.sessions.get(sid)
        if s is None:
            return self.unknown(sid)
        f = wire.decode_frame(payload)
        if f is None:
            return
        seq = f[0]
        behind = (s.expect_in - seq) & 0x7FFF
        if seq != s.expect_in:
            if 0 < behind <= 0x4000:
                return  # a duplicate
            self.evt(sid, {"op": "error", "message": "input message missing (expected seq %d, got %d)" % (s.expect_in, seq)})
            return self.end(s, "input lost")
        s.expect_in = (seq + 1) & 0x7FFF
        s.active = time.ticks_ms()
        self.queue(s, f[3])

    def queue(self, s, data):
        """Keystrokes (or None for the interrupt op) are fed from a task, not from the message
        handler: the message's PUBACK goes out first, so the host can send its next message
        (an interrupt) while an evaluation runs."""
        s.inq.append(data)
        if not s.feeding:
            s.feeding = True
            asyncio.create_task(self._feed(s))

    async def _feed(self, s):
        try:
            while s.inq and self.sessions.get(s.sid) is s:
                data = s.inq.pop(0)
                if data is not None:
                    await s.feed(data)
                elif s.stopped_by_interrupt:
                    s.stopped_by_interrupt = False  # it already stopped the evaluation
                else:
                    s.interrupt()
                await asyncio.sleep_ms(0)
        except Exception as e:
            self.dev.log.error("terminal %s: %r" % (s.sid, e))
        finally:
            s.feeding = False

    def unknown(self, sid):
        if sid in self.told:
            return
        self.told.append(sid)
        if len(self.told) > 32:
            self.told.pop(0)
        self.evt(sid, {"op": "closed", "reason": "no such session (the device may have restarted)"})

    def end(self, s, reason):
        if self.sessions.get(s.sid) is not s:
            return
        del self.sessions[s.sid]
        s.pump()
        self.evt(s.sid, {"op": "closed", "reason": reason})
        self.dev.log.info("terminal %s closed: %s" % (s.sid, reason))

    def sweep(self):
        now = time.ticks_ms()
        for s in list(self.sessions.values()):
            if time.ticks_diff(now, s.active) > IDLE_MS:
                self.end(s, "idle")

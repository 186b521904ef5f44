# Log lines in the original format `<L> <time> <name>: <text>` for `P/log`. Lines are buffered
# until the broker takes them: about 10 KB while booting (the boot messages matter most), less
# once connected. On overflow the original's drop order holds: lines below WARNING go first,
# then the oldest. The last lines are also kept for crash records.
import time

LEVELS = "CEWID"
MAX_LINE = 1024
BOOT_BUDGET = 10240
RUN_BUDGET = 2048
RECENT = 20

_boot_ms = time.ticks_ms()
# The clock counts as set once it is past 2020 (NTP, or a host clock on the unix port).
_CLOCK_SET_AFTER = 1577836800 - (946684800 if time.gmtime(0)[0] == 2000 else 0)


def stamp():
    t = time.time()
    if t < _CLOCK_SET_AFTER:
        return str(time.ticks_diff(time.ticks_ms(), _boot_ms))
    ms = time.ticks_ms() % 1000 if not hasattr(time, "time_ns") else (time.time_ns() // 1000000) % 1000
    tm = time.gmtime(int(t))
    return "%02d:%02d:%02d.%03d" % (tm[3], tm[4], tm[5], ms)


def format_line(level, name, text):
    b = ("%s %s %8s: %s" % (level, stamp(), name, text)).encode()
    if len(b) > MAX_LINE:
        end = MAX_LINE
        while end > 0 and b[end] & 0xC0 == 0x80:
            end -= 1  # never inside a character
        b = b[:end]
    return b


class LogBuffer:
    def __init__(self, echo=None):
        self.lines = []  # [rank, bytes]
        self.bytes = 0
        self.budget = BOOT_BUDGET
        self.dropped = 0
        self.recent = []
        self.echo = echo
        self.min_rank = 4
        self._wake = None

    def push(self, level, name, text):
        rank = LEVELS.find(level)
        if rank > self.min_rank:
            return
        line = format_line(level, name, text)
        self.recent.append(line)
        if len(self.recent) > RECENT:
            self.recent.pop(0)
        if self.echo:
            self.echo(line.decode())
        self.lines.append((rank, line))
        self.bytes += len(line)
        self._trim()
        if self._wake:
            self._wake.set()

    def _trim(self):
        # Below WARNING first (oldest of them first), then the oldest of any level.
        i = 0
        while self.bytes > self.budget and i < len(self.lines):
            if self.lines[i][0] > 2:
                self.bytes -= len(self.lines.pop(i)[1])
                self.dropped += 1
            else:
                i += 1
        while self.bytes > self.budget and self.lines:
            self.bytes -= len(self.lines.pop(0)[1])
            self.dropped += 1

    def set_budget(self, n):
        self.budget = n
        self._trim()

    def take(self):
        if not self.lines:
            return None
        rank, line = self.lines.pop(0)
        self.bytes -= len(line)
        return line

    def give_back(self, line):
        self.lines.insert(0, (0, line))
        self.bytes += len(line)


class Logger:
    def __init__(self, buf, name):
        self.buf = buf
        self.name = name

    def critical(self, msg):
        self.buf.push("C", self.name, msg)

    def error(self, msg):
        self.buf.push("E", self.name, msg)

    def warning(self, msg):
        self.buf.push("W", self.name, msg)

    warn = warning

    def info(self, msg):
        self.buf.push("I", self.name, msg)

    def debug(self, msg):
        self.buf.push("D", self.name, msg)


async def pump(buf, mqtt, topic):
    """Sends buffered lines while connected, one PUBACK at a time (a flood waits in the budget)."""
    import asyncio

    buf._wake = asyncio.Event()
    while True:
        await mqtt.wait_connected()
        if buf.dropped:
            n = buf.dropped
            buf.dropped = 0
            buf.lines.insert(0, (2, format_line("W", "log", "%d log line(s) dropped while offline" % n)))
            buf.bytes += len(buf.lines[0][1])
        line = buf.take()
        if line is None:
            buf._wake.clear()
            await buf._wake.wait()
            continue
        try:
            await mqtt.publish(topic, line)
        except Exception:
            buf.give_back(line)
            await asyncio.sleep_ms(200)

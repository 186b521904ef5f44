# One MQBoard device on MicroPython: the boot (reason, mode, OTA trial), the status with its Last
# Will, the command dispatch of docs/protocol.md, logs, crash records, "all OK" and safe mode.
# What the commands do lives next door: evaluation.py (eval), transfers.py (get, put, ota),
# files.py (the file commands), watchdog.py (the broker-fed watchdog), app_modules.py (the
# application modules, `start(mqtt, config)` as in the original), term.py (terminal sessions).
#
# Port differences live in the board object (board_unix.py, board_esp32.py) and in
# `open_stream`, the transport the MQTT client reads and writes (streams.py on a board or the
# unix port; the WebAssembly test harness passes a bridge to Node's `net`).
import asyncio
import gc
import json
import time

import app_modules
import crashlog
import evaluation
import files
import mqlog
import term
import transfers
import wire
from evaluation import traceback_text
from files import DeviceError
from mqtt import MQTTClient
from watchdog import Watchdog, feeder
from wire import ProtocolError

RUNTIME_KIND = "mqboard-micropython"
VERSION = "0.1.0"
PROTOCOL = 1
COMMANDS = ["eval", "get", "put", "ota", "ls", "stat", "sha", "rm", "mkdir", "rmdir", "mv", "reset", "ack"]
MAX_CHUNK = 4096
STATUS_EVERY_S = 60
# An evaluation is cut off after this long (config `evalTimeoutMs`), as the Node runtime's.
EVAL_TIMEOUT_MS = 5000


def now_ms():
    if hasattr(time, "time_ns"):
        return time.time_ns() // 1000000 + crashlog._EPOCH_OFFSET * 1000
    return crashlog.now_ms()


def _tags(v):
    """The config's tags as the status carries them (docs/protocol.md), or None."""
    if not isinstance(v, list) or len(v) > 16:
        return None
    for t in v:
        if not isinstance(t, str) or not 0 < len(t) <= 32:
            return None
    return v


class Device:
    def __init__(self, cfg, board, open_stream, echo=None):
        self.cfg = cfg
        self.prefix = cfg["prefix"]
        self.root = cfg.get("root", "")
        self.board = board
        self.max_chunk = cfg.get("maxChunk", MAX_CHUNK)
        self.logbuf = mqlog.LogBuffer(echo)
        self.log = mqlog.Logger(self.logbuf, "main")
        self.started = time.ticks_ms()
        self.outq = []
        self.out_event = asyncio.Event()
        self.seen_nondup = False
        self.modules = []
        self.handlers = []
        self.result = None
        self._stop = asyncio.Event()
        self.globals = {"__name__": "__main__"}
        self.tmp_dir = files.private(self.root, "tmp")
        files.makedirs(self.tmp_dir)
        # Uploads cut off by the last reset or power loss leave their temp files behind.
        for name in files.os.listdir(self.tmp_dir):
            try:
                files.remove_tree(self.tmp_dir + "/" + name)
            except OSError:
                pass
        self.transfers = transfers.Transfers(self)
        self.crashes = crashlog.load(self.root)
        self._boot()
        will = (self.topic("mqb/status"), json.dumps({"online": False, "reason": "lost"}), True)
        self.mqtt = MQTTClient(
            open_stream,
            cfg.get("clientId") or "mqb-" + self.prefix.replace("/", "-"),
            keepalive=cfg.get("keepalive", 30),
            will=will,
            user=cfg.get("user"),
            password=cfg.get("password"),
            log=mqlog.Logger(self.logbuf, "mqtt"),
        )
        self.mqtt.on_message = self._on_message
        self.mqtt.on_connect.append(self._on_connect)
        wd = cfg.get("watchdog", {})
        self.watchdog = Watchdog(self, wd.get("timeout", 300), wd.get("allok", 300))
        self.revert = wd.get("revert", True)
        self.globals["watchdog"] = self.watchdog
        self.globals["device"] = self
        self.tags = _tags(cfg.get("tags"))
        if self.tags is None and "tags" in cfg:
            self.log.warning("config tags ignored: a list of at most 16 strings of 1 to 32 characters is expected")
        self.eval_timeout_ms = cfg.get("evalTimeoutMs", EVAL_TIMEOUT_MS)
        # None where the port cannot stop running code (the unix port): no time limit there.
        self.irq = board.interrupter(cfg.get("interruptTimer", 1))
        self.term = term.TermServer(self)

    def topic(self, rest):
        return self.prefix + "/" + rest

    # ---- boot: reason, mode, OTA trial ----
    def _boot(self):
        rtc = self.board.rtc_load()
        cold = not rtc
        self.boot_count = rtc.get("bootCount", 0) + 1
        hw = self.board.hard_reset_cause()
        # Our own resets leave their reason in RTC memory; anything else is the hardware's word.
        reason = rtc.get("reason") or hw or ("cold" if cold else "unknown")
        if hw == "watchdog" and rtc.get("reason") is None:
            # The hardware watchdog left no time for a record before the reset: written now.
            self._record_crash("watchdog", "hardware watchdog reset", None, mode=rtc.get("mode", "normal"), boot=self.boot_count - 1)
        mode = self.cfg.get("mode")
        if mode not in ("normal", "safe"):
            import bootmode

            mode = bootmode.decide(rtc)
        self.slots = self.board.slots()
        ota = self.slots.boot()
        if ota:
            reason = ota
        self.mode = mode
        self.boot_reason = reason
        # The magic is cleared, so a crash before the next "all OK" leads to safe mode. What the
        # OTA slots keep in RTC memory (board_esp32.py) stays.
        keep = {k: v for k, v in self.board.rtc_load().items() if k.startswith("ota")}
        keep.update({"bootCount": self.boot_count, "mode": mode})
        self.board.rtc_save(keep)
        if ota == "rollback":
            self.log.warning("OTA image never reached all OK: rolled back to slot %s" % self.slots.info()["active"])

    def all_ok(self):
        self.log.info("all OK after %ds of good feeding" % self.watchdog.allok_s)
        rtc = self.board.rtc_load()
        rtc["magic"] = True
        self.board.rtc_save(rtc)
        if self.slots.mark_valid():
            self.log.warning("OTA image confirmed in slot %s" % self.slots.info()["active"])
            self.publish_status()
        if self.mode == "safe" and self.revert:
            self.log.warning("safe mode: reverting to normal mode")
            self.finish("normal")

    # ---- crashes ----
    def _record_crash(self, reason, message, stack, mode=None, boot=None):
        rec = crashlog.write(self.root, reason, message, stack, self.logbuf.recent, boot or self.boot_count, mode or self.mode)
        if rec:
            self.crashes.append(rec)
            self.crashes = self.crashes[-crashlog.KEEP :]

    def crash(self, reason, e):
        """An uncaught exception: record it, then reset (into safe mode unless "all OK" was reached)."""
        stack = traceback_text(e) if isinstance(e, BaseException) else None
        self.log.critical("crash (%s): %r%s" % (reason, e, "\n" + stack if stack else ""))
        self._record_crash(reason, repr(e), stack)
        self.finish("crash")

    # ---- lifecycle ----
    def finish(self, how):
        if self.result is None:
            self.result = how
        self._stop.set()

    async def run(self):
        """Runs until shutdown or reset; returns how it ended: shutdown, normal, safe, soft,
        hard, crash or watchdog. The caller restarts the board accordingly."""
        loop = asyncio.get_event_loop()
        loop.set_exception_handler(lambda loop, ctx: self.crash("exception", ctx.get("exception")))
        self.log.warning("%s %s, %s mode, boot %d (%s)" % (RUNTIME_KIND, VERSION, self.mode, self.boot_count, self.boot_reason))
        # The client's own task is not cancelled but stopped (see MQTTClient.disconnect).
        self.mqtt.start()
        tasks = [
            asyncio.create_task(mqlog.pump(self.logbuf, self.mqtt, self.topic("log"))),
            asyncio.create_task(self._sender()),
            asyncio.create_task(self._housekeeping()),
            asyncio.create_task(feeder(self)),
        ]
        if self.mode == "normal":
            app_modules.start_all(self)
        gc.collect()
        self.log.info("MEM free=%d alloc=%d" % (gc.mem_free(), gc.mem_alloc()))
        await self._stop.wait()
        how = self.result
        await self._shutdown(how)
        for t in tasks:
            t.cancel()
        return how

    async def _shutdown(self, how):
        rtc = self.board.rtc_load()
        if how in ("normal", "safe"):
            rtc["next"] = how
            rtc["reason"] = "command"
        elif how in ("soft", "hard"):
            rtc["next"] = self.mode
            rtc["reason"] = "soft" if how == "soft" else "command"
        elif how in ("crash", "watchdog"):
            rtc["reason"] = how
        self.board.rtc_save(rtc)
        if how == "hard":
            # Immediate, like machine.reset(): the broker publishes the Last Will.
            self.mqtt._stopping = True
            self.mqtt._close()
            return
        for s in list(self.term.sessions.values()):
            self.term.end(s, "device shutting down" if how == "shutdown" else "device resetting")
        offline = {"online": False, "reason": "shutdown" if how == "shutdown" else "reset", "time": now_ms()}
        try:
            await self.flush_out(2000)
            if self.mqtt.connected():
                await asyncio.wait_for(self.mqtt.publish(self.topic("mqb/status"), json.dumps(offline), retain=True), 2)
        except Exception:
            pass
        await self.mqtt.disconnect()

    # ---- MQTT glue ----
    async def _on_connect(self):
        self.logbuf.set_budget(mqlog.RUN_BUDGET)
        await self.mqtt.subscribe(self.topic("mqb/cmd/#"))
        for t in self.term.subscriptions():
            await self.mqtt.subscribe(t)
        self.publish_status()
        if self.crashes:
            self.send(self.topic("mqb/crash"), crashlog.encode(self.crashes), retain=True)
        self.log.info("Subscribed to %s" % self.topic("mqb/cmd/#"))

    def status(self):
        gc.collect()
        st = {
            "online": True,
            "protocol": PROTOCOL,
            "runtime": {"kind": RUNTIME_KIND, "version": VERSION},
            "firmware": self.board.firmware(),
            "mode": self.mode,
            "bootReason": self.boot_reason,
            "bootCount": self.boot_count,
            "uptime": time.ticks_diff(time.ticks_ms(), self.started) // 1000,
            "freeMem": gc.mem_free(),
            "time": now_ms(),
            "capabilities": {
                "maxChunk": self.max_chunk,
                "maxImage": self.slots.max_image,
                "commands": COMMANDS,
                "putAck": True,
                "putShaLast": True,
                "getAck": True,
                "terminal": True,
            },
            "ota": self.slots.info(),
            "crashes": len(self.crashes),
            "modules": self.modules,
        }
        if self.tags is not None:
            st["tags"] = self.tags
        return st

    def publish_status(self):
        self.send(self.topic("mqb/status"), json.dumps(self.status()), retain=True)

    def send(self, topic, payload, retain=False):
        """Queues a publish; never blocks (message handlers must not await their own PUBACKs)."""
        self.outq.append((topic, payload, retain))
        self.out_event.set()

    async def _sender(self):
        while True:
            if not self.outq:
                self.out_event.clear()
                await self.out_event.wait()
                continue
            topic, payload, retain = self.outq[0]
            await self.mqtt.wait_connected()
            await self.mqtt.enqueue(topic, payload, retain)
            self.outq.pop(0)

    async def flush_out(self, ms):
        t0 = time.ticks_ms()
        while self.outq and time.ticks_diff(time.ticks_ms(), t0) < ms:
            await asyncio.sleep_ms(10)

    def reply_out(self, cid, body):
        self.send(self.topic("mqb/reply/out/" + cid), wire.single(body))

    def reply_err(self, cid, text):
        # Raw text without a header: what the original board sends and its CLI prints.
        self.send(self.topic("mqb/reply/err/" + cid), text.encode())

    async def _on_message(self, topic, payload, retained, dup):
        addr = wire.parse_command(self.prefix, topic)
        if addr is None:
            t = self.term.parse(topic)
            if t is not None:
                self.term.on_message(t[0], t[1], payload)
                return
            for h in self.handlers:
                await h(topic, payload, retained, 1, dup)
            return
        if len(payload) < 2:
            return
        cmd, cid, tail = addr
        if dup and not self.seen_nondup:
            # The original's rule: a command that crashed the board is not run again.
            self.log.warning("ignoring redelivered %s %s after restart" % (cmd, cid))
            return
        self.seen_nondup = True
        seq, last, single, body = wire.decode_frame(payload)
        if cmd != "ack" and (single or seq == 0):
            line = "%s %s %s" % (cmd, cid, tail) if tail else "%s %s" % (cmd, cid)
            (self.log.debug if cid == wire.WATCHDOG_ID else self.log.info)(line)
        try:
            await self._handle(cmd, cid, tail, seq, last, single, body)
        except ProtocolError as e:
            self.log.warning("%s %s: protocol error: %s" % (cmd, cid, e))
            self.reply_err(cid, "MQRepl protocol error %s: %s" % (cmd, e))
        except DeviceError as e:
            self.log.warning("%s %s: %s" % (cmd, cid, e))
            self.reply_err(cid, str(e))
        except Exception as e:
            msg = str(e).replace(self.root, "") if self.root else str(e)
            self.log.error("%s %s: %s" % (cmd, cid, msg))
            self.reply_err(cid, "Error: %s" % msg)

    async def _handle(self, cmd, cid, tail, seq, last, single, body):
        one = single or (seq == 0 and last)
        if cmd == "eval":
            if not one:
                raise ProtocolError("only single message supported")
            ok, text = self.evaluate(body.decode())
            if ok:
                self.reply_out(cid, text)
            else:
                self.reply_err(cid, text)
        elif cmd == "get":
            if not one:
                raise ProtocolError("only single message supported")
            self.transfers.get(cid, tail, body)
        elif cmd in ("put", "ota"):
            self.transfers.upload(cmd, cid, tail, 0 if single else seq, last, body)
        elif cmd == "ack":
            n = wire.decode_ack(body)
            if n is None:
                raise ProtocolError('ack body must be "SEQ <n>"')
            self.transfers.ack(cid, n)
        elif cmd == "reset":
            if not one:
                raise ProtocolError("only single message supported")
            o = files._opts(body)
            mode = o.get("mode", "normal")
            if mode not in ("normal", "safe", "soft", "hard"):
                raise DeviceError("reset mode must be normal, safe, soft or hard")
            self.log.warning("reset (%s) requested" % mode)
            if mode != "hard":
                self.reply_out(cid, json.dumps({"ok": True, "path": ""}))
            self.finish(mode)
        elif cmd in files.HANDLERS:
            if not one:
                raise ProtocolError("only single message supported")
            self._reply_json(cid, files.run(self.root, cmd, tail, body))
        else:
            self.reply_err(cid, "Command '%s' not supported" % cmd)

    def evaluate(self, src, limit=evaluation.MAX_EVAL_OUTPUT, check=None):
        return evaluation.run(self, src, limit, check)

    def _reply_json(self, cid, value):
        data = json.dumps(value).encode()
        if len(data) <= self.max_chunk:
            self.reply_out(cid, data)
            return
        t = self.topic("mqb/reply/out/" + cid)
        n = (len(data) + self.max_chunk - 1) // self.max_chunk
        for i in range(n):
            self.send(t, wire.frame(i, i == n - 1, data[i * self.max_chunk : (i + 1) * self.max_chunk]))

    async def _housekeeping(self):
        n = 0
        while True:
            await asyncio.sleep(1)
            n += 1
            now = time.ticks_ms()
            self.term.sweep()
            self.transfers.sweep(now)
            if n % STATUS_EVERY_S == 0 and self.mqtt.connected():
                self.publish_status()

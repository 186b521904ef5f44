# MQTT 3.1.1 client for asyncio, QoS 0/1, small enough for an ESP32 without PSRAM.
#
# The transport is a seam: `open_stream()` is an async function returning an object with
# `await read(n)` (up to n bytes, b"" at end of stream), `write(buf)`, `await drain()` and
# `close()`. asyncio's StreamReader/StreamWriter pair fits it (see streams.py), and so does the
# WebAssembly test harness's bridge to Node's `net`, so the code under test is the code that
# runs on a board.
#
# Ordering rule (as the Node runtime's dispatch): incoming PUBLISHes are handled one at a time in
# arrival order and the PUBACK goes out after the handler returns, so a slow flash write slows
# the sender down through TCP. A handler must therefore never await the PUBACK of its own
# publish (that PUBACK sits behind the handler): it uses `publish_nowait` or a background task.
import asyncio
import time

CONNECT = 0x10
CONNACK = 0x20
PUBLISH = 0x30
PUBACK = 0x40
SUBSCRIBE = 0x82
SUBACK = 0x90
PINGREQ = 0xC0
PINGRESP = 0xD0
DISCONNECT = 0xE0

# At most this many QoS 1 publishes await their PUBACK; further publishers wait for a slot, so a
# flood cannot grow memory without bound.
MAX_INFLIGHT = 16
# Largest incoming packet accepted; anything larger ends the connection instead of the heap.
MAX_PACKET = 70000
READ_SIZE = 2048


class MQTTError(Exception):
    pass


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return out


def _str(s):
    if isinstance(s, str):
        s = s.encode()
    return len(s).to_bytes(2, "big") + s


def _packet(first, body):
    return bytes([first]) + _varint(len(body)) + body


class _Reader:
    """Reads whole packets out of the transport in large reads: every read may cost a trip
    through the event loop (a JS promise in the WebAssembly port, a system call elsewhere), so
    the fixed header's single bytes come out of the buffer instead."""

    def __init__(self, stream):
        self.stream = stream
        self.size = getattr(stream, "read_size", READ_SIZE)
        self.buf = b""
        self.pos = 0

    async def readn(self, n):
        pos = self.pos
        if len(self.buf) - pos >= n:
            self.pos = pos + n
            return self.buf[pos : pos + n]
        got = bytearray(self.buf[pos:])
        while len(got) < n:
            chunk = await self.stream.read(max(self.size, n - len(got)))
            if not chunk:
                raise MQTTError("connection closed")
            got.extend(chunk)
        self.buf = bytes(got)
        self.pos = n
        return self.buf[:n]


class _Inflight:
    __slots__ = ("pkt", "done", "acked")

    def __init__(self, pkt):
        self.pkt = pkt
        self.done = asyncio.Event()
        self.acked = False


class MQTTClient:
    def __init__(self, open_stream, client_id, keepalive=60, will=None, user=None, password=None, log=None):
        self._open = open_stream
        self.client_id = client_id
        self.keepalive = keepalive
        # will: (topic, payload, retain)
        self.will = will
        self.user = user
        self.password = password
        self.log = log
        self.on_message = None  # async (topic:str, payload:bytes, retained:bool, dup:bool)
        self.on_connect = []  # async () after every CONNACK, subscriptions made here
        self.on_disconnect = []  # plain () when a connection ends
        self.connects = 0
        self._stream = None
        self._wlock = asyncio.Lock()
        self._pid = 0
        self._inflight = {}
        self._slot = asyncio.Event()
        self._slot.set()
        self._up = asyncio.Event()
        self._subs = {}
        self._suback = {}
        self._last_rx = 0
        self._stopping = False
        self._task = None

    # ---- public API ----
    def connected(self):
        return self._up.is_set()

    def peek(self):
        """Bytes that arrived but are not read yet (see streams.TcpStream.peek); b"" when the
        transport cannot tell."""
        s = self._stream
        return s.peek() if s is not None and hasattr(s, "peek") else b""

    def nudge(self):
        """After peek() took bytes while the reader waits for more: a PINGREQ makes the broker
        send something, so that read returns and the peeked messages are handled now rather
        than at the next traffic."""
        s = self._stream
        if s is not None and getattr(s, "pending", b"") and self.connected():
            asyncio.create_task(self._ping())

    async def _ping(self):
        try:
            await self._send(_packet(PINGREQ, b""))
        except Exception:
            pass  # the connection's own checks deal with a dead link

    async def wait_connected(self):
        await self._up.wait()

    def start(self):
        self._task = asyncio.create_task(self._run())
        return self._task

    async def subscribe(self, topic, qos=1):
        # Remembered and renewed on every connect (the broker may have lost the session).
        self._subs[topic] = qos
        if self.connected():
            await self._subscribe(topic, qos)

    async def publish(self, topic, payload, retain=False, qos=1):
        """Publishes; with qos 1 resolves once the broker has acked (across reconnects)."""
        if qos == 0:
            await self._up.wait()
            await self._send(self._publish_pkt(topic, payload, retain, 0, 0, False))
            return
        entry = await self.enqueue(topic, payload, retain)
        await self.acked(entry)

    async def enqueue(self, topic, payload, retain=False):
        """Sends a QoS 1 publish once an in-flight slot is free and returns without awaiting the
        PUBACK (see `acked`). Sequential callers keep their order on the wire."""
        while len(self._inflight) >= MAX_INFLIGHT:
            self._slot.clear()
            await self._slot.wait()
        pid = self._next_pid()
        entry = _Inflight(self._publish_pkt(topic, payload, retain, 1, pid, False))
        self._inflight[pid] = entry
        if self.connected():
            try:
                await self._send(entry.pkt)
            except Exception:
                pass  # resent after the reconnect
        return entry

    async def acked(self, entry):
        await entry.done.wait()
        if not entry.acked:
            raise MQTTError("client stopped")

    def publish_nowait(self, topic, payload, retain=False, qos=1):
        """Queues a publish from a message handler, which must not await its own PUBACK."""
        t = asyncio.create_task(self._publish_quiet(topic, payload, retain, qos))
        return t

    async def _publish_quiet(self, topic, payload, retain, qos):
        try:
            await self.publish(topic, payload, retain, qos)
        except Exception as e:
            if self.log:
                self.log.debug("publish %s dropped: %s" % (topic, e))

    async def disconnect(self):
        """Clean shutdown: DISCONNECT (the broker then drops the Last Will) and stop."""
        self._stopping = True
        if self.connected():
            try:
                await self._send(_packet(DISCONNECT, b""))
            except Exception:
                pass
        # Nothing is cancelled: a task awaiting the transport (a JS promise in the WebAssembly
        # port) cannot take a CancelledError; closing the stream ends the reader instead.
        self._close()
        for e in self._inflight.values():
            e.done.set()
        self._inflight = {}

    # ---- internals ----
    def _next_pid(self):
        while True:
            self._pid = self._pid % 65535 + 1
            if self._pid not in self._inflight:
                return self._pid

    def _publish_pkt(self, topic, payload, retain, qos, pid, dup):
        first = PUBLISH | (qos << 1) | (1 if retain else 0) | (8 if dup else 0)
        body = _str(topic)
        if qos:
            body += pid.to_bytes(2, "big")
        if isinstance(payload, str):
            payload = payload.encode()
        return bytes([first]) + _varint(len(body) + len(payload)) + body + payload

    async def _send(self, pkt):
        s = self._stream
        if s is None:
            raise MQTTError("not connected")
        async with self._wlock:
            s.write(pkt)
            await s.drain()

    async def _read_packet(self, r):
        first = (await r.readn(1))[0]
        n = 0
        shift = 0
        while True:
            b = (await r.readn(1))[0]
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
            if shift > 21:
                raise MQTTError("bad remaining length")
        if n > MAX_PACKET:
            raise MQTTError("packet of %d bytes too large" % n)
        body = await r.readn(n) if n else b""
        self._last_rx = time.ticks_ms()
        return first, body

    def _connect_pkt(self, clean):
        flags = 2 if clean else 0
        payload = _str(self.client_id)
        if self.will:
            topic, msg, retain = self.will
            flags |= 4 | (1 << 3) | (0x20 if retain else 0)
            payload += _str(topic) + _str(msg)
        if self.user is not None:
            flags |= 0x80
            payload += _str(self.user)
            if self.password is not None:
                flags |= 0x40
                payload += _str(self.password)
        body = _str("MQTT") + bytes([4, flags]) + self.keepalive.to_bytes(2, "big") + payload
        return _packet(CONNECT, body)

    def _close(self):
        was_up = self._up.is_set()
        self._up.clear()
        s = self._stream
        self._stream = None
        if s is not None:
            try:
                s.close()
            except Exception:
                pass
        for ev in self._suback.values():
            ev.set()
        self._suback = {}
        if was_up:
            for f in self.on_disconnect:
                try:
                    f()
                except Exception:
                    pass

    async def _subscribe(self, topic, qos):
        pid = self._next_pid()
        ev = asyncio.Event()
        self._suback[pid] = ev
        await self._send(_packet(SUBSCRIBE, pid.to_bytes(2, "big") + _str(topic) + bytes([qos])))
        await ev.wait()

    async def _run(self):
        delay = 0.5
        while not self._stopping:
            try:
                await self._session()
                delay = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as e:
                if self.log and not self._stopping:
                    self.log.warning("MQTT connection: %s" % (e,))
            self._close()
            if self._stopping:
                return
            # Backoff with a little jitter so a fleet does not reconnect in lockstep.
            until = time.ticks_add(time.ticks_ms(), int(delay * 1000) + time.ticks_ms() % 100)
            while not self._stopping and time.ticks_diff(until, time.ticks_ms()) > 0:
                await asyncio.sleep_ms(100)
            delay = min(delay * 2, 30)

    async def _connack_timeout(self, stream):
        await asyncio.sleep(20)
        if not self._up.is_set():
            stream.close()

    async def _session(self):
        stream = await self._open()
        if self._stopping:
            stream.close()
            return
        self._stream = stream
        # Clean session on the first connection of a boot (as the original): a command that
        # crashed the board is not handed to it again. Later reconnects keep the session.
        clean = self.connects == 0
        self._stream.write(self._connect_pkt(clean))
        await self._stream.drain()
        timer = asyncio.create_task(self._connack_timeout(stream))
        reader = _Reader(stream)
        try:
            first, body = await self._read_packet(reader)
        finally:
            timer.cancel()
        if first & 0xF0 != CONNACK or len(body) < 2:
            raise MQTTError("no CONNACK")
        if body[1] != 0:
            raise MQTTError("connection refused, code %d" % body[1])
        self.connects += 1
        self._up.set()
        if self.log:
            self.log.info("MQTT connected (%s session)" % ("clean" if clean else "kept"))
        reader = asyncio.create_task(self._reader(reader))
        pinger = asyncio.create_task(self._pinger())
        try:
            # Unacked publishes of the last connection go out again, flagged DUP.
            for pid, e in list(self._inflight.items()):
                e.pkt = bytes([e.pkt[0] | 8]) + e.pkt[1:]
                await self._send(e.pkt)
            for t, q in list(self._subs.items()):
                await self._subscribe(t, q)
            for f in self.on_connect:
                await f()
            await reader
        finally:
            pinger.cancel()
            self._close()

    async def _pinger(self):
        ka = self.keepalive * 1000
        while True:
            await asyncio.sleep(self.keepalive / 2)
            if time.ticks_diff(time.ticks_ms(), self._last_rx) > ka * 3 // 2:
                # Nothing from the broker, not even a PINGRESP: the link is dead.
                self._close()
                return
            try:
                await self._send(_packet(PINGREQ, b""))
            except Exception:
                return

    async def _reader(self, r):
        while True:
            first, body = await self._read_packet(r)
            kind = first & 0xF0
            if kind == PUBLISH:
                await self._on_publish(first, body)
            elif kind == PUBACK and len(body) >= 2:
                e = self._inflight.pop(int.from_bytes(body[:2], "big"), None)
                if e:
                    e.acked = True
                    e.done.set()
                    self._slot.set()
            elif kind == SUBACK and len(body) >= 2:
                ev = self._suback.pop(int.from_bytes(body[:2], "big"), None)
                if ev:
                    ev.set()

    async def _on_publish(self, first, body):
        qos = (first >> 1) & 3
        n = int.from_bytes(body[:2], "big")
        topic = body[2 : 2 + n]
        pos = 2 + n
        pid = 0
        if qos:
            pid = int.from_bytes(body[pos : pos + 2], "big")
            pos += 2
        payload = body[pos:]
        try:
            topic = topic.decode()
        except Exception:
            topic = None  # not UTF-8: no topic of ours
        if topic is not None and self.on_message:
            try:
                await self.on_message(topic, payload, bool(first & 1), bool(first & 8))
            except Exception as e:
                if self.log:
                    self.log.error("message handler: %r" % (e,))
        if qos == 1:
            await self._send(_packet(PUBACK, pid.to_bytes(2, "big")))

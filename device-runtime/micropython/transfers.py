# `get`, `put` and `ota` of docs/protocol.md: windowed streams with `SEQ` acks both ways, puts
# into a temp file verified (SHA-256 and size) before the rename, OTA images into the inactive
# slot. A broken, cancelled or idle transfer leaves the old file and no half file.
import asyncio
import time

import files
import wire
from files import DeviceError
from wire import ProtocolError

ORIGINAL_GET_CHUNK = 2800
UPLOAD_IDLE_MS = 60000
MAX_UPLOADS = 4


class Upload:
    __slots__ = ("target", "writer", "expected", "touched", "finish")

    def __init__(self, target, writer, finish):
        self.target = target
        self.writer = writer
        self.finish = finish
        self.expected = 0
        self.touched = time.ticks_ms()


class Transfers:
    def __init__(self, dev):
        self.dev = dev
        self.uploads = {}
        self.failed = []
        self.acks = {}
        self.ack_event = asyncio.Event()

    def ack(self, cid, n):
        """The host's `SEQ n` for a get stream."""
        if n > self.acks.get(cid, -1):
            self.acks[cid] = n
            self.ack_event.set()

    def sweep(self, now):
        for cid, u in list(self.uploads.items()):
            if time.ticks_diff(now, u.touched) > UPLOAD_IDLE_MS:
                self.dev.log.warning("upload %s idle: abandoned" % cid)
                self._drop(cid)

    def get(self, cid, tail, body):
        o = {}
        if body:
            o = files._opts(body)
        if not tail:
            raise DeviceError("get needs a file path")
        p = files.resolve(self.dev.root, tail)
        st = files.stat(p.host)
        if st is None:
            raise DeviceError("ENOENT: no such file or directory: %s" % p.device)
        if st[0] & 0xF000 != 0x8000:
            raise DeviceError("%s: %s" % ("EISDIR: is a directory" if files.is_dir(p.host) else "not a regular file", p.device))
        window = o.get("window")
        chunk = o.get("chunk", ORIGINAL_GET_CHUNK)
        if not isinstance(chunk, int) or chunk < 1:
            raise DeviceError("get option chunk must be a positive integer")
        if window is not None and (not isinstance(window, int) or window < 1):
            raise DeviceError("get option window must be a positive integer")
        chunk = min(chunk, self.dev.max_chunk)
        size = st[6]
        count = max(1, (size + chunk - 1) // chunk)
        if count > wire.SEQ_MAX:
            raise DeviceError("file too large for one stream at %d-byte chunks: %s" % (chunk, p.device))
        self.dev.log.info("get %s: %d bytes" % (p.device, size))
        asyncio.create_task(self._stream_get(cid, p, size, chunk, count, window))

    async def _stream_get(self, cid, p, size, chunk, count, window):
        t = self.dev.topic("mqb/reply/out/" + cid)
        try:
            await self.dev.flush_out(5000)
            with open(p.host, "rb") as f:
                last_entry = None
                for seq in range(count):
                    if window is not None:
                        while seq - self.acks.get(cid, -1) > window:
                            self.ack_event.clear()
                            try:
                                await asyncio.wait_for(self.ack_event.wait(), 60)
                            except asyncio.TimeoutError:
                                raise DeviceError("no ack from the host for 60 s")
                    data = f.read(chunk)
                    last_entry = await self.dev.mqtt.enqueue(t, wire.frame(seq, seq == count - 1, data))
                await self.dev.mqtt.acked(last_entry)
        except Exception as e:
            self.dev.log.warning("get %s: %s" % (p.device, e))
            self.dev.reply_err(cid, str(e))
        finally:
            self.acks.pop(cid, None)

    def upload(self, cmd, cid, tail, seq, last, body):
        u = self.uploads.get(cid)
        if u is None:
            if seq != 0:
                if cid in self.failed:
                    return
                raise ProtocolError("missing first message")
            u = self._open_put(cid, tail) if cmd == "put" else self._open_ota(cid, tail)
            for other, ou in list(self.uploads.items()):
                if ou.target == u.target:
                    self._drop(other)
            if len(self.uploads) >= MAX_UPLOADS:
                oldest = min(self.uploads.items(), key=lambda kv: kv[1].touched)[0]
                self._drop(oldest)
            self.uploads[cid] = u
        if seq < u.expected:
            return  # a duplicate (QoS 1 redelivery)
        if seq > u.expected:
            exp = u.expected
            self._drop(cid)
            raise ProtocolError("message missing: %d vs. %d" % (seq, exp))
        u.expected = seq + 1
        u.touched = time.ticks_ms()
        try:
            u.writer.write(body)
            if last:
                del self.uploads[cid]
                try:
                    reply = u.finish(tail)
                finally:
                    u.writer.abort() if cmd == "ota" else u.writer.discard()
                self.dev.log.info("%s %s: done" % (cmd, u.target))
                self.dev.reply_out(cid, reply)
            elif wire.should_ack(seq):
                self.dev.reply_out(cid, "SEQ %d" % seq)
        except Exception:
            self._drop(cid)
            raise

    def _drop(self, cid):
        u = self.uploads.pop(cid, None)
        if u is not None:
            try:
                u.writer.abort() if u.target == "ota" else u.writer.discard()
            except Exception:
                pass
        self.failed.append(cid)
        if len(self.failed) > 32:
            self.failed.pop(0)

    def _open_put(self, cid, tail):
        path, sha, size = wire.decode_put_tail(tail)
        if path == "":
            raise DeviceError("put needs a file path")
        dest = files.resolve(self.dev.root, path)
        if dest.is_root:
            raise DeviceError("cannot put to /")
        self._check_writable(dest)
        w = files.AtomicWriter(self.dev.tmp_dir, "put-" + cid)

        def finish(last_tail):
            lpath, lsha, lsize = wire.decode_put_tail(last_tail)
            if lpath != path:
                raise ProtocolError("the last message names another path: %s" % lpath)
            w.verify(sha, size)
            w.verify(lsha, lsize)
            again = files.resolve(self.dev.root, path)
            self._check_writable(again)
            try:
                w.commit(again.host)
            except OSError as e:
                raise files.fs_error(e, again.device)
            return "OK"

        return Upload(dest.host, w, finish)

    def _check_writable(self, p):
        d = files.dirname(p.host)
        if not files.is_dir(d):
            raise DeviceError("ENOENT: no such directory: %s" % files.dirname(p.device))
        if files.is_dir(p.host):
            raise DeviceError("EISDIR: is a directory: %s" % p.device)

    def _open_ota(self, cid, tail):
        sha = tail.lower()
        if not wire._is_hex64(sha):
            raise ProtocolError("the topic tail must be the image SHA-256 in hex")
        try:
            w = self.dev.slots.open_update()
        except Exception as e:
            raise DeviceError("cannot open the update slot: %s" % e)

        def finish(_tail):
            calc = files.hexlify(w.digest())
            if calc != sha:
                raise ProtocolError("SHA mismatch calc:%s check=%s" % (calc, sha))
            slot = w.commit(sha)
            self.dev.log.warning("OTA image %s written to slot %s, boots next" % (sha[:12], slot))
            self.dev.publish_status()
            return "OK"

        return Upload("ota", w, finish)

# The MQTT client's transport in the WebAssembly port, which has no sockets: a JavaScript
# module registered into the interpreter as `mqb_net` (test-support/wasm-device.ts) owns a
# Node `net` socket, and bytes cross the boundary as hex strings (`bytes.fromhex` and
# `bytes.hex` run in C; converting byte by byte through the proxy costs seconds per MB).
import mqb_net


class JsStream:
    # Large reads: what has arrived is taken in one call (the MQTT reader buffers the rest).
    read_size = 65536

    def __init__(self, sid):
        self.sid = sid
        self.pending = b""

    async def read(self, n):
        if self.pending:
            d = self.pending
            self.pending = b""
            return d
        # Only waits (a trip through the JS event loop) when nothing has arrived yet.
        h = mqb_net.poll(self.sid, n)
        if h == "":
            await mqb_net.wait(self.sid)
            h = mqb_net.poll(self.sid, n)
        d = bytes.fromhex(h) if h else b""
        if self.pending:
            # peek() took bytes while this read waited: they came first.
            d = self.pending + d
            self.pending = b""
        return d

    def peek(self):
        """What has arrived so far, without waiting, kept for the next read() (streams.py)."""
        if len(self.pending) < 8192:
            h = mqb_net.peek(self.sid, 8192 - len(self.pending))
            if h:
                self.pending += bytes.fromhex(h)
        return self.pending

    def write(self, buf):
        mqb_net.write(self.sid, bytes(buf).hex())

    async def drain(self):
        p = mqb_net.drain(self.sid)
        if p is not None:
            await p

    def close(self):
        mqb_net.close(self.sid)


def opener(host, port):
    async def open_stream():
        sid = await mqb_net.connect(host, port)
        return JsStream(sid)

    return open_stream

# The MQTT client's transport in the WebAssembly port, which has no sockets: a JavaScript
# module registered into the interpreter as `mqb_net` (test-support/wasm-device.ts) owns a
# Node `net` socket, and bytes cross the boundary as hex strings (`bytes.fromhex` and
# `bytes.hex` run in C; converting byte by byte through the proxy costs seconds per MB).
import mqb_net


class JsStream:
    def __init__(self, sid):
        self.sid = sid

    async def read(self, n):
        return bytes.fromhex(await mqb_net.read(self.sid, n))

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

# The MQTT client's transport on a board and on the unix port: asyncio's TCP streams (TLS when
# asked), with TCP_NODELAY so small request/ack exchanges do not wait for delayed ACKs.
import asyncio


class TcpStream:
    def __init__(self, reader, writer):
        self.r = reader
        self.w = writer

    async def read(self, n):
        return await self.r.read(n)

    def write(self, buf):
        self.w.write(buf)

    async def drain(self):
        await self.w.drain()

    def close(self):
        self.w.close()


def opener(host, port, ssl=None):
    async def open_stream():
        if ssl:
            r, w = await asyncio.open_connection(host, port, ssl=ssl)
        else:
            r, w = await asyncio.open_connection(host, port)
        try:
            import socket

            # IPPROTO_TCP = 6, TCP_NODELAY = 1 where the port does not name them.
            w.s.setsockopt(getattr(socket, "IPPROTO_TCP", 6), getattr(socket, "TCP_NODELAY", 1), 1)
        except Exception:
            pass  # not every port (or TLS wrapper) exposes the option
        return TcpStream(r, w)

    return open_stream

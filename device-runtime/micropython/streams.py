# The MQTT client's transport on a board and on the unix port: asyncio's TCP streams (TLS when
# asked), with TCP_NODELAY so small request/ack exchanges do not wait for delayed ACKs.
import asyncio

# At most this much is taken off the socket by peek() during one evaluation.
PEEK_MAX = 8192


class TcpStream:
    def __init__(self, reader, writer):
        self.r = reader
        self.w = writer
        self.pending = b""

    async def read(self, n):
        if not self.pending:
            d = await self.r.read(n)
            if not self.pending:
                return d
            # peek() took bytes while this read waited: they came first.
            d = self.pending + d
        else:
            d = self.pending
        self.pending = b""
        return d

    def peek(self):
        """What has arrived so far, without waiting, kept for the reader: lets a timer callback
        look for Ctrl-C while an evaluation holds the event loop."""
        if len(self.pending) < PEEK_MAX:
            try:
                d = self.r.s.read(PEEK_MAX - len(self.pending))  # non-blocking: None when nothing came
            except OSError:
                d = None
            if d:
                self.pending += d
        return self.pending

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

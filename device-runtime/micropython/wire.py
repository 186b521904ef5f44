# The wire format of docs/protocol.md: 2-byte frame headers, command topics, put tails, acks.
SINGLE = b"\xff\xff"
WATCHDOG_ID = "0F00D"
ACK_EVERY = 8
WINDOW = 16
SEQ_MAX = 0x7FFF


def frame(seq, last, body=b""):
    h = (0x8000 if last else 0) | (seq & SEQ_MAX)
    return h.to_bytes(2, "big") + body


def single(body):
    if isinstance(body, str):
        body = body.encode()
    return SINGLE + body


def decode_frame(payload):
    """(seq, last, single, body); None when there is no header."""
    if len(payload) < 2:
        return None
    h = (payload[0] << 8) | payload[1]
    return h & SEQ_MAX, bool(h & 0x8000), h == 0xFFFF, payload[2:]


def parse_command(prefix, topic):
    """`P/mqb/cmd/<cmd>/<id>/<tail>` -> (cmd, id, tail); the tail keeps its slashes."""
    head = prefix + "/mqb/cmd/"
    if not topic.startswith(head):
        return None
    rest = topic[len(head) :]
    s1 = rest.find("/")
    if s1 <= 0:
        return None
    cmd = rest[:s1]
    after = rest[s1 + 1 :]
    s2 = after.find("/")
    cid = after if s2 < 0 else after[:s2]
    if not cid:
        return None
    return cmd, cid, "" if s2 < 0 else after[s2 + 1 :]


def _is_hex64(s):
    if len(s) != 64:
        return False
    for c in s:
        if c not in "0123456789abcdef":
            return False
    return True


def decode_put_tail(tail):
    """`/p?sha256=<hex>&size=<n>` -> (path, sha256 or None, size or None); any other `?` is literal."""
    q = tail.rfind("?")
    if q < 0:
        return tail, None, None
    sha = None
    size = None
    rest = tail[q + 1 :]
    if rest.startswith("sha256="):
        sha = rest[7:71]
        if not _is_hex64(sha):
            return tail, None, None
        rest = rest[71:]
        if rest.startswith("&"):
            rest = rest[1:]
            if not rest.startswith("size="):
                return tail, None, None
    if rest.startswith("size="):
        digits = rest[5:]
        if not digits or len(digits) > 15 or not digits.isdigit():
            return tail, None, None
        size = int(digits)
        rest = ""
    if rest or (sha is None and size is None):
        return tail, None, None
    return tail[:q], sha, size


def should_ack(seq):
    return seq & (ACK_EVERY - 1) == 0


def ack(seq):
    return single("SEQ %d" % seq)


def decode_ack(body):
    if len(body) >= 10 or not body.startswith(b"SEQ "):
        return None
    try:
        return int(body[4:])
    except ValueError:
        return None


class ProtocolError(Exception):
    pass

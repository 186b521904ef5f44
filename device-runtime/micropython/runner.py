# Starts one device and returns how it ended (shutdown, normal, safe, soft, hard, crash or
# watchdog); the launcher (boot.py on a board, unix.py, the WebAssembly harness) restarts it.
import asyncio
import json

import device

current = None


def load_config(root):
    try:
        with open(root + "/config.json") as f:
            c = json.load(f)
        return c if isinstance(c, dict) else {}
    except Exception:
        return {}


async def start(cfg, board_name, open_stream, echo=None):
    global current
    board = __import__("board_" + board_name).Board(cfg.get("root", ""))
    current = device.Device(cfg, board, open_stream, echo)
    try:
        # In a task of its own: the WebAssembly port's top-level coroutine cannot take the
        # cancellation asyncio.wait_for uses to wake its waiter.
        return await asyncio.create_task(current.run())
    finally:
        current = None


def stop():
    """Clean shutdown from outside (Ctrl-C on the unix port, the test harness)."""
    if current is not None:
        current.finish("shutdown")

# The broker-fed watchdog of the original: the device sends itself `watchdog.feed()` through the
# broker every timeout/4, so a feed proves it can be reached and commanded; after `allok`
# seconds of good feeding the boot counts as good ("all OK").
import asyncio
import time

import wire


class Watchdog:
    """The broker-fed watchdog: fed by the device's own `watchdog.feed()` eval through the
    broker, so a feed proves the board can be reached and commanded."""

    def __init__(self, dev, timeout_s, allok_s):
        self.dev = dev
        self.timeout_s = timeout_s
        self.allok_s = allok_s
        self.fed = 0
        self.allok = False
        self.hw = None

    def feed(self):
        self.fed += 1
        if self.hw:
            self.hw.feed()
        if not self.allok and time.ticks_diff(time.ticks_ms(), self.dev.started) >= self.allok_s * 1000:
            self.allok = True
            self.dev.all_ok()


async def feeder(dev):
    """Feeds the watchdog through the broker every timeout/4 and resets the board when the
    feeds stop coming back (the board cannot reach the broker)."""
    wd = dev.watchdog
    wd.hw = dev.board.wdt(wd.timeout_s * 1000)
    topic = dev.topic("mqb/cmd/eval/%s/" % wire.WATCHDOG_ID)
    feed = wire.frame(0, True, b"watchdog.feed()")
    period = max(1, wd.timeout_s / 4)
    while True:
        if dev.mqtt.connected():
            dev.send(topic, feed)
        # Also checked in between: a short allok must not wait a whole feeding period.
        t0 = time.ticks_ms()
        while time.ticks_diff(time.ticks_ms(), t0) < period * 1000:
            await asyncio.sleep_ms(min(500, int(period * 1000)))
            if hasattr(wd.hw, "expired") and wd.hw.expired():
                dev.log.critical("watchdog: no feed for %ds" % wd.timeout_s)
                dev._record_crash("watchdog", "no watchdog feed for %d s" % wd.timeout_s, None)
                dev.finish("watchdog")
                return

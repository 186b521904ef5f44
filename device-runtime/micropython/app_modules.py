# Application modules as in the original: each name in config.json's `modules` is imported and
# its `start(mqtt, config)` called with its own config entry.
import asyncio

import mqlog


class ModuleMQTT:
    """What an application module's `start(mqtt, config)` gets: publish, subscribe, and
    callbacks for messages and connections."""

    def __init__(self, dev):
        self._dev = dev
        self.client = dev.mqtt

    async def publish(self, topic, payload, retain=False, qos=1):
        await self._dev.mqtt.publish(topic, payload, retain, qos)

    async def subscribe(self, topic, qos=1):
        await self._dev.mqtt.subscribe(topic, qos)

    def on_msg(self, fn):
        self._dev.handlers.append(fn)

    def on_connect(self, fn):
        self._dev.mqtt.on_connect.append(fn)

    def logger(self, name):
        return mqlog.Logger(self._dev.logbuf, name)


def start_all(dev):
    """Starts each module named in config.json's `modules`; the first failure is a crash."""
    for name in dev.cfg.get("modules", []):
        try:
            mod = __import__(name)
            r = mod.start(ModuleMQTT(dev), dev.cfg.get(name, {}))
            if r is not None and hasattr(r, "send"):
                asyncio.create_task(r)
            dev.modules.append(name)
            dev.log.info("module %s started" % name)
        except Exception as e:
            dev.log.error("module %s failed: %r" % (name, e))
            dev.crash("exception", e)
            return

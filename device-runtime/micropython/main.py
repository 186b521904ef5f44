# main.py on an ESP32: joins Wi-Fi from /config.json, then runs the device until it asks for a
# reset. Runs after boot.py, which chose the framework copy (MODE).
import asyncio
import time

import machine
import network

import runner
import streams

# boot.py and main.py run in the same __main__ globals, so boot.py's choice is visible here.
MODE = globals().get("MODE", "normal")


def wifi(cfg):
    w = cfg.get("wifi", {})
    sta = network.WLAN(network.STA_IF)
    sta.active(True)
    if not sta.isconnected():
        sta.connect(w.get("ssid"), w.get("password"))
        t0 = time.ticks_ms()
        while not sta.isconnected() and time.ticks_diff(time.ticks_ms(), t0) < 30000:
            time.sleep_ms(100)
    return sta.isconnected()


def main():
    cfg = runner.load_config("")
    cfg["root"] = ""
    cfg["mode"] = MODE
    # The hardware watchdog is armed early (70 s, as the original) and re-armed by the device
    # with the configured timeout once it runs: a hang in Wi-Fi or the broker connect resets.
    machine.WDT(timeout=70000)
    wifi(cfg)
    ssl = None
    if cfg.get("tls"):
        import ssl as _ssl

        ssl = _ssl.SSLContext(_ssl.PROTOCOL_TLS_CLIENT)
        ssl.verify_mode = _ssl.CERT_NONE if cfg.get("insecure") else _ssl.CERT_REQUIRED
    port = cfg.get("port", 8883 if ssl else 1883)
    how = asyncio.run(runner.start(cfg, "esp32", streams.opener(cfg["server"], port, ssl), print))
    if how == "soft":
        machine.soft_reset()
    machine.reset()


main()

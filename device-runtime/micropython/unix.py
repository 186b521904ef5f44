# One MQBoard device on MicroPython's unix port, with real sockets:
#
#   micropython device-runtime/micropython/unix.py --server HOST --port N --prefix P --root DIR
#       [--user NAME --password PW] [--tls] [--quiet]
#
# The option names are those of `mqboard-device`; MQBOARD_SERVER, MQBOARD_PORT, MQBOARD_PREFIX,
# MQBOARD_USER and MQBOARD_PASSWORD are read when a flag is missing. The device's files live
# under --root, the framework is loaded from this folder (or from <root>/lib and
# <root>/safemode when those hold a copy, as on a board), and a reset restarts the device in
# this process with its modules imported afresh, as a soft reset does on a board.
#
# Written to the unix port's API (asyncio, os, sys) but not run in CI: there is no MicroPython
# binary on the build machines; CI runs the same code in the WebAssembly port.
import sys

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
_USAGE = "usage: micropython unix.py --server HOST [--port N] --prefix P --root DIR [--user U] [--password PW] [--tls [--ca FILE]] [--quiet]"


def _env(name):
    try:
        import os

        return os.getenv(name)
    except Exception:
        return None


def parse(argv):
    o = {"server": _env("MQBOARD_SERVER"), "port": _env("MQBOARD_PORT"), "prefix": _env("MQBOARD_PREFIX"), "user": _env("MQBOARD_USER"), "password": _env("MQBOARD_PASSWORD"), "root": None, "ca": None, "tls": bool(_env("MQBOARD_TLS")), "quiet": False}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--tls", "--quiet", "-q"):
            o["quiet" if a != "--tls" else "tls"] = True
            i += 1
            continue
        if a in ("-h", "--help"):
            print(_USAGE)
            sys.exit(0)
        if not a.startswith("-") or i + 1 >= len(argv):
            raise SystemExit("unknown or incomplete option: %s\n%s" % (a, _USAGE))
        key = {"-s": "server", "-p": "port"}.get(a, a[2:])
        if key not in o:
            raise SystemExit("unknown option: %s\n%s" % (a, _USAGE))
        o[key] = argv[i + 1]
        i += 2
    for need in ("server", "prefix", "root"):
        if not o[need]:
            raise SystemExit("--%s is required\n%s" % (need, _USAGE))
    port = o["port"] or ("8883" if o["tls"] else "1883")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise SystemExit("--port must be 1..65535")
    o["port"] = int(port)
    o["root"] = o["root"].rstrip("/") or "/"
    return o


def _rtc(root):
    import json

    try:
        with open(root + "/.mqboard/rtc.json") as f:
            v = json.load(f)
        return v if isinstance(v, dict) else {}
    except Exception:
        return {}


def _has(path):
    import os

    try:
        os.stat(path)
        return True
    except OSError:
        return False


def main():
    import asyncio

    o = parse(sys.argv[1:])
    root = o["root"]
    for d in (root, root + "/.mqboard"):
        if not _has(d):
            import os

            os.mkdir(d)
    sys.path.insert(0, root)
    base = list(sys.path)
    app_modules = None
    while True:
        # boot.py's part: choose the framework copy from what the last boot left in "RTC memory".
        sys.path[:] = base
        import bootmode

        mode = bootmode.decide(_rtc(root))
        fw = bootmode.framework_dir(root, mode)
        sys.path.insert(0, fw if _has(fw + "/device.py") else _here)
        sys.path.append(root + "/lib")
        if app_modules is not None:
            # A reset: forget every module imported since the first boot, as a soft reset does.
            for name in list(sys.modules):
                if name not in app_modules:
                    del sys.modules[name]
        else:
            app_modules = set(sys.modules)
        import runner
        import streams

        cfg = runner.load_config(root)
        cfg.update({"prefix": o["prefix"], "root": root, "mode": mode})
        if o["user"] is not None:
            cfg["user"] = o["user"]
            cfg["password"] = o["password"]
        ssl = None
        if o["tls"]:
            import ssl as _ssl

            ctx = _ssl.SSLContext(_ssl.PROTOCOL_TLS_CLIENT)
            if o["ca"]:
                ctx.verify_mode = _ssl.CERT_REQUIRED
                ctx.load_verify_locations(cafile=o["ca"])
            else:
                # MicroPython has no system trust store: without --ca the broker is not verified.
                ctx.verify_mode = _ssl.CERT_NONE
                print("warning: --tls without --ca does not verify the broker's certificate")
            ssl = ctx
        echo = None if o["quiet"] else (lambda line: print(line))
        try:
            how = asyncio.run(runner.start(cfg, "unix", streams.opener(o["server"], o["port"], ssl), echo))
        except KeyboardInterrupt:
            # Ctrl-C interrupts the event loop itself, so nothing more is sent: the broker
            # publishes the Last Will ("lost").
            return
        asyncio.new_event_loop()
        if how == "shutdown":
            return
        print("reset (%s)" % how)


if __name__ == "__main__":
    main()

# boot.py on an ESP32: picks the framework copy (normal /lib, or the separate /safemode copy)
# from what the last boot left in RTC memory, before anything else is imported, so a broken
# application update cannot take remote access away. If the normal copy fails to import, the
# board switches to safe mode at once (the original's rule).
import sys

import bootmode
import machine

try:
    import json

    _rtc = json.loads(machine.RTC().memory() or b"{}")
except Exception:
    _rtc = {}
if not isinstance(_rtc, dict):
    _rtc = {}
MODE = bootmode.decide(_rtc)
sys.path.insert(0, bootmode.framework_dir("", MODE))
if MODE == "normal":
    try:
        import device  # noqa: F401  (proves the normal copy imports)
    except Exception as e:
        sys.print_exception(e)
        print("Switching to SAFE MODE")
        MODE = "safe"
        for name in list(sys.modules):
            if name not in ("bootmode", "machine", "json", "sys"):
                del sys.modules[name]
        sys.path[0] = bootmode.framework_dir("", MODE)

# Which framework copy a boot runs, from what the last boot left in RTC memory (the original's
# rule): the "all OK" magic present, or blank memory after a cold boot, means normal mode;
# anything else (a crash or watchdog reset before "all OK") means safe mode, which runs the
# separate copy in /safemode so a broken update cannot take remote access away. A reset
# command names the mode it wants. Kept at the top level, outside both copies, and tiny.


def decide(rtc):
    want = rtc.get("next")
    if want in ("normal", "safe"):
        return want
    if rtc.get("magic") or not rtc:
        return "normal"
    return "safe"


def framework_dir(root, mode):
    return root + ("/safemode" if mode == "safe" else "/lib")

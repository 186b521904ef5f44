// One simulated ORIGINAL MQBoard board (MicroPython on ESP32 running tve/mqboard): boot log,
// mqtt_async-like connection, mqrepl, the watchdog feeder and hardware WDT, safe mode via RTC
// memory, and resets that drop the connection abruptly and boot again.
//
// Dev/test simulator: eval runs in a CPython subprocess (see python/mpboard.py). File access is
// confined to `root`, but this is not a sandbox for untrusted code.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Partitions, readFirmware } from './ota';
import { FACTORY_FIRMWARE, Life, PWRON_RESET, type BoardHost } from './life';
import { clearRtc, decideMigratedBoot, isMigrated, packageAddress, runPackageBoot, settlePackageRtc, type PackageRun } from './package-boot';

// machine.reset_cause() values on the esp32 port.
const WDT_RESET = 3;
const SOFT_RESET = 5;

export interface OriginalBoardOptions {
  url: string;
  username?: string;
  password?: string;
  /** Topic prefix P (the board uses `P/mqb/...` and `P/log`). */
  prefix: string;
  /** The board's filesystem: board path `/a/b` is `<root>/a/b`. */
  root: string;
  /** Self-feed period (the original's timeout/4); default 20 s. The hardware WDT fires after 4x. */
  watchdogIntervalMs?: number;
  /** Period of a `MEM free=` info line from `main`; 0 (default) = none, like a stock board. */
  logIntervalMs?: number;
  /** Good feeding needed before "next boot is normal" (the original's allok); default 300 s. */
  allokMs?: number;
  /** Time from a reset to the next boot starting; default 300 ms. */
  rebootDelayMs?: number;
  /** MQTT client id; default 12 hex chars derived from the prefix (the original uses the MAC). */
  clientId?: string;
  /**
   * The build of the firmware the board was flashed with (`os.uname().version`, the boot
   * greeting); default `v1.12-mqboard`. An image written by OTA says its own (app description).
   */
  firmware?: string;
  /** Called with every log line as formatted for P/log (e.g. to echo on a console). */
  onLog?: (line: string) => void;
  /**
   * A board migrated to our MicroPython package (`mqboard board install`): the hardware
   * watchdog's timeout until the package arms its own, as main.py's 70 s on a board; default 70 s.
   */
  packageBootWatchdogMs?: number;
}

export interface OriginalBoard {
  prefix: string;
  root: string;
  /** Graceful stop (sends DISCONNECT): for tests and the demo fleet. */
  stop(): Promise<void>;
  /** Power cut: the socket dies without DISCONNECT and the board stays down. */
  kill(): void;
}

/** RTC memory survives resets but not power loss: blank, the normal-boot magic, or cleared. */
type Rtc = 'blank' | 'magic' | 'cleared';

export async function startOriginalBoard(opts: OriginalBoardOptions): Promise<OriginalBoard> {
  const board = new Board(opts);
  await board.boot(PWRON_RESET);
  return { prefix: opts.prefix, root: board.root, stop: () => board.stop(), kill: () => board.kill() };
}

class Board implements BoardHost {
  readonly root: string;
  private readonly interval: number;
  private readonly allok: number;
  private readonly clientId: string;
  private readonly partitions: Partitions;
  private rtc: Rtc = 'blank';
  /** RTC memory holds the MicroPython package's JSON (a migrated board whose package ran last). */
  private rtcJson = false;
  private dead = false;
  /** Everything that belongs to one boot; replaced on every reset. */
  private life: Life | undefined;
  /** A migrated board's boot of the MicroPython package (instead of a Life). */
  private pkg: PackageRun | undefined;
  /** A migrated board hanging in main.py until its hardware watchdog fires. */
  private hang: NodeJS.Timeout | undefined;

  constructor(private readonly opts: OriginalBoardOptions) {
    this.root = path.resolve(opts.root);
    fs.mkdirSync(this.root, { recursive: true });
    this.interval = opts.watchdogIntervalMs ?? 20_000;
    this.allok = opts.allokMs ?? 300_000;
    this.clientId = opts.clientId ?? createHash('sha256').update(opts.prefix).digest('hex').slice(0, 12);
    this.partitions = new Partitions(this.root);
  }

  async boot(cause: number): Promise<void> {
    if (this.dead) return;
    if (cause === PWRON_RESET) clearRtc(this.root);
    let safemode: boolean;
    if (isMigrated(this.root)) {
      // The migration boot.py: our package in normal mode, the original's safe mode otherwise.
      const mode = decideMigratedBoot(this.root, this.rtcJson ? { format: 'json' } : { format: 'original', state: this.rtc });
      if (mode === 'normal' && this.packageImports()) {
        this.rtcJson = true;
        if (this.bootPackage(cause)) return;
      }
      this.opts.onLog?.('MQBoard migration: starting the original safe mode');
      this.rtcJson = false;
      this.rtc = 'cleared';
      safemode = true;
    } else {
      // Boot mode from RTC memory: magic, or blank after a cold boot, means normal (and the magic
      // is cleared so a crash before the next "all OK" leads to safe mode); anything else is safe.
      safemode = !(this.rtc === 'magic' || (this.rtc === 'blank' && cause === PWRON_RESET));
      if (!safemode) this.rtc = 'cleared';
    }
    const life = new Life(this, this.opts, { cause, safemode, clientId: this.clientId, interval: this.interval, allok: this.allok });
    this.life = life;
    try {
      await life.start(this.partitions);
    } catch (e) {
      // e.g. python3 missing: do not leave a half-booted board with live timers behind
      life.teardown(true);
      if (this.life === life) this.life = undefined;
      throw e;
    }
  }

  /** Called by a Life when the board resets itself; boots again after a moment. */
  reset(from: Life, cause: number): void {
    if (this.life !== from || this.dead) return;
    from.teardown(true);
    this.life = undefined;
    setTimeout(() => void this.boot(cause).catch(() => undefined), this.opts.rebootDelayMs ?? 300);
  }

  /**
   * The package needs MicroPython 1.22+ (asyncio): on the firmware in the running slot the
   * migration boot.py's `import device` fails on an older one, and the board goes to safe mode.
   */
  private packageImports(): boolean {
    const { running } = this.partitions.read();
    const fw = readFirmware(this.partitions.slotPath(running), this.opts.firmware ?? FACTORY_FIRMWARE);
    const [major = 0, minor = 0] = fw.release.split('.').map(Number);
    if (major > 1 || (major === 1 && minor >= 22)) return true;
    this.opts.onLog?.(`ImportError: no module named 'asyncio' (MicroPython ${fw.release})`);
    return false;
  }

  /**
   * One boot of the MicroPython package; false when its main.py would fail before it connects
   * (a config it cannot start with): the board then hangs until the hardware watchdog resets it.
   */
  private bootPackage(cause: number): boolean {
    const addr = packageAddress(this.root);
    const say = (l: string) => this.opts.onLog?.(l);
    const bootWdtMs = this.opts.packageBootWatchdogMs ?? 70_000;
    if ('error' in addr) {
      say(`Traceback (most recent call last):\n  File "main.py", in <module>\n${addr.error}`);
      this.rtcJson = false;
      this.rtc = 'cleared';
      const t = setTimeout(() => {
        if (this.pkg === undefined && this.life === undefined && !this.dead) void this.boot(WDT_RESET).catch(() => undefined);
      }, bootWdtMs);
      this.hang = t;
      return true;
    }
    const run = runPackageBoot({
      root: this.root,
      ...addr,
      resetCause: cause === PWRON_RESET ? 'cold' : cause === WDT_RESET ? 'watchdog' : 'soft',
      bootWdtMs,
      onLine: say,
    });
    this.pkg = run;
    void run.ended.then((how) => {
      if (this.pkg !== run) return;
      this.pkg = undefined;
      settlePackageRtc(this.root);
      if (how === 'shutdown' || how === 'killed' || this.dead) return;
      setTimeout(() => void this.boot(how === 'watchdog' || how === 'failed' ? WDT_RESET : SOFT_RESET).catch(() => undefined), this.opts.rebootDelayMs ?? 300);
    });
    return true;
  }

  setRtc(normal: boolean): void {
    this.rtc = normal ? 'magic' : 'cleared';
    this.rtcJson = false;
  }

  markValid(): void {
    this.partitions.markValid();
  }

  async stop(): Promise<void> {
    this.dead = true;
    clearTimeout(this.hang);
    await this.life?.shutdown();
    this.life = undefined;
    await this.pkg?.stop();
    this.pkg = undefined;
  }

  kill(): void {
    this.dead = true;
    clearTimeout(this.hang);
    this.life?.teardown(true);
    this.life = undefined;
    this.pkg?.kill();
    this.pkg = undefined;
  }
}

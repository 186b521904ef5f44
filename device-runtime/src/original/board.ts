// One simulated ORIGINAL MQBoard board (MicroPython on ESP32 running tve/mqboard): boot log,
// mqtt_async-like connection, mqrepl, the watchdog feeder and hardware WDT, safe mode via RTC
// memory, and resets that drop the connection abruptly and boot again.
//
// Dev/test simulator: eval runs in a CPython subprocess (see python/mpboard.py). File access is
// confined to `root`, but this is not a sandbox for untrusted code.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Partitions } from './ota';
import { Life, PWRON_RESET, type BoardHost } from './life';

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
  private dead = false;
  /** Everything that belongs to one boot; replaced on every reset. */
  private life: Life | undefined;

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
    // Boot mode from RTC memory: magic, or blank after a cold boot, means normal (and the magic
    // is cleared so a crash before the next "all OK" leads to safe mode); anything else is safe.
    const safemode = !(this.rtc === 'magic' || (this.rtc === 'blank' && cause === PWRON_RESET));
    if (!safemode) this.rtc = 'cleared';
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

  setRtc(normal: boolean): void {
    this.rtc = normal ? 'magic' : 'cleared';
  }

  markValid(): void {
    this.partitions.markValid();
  }

  async stop(): Promise<void> {
    this.dead = true;
    await this.life?.shutdown();
    this.life = undefined;
  }

  kill(): void {
    this.dead = true;
    this.life?.teardown(true);
    this.life = undefined;
  }
}

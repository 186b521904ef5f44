// One boot of a simulated original board: boot log, the interpreter, the mqtt_async-like
// connection, mqrepl, the watchdog feeder and the hardware WDT. A reset throws the whole Life
// away (RAM, socket, interpreter) and the Board starts a new one.
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { commandSubscription, commandTopic, logTopic, WATCHDOG_ID, type Level } from '../../../protocol/src';
import { BoardLog } from './board-log';
import { MQRepl } from './mqrepl';
import { readFirmware, type Partitions } from './ota';
import { PythonHost, type PyEvent } from './python-host';
import type { OriginalBoardOptions } from './board';

// machine.reset_cause() values on the esp32 port.
export const PWRON_RESET = 1;
const WDT_RESET = 3;
/** What `os.uname().version` says on a board flashed with the original's MicroPython build. */
export const FACTORY_FIRMWARE = 'v1.12-mqboard';
const SOFT_RESET = 5;
const CAUSE_NAMES: Record<number, string> = { 1: 'PWRON_RESET', 2: 'HARD_RESET', 3: 'WDT_RESET', 4: 'DEEPSLEEP_RESET', 5: 'SOFT_RESET' };
/** The boot-time hardware WDT, before the watchdog module re-arms it (wire facts). */
const BOOT_WDT_MS = 70_000;

/** What a Life needs from the board that outlives it (RTC memory, flash, the reset switch). */
export interface BoardHost {
  readonly root: string;
  reset(from: Life, cause: number): void;
  setRtc(normal: boolean): void;
  markValid(): void;
}

export interface LifeConfig {
  cause: number;
  safemode: boolean;
  clientId: string;
  interval: number;
  allok: number;
}

/** One boot of the board: its interpreter, connection, timers and RAM log buffer. */
export class Life {
  private readonly bootAt = Date.now();
  private readonly log: BoardLog;
  private python!: PythonHost;
  private repl!: MQRepl;
  private client: MqttClient | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private wdt: NodeJS.Timeout | undefined;
  private firstFeed: number | null = 0;
  private gone = false;
  /** The booted image is one the simulator makes panic before its all-OK (SIM_PANIC_MARK). */
  private panics = false;

  constructor(
    private readonly board: BoardHost,
    private readonly opts: OriginalBoardOptions,
    private readonly cfg: LifeConfig,
  ) {
    this.log = new BoardLog(this.bootAt, opts.onLog);
  }

  private say(level: Level, name: string, text: string): void {
    this.log.log(level, name, text);
  }

  async start(partitions: Partitions): Promise<void> {
    this.armWdt(BOOT_WDT_MS);
    const { running, rolledBack } = partitions.bootSelect();
    // The firmware in the running slot says what it is (its app description); the factory
    // image, never written by an OTA, is the one the board was flashed with.
    const fw = readFirmware(partitions.slotPath(running), this.opts.firmware ?? FACTORY_FIRMWARE);
    this.panics = fw.panics;
    // The original main.py's greeting, at WARNING so it survives a log buffer overflow.
    this.say('W', 'main', '');
    this.say('W', 'main', `MicroPython ${fw.release} (${fw.version} on 2020-05-23, simulated in CPython)`);
    this.say('W', 'main', '4MB/OTA NO-BT module with ESP32 (simulated)');
    this.say('W', 'main', `${this.opts.prefix} starting at (2000, 1, 1, 0, 0, 1, 5, 1)`);
    this.say('W', 'main', `Boot partition: ${running}`);
    if (rolledBack) this.say('W', 'main', 'OTA image not marked valid: rolled back');
    if (this.cfg.safemode) this.say('W', 'main', 'SAFE MODE boot (no normal-boot magic in RTC memory)');
    this.say('W', 'main', `Reset cause: ${CAUSE_NAMES[this.cfg.cause] ?? this.cfg.cause}`);

    this.python = new PythonHost(
      { root: this.board.root, prefix: this.opts.prefix, bootEpochMs: this.bootAt, safemode: this.cfg.safemode, resetCause: this.cfg.cause, firmware: fw },
      (e) => this.onPyEvent(e),
    );
    await this.python.whenReady();
    const free = 101424 - Math.floor(Math.random() * 2000);
    this.say('I', 'main', `MEM free=${free} contig=${free - 6672}`);
    this.say('I', 'watchdog', `WDT updated with ${Math.round((this.cfg.interval * 4) / 1000)} seconds timeout`);
    this.armWdt(this.cfg.interval * 4);

    this.repl = new MQRepl({
      prefix: this.opts.prefix,
      python: this.python,
      partitions,
      publish: (t, p) => this.publish(t, p),
      log: (l, n, t) => this.say(l, n, t),
    });
    if (this.opts.logIntervalMs) {
      this.every(this.opts.logIntervalMs, () => {
        const f = 98000 - Math.floor(Math.random() * 4000);
        this.say('I', 'main', `MEM free=${f} contig=${f - 6672}`);
      });
    }
    this.connect(true);
  }

  private mqttOptions(clean: boolean): IClientOptions {
    return {
      protocolVersion: 4,
      clientId: this.cfg.clientId,
      clean,
      username: this.opts.username,
      password: this.opts.password,
      // mqtt_async sends keepalive 0 when there is no last will, and the original sets none.
      keepalive: 0,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      // The original relies on its persistent session and never resubscribes on reconnect.
      resubscribe: false,
    };
  }

  /**
   * mqtt_async's first connection: connect with clean=1 to drop stale state, disconnect, then
   * connect for good with clean=0 so the session survives network glitches.
   */
  private connect(first: boolean): void {
    if (this.gone) return;
    const u = new URL(this.opts.url);
    this.say('I', 'mqtt_async', `Connecting to ('${u.hostname}', ${u.port || 1883}) id=${this.cfg.clientId} clean=${first ? 1 : 0}`);
    const client = mqtt.connect(this.opts.url, this.mqttOptions(first));
    this.client = client;
    client.on('error', () => undefined); // reconnects on its own; errors surface as offline
    if (first) {
      client.once('connect', () => {
        client.end(false, () => {
          if (this.client === client) this.connect(false);
        });
      });
      return;
    }
    // Messages are handled one at a time and acked only when the handler is done, like the
    // board's read loop (subs_cb first, PUBACK after).
    client.handleMessage = (packet, done) => {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      this.repl.onMessage(packet.topic, new Uint8Array(payload), packet.dup === true).then(
        () => done(),
        () => done(),
      );
    };
    let initialized = false;
    client.on('connect', () => {
      if (this.gone) return;
      if (!initialized) {
        initialized = true;
        void this.onInit(client);
      } else {
        this.say('I', 'mqtt', 'MQTT connected (->0)');
        this.log.attach((line) => this.publish(logTopic(this.opts.prefix), line));
      }
    });
    client.on('offline', () => {
      if (this.gone) return;
      this.log.detach();
      this.say('I', 'mqtt_async', 'dead socket: read_msg failed (Connection closed)');
      this.say('I', 'mqtt', 'MQTT disconnected (->0)');
    });
  }

  /** The first connection: the modules' init callbacks in order (logging, mqrepl, watchdog). */
  private async onInit(client: MqttClient): Promise<void> {
    this.say('I', 'mqtt', 'Initial MQTT connection (->3)');
    this.say('I', 'main', `Logging to ${logTopic(this.opts.prefix)}`);
    const { used, capacity } = this.log.stats();
    this.say('I', 'main', `Log buf: ${used}/${capacity} bytes`);
    this.log.attach((line) => this.publish(logTopic(this.opts.prefix), line));
    this.log.shrink();
    this.say('I', 'mqtt', 'MQTT connected (->0)');
    const sub = commandSubscription(this.opts.prefix);
    try {
      await client.subscribeAsync(sub, { qos: 1 });
    } catch {
      return; // connection lost before SUBACK; the watchdog will reset the board
    }
    if (this.gone) return;
    this.say('I', 'mqrepl', `Subscribed to ${sub}`);
    // The watchdog feeder: a loop-back eval through the broker proves the board is reachable.
    const topic = commandTopic(this.opts.prefix, 'eval', WATCHDOG_ID);
    const msg = new Uint8Array(Buffer.from('\x80\x00watchdog.feed()', 'latin1'));
    const feed = () => {
      this.say('I', 'watchdog', topic);
      this.publish(topic, msg).catch(() => undefined);
    };
    feed();
    this.every(this.cfg.interval, feed);
    if (this.panics) {
      // Before all-OK, so the image is still on trial and the bootloader rolls it back at the
      // reset. A panic prints on the serial console only; the esp32 port reports it as WDT_RESET.
      const t = setTimeout(() => {
        if (this.gone) return;
        this.opts.onLog?.("Guru Meditation Error: Core  1 panic'ed (LoadProhibited). Exception was unhandled.");
        this.board.reset(this, WDT_RESET);
      }, Math.min(1000, this.cfg.allok / 2));
      this.timers.add(t);
    }
  }

  private publish(topic: string, payload: Uint8Array): Promise<void> {
    const c = this.client;
    if (!c || this.gone) return Promise.reject(new Error('board is down'));
    return c.publishAsync(topic, Buffer.from(payload), { qos: 1 }).then(() => undefined);
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    this.timers.add(t);
  }

  private armWdt(ms: number): void {
    if (this.wdt) clearTimeout(this.wdt);
    this.wdt = setTimeout(() => {
      if (this.gone) return;
      this.say('C', 'main', 'watchdog timeout'); // lost with the RAM buffer, but shows on onLog
      this.board.reset(this, WDT_RESET);
    }, ms);
  }

  private onPyEvent(e: PyEvent): void {
    if (this.gone) return;
    switch (e.event) {
      case 'log':
        this.say(toLevel(e.level), e.name, e.text);
        return;
      case 'feed':
        this.onFeed();
        return;
      case 'normalboot':
        this.board.setRtc(e.normal);
        return;
      case 'reset':
        if (e.how === 'delayed') {
          // watchdog.reset(normal): set the boot mode now, reset after a second so the farewell
          // log line and the eval reply can still go out.
          this.board.setRtc(e.normal === true);
          const t = setTimeout(() => this.board.reset(this, SOFT_RESET), 1000);
          this.timers.add(t);
        } else {
          // machine.reset() on an esp32 is a software restart: reset_cause() reads SOFT_RESET.
          this.board.reset(this, SOFT_RESET);
        }
        return;
    }
  }

  /** watchdog.feed(): re-arm the WDT and, after allok of good feeding, settle the boot mode. */
  private onFeed(): void {
    this.armWdt(this.cfg.interval * 4);
    if (this.firstFeed === null) return;
    if (this.firstFeed === 0) {
      this.firstFeed = Date.now();
      return;
    }
    if (Date.now() - this.firstFeed <= this.cfg.allok) return;
    this.board.markValid();
    this.python?.settled().catch(() => undefined);
    if (this.cfg.safemode) {
      this.say('C', 'watchdog', 'Switching to NORMAL MODE via reset');
      this.board.setRtc(true);
      const t = setTimeout(() => this.board.reset(this, SOFT_RESET), 1000);
      this.timers.add(t);
    } else {
      this.say('W', 'watchdog', 'Next reset: normal boot');
      this.board.setRtc(true);
    }
    this.firstFeed = null;
  }

  /** Everything of this boot stops; `abrupt` kills the socket without DISCONNECT. */
  teardown(abrupt: boolean): void {
    if (this.gone) return;
    this.gone = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.wdt) clearTimeout(this.wdt);
    this.log.close();
    this.repl?.close();
    this.python?.kill();
    this.client?.end(abrupt);
  }

  async shutdown(): Promise<void> {
    const c = this.client;
    const py = this.python;
    this.teardown(false);
    await Promise.all([
      c ? new Promise<void>((r) => (c.disconnected || !c.connected ? r() : c.once('end', () => r()))) : undefined,
      py?.exited(),
    ]);
  }
}

function toLevel(l: string): Level {
  return l === 'C' || l === 'E' || l === 'W' || l === 'D' ? l : 'I';
}


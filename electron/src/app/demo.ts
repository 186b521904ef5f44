// The first-run demo: the embedded broker on a free
// loopback port and a small fleet from the bundled device runtime in varied states, so a new
// user sees a live fleet within seconds: tagged for selecting (greenhouse, sensor, …), one of
// them a battery board that sleeps between wakes (commands for it wait in the queue), a board
// running the original MQBoard code, one running our MicroPython package with a live REPL, and
// updates to try on them in demo-bundles.ts. The runtime boards run as `mqboard-device` processes
// of their own (device-processes.ts), each supervised as on real hardware, and the MicroPython
// board runs MicroPython's WebAssembly port on a worker thread, so a busy loop or a crash on one
// of them never stalls the app. The broker takes only this run's credentials, which only
// the app and these processes know. The demo lives as long as the app. Its two slow cycles (the
// battery board's sleep, a boot's wait for all-OK) can be shortened through the environment, the
// way the app already takes its settings folder: the end-to-end tests run the demo at their pace.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installDemo } from '../../../device-runtime/src';
import type { DeviceEntry, DevicesFile } from '../../../device-runtime/src/devices-file';
import { startMicroPythonDevice, type MicroPythonDevice } from '../../../device-runtime/src/micropython-wasm/device';
import { startOriginalBoard, type OriginalBoard } from '../../../device-runtime/src/original';
import { randomCredentials, startEmbeddedBroker, type BrokerCredentials } from '../broker/embedded';
import { startDeviceProcess, type DeviceProcess } from './device-processes';

export interface Demo {
  url: string;
  /** This run's broker credentials: for the app's own connection, never for display. */
  credentials: BrokerCredentials;
  prefixes: string[];
  /** The pids of the device processes (the `mqboard-device` bins) now running. */
  pids(): number[];
  /** Resolves once every device process has started its devices. */
  running(): Promise<void>;
  stop(): Promise<void>;
}

interface DemoDevice {
  prefix: string;
  firmware: string;
  /** In its config.json, so its status reports them: what fleet selectors pick devices by. */
  tags: string[];
  mode?: 'safe';
  /** Drops off the broker (power cut) and comes back, on a cycle. */
  flaky?: true;
  /** Runs an application module with a bug that crashes its first boot (a real crash record). */
  crash?: true;
  /** The board's RAM (the status reports its free memory, not the host's); default an ESP32's. */
  ram?: number;
  /** A battery board: asleep for `sleepS` at a time, awake while there is work and AWAKE_MS after. */
  sleeper?: true;
}

/** An ESP32's internal RAM, and an ESP32 module with 4 MiB of PSRAM. */
const ESP32_RAM = 320 * 1024;
const ESP32_PSRAM = 4 * 1024 * 1024 + ESP32_RAM;

const DEVICES: DemoDevice[] = [
  { prefix: 'greenhouse/climate-1', firmware: '2.4.1', tags: ['greenhouse', 'sensor', 'climate'] },
  { prefix: 'greenhouse/climate-2', firmware: '2.4.1', tags: ['greenhouse', 'sensor', 'climate'] },
  { prefix: 'greenhouse/irrigation', firmware: '2.3.0', tags: ['greenhouse', 'actuator'] },
  { prefix: 'workshop/compressor', firmware: '1.9.2', mode: 'safe', tags: ['workshop', 'actuator'] },
  { prefix: 'workshop/lathe', firmware: '1.9.3', tags: ['workshop', 'machine'] },
  { prefix: 'lab/esp32-proto', firmware: '0.7.0-dev', crash: true, tags: ['lab', 'prototype'] },
  { prefix: 'field/weather-station', firmware: '3.1.0', flaky: true, ram: ESP32_PSRAM, tags: ['field', 'sensor', 'outdoor'] },
  { prefix: 'field/soil-probe', firmware: '2.4.1', sleeper: true, tags: ['field', 'sensor', 'battery'] },
];
const ORIGINAL_PREFIX = 'lab/original-board';
/** An ESP32-style board running the MicroPython package, in MicroPython's WebAssembly port. */
const MICROPYTHON_PREFIX = 'lab/esp32-micropython';

/** The flaky device's cycle: online this long, then gone this long. */
const FLAKY_UP_MS = 40_000;
const FLAKY_DOWN_MS = 12_000;
/** Each device's application logs a line this often (staggered per device). */
const LOG_EVERY_MS = 4_000;
const AWAKE_MS = 5_000;

export interface DemoTimings {
  /** The sleeper's sleep: long enough to queue a command and watch it wait, short enough to see it run. */
  sleepS: number;
  /**
   * When a boot (an update's trial boot too) counts as good: at the first watchdog feed after
   * this, so a rollout's health gate passes within half a minute instead of the three minutes a
   * board's default takes.
   */
  allOkS: number;
}

export const DEMO_TIMINGS: DemoTimings = { sleepS: 40, allOkS: 15 };

/** The environment variables that shorten (or lengthen) the demo's cycles, in seconds. */
export const DEMO_TIMING_ENV = { sleepS: 'MQBOARD_DEMO_SLEEP_S', allOkS: 'MQBOARD_DEMO_ALLOK_S' } as const;
const TIMING_RANGE: Record<keyof DemoTimings, [number, number]> = { sleepS: [2, 3600], allOkS: [3, 600] };

/** The demo's timings from the environment: a value that is not a whole number of seconds in range keeps the default, with a warning. */
export function demoTimingsFromEnv(env: NodeJS.ProcessEnv): DemoTimings {
  const out = { ...DEMO_TIMINGS };
  for (const key of Object.keys(DEMO_TIMING_ENV) as (keyof DemoTimings)[]) {
    const raw = env[DEMO_TIMING_ENV[key]];
    if (raw === undefined || raw === '') continue;
    const [min, max] = TIMING_RANGE[key];
    const n = /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (Number.isInteger(n) && n >= min && n <= max) out[key] = n;
    else console.warn(`mqboard: ${DEMO_TIMING_ENV[key]} must be a whole number of seconds from ${min} to ${max}; using ${out[key]}`);
  }
  return out;
}

/** The demo devices' watchdog: fed every allOkS (a quarter of its timeout), so a boot reaches all-OK at about allOkS. */
const demoWatchdog = (t: DemoTimings) => ({ timeoutS: 4 * t.allOkS, allokS: t.allOkS });

export async function startDemo(timings: DemoTimings = demoTimingsFromEnv(process.env)): Promise<Demo> {
  const credentials = randomCredentials('mqboard-demo');
  const broker = await startEmbeddedBroker({ port: 0, auth: credentials });
  // mkdtemp makes the folder private to this user: the device roots and lists live here.
  const root = mkdtempSync(path.join(os.tmpdir(), 'mqboard-demo-'));
  const timers: ReturnType<typeof setTimeout>[] = [];
  const processes: DeviceProcess[] = [];
  let original: OriginalBoard | undefined;
  let stopped = false;

  const entry = (d: DemoDevice): DeviceEntry => ({
    prefix: d.prefix,
    root: path.join(root, d.prefix),
    firmware: d.firmware,
    mode: d.mode ?? 'normal',
    // Frequent status refreshes keep uptime and free memory moving on screen.
    statusIntervalMs: 5_000,
    keepaliveS: 10,
    moduleRetryMs: 1_000,
    simulatedRamBytes: d.ram ?? ESP32_RAM,
    ...(d.sleeper ? { sleepCycleMs: timings.sleepS * 1000, awakeMs: AWAKE_MS } : {}),
  });
  /** One bin for `devices`: its list goes in a file, the credentials in its environment. */
  const spawnDevices = (name: string, devices: DemoDevice[]): DeviceProcess => {
    const list = path.join(root, `${name}.devices.json`);
    const file: DevicesFile = { devices: devices.map(entry) };
    writeFileSync(list, JSON.stringify(file, null, 2), { mode: 0o600 });
    const p = startDeviceProcess({
      name: `demo ${name}`,
      args: ['--server', broker.host, '--port', String(broker.port), '--devices', list, '--quiet'],
      ...credentials,
      onExit: (m) => console.warn(`mqboard: ${m}`),
    });
    processes.push(p);
    return p;
  };

  try {
    await Promise.all(
      DEVICES.map((d, i) =>
        installApplication(path.join(root, d.prefix), d, { index: i, marker: path.join(root, `${d.prefix.replace(/\//g, '_')}.calibrated`), watchdog: demoWatchdog(timings) }),
      ),
    );
    // The steady boards share one bin (each still has its own runtime process under it); the
    // flaky one has its own, so that its power cut is that process dying.
    spawnDevices('fleet', DEVICES.filter((d) => !d.flaky));
    for (const d of DEVICES.filter((x) => x.flaky)) {
      const flaky = spawnDevices(d.prefix.replace(/\//g, '_'), [d]);
      const cycle = () => {
        timers.push(
          setTimeout(() => {
            if (stopped) return;
            void flaky.kill().then(() => {
              if (stopped) return;
              timers.push(
                setTimeout(() => {
                  if (stopped) return;
                  flaky.start();
                  cycle();
                }, FLAKY_DOWN_MS),
              );
            });
          }, FLAKY_UP_MS),
        );
      };
      cycle();
    }
  } catch (e) {
    await Promise.allSettled(processes.map((p) => p.stop()));
    await broker.close();
    rmSync(root, { recursive: true, force: true });
    throw e;
  }

  if (hasPython()) {
    original = await startOriginalBoard({
      url: broker.url,
      ...credentials,
      prefix: ORIGINAL_PREFIX,
      root: path.join(root, ORIGINAL_PREFIX),
      logIntervalMs: 7_000,
      // Its feeds are how the app sees it online; the app connects after this boot's first one.
      watchdogIntervalMs: 10_000,
      // A new firmware confirms at the demo's pace, as the runtime boards do.
      allokMs: timings.allOkS * 1000,
    }).catch((e: unknown) => {
      console.warn(`demo: original board not started: ${e instanceof Error ? e.message : e}`);
      return undefined;
    });
  }

  // A worker thread of the app's process: its Python never blocks the app, and it returns at
  // once, before the board is online.
  const micropython: MicroPythonDevice | undefined = await startMicroPythonDevice({
    server: broker.host,
    port: broker.port,
    ...credentials,
    prefix: MICROPYTHON_PREFIX,
    root: path.join(root, MICROPYTHON_PREFIX),
    // This port cannot interrupt a running loop: a `while True: pass` typed in its REPL ends
    // with its watchdog's reset, so the watchdog is short.
    config: { tags: ['lab', 'micropython', 'esp32'], watchdog: { timeout: 20, allok: timings.allOkS, revert: false } },
  }).catch((e: unknown) => {
    console.warn(`demo: MicroPython board not started: ${e instanceof Error ? e.message : e}`);
    return undefined;
  });

  return {
    url: broker.url,
    credentials,
    prefixes: [...DEVICES.map((d) => d.prefix), ...(original ? [ORIGINAL_PREFIX] : []), ...(micropython ? [MICROPYTHON_PREFIX] : [])],
    pids: () => processes.flatMap((p) => p.pid() ?? []),
    running: async () => void (await Promise.all(processes.map((p) => p.running()))),
    async stop() {
      stopped = true;
      timers.forEach(clearTimeout);
      await Promise.allSettled([...processes.map((p) => p.stop()), original?.stop(), micropython?.stop()]);
      await broker.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function hasPython(): boolean {
  return spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Gives a demo device a real application: the runtime's blinky module, a `chatter` module that
 * logs at every level, and for the "crashed" device a `calibrate` module whose first boot hits
 * a TypeError, so the runtime records a genuine crash and reboots. Safe-mode config without
 * `revert`, so the safe-mode device stays in safe mode while the demo runs.
 */
async function installApplication(root: string, d: DemoDevice, o: { index: number; marker: string; watchdog: ReturnType<typeof demoWatchdog> }): Promise<void> {
  mkdirSync(path.join(root, 'lib'), { recursive: true });
  mkdirSync(path.join(root, 'safemode'), { recursive: true });
  writeFileSync(path.join(root, 'lib', 'chatter.mjs'), CHATTER);
  if (d.crash) writeFileSync(path.join(root, 'lib', 'calibrate.mjs'), CALIBRATE);
  const modules = ['blinky', 'chatter', ...(d.crash ? ['calibrate'] : [])];
  const config = {
    modules,
    tags: d.tags,
    watchdog: o.watchdog,
    blinky: { period: 2 },
    chatter: { everyMs: LOG_EVERY_MS + o.index * 350, seed: o.index },
    calibrate: { marker: o.marker },
  };
  writeFileSync(path.join(root, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(path.join(root, 'safemode', 'config.json'), JSON.stringify({ watchdog: { revert: false } }, null, 2));
  // Copies blinky into /lib; it leaves the config files written above alone.
  await installDemo(root, 2);
}

/** Demo module: plausible application log lines at every level. */
const CHATTER = `// Demo application module (MQBoard demo fleet): log lines at every level.
const LINES = [
  ['info', (n) => 'temperature ' + (19 + ((n * 7) % 40) / 10).toFixed(1) + ' C, humidity ' + (55 + (n % 17)) + ' %'],
  ['debug', (n) => 'loop ' + n + ' took ' + (8 + (n % 23)) + ' ms'],
  ['info', (n) => 'zone ' + (1 + (n % 4)) + ' valve ' + (n % 2 ? 'open' : 'closed')],
  ['warn', (n) => 'reading out of range on channel ' + (n % 3) + ', retrying'],
  ['debug', (n) => 'keepalive ok, rtt ' + (2 + (n % 9)) + ' ms'],
  ['error', () => 'write to /data/cache.json failed: ENOSPC, dropping cache'],
];
export function start(mqtt, config) {
  let n = Number(config.seed) || 0;
  const timer = setInterval(() => {
    const [level, text] = LINES[n % LINES.length];
    n++;
    mqtt.log[level](text(n));
  }, Number(config.everyMs) || 4000);
  mqtt.onStop(() => clearInterval(timer));
}
`;

/** Demo module with a first-boot bug: the runtime records the crash and reboots. */
const CALIBRATE = `// Demo application module (MQBoard demo fleet): crashes on its first boot.
import fs from 'node:fs';
export function start(mqtt, config) {
  if (!fs.existsSync(config.marker)) {
    fs.writeFileSync(config.marker, String(Date.now()));
    mqtt.log.warn('channel 3 not calibrated');
    const channels = {};
    return channels[3].calibration;
  }
  mqtt.log.info('calibration loaded for 4 channels');
}
`;

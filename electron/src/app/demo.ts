// The first-run demo (issue 4, "Start with something alive"): the embedded broker on a free
// loopback port and a small fleet from the bundled device runtime in varied states, so a new
// user sees a live fleet within seconds. Everything runs in-process and stops with the app.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { crashTopic, type CrashList } from '../../../protocol/src';
import { startDevice, type DeviceHandle, type DeviceOptions } from '../../../device-runtime/src';
import { startOriginalBoard, type OriginalBoard } from '../../../device-runtime/src/original';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded';

export interface Demo {
  url: string;
  prefixes: string[];
  stop(): Promise<void>;
}

interface DemoDevice {
  prefix: string;
  firmware: string;
  mode?: 'safe';
  /** Drops off the broker (power cut) and comes back, on a cycle. */
  flaky?: true;
  crash?: true;
}

const DEVICES: DemoDevice[] = [
  { prefix: 'greenhouse/climate-1', firmware: '2.4.1' },
  { prefix: 'greenhouse/climate-2', firmware: '2.4.1' },
  { prefix: 'greenhouse/irrigation', firmware: '2.3.0' },
  { prefix: 'workshop/compressor', firmware: '1.9.2', mode: 'safe' },
  { prefix: 'workshop/lathe', firmware: '1.9.3' },
  { prefix: 'lab/esp32-proto', firmware: '0.7.0-dev', crash: true },
  { prefix: 'field/weather-station', firmware: '3.1.0', flaky: true },
];
const ORIGINAL_PREFIX = 'lab/original-board';

/** The flaky device's cycle: online this long, then gone this long. */
const FLAKY_UP_MS = 40_000;
const FLAKY_DOWN_MS = 12_000;
const LOG_EVERY_MS = 700;

export async function startDemo(): Promise<Demo> {
  const broker = await startEmbeddedBroker({ port: 0 });
  const root = mkdtempSync(path.join(os.tmpdir(), 'mqboard-demo-'));
  const handles = new Map<string, DeviceHandle>();
  const timers: ReturnType<typeof setTimeout>[] = [];
  let original: OriginalBoard | undefined;
  let stopped = false;

  const options = (d: DemoDevice): DeviceOptions => ({
    url: broker.url,
    prefix: d.prefix,
    root: path.join(root, d.prefix),
    firmware: d.firmware,
    mode: d.mode ?? 'normal',
    // Frequent status refreshes keep uptime and free memory moving on screen.
    statusIntervalMs: 5_000,
    keepaliveS: 10,
    waitConnected: false,
  });

  await Promise.all(DEVICES.map(async (d) => handles.set(d.prefix, await startDevice(options(d)))));

  for (const d of DEVICES.filter((x) => x.crash)) await publishCrash(broker, d.prefix);

  for (const d of DEVICES.filter((x) => x.flaky)) {
    const cycle = () => {
      timers.push(
        setTimeout(() => {
          if (stopped) return;
          handles.get(d.prefix)?.kill();
          timers.push(
            setTimeout(() => {
              if (stopped) return;
              void startDevice(options(d)).then((h) => {
                if (stopped) return h.kill();
                handles.set(d.prefix, h);
                cycle();
              });
            }, FLAKY_DOWN_MS),
          );
        }, FLAKY_UP_MS),
      );
    };
    cycle();
  }

  if (hasPython()) {
    original = await startOriginalBoard({ url: broker.url, prefix: ORIGINAL_PREFIX, root: path.join(root, ORIGINAL_PREFIX), logIntervalMs: 7_000 }).catch(
      (e: unknown) => {
        console.warn(`demo: original board not started: ${e instanceof Error ? e.message : e}`);
        return undefined;
      },
    );
  }

  // Logs flowing: a plausible application chatter from each device.
  let tick = 0;
  const chatter = setInterval(() => {
    const list = [...handles.values()];
    const h = list[tick++ % list.length];
    if (!h) return;
    const line = LINES[tick % LINES.length]!;
    h.log.logger(line.name)[line.level](line.text(tick));
  }, LOG_EVERY_MS);

  return {
    url: broker.url,
    prefixes: [...DEVICES.map((d) => d.prefix), ...(original ? [ORIGINAL_PREFIX] : [])],
    async stop() {
      stopped = true;
      clearInterval(chatter);
      timers.forEach(clearTimeout);
      await Promise.allSettled([...[...handles.values()].map((h) => h.stop()), original?.stop()]);
      await broker.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

const LINES: { name: string; level: 'info' | 'debug' | 'warn' | 'error'; text: (n: number) => string }[] = [
  { name: 'sensor', level: 'info', text: (n) => `temperature ${(19 + ((n * 7) % 40) / 10).toFixed(1)} C, humidity ${55 + (n % 17)} %` },
  { name: 'mqtt', level: 'debug', text: (n) => `keepalive ping ok (rtt ${2 + (n % 9)} ms)` },
  { name: 'valve', level: 'info', text: (n) => `zone ${1 + (n % 4)} ${n % 2 ? 'open' : 'closed'}` },
  { name: 'sensor', level: 'warn', text: (n) => `reading out of range on channel ${n % 3}, retrying` },
  { name: 'app', level: 'debug', text: (n) => `loop ${n} took ${8 + (n % 23)} ms` },
  { name: 'storage', level: 'error', text: () => 'write to /data/cache.json failed: ENOSPC, dropping cache' },
];

function hasPython(): boolean {
  return spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * A crash record for the demo's "crashed" device, retained at P/mqb/crash exactly as a device
 * publishes it after restarting from a crash (docs/protocol.md, "Crash records").
 */
async function publishCrash(broker: EmbeddedBroker, prefix: string): Promise<void> {
  const now = Date.now();
  const record: CrashList = {
    crashes: [
      {
        id: `c-${now.toString(36)}`,
        time: now - 14 * 60_000,
        bootCount: 12,
        mode: 'normal',
        reason: 'exception',
        message: "TypeError: Cannot read properties of undefined (reading 'calibration')",
        stack: [
          "TypeError: Cannot read properties of undefined (reading 'calibration')",
          '    at readSensor (/app/sensor.js:42:31)',
          '    at Timeout.poll [as _onTimeout] (/app/main.js:18:5)',
          '    at listOnTimeout (node:internal/timers:581:17)',
        ].join('\n'),
        log: ['I 18233   sensor: polling 4 channels', 'W 18240   sensor: channel 3 not calibrated', "C 18241      app: uncaught TypeError in readSensor"],
      },
    ],
  };
  const client = await mqtt.connectAsync(broker.url, { clientId: `mqboard-demo-${process.pid}`, protocolVersion: 4 });
  await client.publishAsync(crashTopic(prefix), JSON.stringify(record), { qos: 1, retain: true });
  await client.endAsync();
}

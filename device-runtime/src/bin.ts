// `mqboard-device`: one simulated board, a fleet with --fleet N, or the boards listed in a
// --devices file, until SIGINT/SIGTERM (or, when started by another program over an IPC
// channel, until that program goes).
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { configFromEnv, readConfigFile, resolveConfig, type BinConfig } from './config';
import path from 'node:path';
import { installDemo } from './demo';
import { readDevicesFile, type DeviceEntry } from './devices-file';
import { tuneGcForStreams } from './gc-tuning';
import { fleetMember } from './options';
import { startSupervisedDevice } from './supervisor';
import { RUNTIME_VERSION } from './status';

const int = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer ${min}..${max}`);
  return n;
};

const program = new Command('mqboard-device')
  .description('MQBoard device runtime: the board side of MQBoard in Node, answering over MQTT')
  .version(RUNTIME_VERSION)
  .option('-s, --server <host>', 'broker host (MQBOARD_SERVER)')
  .option('-p, --port <n>', 'broker port (MQBOARD_PORT; 1883, or 8883 with --tls)', int(1, 65535))
  .option('--tls', 'connect with TLS (MQBOARD_TLS)')
  .option('--ca <file>', 'PEM CA bundle to trust for TLS')
  .option('--user <name>', 'broker user name (MQBOARD_USER)')
  .option('--password <pw>', 'broker password (prefer MQBOARD_PASSWORD: flags are visible in ps)')
  .option('--prefix <topic>', 'topic prefix P; commands arrive on P/mqb/cmd/... (MQBOARD_PREFIX)')
  .option('--root <dir>', "the device's filesystem (default: $XDG_DATA_HOME/mqboard-device/<prefix>)")
  .option('--fleet <n>', 'run N devices with prefixes <prefix>/001... and roots <root>/001...', int(1, 999))
  .option('--chunk <bytes>', 'largest chunk accepted and advertised (default 65536)', int(64, 16 * 1024 * 1024))
  .option('--status-interval <s>', 'seconds between status refreshes (default 60)', int(1, 86_400))
  .option('--sleep-cycle <s>', 'sleep like a battery board: offline (status "sleep") for S seconds between wakes', int(1, 86_400))
  .option('--awake <s>', 'with --sleep-cycle: seconds awake with nothing to do before sleeping again (default 5)', int(1, 3600))
  .option('--config <file>', 'JSON file with the same settings (flags win)')
  .option('--devices <file>', 'JSON file {"devices": [{prefix, root, firmware?, mode?, sleepCycleMs?, ...}]}: run each listed board, supervised')
  .option('--demo', 'install the demo blinky application into each device root (if it has no config.json)')
  .option('--no-supervisor', 'run the runtime in this process instead of a supervised child (no crash/hang recovery)')
  .option('--supervise', 'with --fleet: give every device its own supervised runtime process')
  .option('--simulated-ram <bytes>', "report free memory of a board with this much RAM (e.g. 327680, an ESP32's), not the host's", int(16 * 1024, 2 ** 36))
  .option('-q, --quiet', 'do not echo log lines to stderr');

program.parse();
const flags = program.opts<
  BinConfig & { config?: string; devices?: string; quiet?: boolean; demo?: boolean; supervisor: boolean; supervise?: boolean; simulatedRam?: number }
>();
const { config: configFile, devices: devicesFile, quiet, demo, supervisor, supervise, simulatedRam, ...cli } = flags;

try {
  const merged: BinConfig = {
    ...configFromEnv(process.env),
    ...(configFile ? readConfigFile(configFile) : {}),
    ...Object.fromEntries(Object.entries(cli).filter(([, v]) => v !== undefined)),
  };
  const listed: DeviceEntry[] | undefined = devicesFile ? readDevicesFile(devicesFile) : undefined;
  if (listed && merged.fleet) throw new Error('--devices and --fleet do not go together');
  // With --devices the file names every board; the prefix check is for the other two forms.
  const resolved = resolveConfig(listed ? { ...merged, prefix: merged.prefix ?? listed[0]!.prefix } : merged, (f) => readFileSync(f, 'utf8'));
  const { fleet } = resolved;
  const device = { ...resolved.device, ...(simulatedRam ? { simulatedRamBytes: simulatedRam } : {}) };
  const echo = quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
  const members: DeviceEntry[] =
    listed ??
    (fleet
      ? Array.from({ length: fleet }, (_, i) => ({ prefix: `${device.prefix}/${fleetMember(i + 1)}`, root: path.join(device.root, fleetMember(i + 1)) }))
      : [{ prefix: device.prefix, root: device.root }]);
  const many = members.length > 1 || listed !== undefined;
  if (demo) for (const m of members) await installDemo(m.root);
  // One board or a --devices list: supervised unless told otherwise. A fleet: one process for
  // all unless --supervise (a supervised runtime is a Node process of its own, ~50 MB each).
  const supervised = fleet ? supervise === true : supervisor;
  let handle: { stop(): Promise<void> };
  if (supervised) {
    const all = await Promise.all(
      members.map((m) => startSupervisedDevice({ ...device, ...m, ...(echo ? { echo: (l: string) => echo(many ? `[${m.prefix}] ${l}` : l) } : {}) })),
    );
    handle = { stop: async () => void (await Promise.all(all.map((d) => d.stop()))) };
  } else {
    // The devices run in this process: the same reason as the supervised child's (child.ts).
    tuneGcForStreams();
    // Loaded only here: a supervisor never runs a device itself, and starts sooner without them.
    const [{ startDevice }, { startFleet }] = await Promise.all([import('./device'), import('./fleet')]);
    const common = { ...device, waitConnected: false, ...(echo ? { echo } : {}) };
    if (fleet) handle = await startFleet({ ...common, count: fleet });
    else {
      const all = await Promise.all(
        members.map((m) => startDevice({ ...common, ...m, ...(echo && many ? { echo: (l: string) => echo(`[${m.prefix}] ${l}`) } : {}) })),
      );
      handle = { stop: async () => void (await Promise.all(all.map((d) => d.stop()))) };
    }
  }
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1); // second signal: give up on the clean stop
    stopping = true;
    void handle.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (process.send) {
    // Started by a program (the app's demo and simulated fleets): its devices must not outlive
    // it, however it ends, and it learns here that they are all running.
    process.on('disconnect', () => {
      if (!stopping) stop();
    });
    process.send({ t: 'running', devices: members.map((m) => m.prefix) });
  }
} catch (e) {
  process.stderr.write(`mqboard-device: ${(e as Error).message}\n`);
  process.exit(2);
}

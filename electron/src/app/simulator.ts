// Simulated devices from the bundled device runtime for the app menu's "Start simulated fleet"
// and the bridge's startSimulator: `mqboard-device --fleet N` processes (device-processes.ts),
// never the host's own process. A few devices get a supervised runtime process each, as boards
// have (Ctrl-C, crash and hang recovery); larger fleets share one process per 999 devices (the
// bin's limit), as a supervised runtime costs a Node process per device.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrokerProfile } from '../engine/types';
import { startDeviceProcess, type DeviceProcess } from './device-processes';

export interface SimulatedFleet {
  prefixes: string[];
  stop(): Promise<void>;
}

const MAX_PER_FLEET = 999;
/** Fleets up to this size run each device supervised in its own runtime process. */
const SUPERVISED_UP_TO = 10;
/** Simulated boards are ESP32-class: their status reports free memory out of 320 KiB. */
const SIMULATED_RAM_BYTES = 320 * 1024;

/** The bin's connection flags for a broker profile (the credentials go in the environment). */
function connectionArgs(broker: BrokerProfile, dir: string): string[] {
  let u: URL;
  try {
    u = new URL(broker.url);
  } catch {
    throw new Error(`not a broker URL: ${broker.url}`);
  }
  if (u.protocol !== 'mqtt:' && u.protocol !== 'mqtts:') {
    throw new Error(`simulated devices connect over mqtt:// or mqtts://, not ${u.protocol}//`);
  }
  const args = ['--server', u.hostname, ...(u.port ? ['--port', u.port] : []), ...(u.protocol === 'mqtts:' ? ['--tls'] : [])];
  if (broker.ca) {
    const ca = path.join(dir, 'ca.pem');
    writeFileSync(ca, broker.ca, { mode: 0o600 });
    args.push('--ca', ca);
  }
  return args;
}

export async function startSimulatedFleet(opts: { broker: BrokerProfile; prefix: string; count: number }): Promise<SimulatedFleet> {
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new RangeError(`fleet size must be a positive integer: ${opts.count}`);
  // mkdtemp makes it private to this user: the device roots and the CA file live here.
  const root = mkdtempSync(path.join(os.tmpdir(), 'mqboard-sim-'));
  const processes: DeviceProcess[] = [];
  const prefixes: string[] = [];
  const stop = async () => {
    await Promise.allSettled(processes.map((p) => p.stop()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const connection = connectionArgs(opts.broker, root);
    for (let start = 0, part = 0; start < opts.count; start += MAX_PER_FLEET, part++) {
      const count = Math.min(MAX_PER_FLEET, opts.count - start);
      // One fleet: <prefix>/001…; more: <prefix>/<part>/001… so prefixes stay unique.
      const prefix = opts.count > MAX_PER_FLEET ? `${opts.prefix}/${part + 1}` : opts.prefix;
      const supervise = opts.count <= SUPERVISED_UP_TO ? ['--supervise'] : [];
      processes.push(
        startDeviceProcess({
          name: `simulated fleet ${prefix}`,
          args: [...connection, '--prefix', prefix, '--root', path.join(root, String(part)), '--fleet', String(count), ...supervise, '--simulated-ram', String(SIMULATED_RAM_BYTES), '--quiet'],
          ...(opts.broker.username !== undefined ? { username: opts.broker.username } : {}),
          ...(opts.broker.password !== undefined ? { password: opts.broker.password } : {}),
          onExit: (m) => console.warn(`mqboard: ${m}`),
        }),
      );
      for (let i = 1; i <= count; i++) prefixes.push(`${prefix}/${String(i).padStart(3, '0')}`);
    }
    // A bad option or an unreachable runtime is reported to the caller, not retried in silence.
    await Promise.all(processes.map((p) => p.running()));
  } catch (e) {
    await stop();
    throw e;
  }
  return { prefixes, stop };
}

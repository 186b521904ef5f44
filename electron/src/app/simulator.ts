// Simulated devices from the bundled device runtime, started inside the host process (the demo
// fleet, the app menu's "Start simulated fleet", and the bridge's startSimulator). The runtime's
// fleet tops out at 999 devices per call, so larger requests start several fleets.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFleet, type FleetHandle } from '../../../device-runtime/src';
import type { BrokerProfile } from '../engine/types';

export interface SimulatedFleet {
  prefixes: string[];
  stop(): Promise<void>;
}

const MAX_PER_FLEET = 999;

export async function startSimulatedFleet(opts: { broker: BrokerProfile; prefix: string; count: number }): Promise<SimulatedFleet> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mqboard-sim-'));
  const fleets: FleetHandle[] = [];
  try {
    for (let start = 0, part = 0; start < opts.count; start += MAX_PER_FLEET, part++) {
      const count = Math.min(MAX_PER_FLEET, opts.count - start);
      // One fleet: <prefix>/001…; more: <prefix>/<part>/001… so prefixes stay unique.
      const prefix = opts.count > MAX_PER_FLEET ? `${opts.prefix}/${part + 1}` : opts.prefix;
      fleets.push(
        await startFleet({
          url: opts.broker.url,
          username: opts.broker.username,
          password: opts.broker.password,
          ca: opts.broker.ca,
          prefix,
          count,
          root: path.join(root, String(part)),
          waitConnected: false,
        }),
      );
    }
  } catch (e) {
    await Promise.all(fleets.map((f) => f.stop()));
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return {
    prefixes: fleets.flatMap((f) => f.devices.map((d) => d.prefix)),
    async stop() {
      await Promise.all(fleets.map((f) => f.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

// Simulated devices as separate processes (the `mqboard-device` bin), so a test can kill one
// the way a board loses power: SIGKILL, the socket dies, the broker fires the Last Will.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repo } from './paths';
import { spawnProc, type Proc } from './processes';

export interface DeviceProcOptions {
  /** mqtt://host:port */
  url: string;
  prefix: string;
  /** Run a fleet of N devices: prefixes <prefix>/001… */
  fleet?: number;
  /** Run the runtime inside the bin's process instead of under its supervisor (--no-supervisor). */
  unsupervised?: boolean;
}

export function startDeviceProcess(o: DeviceProcOptions): Proc {
  const u = new URL(o.url);
  const root = mkdtempSync(path.join(os.tmpdir(), 'mqb-e2e-dev-'));
  const args = [path.join(repo, 'bin/mqboard-device.mjs'), '--server', u.hostname, '--port', u.port, '--prefix', o.prefix, '--root', root, '--quiet'];
  if (o.fleet) args.push('--fleet', String(o.fleet));
  if (o.unsupervised) args.push('--no-supervisor');
  const proc = spawnProc(`device ${o.prefix}${o.fleet ? ` x${o.fleet}` : ''}`, process.execPath, args, { cwd: repo });
  // The device's files go with it: nothing outside this module knows where they are.
  return {
    ...proc,
    async kill(signal) {
      await proc.kill(signal);
      // Best effort: after a SIGKILL the supervised runtime may still be finishing a write.
      try {
        rmSync(root, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        /* left for the OS to clean */
      }
    },
  };
}

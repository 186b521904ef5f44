// A simulated fleet for the fleet benches: devices of our runtime in child processes (its
// `--fleet`, up to 999 devices a process), so the engine under test has the bench's process to
// itself, and the waits until the engine lists them online.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DeviceState, Engine } from '../electron/src/engine';

const DEVICE_BIN = fileURLToPath(new URL('../bin/mqboard-device.mjs', import.meta.url));

/** `count` devices `<prefix>/<nnn>` with their roots below `root`, on a broker at 127.0.0.1:`port`; stderr comes through. */
export function spawnDevices(port: number, prefix: string, root: string, count: number): ChildProcess {
  const args = [DEVICE_BIN, '--server', '127.0.0.1', '--port', String(port), '--prefix', prefix, '--root', root, '--fleet', String(count), '--quiet'];
  return spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Resolves with every listed prefix, sorted, once `n` devices are online (and `ready`, when given). */
export function fleetOnline(engine: Engine, n: number, ready: (d: DeviceState) => boolean = () => true): Promise<string[]> {
  return new Promise<string[]>((resolve) => {
    const check = () => {
      if (engine.devices().filter((d) => d.presence === 'online' && ready(d)).length < n) return;
      off();
      resolve(
        engine
          .devices()
          .map((d) => d.prefix)
          .sort(),
      );
    };
    const off = engine.on('devices', check);
    check();
  });
}

/** Adds one device by its prefix and resolves once the engine sees it online. */
export function deviceOnline(engine: Engine, prefix: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (engine.device(prefix)?.presence === 'online') {
        off();
        resolve();
      }
    };
    const off = engine.on('devices', check);
    engine.addDevice(prefix);
    check();
  });
}

/** Stops the device processes and waits until every one has exited. */
export async function stopDevices(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
}

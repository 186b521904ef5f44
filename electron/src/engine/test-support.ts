// Shared set-up for the engine's integration tests: real brokers, real devices, and waiting on
// engine events instead of sleeping.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevice, type DeviceHandle } from '../../../device-runtime/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { createEngine, type EngineOptions } from './engine';
import { EngineError } from './errors';
import type { DeviceState, Engine } from './types';

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function tempDir(tag: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `mqb-${tag}-`));
  return {
    dir,
    remove() {
      // Retried: a device stopping a moment ago may still be finishing a write under its root.
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      // An original board simulated with this root keeps its OTA partitions beside it.
      rmSync(`${dir}.ota`, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}

export async function connectedEngine(url: string, opts: EngineOptions & { depths?: number[] } = {}): Promise<Engine> {
  const engine = createEngine(opts);
  await engine.connect({ url, discovery: { depths: opts.depths ?? [1, 2, 3] } });
  return engine;
}

/** Resolves once `pred` holds for the engine's device list, re-checking on every batch. */
export function waitForDevices(engine: Engine, pred: (all: DeviceState[]) => boolean): Promise<DeviceState[]> {
  return new Promise((resolve) => {
    const check = () => {
      const all = engine.devices();
      if (pred(all)) {
        off();
        resolve(all);
        return true;
      }
      return false;
    };
    const off = engine.on('devices', () => void check());
    check();
  });
}

/** Awaits a promise that must reject with an EngineError, and returns that error. */
export async function engineFailure(p: Promise<unknown>): Promise<EngineError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof EngineError)) throw new Error(`expected an EngineError, got ${e === undefined ? 'success' : String(e)}`);
  return e;
}

export interface DeviceOnBroker {
  broker: EmbeddedBroker;
  device: DeviceHandle;
  engine: Engine;
  root: ReturnType<typeof tempDir>;
  close(): Promise<void>;
}

/** One runtime device on an embedded aedes broker, and an engine connected to it (no discovery). */
export async function deviceOnBroker(prefix: string, tag: string): Promise<DeviceOnBroker> {
  const broker = await startEmbeddedBroker();
  const root = tempDir(tag);
  const device = await startDevice({ url: broker.url, prefix, root: root.dir });
  const engine = await connectedEngine(broker.url, { depths: [] });
  return {
    broker,
    device,
    engine,
    root,
    async close() {
      await engine.disconnect();
      await device.stop();
      await broker.close();
      root.remove();
    },
  };
}

const DEVICE_BIN = fileURLToPath(new URL('../../../bin/mqboard-device.mjs', import.meta.url));

/**
 * Our runtime as its own OS process. Unsupervised by default: killing it kills the runtime, and
 * the broker then publishes its Last Will. `supervised` runs it as a user does, under the
 * supervisor that resets a blocked runtime. `flags` (`--user`, `--password`) pass through.
 */
export function spawnDevice(brokerPort: number, prefix: string, root: string, opts: { supervised?: boolean; flags?: string[] } = {}): ChildProcess {
  const args = [DEVICE_BIN, '--server', '127.0.0.1', '--port', String(brokerPort), '--prefix', prefix, '--root', root, '--quiet'];
  if (!opts.supervised) args.push('--no-supervisor');
  return spawn(process.execPath, [...args, ...(opts.flags ?? [])], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Kills a process and resolves once it has exited. */
export function killProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

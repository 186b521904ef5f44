// Shared set-up for the engine's integration tests: real brokers, real devices, and waiting on
// engine events instead of sleeping.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine, type EngineOptions } from './engine';
import type { DeviceState, Engine } from './types';

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function tempDir(tag: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `mqb-${tag}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
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

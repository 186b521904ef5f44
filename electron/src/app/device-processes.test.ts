// Simulated devices as child processes (the real `mqboard-device` bin): what the app hears when
// one cannot start, and which broker URLs a simulated fleet can use.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDeviceProcess } from './device-processes';
import { startSimulatedFleet } from './simulator';

describe('device processes', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-devproc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reports a bin that exits before its devices run, with the bin's own reason", async () => {
    const exits: string[] = [];
    const p = startDeviceProcess({ name: 'broken', args: ['--devices', path.join(dir, 'missing.json')], onExit: (m) => exits.push(m) });
    try {
      await expect(p.running()).rejects.toThrow(/^broken: the device runtime exited \(code 2\): mqboard-device: cannot read devices file .*missing\.json/);
    } finally {
      await p.stop();
    }
    expect(p.pid()).toBeUndefined();
    // Left alone it would have been tried again (a demo keeps its devices coming back).
    expect(exits).toEqual([expect.stringMatching(/^broken: the device runtime ended \(code 2\): .*; restarting$/)]);
  });

  it('refuses a broker URL simulated devices cannot use, before starting anything', async () => {
    await expect(startSimulatedFleet({ broker: { url: 'ws://127.0.0.1:9001' }, prefix: 'sim', count: 2 })).rejects.toThrow(
      'simulated devices connect over mqtt:// or mqtts://, not ws://',
    );
  });
});

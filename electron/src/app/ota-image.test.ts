// What the OTA pane is told about an image before it is sent: a real app bundle passes with its
// version and target slot; a truncated or foreign image, an empty one and one over the device's
// limit are refused; original boards get no bundle check (they take MicroPython firmware).
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createBundle } from '../../../device-runtime/src';
import type { DeviceState } from '../engine/types';
import { inspectImage } from './ota-image';

const runtime: DeviceState = {
  prefix: 'p',
  kind: 'mqboard',
  presence: 'online',
  since: 0,
  source: 'status',
  firmware: '1.0.0',
  capabilities: { maxChunk: 65536, maxImage: 200_000, commands: ['ota'], putAck: true, putShaLast: true, getAck: true, terminal: false },
  ota: { active: 'a', confirmed: true, slots: [{ name: 'a', version: '1.0.0' }, { name: 'b', version: null }] },
};
const original: DeviceState = { prefix: 'o', kind: 'original', presence: 'online', since: 0, source: 'watchdog' };

describe('OTA image inspection', () => {
  it('accepts an app bundle, naming its version, the inactive slot and the running version', async () => {
    const image = await createBundle({ name: 'app', version: '2.0.0', modules: [] }, { 'app.mjs': 'export function start() {}' });
    const info = await inspectImage('s1', 'app.tar', image, runtime);
    expect(info).toEqual({
      stage: 's1',
      name: 'app.tar',
      size: image.length,
      sha256: createHash('sha256').update(image).digest('hex'),
      maxImage: 200_000,
      targetSlot: 'b',
      currentVersion: '1.0.0',
      imageVersion: '2.0.0',
    });
  });

  it('refuses a truncated bundle, a foreign file, an empty image and one over the limit', async () => {
    const image = await createBundle({ name: 'app', version: '2.0.0', modules: [] }, { 'big.mjs': randomBytes(120_000).toString('hex') });
    expect((await inspectImage('s', 'cut.tar', image.subarray(0, image.length >> 1), runtime)).refused).toMatch(/Truncated/);
    expect((await inspectImage('s', 'x.bin', randomBytes(5000), runtime)).refused).toMatch(/not a valid app bundle/);
    expect((await inspectImage('s', 'e.bin', new Uint8Array(0), runtime)).refused).toBe('the image is empty');
    expect((await inspectImage('s', 'big.tar', image, runtime)).refused).toMatch(/at most 200000/);
  });

  it('takes any non-empty image for an original board', async () => {
    const info = await inspectImage('s', 'firmware.bin', randomBytes(5000), original);
    expect(info.refused).toBeUndefined();
    expect(info.targetSlot).toBeUndefined();
  });
});

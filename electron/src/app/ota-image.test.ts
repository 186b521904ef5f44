// What the OTA pane is told about an image before it is sent: a real app bundle passes with its
// version and target slot; a truncated or foreign image, an empty one and one over the device's
// limit are refused, each with the reason in words; an original board takes only ESP32
// firmware (first byte 0xE9), as its bootloader would.
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
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

  it('reads the version of a gzip-compressed bundle', async () => {
    const image = gzipSync(await createBundle({ name: 'app', version: '2.0.1' }, { 'app.mjs': 'export function start() {}' }));
    expect((await inspectImage('s', 'app.tar.gz', image, runtime)).imageVersion).toBe('2.0.1');
  });

  it('refuses a truncated bundle, a foreign file, an empty image and one over the limit', async () => {
    const image = await createBundle({ name: 'app', version: '2.0.0', modules: [] }, { 'big.mjs': randomBytes(120_000).toString('hex') });
    expect((await inspectImage('s', 'cut.tar', image.subarray(0, image.length >> 1), runtime)).refused).toBe('not an app bundle: the archive is truncated');
    const noise = randomBytes(5000);
    noise[0] = 0x42;
    expect((await inspectImage('s', 'x.bin', noise, runtime)).refused).toBe('not an app bundle: it does not start with a tar header');
    const firmware = Buffer.concat([Buffer.from([0xe9, 0x06, 0x02, 0x20]), randomBytes(5000)]);
    expect((await inspectImage('s', 'fw.bin', firmware, runtime)).refused).toMatch(/^not an app bundle: it starts with 0xE9, like ESP32 firmware/);
    expect((await inspectImage('s', 'e.bin', new Uint8Array(0), runtime)).refused).toBe('the image is empty');
    expect((await inspectImage('s', 'big.tar', image, runtime)).refused).toMatch(/at most 200000/);
  });

  it('takes an ESP32 firmware image for an original board, and refuses anything else', async () => {
    const firmware = Buffer.concat([Buffer.from([0xe9, 0x06, 0x02, 0x20]), randomBytes(5000)]);
    const info = await inspectImage('s', 'firmware.bin', firmware, original);
    expect(info.refused).toBeUndefined();
    expect(info.targetSlot).toBeUndefined();
    const noise = randomBytes(5000);
    noise[0] = 0x3c;
    expect((await inspectImage('s', 'random.bin', noise, original)).refused).toBe('not an ESP32 firmware image: first byte is 0x3C not 0xE9');
    const bundle = await createBundle({ name: 'app', version: '2.0.0' }, { 'app.mjs': 'export function start() {}' });
    expect((await inspectImage('s', 'app.tar', bundle, original)).refused).toBe(
      'not an ESP32 firmware image: first byte is 0x6D not 0xE9 (it looks like an app bundle, which is for the MQBoard runtime)',
    );
  });
});

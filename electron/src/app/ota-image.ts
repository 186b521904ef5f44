// What the app can tell about a firmware image before sending it: size, SHA-256, the device's
// limit, the slot it will land in, the device's current version and, for our runtime, the
// version in the app bundle's manifest (device-runtime/src/bundle.ts, format `mqboard-app/1`: a
// tar, gzip allowed, with manifest.json). Original boards take MicroPython firmware for the
// ESP32: its image header starts with the magic byte 0xE9, which the board's bootloader checks
// when the new partition is made bootable; an image without it would be streamed in full and
// then refused, so it is refused here first.
import { createHash } from 'node:crypto';
import { Parser, type ReadEntry } from 'tar';
import type { OtaInfo } from '../../../protocol/src';
import { ESP_IMAGE_MAGIC, whyNotBundle } from '../../../device-runtime/src/bundle';
import type { DeviceState } from '../engine/types';

const MANIFEST_MAX = 64 * 1024;

const hex2 = (b: number) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`;

/** Why the image is not ESP32 firmware, or undefined if its header starts right. */
export function whyNotFirmware(image: Uint8Array): string | undefined {
  if (image.length === 0) return 'the image is empty';
  if (image[0] !== ESP_IMAGE_MAGIC) {
    const bundle = whyNotBundle(image.subarray(0, 512)) === undefined ? ' (it looks like an app bundle, which is for the MQBoard runtime)' : '';
    return `not an ESP32 firmware image: first byte is ${hex2(image[0]!)} not 0xE9${bundle}`;
  }
  return undefined;
}

/** The bundle manifest's name and version, or why the image is not a bundle. */
export async function readBundleManifest(image: Uint8Array): Promise<{ name: string; version: string } | { problem: string }> {
  const why = whyNotBundle(image.subarray(0, 512));
  if (why) return { problem: `not an app bundle: ${why}` };
  let manifest: string | undefined;
  let problem: string | undefined;
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      if (entry.path.replace(/^\.\//, '') !== 'manifest.json' || (entry.size ?? 0) > MANIFEST_MAX) {
        entry.resume();
        return;
      }
      const parts: Buffer[] = [];
      entry.on('data', (b: Buffer) => parts.push(b));
      entry.on('end', () => (manifest = Buffer.concat(parts).toString('utf8')));
    },
  });
  await new Promise<void>((resolve) => {
    parser.on('error', (e: Error) => {
      problem = e.message;
      resolve();
    });
    parser.on('warn', (_code: string, message: string | Error) => {
      problem ??= typeof message === 'string' ? message : message.message;
    });
    parser.on('end', () => resolve());
    parser.on('close', () => resolve());
    parser.end(Buffer.from(image.buffer, image.byteOffset, image.byteLength));
  });
  // A damaged archive is refused even when its manifest was readable: the device would unpack it.
  if (problem) return { problem: `not an app bundle: ${tarProblemInWords(problem)}` };
  if (manifest === undefined) return { problem: 'not an app bundle: it has no manifest.json' };
  try {
    const m = JSON.parse(manifest) as unknown;
    if (typeof m === 'object' && m !== null && 'format' in m && m.format === 'mqboard-app/1' && 'version' in m && typeof m.version === 'string') {
      return { name: 'name' in m && typeof m.name === 'string' ? m.name : '', version: m.version };
    }
    return { problem: 'not an app bundle: its manifest.json is not an mqboard-app/1 manifest' };
  } catch {
    return { problem: 'not an app bundle: its manifest.json is not JSON' };
  }
}

function tarProblemInWords(message: string): string {
  if (/truncated/i.test(message)) return 'the archive is truncated';
  if (/zlib|gzip|incorrect header check|invalid (block|distance|stored)/i.test(message)) return 'its gzip data is damaged';
  if (/Unrecognized archive format/i.test(message)) return 'it is not a tar archive';
  if (/checksum|base256|invalid entry/i.test(message)) return 'an entry header in the archive is damaged';
  return message;
}

/** Everything the OTA pane shows before the user confirms, and whether the image may be sent. */
export async function inspectImage(stage: string, name: string, image: Uint8Array, dev: DeviceState | undefined): Promise<OtaInfo> {
  const info: OtaInfo = { stage, name, size: image.length, sha256: createHash('sha256').update(image).digest('hex') };
  const maxImage = dev?.capabilities?.maxImage;
  if (maxImage !== undefined) info.maxImage = maxImage;
  if (dev?.ota) {
    info.targetSlot = dev.ota.active === 'a' ? 'b' : 'a';
    const running = dev.ota.slots.find((s) => s.name === dev.ota?.active);
    if (running?.version) info.currentVersion = running.version;
  }
  info.currentVersion ??= dev?.firmware;
  if (image.length === 0) info.refused = 'the image is empty';
  else if (maxImage !== undefined && image.length > maxImage) info.refused = `the image has ${image.length} bytes; the device takes at most ${maxImage}`;
  else if (dev?.kind === 'mqboard') {
    // Our runtime only boots app bundles; sending anything else would fail after the whole
    // stream, so say so now.
    const m = await readBundleManifest(image);
    if ('problem' in m) info.refused = m.problem;
    else info.imageVersion = m.version;
  } else if (dev?.kind === 'original') {
    const why = whyNotFirmware(image);
    if (why) info.refused = why;
  }
  return info;
}

// What the app can tell about a firmware image before sending it (issue 5, "Drag-and-drop OTA"):
// size, SHA-256, the device's limit, the slot it will land in, the device's current version and,
// for our runtime, the version in the app bundle's manifest (device-runtime/src/bundle.ts,
// format `mqboard-app/1`: a tar, gzip allowed, with manifest.json). Original boards take
// MicroPython firmware, which we cannot look into; only size and limit apply to them.
import { createHash } from 'node:crypto';
import { Parser, type ReadEntry } from 'tar';
import type { OtaInfo } from '../../../protocol/src';
import type { DeviceState } from '../engine/types';

const MANIFEST_MAX = 64 * 1024;

/** The bundle manifest's name and version, or why the image is not a bundle. */
export async function readBundleManifest(image: Uint8Array): Promise<{ name: string; version: string } | { problem: string }> {
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
  if (problem) return { problem: `not a valid app bundle (${problem})` };
  if (manifest === undefined) return { problem: 'not an app bundle: no manifest.json' };
  try {
    const m = JSON.parse(manifest) as unknown;
    if (typeof m === 'object' && m !== null && 'format' in m && m.format === 'mqboard-app/1' && 'version' in m && typeof m.version === 'string') {
      return { name: 'name' in m && typeof m.name === 'string' ? m.name : '', version: m.version };
    }
    return { problem: 'manifest.json is not an mqboard-app/1 manifest' };
  } catch {
    return { problem: 'manifest.json is not JSON' };
  }
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
  }
  return info;
}

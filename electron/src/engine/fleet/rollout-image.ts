// What a rollout's image is: our runtime's app bundle (its manifest names the version) or ESP32
// firmware for original boards (which says nothing the host can read, so the user names the
// version). Read once when the rollout is planned; the summary carries it.
import { createHash } from 'node:crypto';
import type { RolloutImage } from '../../../../protocol/src/bridge-rollouts';
import { ESP_IMAGE_MAGIC } from '../../../../device-runtime/src/bundle';
import { readBundleManifest } from '../../app/ota-image';

/** Describes the image, or throws a RangeError saying why it cannot be rolled out. */
export async function describeRolloutImage(name: string, image: Uint8Array, version?: string): Promise<RolloutImage> {
  const sha256 = createHash('sha256').update(image).digest('hex');
  if (image.length === 0) throw new RangeError(`${name}: the image is empty`);
  if (image[0] === ESP_IMAGE_MAGIC) {
    if (!version) throw new RangeError(`${name}: ESP32 firmware does not say its version; give the version the boards will report`);
    return { name, size: image.length, sha256, kind: 'firmware', version };
  }
  const m = await readBundleManifest(image);
  if ('problem' in m) throw new RangeError(`${name}: ${m.problem}`);
  if (version && version !== m.version) throw new RangeError(`${name}: the bundle says version ${m.version}, not ${version}`);
  return { name, size: image.length, sha256, kind: 'bundle', version: m.version };
}

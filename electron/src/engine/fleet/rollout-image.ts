// What a rollout's image is: our runtime's app bundle (its manifest names the version) or ESP32
// firmware for original boards (its app description names the build, which the board's boot
// greeting repeats; an image without one needs the version from the user). Read once when the
// rollout is planned; the summary carries it.
import { createHash } from 'node:crypto';
import type { RolloutImage } from '../../../../protocol/src/bridge-rollouts';
import { ESP_IMAGE_MAGIC } from '../../../../device-runtime/src/bundle';
import { readAppDescription } from '../../../../device-runtime/src/original/firmware-image';
import { readBundleManifest } from '../../app/ota-image';

/** Describes the image, or throws a RangeError saying why it cannot be rolled out. */
export async function describeRolloutImage(name: string, image: Uint8Array, version?: string): Promise<RolloutImage> {
  const sha256 = createHash('sha256').update(image).digest('hex');
  if (image.length === 0) throw new RangeError(`${name}: the image is empty`);
  if (image[0] === ESP_IMAGE_MAGIC) {
    const said = readAppDescription(image)?.version;
    if (said && version && version !== said) throw new RangeError(`${name}: the firmware says version ${said}, not ${version}`);
    const v = said ?? version;
    if (!v) throw new RangeError(`${name}: this ESP32 firmware has no app description to read its version from; give the version the boards will report`);
    return { name, size: image.length, sha256, kind: 'firmware', version: v };
  }
  const m = await readBundleManifest(image);
  if ('problem' in m) throw new RangeError(`${name}: ${m.problem}`);
  if (version && version !== m.version) throw new RangeError(`${name}: the bundle says version ${m.version}, not ${version}`);
  return { name, size: image.length, sha256, kind: 'bundle', version: m.version };
}

// The demo fleet's example images, for trying OTA and rollouts without building anything, one good
// and one bad of each kind: app bundles for our runtime's devices (`greenhouse-2.5.0`, and
// `greenhouse-2.6.0-crashes`, whose app throws at boot so the device's trial boot fails and it
// rolls back), and MicroPython firmware for the original board (`micropython-v1.13-mqboard`, and
// `micropython-v1.14-mqboard-panics`, which panics before its all-OK so the board's bootloader
// rolls it back). A rollout of a bad one stops at the canary. The bundles are built from the
// runtime's demo/bundles/ the first time they are asked for, then kept for the run.
import { buildDemoBundles } from '../../../device-runtime/src';
import { demoFirmwareImages } from '../../../device-runtime/src/original/demo-firmware';
import type { RolloutImage } from '../../../protocol/src/bridge-rollouts';

export interface DemoExample {
  /** Unique among the examples, e.g. `greenhouse-2.5.0`. */
  name: string;
  /** `bundle` for our runtime's devices, `firmware` for original boards. */
  kind: RolloutImage['kind'];
  description: string;
  /** The version a device reports once it runs the image. */
  version: string;
  bytes: Uint8Array;
}

let built: Promise<DemoExample[]> | undefined;

async function build(): Promise<DemoExample[]> {
  const bundles = (await buildDemoBundles()).map((b): DemoExample => ({ ...b, kind: 'bundle' }));
  const firmware = demoFirmwareImages().map((f): DemoExample => ({ ...f, kind: 'firmware' }));
  return [...bundles, ...firmware];
}

/**
 * Every example image (name, kind, description, version, bytes): the app bundles sorted by name,
 * then the firmware images, so the first is the one most of the demo fleet can take.
 */
export async function demoBundles(): Promise<DemoExample[]> {
  // A failed build is not remembered: the next call tries again.
  built ??= build().catch((e: unknown) => {
    built = undefined;
    throw e;
  });
  // Copies: a caller that changes its bytes must not change what the next one gets.
  return (await built).map((b) => ({ ...b, bytes: b.bytes.slice() }));
}

/** One example by its name, or an error that lists the names there are. */
export async function demoBundle(name: string): Promise<DemoExample> {
  const all = await demoBundles();
  const found = all.find((b) => b.name === name);
  if (!found) throw new Error(`there is no demo example named ${JSON.stringify(name.slice(0, 80))}; there are ${all.map((b) => b.name).join(', ')}`);
  return found;
}

// The demo fleet's example app bundles, for trying OTA and rollouts without writing an app:
// `greenhouse-2.5.0`, a good update, and `greenhouse-2.6.0-crashes`, whose app throws at boot so
// the device's trial boot fails and it rolls back (a rollout of it stops at the canary). Built
// from the runtime's demo/bundles/ the first time they are asked for, then kept for the run.
import { buildDemoBundles, type DemoBundle } from '../../../device-runtime/src';

export type { DemoBundle };

let built: Promise<DemoBundle[]> | undefined;

/** Every example bundle (name, description, version, bytes), sorted by name. */
export async function demoBundles(): Promise<DemoBundle[]> {
  // A failed build is not remembered: the next call tries again.
  built ??= buildDemoBundles().catch((e: unknown) => {
    built = undefined;
    throw e;
  });
  // Copies: a caller that changes its bytes must not change what the next one gets.
  return (await built).map((b) => ({ ...b, bytes: b.bytes.slice() }));
}

/** One example bundle by its name, or an error that lists the names there are. */
export async function demoBundle(name: string): Promise<DemoBundle> {
  const all = await demoBundles();
  const found = all.find((b) => b.name === name);
  if (!found) throw new Error(`there is no demo bundle named ${JSON.stringify(name.slice(0, 80))}; there are ${all.map((b) => b.name).join(', ')}`);
  return found;
}

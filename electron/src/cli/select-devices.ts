// How the fleet and rollout commands turn `--select` into devices: the selector parsed (a
// mistake is a usage error naming its column), then every device the broker lists, picked.
import { parseSelector, selectDevices, SelectorError, type FleetDevice, type Selector } from '../../../protocol/src/fleet/selector';
import type { Engine } from '../engine';
import { UsageError } from './usage-error';

/** Parses `--select`; an empty one is refused (it would pick every device by accident). */
export function parseSelect(text: string): Selector {
  if (text.trim() === '') throw new UsageError("an empty --select would pick every device: say '**' if that is meant");
  try {
    return parseSelector(text);
  } catch (e) {
    if (e instanceof SelectorError) throw new UsageError(`${e.message}: ${text.slice(0, 80)}`);
    throw e;
  }
}

/**
 * The devices on the broker that `sel` picks, by prefix: once the retained statuses are in,
 * and after `waitMs` more for boards that only announce themselves now and then. Throws when
 * none matches, saying how many were found.
 */
export async function pickDevices(engine: Engine, sel: Selector, o: { select: string; latest?: string; waitMs: number }): Promise<FleetDevice[]> {
  await engine.settle();
  if (o.waitMs > 0) await new Promise((r) => setTimeout(r, o.waitMs));
  const all = [...engine.devices()].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  let picked: FleetDevice[];
  try {
    picked = selectDevices(sel, all, { latest: o.latest });
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(`--latest: ${e.message}`);
    throw e;
  }
  if (picked.length === 0) throw new Error(`no device matches ${JSON.stringify(o.select)} (${all.length} found on the broker)`);
  return picked;
}

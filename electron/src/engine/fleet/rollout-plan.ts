// A rollout's wave plan: which devices go in which wave, and which are left out and why. Waves
// are written as cumulative targets (`1,10%,50%,100%`: one device, then up to a tenth of the
// selection, then half, then all), so a wave's size is what its target adds to the last one.
import { compareVersions, readFirmwareVersion } from '../../../../protocol/src/fleet/semver';
import type { RolloutImage, RolloutPlan } from '../../../../protocol/src/bridge-rollouts';
import type { DeviceState } from '../types';

export interface WaveTarget {
  /** As written: `1`, `10%`. */
  label: string;
  kind: 'count' | 'percent';
  value: number;
}

/** Parses `1,10%,50%,100%`; throws a RangeError in words for a spec that cannot be a plan. */
export function parseWaves(spec: string): WaveTarget[] {
  const parts = spec.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw new RangeError(`waves: empty entry in ${JSON.stringify(spec)}`);
  if (parts.length > 50) throw new RangeError('waves: at most 50 waves');
  return parts.map((p) => {
    const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(p);
    if (!m) throw new RangeError(`waves: ${JSON.stringify(p)} is neither a count nor a percentage`);
    const value = Number(m[1]);
    if (m[2]) {
      if (!(value > 0 && value <= 100)) throw new RangeError(`waves: ${p} is not between 0% and 100%`);
      return { label: p, kind: 'percent', value };
    }
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`waves: ${p} is not a whole number of devices`);
    return { label: p, kind: 'count', value };
  });
}

/**
 * Splits `n` devices into waves: each target is the number updated once its wave ends, a
 * percentage rounded up so a small fleet still gets a canary. Targets that add nothing are
 * dropped; devices beyond the last target are in no wave.
 */
export function waveSizes(targets: readonly WaveTarget[], n: number): { label: string; size: number }[] {
  const out: { label: string; size: number }[] = [];
  let done = 0;
  for (const t of targets) {
    const want = Math.min(n, t.kind === 'count' ? t.value : Math.ceil((t.value * n) / 100 - 1e-9));
    if (want <= done) continue;
    out.push({ label: t.label, size: want - done });
    done = want;
  }
  return out;
}

/** Whether the device already reports `version`: semver-aware (`v2.5.0` is `2.5.0`), else the exact text. */
export function reportsVersion(firmware: string | undefined, version: string): boolean {
  if (firmware === undefined) return false;
  const a = readFirmwareVersion(firmware);
  const b = readFirmwareVersion(version);
  if (a && b) return compareVersions(a, b) === 0;
  return firmware.trim() === version.trim();
}

/** Why a device cannot take this kind of image, or undefined when it can. */
/** The runtime kind the MicroPython package reports in its status (device-runtime/micropython). */
export const MICROPYTHON_RUNTIME = 'mqboard-micropython';

export function whyNotForDevice(image: Pick<RolloutImage, 'kind'>, d: DeviceState | undefined): string | undefined {
  if (!d) return undefined;
  // The MicroPython package updates by firmware into its partitions, with its own confirmation;
  // the gate knows our Node runtime's bundles and the original's firmware only.
  if (d.runtime?.kind === MICROPYTHON_RUNTIME) return 'an MQBoard MicroPython board: rollouts to it are not supported yet (update it with mqboard ota)';
  if (image.kind === 'bundle' && d.kind === 'original') return 'an original board takes MicroPython firmware, not an app bundle';
  if (image.kind === 'firmware' && d.kind === 'mqboard') return 'the MQBoard runtime takes app bundles, not ESP32 firmware';
  return undefined;
}

export interface PlanInput {
  image: RolloutImage;
  prefixes: readonly string[];
  waves: string;
  onlyOutdated: boolean;
  offline: 'skip' | 'wait';
  /** What the engine knows of each device now. */
  device: (prefix: string) => DeviceState | undefined;
}

/** The plan shown for review and then run: devices in the order given, duplicates once. */
export function planRollout(input: PlanInput): RolloutPlan {
  const targets = parseWaves(input.waves);
  const skipped: RolloutPlan['skipped'] = [];
  const eligible: string[] = [];
  const seen = new Set<string>();
  for (const prefix of input.prefixes) {
    if (seen.has(prefix)) continue;
    seen.add(prefix);
    const d = input.device(prefix);
    const why = whyNotForDevice(input.image, d);
    if (why) skipped.push({ prefix, reason: why });
    else if (input.onlyOutdated && input.image.version !== undefined && reportsVersion(d?.firmware, input.image.version)) {
      skipped.push({ prefix, reason: `already on ${input.image.version}` });
    } else if (input.offline === 'skip' && d?.presence !== 'online') skipped.push({ prefix, reason: d ? `${d.presence === 'offline' ? 'offline' : 'not seen online'}` : 'not found on the broker' });
    else eligible.push(prefix);
  }
  const sizes = waveSizes(targets, eligible.length);
  const waves: RolloutPlan['waves'] = [];
  let at = 0;
  for (const [index, w] of sizes.entries()) {
    waves.push({ index, label: w.label, prefixes: eligible.slice(at, at + w.size) });
    at += w.size;
  }
  for (const prefix of eligible.slice(at)) skipped.push({ prefix, reason: `beyond the last wave (${input.waves.replace(/\s+/g, '')})` });
  return { image: input.image, waves, skipped };
}

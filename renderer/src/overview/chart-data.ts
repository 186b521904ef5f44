// What the overview's charts draw, aggregated so the charts cost the same at 10 devices and at
// 10,000: one bar per firmware version (the most common ones, the rest as "other"), and the
// host's history as columns uPlot takes directly.
import type { DeviceState, FleetHistory } from '../../../protocol/src';
import { compareVersions, readFirmwareVersion } from '../../../protocol/src/fleet/semver';

export const UNKNOWN_FW = '(unknown)';
export const OTHER_FW = '(other)';

export interface FirmwareBars {
  /** Firmware strings as devices report them, oldest version first; then unknown, then other. */
  labels: string[];
  counts: number[];
  /** The firmware strings folded into the "other" bar. */
  other: ReadonlySet<string>;
}

/** Devices per reported firmware: the `max` most common versions, the rest as one "other" bar. */
export function firmwareBars(devices: Iterable<DeviceState>, max = 10): FirmwareBars {
  const by = new Map<string, number>();
  for (const d of devices) {
    const fw = d.firmware?.trim() || UNKNOWN_FW;
    by.set(fw, (by.get(fw) ?? 0) + 1);
  }
  const common = [...by].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = common.slice(0, common.length > max ? max - 1 : max);
  const rest = common.slice(shown.length);
  const version = (fw: string) => (fw === UNKNOWN_FW ? undefined : readFirmwareVersion(fw));
  shown.sort(([a], [b]) => {
    const va = version(a);
    const vb = version(b);
    if (va && vb) return compareVersions(va, vb) || a.localeCompare(b);
    // Versions first, then what cannot be read, with "unknown" last.
    if (va || vb) return va ? -1 : 1;
    if (a === UNKNOWN_FW || b === UNKNOWN_FW) return a === UNKNOWN_FW ? 1 : -1;
    return a.localeCompare(b);
  });
  const labels = shown.map(([fw]) => fw);
  const counts = shown.map(([, n]) => n);
  if (rest.length > 0) {
    labels.push(OTHER_FW);
    counts.push(rest.reduce((n, [, c]) => n + c, 0));
  }
  return { labels, counts, other: new Set(rest.map(([fw]) => fw)) };
}

/** The devices behind one bar. */
export function devicesOfBar(devices: Iterable<DeviceState>, bars: FirmwareBars, index: number): string[] {
  const label = bars.labels[index];
  if (label === undefined) return [];
  const out: string[] = [];
  for (const d of devices) {
    const fw = d.firmware?.trim() || UNKNOWN_FW;
    if (label === OTHER_FW ? bars.other.has(fw) : fw === label) out.push(d.prefix);
  }
  return out;
}

type OnlineSample = FleetHistory['online'][number];

/**
 * Online and known devices over time, x in seconds (uPlot's time scale); `now`, when given, is
 * the newest point and replaces samples at or after its time (the host adds its own "now").
 */
export function onlineSeries(h: FleetHistory, now?: OnlineSample): [number[], number[], number[]] {
  const all = now ? [...h.online.filter((s) => s.t < now.t), now] : h.online;
  return [all.map((s) => s.t / 1000), all.map((s) => s.online), all.map((s) => s.total)];
}

/** Crash records per day: day labels (`MM-DD`) and counts. */
export function crashSeries(h: FleetHistory): { labels: string[]; counts: number[] } {
  return { labels: h.crashesPerDay.map((d) => d.day.slice(5)), counts: h.crashesPerDay.map((d) => d.count) };
}

/** A short axis label for a firmware string (the version inside it when there is one). */
export function shortFirmware(fw: string, max = 14): string {
  if (fw.length <= max) return fw;
  if (readFirmwareVersion(fw)) {
    const m = /(?:^|[^0-9A-Za-z.])(v?\d+\.\d+(?:\.\d+)?(?:-[0-9A-Za-z.-]+)?)/.exec(fw);
    if (m?.[1] && m[1].length <= max) return m[1];
  }
  return `${fw.slice(0, max - 1)}…`;
}

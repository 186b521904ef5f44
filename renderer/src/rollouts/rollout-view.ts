// What the Rollouts view computes from the host's rollout data, kept out of the components so it
// can be pinned by tests: the planner's form turned into a checked RolloutInput, each wave's
// progress, the device table's order and filter, and the top bar's badge.
import {
  imageKindFor,
  RolloutInput,
  type DeviceState,
  type RolloutDevice,
  type RolloutDeviceState,
  type RolloutImageKind,
  type RolloutImageSource,
  type RolloutSummary,
} from '../../../protocol/src';

/** The planner's form as the user fills it in: numbers stay text until they are checked. */
export interface Draft {
  name: string;
  /** The version devices report once updated; needed for a MicroPython firmware image. */
  version: string;
  target: 'selection' | 'selector';
  selector: string;
  waves: string;
  concurrency: string;
  onlyOutdated: boolean;
  offline: 'skip' | 'wait';
  canaryMaxFailures: string;
  maxFailurePercent: string;
  /** Empty: no absolute cap. */
  maxFailures: string;
  onlineWithinS: string;
  soakS: string;
}

export const DEFAULT_DRAFT: Draft = {
  name: '',
  version: '',
  target: 'selection',
  selector: '',
  waves: '1,10%,50%,100%',
  concurrency: '10',
  onlyOutdated: true,
  offline: 'skip',
  canaryMaxFailures: '0',
  maxFailurePercent: '10',
  maxFailures: '',
  onlineWithinS: '120',
  soakS: '30',
};

const FIELD_WORDS: Record<string, string> = {
  waves: 'Waves',
  concurrency: 'Concurrency',
  canaryMaxFailures: 'Failures allowed in the canary wave',
  maxFailurePercent: 'Failure share that pauses',
  maxFailures: 'Failures in all that pause',
  onlineWithinS: 'Back online within',
  soakS: 'Soak',
  version: 'Version',
  name: 'Name',
  prefixes: 'Devices',
  selector: 'Selector',
};

/** A number field: whole text only ("10", "2.5"), so "10 s" or "1e3" is a mistake, not a guess. */
function num(text: string): number | undefined {
  const t = text.trim();
  return /^\d+(\.\d+)?$/.test(t) ? Number(t) : undefined;
}

/**
 * The draft as the host's RolloutInput, checked with the contract's own schema so a mistake is
 * named in the form before anything is sent. `prefixes` are the devices the draft resolved to.
 */
export function draftInput(d: Draft, image: RolloutImageSource, prefixes: readonly string[]): { input: RolloutInput } | { error: string } {
  const numbers = { concurrency: d.concurrency, canaryMaxFailures: d.canaryMaxFailures, maxFailurePercent: d.maxFailurePercent, onlineWithinS: d.onlineWithinS, soakS: d.soakS } as const;
  const parsed: Record<string, number> = {};
  for (const [k, text] of Object.entries(numbers)) {
    const n = num(text);
    if (n === undefined) return { error: `${FIELD_WORDS[k]}: a number, not “${text.trim().slice(0, 20)}”` };
    parsed[k] = n;
  }
  let maxFailures: number | undefined;
  if (d.maxFailures.trim() !== '') {
    maxFailures = num(d.maxFailures);
    if (maxFailures === undefined) return { error: `${FIELD_WORDS.maxFailures}: a number or empty` };
  }
  if (prefixes.length === 0) return { error: 'No devices: select some in the list, or type a selector that matches some.' };
  const r = RolloutInput.safeParse({
    name: d.name.trim() || undefined,
    image,
    version: d.version.trim() || undefined,
    prefixes,
    selector: d.target === 'selector' ? d.selector.trim() || undefined : undefined,
    waves: d.waves,
    onlyOutdated: d.onlyOutdated,
    offline: d.offline,
    maxFailures,
    ...parsed,
  });
  if (r.success) return { input: r.data };
  const issue = r.error.issues[0]!;
  const field = FIELD_WORDS[String(issue.path[0])] ?? String(issue.path.join('.'));
  return { error: `${field}: ${issue.message}` };
}

/** Each image kind in words: what it is, and which devices take it. */
export const IMAGE_KIND: Record<RolloutImageKind, { what: string; many: string; takes: string }> = {
  bundle: { what: 'App bundle', many: 'app bundles', takes: 'devices running the MQBoard runtime' },
  firmware: { what: 'MicroPython firmware', many: 'MicroPython firmware', takes: 'original MQBoard boards' },
};

/** How many of `prefixes` can take an image of `kind`: a device whose kind is not known yet counts (the host plans it too). */
export function kindFit(kind: RolloutImageKind, prefixes: readonly string[], kindOf: (prefix: string) => DeviceState['kind'] | undefined): { fit: number; total: number } {
  let fit = 0;
  for (const p of prefixes) {
    const takes = imageKindFor(kindOf(p) ?? 'unknown');
    if (takes === undefined || takes === kind) fit++;
  }
  return { fit, total: prefixes.length };
}

/** "for original MQBoard boards: 1 of the 9 devices", the line under an image that says who can take it. */
export function kindFitText(kind: RolloutImageKind, f: { fit: number; total: number } | undefined): string {
  const base = `for ${IMAGE_KIND[kind].takes}`;
  if (!f || f.total === 0) return base;
  if (f.fit === f.total) return `${base}: ${f.total === 1 ? 'the device' : `all ${f.total.toLocaleString()} devices`}`;
  if (f.fit === 0) return `${base}: ${f.total === 1 ? 'not the device' : `none of the ${f.total.toLocaleString()} devices`}`;
  return `${base}: ${f.fit.toLocaleString()} of the ${f.total.toLocaleString()} devices`;
}

/**
 * The plan's line on the image's kind: "MicroPython firmware, for original MQBoard boards: 1 of
 * the 9 chosen devices can take it; the other 8 take app bundles and are skipped."
 */
export function planFitText(kind: RolloutImageKind, f: { fit: number; total: number }): string {
  const head = `${IMAGE_KIND[kind].what}, for ${IMAGE_KIND[kind].takes}`;
  if (f.fit === f.total) return `${head}: ${f.total === 1 ? 'the chosen device can' : `all ${f.total.toLocaleString()} chosen devices can`} take it.`;
  const rest = f.total - f.fit;
  const other = IMAGE_KIND[kind === 'bundle' ? 'firmware' : 'bundle'].many;
  return `${head}: ${f.fit.toLocaleString()} of the ${f.total.toLocaleString()} chosen devices can take it; ${rest === 1 ? 'the other takes' : `the other ${rest.toLocaleString()} take`} ${other} and ${rest === 1 ? 'is' : 'are'} skipped.`;
}

/** States a device passes through while its turn is on. */
const ACTIVE: ReadonlySet<RolloutDeviceState> = new Set(['waiting', 'sending', 'rebooting', 'verifying', 'soaking']);
export const isActive = (s: RolloutDeviceState) => ACTIVE.has(s);
export const isFailure = (s: RolloutDeviceState) => s === 'failed' || s === 'rolled-back';

/** The tone (colour) a device state is shown in. */
export function stateTone(s: RolloutDeviceState): 'ok' | 'bad' | 'warn' | 'active' | 'muted' {
  if (s === 'updated') return 'ok';
  if (isFailure(s)) return 'bad';
  if (s === 'cancelled') return 'warn';
  if (isActive(s)) return 'active';
  return 'muted';
}

export interface WaveProgress {
  total: number;
  updated: number;
  failed: number;
  active: number;
  skipped: number;
  /** Not started yet, or cancelled. */
  pending: number;
}

/** One wave's devices by outcome, for its progress bar. */
export function waveProgress(devices: Iterable<RolloutDevice>, wave: number): WaveProgress {
  const p: WaveProgress = { total: 0, updated: 0, failed: 0, active: 0, skipped: 0, pending: 0 };
  for (const d of devices) {
    if (d.wave !== wave) continue;
    p.total++;
    if (d.state === 'updated') p.updated++;
    else if (isFailure(d.state)) p.failed++;
    else if (isActive(d.state)) p.active++;
    else if (d.state === 'skipped') p.skipped++;
    else p.pending++;
  }
  return p;
}

export type DeviceFilter = 'all' | 'problems' | 'active';

const ORDER: Record<RolloutDeviceState, number> = {
  failed: 0,
  'rolled-back': 1,
  sending: 2,
  rebooting: 3,
  verifying: 4,
  soaking: 5,
  waiting: 6,
  cancelled: 7,
  pending: 8,
  updated: 9,
  skipped: 10,
};

/**
 * The device table's rows: by wave, and within a wave the ones that need a look first (failed,
 * then in progress), then by name; at most `limit` of them, with how many matched in all.
 */
export function deviceRows(devices: Iterable<RolloutDevice>, filter: DeviceFilter, limit: number): { rows: RolloutDevice[]; matched: number } {
  const all: RolloutDevice[] = [];
  for (const d of devices) {
    if (filter === 'problems' && !isFailure(d.state) && d.state !== 'cancelled') continue;
    if (filter === 'active' && !isActive(d.state)) continue;
    all.push(d);
  }
  all.sort((a, b) => a.wave - b.wave || ORDER[a.state] - ORDER[b.state] || a.prefix.localeCompare(b.prefix, undefined, { numeric: true }));
  return { rows: all.slice(0, limit), matched: all.length };
}

/** Rollouts still going (running or paused): the top bar's badge, and whether one is paused. */
export function liveRollouts(list: Iterable<RolloutSummary>): { live: number; paused: number } {
  let live = 0;
  let paused = 0;
  for (const r of list) {
    if (r.state === 'running') live++;
    else if (r.state === 'paused') {
      live++;
      paused++;
    }
  }
  return { live, paused };
}

/** Newest first. */
export const byCreated = (list: Iterable<RolloutSummary>): RolloutSummary[] => [...list].sort((a, b) => b.created - a.created);

/** A summary's device counts in words, the outcomes first: "3 updated · 1 rolled back · 6 pending". */
export function countsText(counts: Readonly<Record<string, number>>): string {
  const order: RolloutDeviceState[] = ['updated', 'failed', 'rolled-back', 'cancelled', 'sending', 'rebooting', 'verifying', 'soaking', 'waiting', 'pending', 'skipped'];
  return order
    .filter((s) => (counts[s] ?? 0) > 0)
    .map((s) => `${counts[s]} ${s.replace('-', ' ')}`)
    .join(' · ');
}

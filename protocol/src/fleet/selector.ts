// Device selectors: one syntax for the CLI's `--select` and the app's filter box (docs/fleet.md).
// A selector is terms separated by spaces, all of which must hold; values separated by commas
// within a term are alternatives:
//   tag:greenhouse,lab  greenhouse/*  fw<2.5.0  online  -safe  not:kind:original  "pump 3"
import { compareVersions, parseVersion, readFirmwareVersion, type Version } from './semver';
import type { DeviceState } from '../bridge';

export const STATES = ['online', 'offline', 'unknown', 'safe', 'crashed', 'outdated'] as const;
export type StateName = (typeof STATES)[number];
export const KINDS = ['mqboard', 'original', 'unknown'] as const;
export type FwOp = '<' | '<=' | '>' | '>=' | '=' | '!=';

export type TermBody =
  | { kind: 'tag'; values: string[] }
  | { kind: 'prefix'; globs: string[] }
  | { kind: 'fw'; op: FwOp; versions: Version[] }
  | { kind: 'state'; states: StateName[] }
  | { kind: 'kind'; kinds: DeviceState['kind'][] }
  | { kind: 'text'; values: string[] };

/** One term, with where it was written (0-based offset and length) for messages and highlighting. */
export type Term = TermBody & { negated: boolean; at: number; length: number };

export interface Selector {
  source: string;
  /** All must hold; none selects every device. */
  terms: Term[];
}

/** A device as the selector sees it: the engine's state, with the tags its status reports. */
export type FleetDevice = DeviceState & { tags?: readonly string[] };

export interface MatchOptions {
  /** Tags the user gave devices (in the app), by exact prefix; added to the device's own. */
  userTags?: ReadonlyMap<string, readonly string[]> | Readonly<Record<string, readonly string[]>>;
  /** What `outdated` compares with; default the newest firmware among the devices given. */
  latest?: string;
}

export const MAX_SELECTOR_CHARS = 4096;
const MAX_TERMS = 64;
const FIELDS = ['tag', 'prefix', 'fw', 'state', 'is', 'kind', 'text'];

/** A selector that does not parse: the message names the column; `at`/`length` mark the text. */
export class SelectorError extends Error {
  override readonly name = 'SelectorError';
  constructor(
    readonly reason: string,
    readonly at: number,
    readonly length: number,
  ) {
    super(`selector: ${reason} at column ${at + 1}`);
  }
}

interface Raw {
  text: string;
  /** Offset of each character of `text` in the source (quotes removed). */
  offsets: number[];
  at: number;
  length: number;
  /** Per character of `text`: it was inside quotes (never a field name, state, glob or comma). */
  quoted: boolean[];
}

function tokenize(src: string): Raw[] {
  const out: Raw[] = [];
  let i = 0;
  while (i < src.length) {
    if (/\s/.test(src[i]!)) {
      i++;
      continue;
    }
    const at = i;
    let text = '';
    const offsets: number[] = [];
    const quoted: boolean[] = [];
    while (i < src.length && !/\s/.test(src[i]!)) {
      if (src[i] === '"') {
        const close = src.indexOf('"', i + 1);
        if (close < 0) throw new SelectorError('unclosed quote', i, src.length - i);
        for (let j = i + 1; j < close; j++) {
          text += src[j];
          offsets.push(j);
          quoted.push(true);
        }
        i = close + 1;
      } else {
        text += src[i];
        offsets.push(i);
        quoted.push(false);
        i++;
      }
    }
    out.push({ text, offsets, at, length: i - at, quoted });
  }
  return out;
}

/** Splits `a,b,c` into values with their offsets; an empty value is an error. */
function values(raw: Raw, from: number, what: string): Array<{ v: string; at: number }> {
  const out: Array<{ v: string; at: number }> = [];
  let start = from;
  for (let i = from; i <= raw.text.length; i++) {
    if (i === raw.text.length || (raw.text[i] === ',' && !raw.quoted[i])) {
      const at = raw.offsets[start] ?? raw.at + raw.length;
      if (i === start) throw new SelectorError(`${what} is missing a value`, at, 1);
      out.push({ v: raw.text.slice(start, i), at });
      start = i + 1;
    }
  }
  return out;
}

function checkGlob(g: string, at: number): string {
  if (g.startsWith('/') || g.endsWith('/') || g.includes('//')) throw new SelectorError(`prefix pattern "${g}" has an empty level`, at, g.length);
  if (/[+#\0]/.test(g)) throw new SelectorError(`prefix pattern "${g}" contains + # or NUL (use * and **)`, at, g.length);
  for (const seg of g.split('/')) {
    if (seg.includes('**') && seg !== '**') throw new SelectorError(`** must be a whole level in "${g}"`, at, g.length);
  }
  return g;
}

const FW_OP = /^(<=|>=|!=|<|>|=|:)/;

function parseBody(raw: Raw, from: number): TermBody {
  const t = raw.text.slice(from);
  const posOf = (k: number) => raw.offsets[from + k] ?? raw.at;
  if (raw.quoted[from]) return { kind: 'text', values: values(raw, from, 'text').map((x) => x.v.toLowerCase()) };
  const colon = t.indexOf(':');
  const field = colon > 0 ? t.slice(0, colon).toLowerCase() : undefined;
  if (t.toLowerCase().startsWith('fw') && FW_OP.test(t.slice(2))) {
    const m = FW_OP.exec(t.slice(2))!;
    const op: FwOp = m[1] === ':' ? '=' : (m[1] as FwOp);
    const vs = values(raw, from + 2 + m[1]!.length, `fw${m[1]}`);
    if (vs.length > 1 && op !== '=' && op !== '!=') throw new SelectorError(`fw${op} takes one version`, vs[1]!.at, vs[1]!.v.length);
    const versions = vs.map(({ v, at }) => {
      const ver = parseVersion(v);
      if (!ver) throw new SelectorError(`"${v}" is not a version (e.g. 2.5.0, 2.5 or 2.5.0-rc.1)`, at, v.length);
      return ver;
    });
    return { kind: 'fw', op, versions };
  }
  if (field !== undefined && FIELDS.includes(field)) {
    const vs = values(raw, from + colon + 1, `${field}:`);
    switch (field) {
      case 'tag':
        return { kind: 'tag', values: vs.map((x) => x.v.toLowerCase()) };
      case 'prefix':
        return { kind: 'prefix', globs: vs.map((x) => checkGlob(x.v, x.at)) };
      case 'text':
        return { kind: 'text', values: vs.map((x) => x.v.toLowerCase()) };
      case 'kind':
        return {
          kind: 'kind',
          kinds: vs.map(({ v, at }) => {
            const k = KINDS.find((x) => x === v.toLowerCase());
            if (!k) throw new SelectorError(`unknown kind "${v}" (kinds: ${KINDS.join(', ')})`, at, v.length);
            return k;
          }),
        };
      default:
        return {
          kind: 'state',
          states: vs.map(({ v, at }) => {
            const s = STATES.find((x) => x === v.toLowerCase());
            if (!s) throw new SelectorError(`unknown state "${v}" (states: ${STATES.join(', ')})`, at, v.length);
            return s;
          }),
        };
    }
  }
  if (field !== undefined && /^[a-z]+$/.test(field) && !t.includes('/')) {
    throw new SelectorError(`unknown field "${field}:" (fields: tag: prefix: fw state: kind: text:; quote text that contains a colon)`, posOf(0), colon + 1);
  }
  const state = STATES.find((s) => s === t.toLowerCase());
  if (state) return { kind: 'state', states: [state] };
  if (t.includes('*')) return { kind: 'prefix', globs: values(raw, from, 'prefix').map((x) => checkGlob(x.v, x.at)) };
  if (/^fw[<>=!~^]/i.test(t)) throw new SelectorError(`unknown comparison in "${t}" (use fw< fw<= fw> fw>= fw= fw!=)`, posOf(0), t.length);
  return { kind: 'text', values: values(raw, from, 'text').map((x) => x.v.toLowerCase()) };
}

/** Parses a selector; throws SelectorError naming the column of the first mistake. */
export function parseSelector(source: string): Selector {
  if (typeof source !== 'string') throw new SelectorError('not text', 0, 0);
  if (source.length > MAX_SELECTOR_CHARS) throw new SelectorError(`longer than ${MAX_SELECTOR_CHARS} characters`, MAX_SELECTOR_CHARS, source.length - MAX_SELECTOR_CHARS);
  const raws = tokenize(source);
  if (raws.length > MAX_TERMS) throw new SelectorError(`more than ${MAX_TERMS} terms`, raws[MAX_TERMS]!.at, raws[MAX_TERMS]!.length);
  const terms = raws.map((raw): Term => {
    if (raw.text.length === 0) throw new SelectorError('empty quotes', raw.at, raw.length);
    let from = 0;
    let negated = false;
    if (!raw.quoted[0]) {
      if (raw.text.startsWith('-')) from = 1;
      else if (raw.text.toLowerCase().startsWith('not:')) from = 4;
      negated = from > 0;
    }
    if (from >= raw.text.length) throw new SelectorError(`"${raw.text}" negates nothing`, raw.at, raw.length);
    return { ...parseBody(raw, from), negated, at: raw.at, length: raw.length };
  });
  return { source, terms };
}

/** Matches a prefix against a glob: `*` within one level, `**` any number of levels (none too). */
export function globMatch(glob: string, prefix: string): boolean {
  return compileGlob(glob)(prefix.split('/'));
}

/**
 * A glob split into levels once, for matching many prefixes (given as their levels). Without
 * `**` the level counts must agree and each level is compared on its own; with it, a dynamic
 * programme over both level lists: linear in |glob|·|prefix| however many stars.
 */
function compileGlob(glob: string): (p: readonly string[]) => boolean {
  const g = glob.split('/');
  const level = g.map((pat): ((s: string) => boolean) => (pat.includes('*') ? (s) => levelMatch(pat, s) : (s) => s === pat));
  if (!g.includes('**')) {
    return (p) => {
      if (p.length !== g.length) return false;
      for (let i = 0; i < g.length; i++) if (!level[i]!(p[i]!)) return false;
      return true;
    };
  }
  let next = new Uint8Array(0);
  let cur = new Uint8Array(0);
  return (p) => {
    if (next.length < p.length + 1) {
      next = new Uint8Array(p.length + 1);
      cur = new Uint8Array(p.length + 1);
    }
    // next[j]: glob levels after i match prefix levels from j.
    next.fill(0, 0, p.length + 1);
    next[p.length] = 1;
    for (let i = g.length - 1; i >= 0; i--) {
      for (let j = p.length; j >= 0; j--) {
        if (g[i] === '**') cur[j] = next[j]! || (j < p.length && cur[j + 1]!) ? 1 : 0;
        else cur[j] = j < p.length && next[j + 1]! && level[i]!(p[j]!) ? 1 : 0;
      }
      [next, cur] = [cur, next];
    }
    return next[0] === 1;
  };
}

/** `*` matches any run of characters within one level (the classic two-pointer wildcard match). */
function levelMatch(pat: string, s: string): boolean {
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < pat.length && pat[pi] !== '*' && pat[pi] === s[si]) {
      pi++;
      si++;
    } else if (pi < pat.length && pat[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else return false;
  }
  while (pi < pat.length && pat[pi] === '*') pi++;
  return pi === pat.length;
}

/** Tags as reported: the device is untrusted, so anything but a short list of strings is none. */
function deviceTags(d: FleetDevice): string[] {
  const t: unknown = d.tags;
  if (!Array.isArray(t)) return [];
  return t.filter((x): x is string => typeof x === 'string' && x.length <= 256).slice(0, 64);
}

/**
 * What the selector reads from a device, derived once per device object: the engine and the
 * store replace a device's state on every update and never change one in place, so the object
 * is the key, and a search over 10,000 devices re-reads none of the ones that did not change.
 * Filled lazily: a search by tag never splits a prefix.
 */
interface Facts {
  levels?: string[];
  version?: Version | null;
  /** The device's own tags, lowercased. */
  tags?: string[];
  /** Prefix, firmware and the device's own tags, one per line, lowercased: what text searches. */
  hay?: string;
}

const factsCache = new WeakMap<FleetDevice, Facts>();

function factsOf(d: FleetDevice): Facts {
  let f = factsCache.get(d);
  if (!f) {
    f = {};
    factsCache.set(d, f);
  }
  return f;
}

function versionOf(d: FleetDevice): Version | undefined {
  const f = factsOf(d);
  if (f.version === undefined) f.version = readFirmwareVersion(d.firmware) ?? null;
  return f.version ?? undefined;
}

function levelsOf(d: FleetDevice): string[] {
  const f = factsOf(d);
  return (f.levels ??= d.prefix.split('/'));
}

function ownTagsOf(d: FleetDevice): string[] {
  const f = factsOf(d);
  return (f.tags ??= deviceTags(d).map((x) => x.toLowerCase()));
}

function ownHayOf(d: FleetDevice): string {
  const f = factsOf(d);
  return (f.hay ??= [d.prefix, d.firmware ?? '', ...deviceTags(d)].join('\n').toLowerCase());
}

function userTagsOf(opts: MatchOptions, prefix: string): readonly string[] {
  const u = opts.userTags;
  if (!u) return [];
  const got = u instanceof Map ? u.get(prefix) : Object.prototype.hasOwnProperty.call(u, prefix) ? (u as Record<string, readonly string[]>)[prefix] : undefined;
  return Array.isArray(got) ? got : [];
}

/**
 * The prefixes whose user-given tags (lowercased, one per line) satisfy `test`: worked out once
 * per selector from the few devices the user tagged, rather than looked up for every device.
 */
function userTagged(opts: MatchOptions, test: (tags: string[], hay: string) => boolean): Set<string> {
  const out = new Set<string>();
  const u = opts.userTags;
  if (!u) return out;
  const entries: Iterable<[string, unknown]> = u instanceof Map ? u.entries() : Object.entries(u);
  for (const [prefix, tags] of entries) {
    if (!Array.isArray(tags) || tags.length === 0) continue;
    const lower = tags.map((x) => String(x).toLowerCase());
    if (test(lower, lower.join('\n'))) out.add(prefix);
  }
  return out;
}

/** The firmware `outdated` compares with: `latest` when given, else the newest in `devices`. */
export function newestFirmware(devices: readonly FleetDevice[], latest?: string): Version | undefined {
  if (latest !== undefined) {
    const v = parseVersion(latest);
    if (!v) throw new RangeError(`latest firmware "${latest}" is not a version (e.g. 2.5.0)`);
    return v;
  }
  let best: Version | undefined;
  for (const d of devices) {
    const v = versionOf(d);
    if (v && (!best || compareVersions(v, best) > 0)) best = v;
  }
  return best;
}

function fwHolds(op: FwOp, versions: Version[], have: Version | undefined): boolean {
  if (!have) return false;
  switch (op) {
    case '=':
      return versions.some((v) => compareVersions(have, v) === 0);
    case '!=':
      return versions.every((v) => compareVersions(have, v) !== 0);
    case '<':
      return compareVersions(have, versions[0]!) < 0;
    case '<=':
      return compareVersions(have, versions[0]!) <= 0;
    case '>':
      return compareVersions(have, versions[0]!) > 0;
    case '>=':
      return compareVersions(have, versions[0]!) >= 0;
  }
}

function stateHolds(s: StateName, d: FleetDevice, newest: Version | undefined): boolean {
  switch (s) {
    case 'online':
      return d.presence === 'online';
    case 'offline':
      // Not known to be online: what a command to it would meet.
      return d.presence !== 'online';
    case 'unknown':
      return d.presence === 'unknown';
    case 'safe':
      return d.mode === 'safe';
    case 'crashed':
      return (d.crashCount ?? 0) > 0 || d.bootReason === 'crash' || d.bootReason === 'watchdog';
    case 'outdated': {
      const have = versionOf(d);
      return have !== undefined && newest !== undefined && compareVersions(have, newest) < 0;
    }
  }
}

/** One term as a predicate: everything that depends only on the term is worked out here, once. */
function compileTerm(t: Term, newest: Version | undefined, opts: MatchOptions): (d: FleetDevice) => boolean {
  switch (t.kind) {
    case 'tag': {
      const byUser = userTagged(opts, (tags) => t.values.some((v) => tags.includes(v)));
      return (d) => {
        const own = ownTagsOf(d);
        for (const v of t.values) if (own.includes(v)) return true;
        return byUser.has(d.prefix);
      };
    }
    case 'prefix': {
      const globs = t.globs.map(compileGlob);
      return (d) => {
        const levels = levelsOf(d);
        return globs.some((g) => g(levels));
      };
    }
    case 'fw':
      return (d) => fwHolds(t.op, t.versions, versionOf(d));
    case 'state':
      return (d) => t.states.some((s) => stateHolds(s, d, newest));
    case 'kind':
      return (d) => t.kinds.includes(d.kind);
    case 'text': {
      const byUser = userTagged(opts, (_, hay) => t.values.some((v) => hay.includes(v)));
      // The text searched is the device's lines then the user's tags, one per line: a value
      // with a line break in it (quoted) may span the two.
      const spanning = t.values.filter((v) => v.includes('\n'));
      const userHay = spanning.length ? new Map([...userTagged(opts, () => true)].map((p) => [p, userTagsOf(opts, p).map((x) => String(x).toLowerCase()).join('\n')])) : undefined;
      return (d) => {
        const own = ownHayOf(d);
        for (const v of t.values) if (own.includes(v)) return true;
        if (byUser.has(d.prefix)) return true;
        const theirs = userHay?.get(d.prefix);
        return theirs !== undefined && spanning.some((v) => `${own}\n${theirs}`.includes(v));
      };
    }
  }
}

/** A predicate for one device list (`outdated` is relative to the list's newest firmware). */
export function compileSelector(sel: Selector, devices: readonly FleetDevice[], opts: MatchOptions = {}): (d: FleetDevice) => boolean {
  const needsNewest = sel.terms.some((t) => t.kind === 'state' && t.states.includes('outdated'));
  const newest = needsNewest ? newestFirmware(devices, opts.latest) : undefined;
  const terms = sel.terms.map((t) => ({ holds: compileTerm(t, newest, opts), negated: t.negated }));
  return (d) => {
    for (const t of terms) if (t.holds(d) === t.negated) return false;
    return true;
  };
}

/** The devices a selector picks, in the order given. */
export function selectDevices<D extends FleetDevice>(selector: Selector | string, devices: readonly D[], opts: MatchOptions = {}): D[] {
  const sel = typeof selector === 'string' ? parseSelector(selector) : selector;
  const pick = compileSelector(sel, devices, opts);
  return devices.filter(pick);
}

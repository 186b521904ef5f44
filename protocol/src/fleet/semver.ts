// Firmware versions compared the way semver orders them (pre-releases before their release),
// read leniently: devices report whatever their build put there ("v2.5.0", "2.4",
// "esp32-20230426-v1.20.0"), and a version we cannot read is never guessed at.

export interface Version {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers (`2.5.0-rc.1` → ['rc', '1']); empty for a release. */
  pre: string[];
  /** The text it was read from, for messages. */
  text: string;
}

const EXACT = /^v?(\d{1,9})(?:\.(\d{1,9}))?(?:\.(\d{1,9}))?(?:-([0-9A-Za-z.-]{1,64}))?(?:\+[0-9A-Za-z.-]{0,64})?$/;
// Inside a longer string, a version needs at least one dot, so a build date is not taken for one.
const EMBEDDED = /(?:^|[^0-9A-Za-z.])v?(\d{1,9})\.(\d{1,9})(?:\.(\d{1,9}))?(?:-([0-9A-Za-z.-]{1,64}))?/;

function build(m: RegExpExecArray, text: string): Version | undefined {
  const pre = m[4] ? m[4].split('.') : [];
  if (pre.some((p) => p === '')) return undefined;
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0), pre, text };
}

/** A version the user wrote (`2.5`, `2.5.0-rc.1`, `v3`): the whole text must be one. */
export function parseVersion(text: string): Version | undefined {
  const m = EXACT.exec(text);
  return m ? build(m, text) : undefined;
}

/** A version a device reported: the whole string, or the first dotted version inside it. */
export function readFirmwareVersion(firmware: string | undefined): Version | undefined {
  if (typeof firmware !== 'string' || firmware.length === 0 || firmware.length > 256) return undefined;
  const exact = parseVersion(firmware.trim());
  if (exact) return exact;
  const m = EMBEDDED.exec(firmware);
  return m ? build(m, firmware) : undefined;
}

const NUMERIC = /^\d+$/;

function comparePre(a: string[], b: string[]): number {
  // A release sorts after every pre-release of the same version.
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    const xn = NUMERIC.test(x);
    const yn = NUMERIC.test(y);
    if (xn && yn) return Number(x) - Number(y) < 0 ? -1 : 1;
    if (xn !== yn) return xn ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return Math.sign(a.length - b.length);
}

/** Negative, zero or positive as `a` is older than, the same as, or newer than `b`. */
export function compareVersions(a: Version, b: Version): number {
  return Math.sign(a.major - b.major) || Math.sign(a.minor - b.minor) || Math.sign(a.patch - b.patch) || comparePre(a.pre, b.pre);
}

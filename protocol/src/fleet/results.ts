// The results of running one action on many devices, as plain data: grouping identical
// outputs, re-running the failed ones, and the CSV and JSON exports. Shared by the engine's
// scheduler, the CLI's table and the app's results view, so all three agree on every row.

export type Outcome = 'ok' | 'error' | 'timeout' | 'offline' | 'queued' | 'cancelled';

export interface DeviceResult {
  prefix: string;
  status: Outcome;
  /** What the action returned (status ok). */
  output?: string;
  /** Why it failed, in words (every other status). */
  error?: string;
  /** Time the action took on this device (0 for a device failed or queued without trying). */
  ms: number;
}

/** The prefixes worth running again: everything that did not end `ok` (or wait in the queue). */
export const failedPrefixes = (results: readonly DeviceResult[]): string[] => results.filter((r) => r.status !== 'ok' && r.status !== 'queued').map((r) => r.prefix);

/** An earlier table with the results of a re-run put in place of the old rows. */
export function mergeResults(before: readonly DeviceResult[], rerun: readonly DeviceResult[]): DeviceResult[] {
  const fresh = new Map(rerun.map((r) => [r.prefix, r]));
  const out = before.map((r) => fresh.get(r.prefix) ?? r);
  const known = new Set(before.map((r) => r.prefix));
  for (const r of rerun) if (!known.has(r.prefix)) out.push(r);
  return out;
}

export interface ResultGroup {
  status: Outcome;
  /** The output (ok) or the error all of the group share. */
  text: string;
  prefixes: string[];
}

/** Devices with the same status and the same output or error, largest group first. */
export function groupResults(results: readonly DeviceResult[]): ResultGroup[] {
  const groups = new Map<string, ResultGroup>();
  for (const r of results) {
    if (!r) continue;
    const text = r.status === 'ok' ? (r.output ?? '') : (r.error ?? '');
    const key = `${r.status}\0${text}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { status: r.status, text, prefixes: [] }));
    g.prefixes.push(r.prefix);
  }
  return [...groups.values()].sort((a, b) => b.prefixes.length - a.prefixes.length || (a.status === 'ok' ? -1 : b.status === 'ok' ? 1 : 0));
}

/** "38 devices → 2.5.0" per group, one line each; the text cut to `width` characters. */
export function summarizeGroups(groups: readonly ResultGroup[], shown: (s: string) => string = (s) => s, width = 60): string[] {
  return groups.map((g) => {
    const n = g.prefixes.length;
    const oneLine = shown(g.text).replace(/\s*\n\s*/g, ' ⏎ ');
    const text = oneLine.length > width ? `${oneLine.slice(0, width - 1)}…` : oneLine;
    const what = g.status === 'ok' ? text || '(no output)' : `${g.status}${text ? `: ${text}` : ''}`;
    return `${n} device${n === 1 ? '' : 's'} → ${what}`;
  });
}

/** The JSON export (and `fleet … --json`): `{prefix, ok, status, output | error, ms}` per device. */
export function resultsJson(results: readonly DeviceResult[]): Array<Record<string, unknown>> {
  return results.map((r) => ({
    prefix: r.prefix,
    ok: r.status === 'ok',
    status: r.status,
    ...(r.status === 'ok' ? { output: r.output ?? '' } : { error: r.error ?? r.status }),
    ms: r.ms,
  }));
}

/**
 * A CSV cell. Device output is untrusted: a cell a spreadsheet would run as a formula (`=`, `+`,
 * `-`, `@` first) gets a leading apostrophe, unless it is just a number.
 */
export function csvCell(s: string): string {
  let v = s;
  if (/^[=+\-@\t\r]/.test(v) && !/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The CSV export: a header row, then prefix,status,output,error,ms per device (CRLF, RFC 4180). */
export function resultsCsv(results: readonly DeviceResult[]): string {
  const rows = [['prefix', 'status', 'output', 'error', 'ms'].join(',')];
  for (const r of results) rows.push([r.prefix, r.status, r.output ?? '', r.error ?? '', String(r.ms)].map(csvCell).join(','));
  return rows.join('\r\n') + '\r\n';
}

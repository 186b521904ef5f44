// What a click does to the selection, as pure functions over the list's rows (unit tested):
// Ctrl/Cmd-click toggles one device, Shift-click selects the visible rows between the anchor
// and the row clicked, and "select all" takes every device the search and filter show.
import type { Row } from './device-view';

/** The device prefixes of the rows, in list order (group headers skipped). */
export const rowPrefixes = (rows: readonly Row[]): string[] => rows.flatMap((r) => (r.kind === 'device' ? [r.prefix] : []));

/**
 * The devices from `anchor` to `to` inclusive, in list order. An anchor no longer shown (the
 * filter changed) starts the range at the row clicked, as a file manager does.
 */
export function rangeBetween(rows: readonly Row[], anchor: string | null, to: string): string[] {
  const prefixes = rowPrefixes(rows);
  const b = prefixes.indexOf(to);
  if (b < 0) return [];
  const a = anchor === null ? -1 : prefixes.indexOf(anchor);
  if (a < 0) return [to];
  return prefixes.slice(Math.min(a, b), Math.max(a, b) + 1);
}

/** Selected devices that are still shown; the rest stay selected but are counted apart. */
export function countShown(selected: ReadonlySet<string>, rows: readonly Row[]): number {
  let n = 0;
  for (const r of rows) if (r.kind === 'device' && selected.has(r.prefix)) n++;
  return n;
}

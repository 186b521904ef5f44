// Plain text tables (`devices`): columns padded to their widest cell. Cells are shown as given;
// device text is neutralised by the caller. Widths are found in a loop rather than
// Math.max(...cells), whose arguments would overflow the stack past ~125,000 rows.

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h) => h.length);
  for (const r of rows) {
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, (r[i] ?? '').length);
  }
  const out: string[] = [];
  for (const r of [head, ...rows]) out.push(widths.map((w, i) => (r[i] ?? '').padEnd(w)).join('  ').trimEnd());
  return out.join('\n') + '\n';
}

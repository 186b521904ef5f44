// Unsaved editor text, per device and path, for the life of the window: opening another file,
// switching tabs or closing the device keeps it, and reopening the file brings it back. A draft
// goes when it is saved or explicitly discarded.

export interface Draft {
  /** The edited text. */
  text: string;
  /** The file's text the edit started from, to tell whether the device's copy changed since. */
  base: string;
}

const drafts = new Map<string, Draft>();
const key = (prefix: string, path: string) => `${prefix}\u0000${path}`;

export function getDraft(prefix: string, path: string): Draft | undefined {
  return drafts.get(key(prefix, path));
}

/** Keeps `text` as the draft, or forgets the draft when the text is the file's own again. */
export function keepDraft(prefix: string, path: string, text: string, base: string): void {
  if (text === base) drafts.delete(key(prefix, path));
  else drafts.set(key(prefix, path), { text, base });
}

export function dropDraft(prefix: string, path: string): void {
  drafts.delete(key(prefix, path));
}

/** A renamed file or folder takes its drafts with it. */
export function moveDrafts(prefix: string, from: string, to: string): void {
  for (const [k, d] of [...drafts]) {
    const [p, path] = k.split('\u0000') as [string, string];
    if (p !== prefix) continue;
    if (path === from || path.startsWith(`${from}/`)) {
      drafts.delete(k);
      drafts.set(key(prefix, to + path.slice(from.length)), d);
    }
  }
}

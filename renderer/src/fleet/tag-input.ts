// Tags as the user types them (the bulk dialog, a device's Details): split on spaces and
// commas, each held to the contract's Tag before anything is sent.
import { Tag } from '../../../protocol/src';
import { oneLine } from '../../../protocol/src/control-chars';

/** Tags typed in one box: split on spaces and commas; each checked against the contract. */
export function parseTagInput(text: string): { tags: string[]; error: string | null } {
  const tags = [...new Set(text.split(/[\s,]+/).filter(Boolean))];
  for (const t of tags) {
    const r = Tag.safeParse(t);
    if (!r.success) return { tags: [], error: `"${oneLine(t)}": ${r.error.issues[0]?.message ?? 'not a tag'}` };
  }
  return { tags, error: null };
}

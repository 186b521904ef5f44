// The tags the user gives devices and the saved views (named selectors), kept per broker profile
// in one JSON file under the settings folder: the same prefix on another broker is another
// device. Written whole and renamed over (never half a file), readable only by the user, and
// checked on reading: a file or a profile that does not parse is kept aside, with a warning,
// instead of being overwritten by the next edit.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { z } from 'zod';
import { SavedView, Tag, type FleetSettings } from '../../../protocol/src';
import { writeAtomic } from '../engine/fleet/queue';
import { HostError } from './errors';

/** Tags one device may have from the user (the contract's limit). */
export const MAX_TAGS_PER_DEVICE = 32;
export const MAX_VIEWS = 100;
/** Tagged devices per profile: ten times the largest fleet the list is built for. */
export const MAX_TAGGED_DEVICES = 100_000;

// Tags are stored as [prefix, tags] pairs rather than an object keyed by prefix, so a prefix
// such as `__proto__` is just a string.
const ProfileEntry = z.object({
  tags: z.array(z.tuple([z.string().min(1).max(1024), z.array(Tag).max(MAX_TAGS_PER_DEVICE)])).max(MAX_TAGGED_DEVICES),
  views: z.array(SavedView).max(MAX_VIEWS),
});
const SettingsFile = z.object({ version: z.literal(1), profiles: z.array(z.tuple([z.string().max(1024), z.unknown()])) });

interface ProfileData {
  tags: Map<string, string[]>;
  views: SavedView[];
}

export interface FleetSettingsStore {
  readonly file: string;
  /** What went wrong reading the file, if anything; what could not be read was kept beside it. */
  readonly problem?: string;
  get(profile: string | null): FleetSettings;
  /** Adds, then removes, tags on every prefix; all or nothing (a device over the limit fails the call). */
  setTags(profile: string, prefixes: readonly string[], add: readonly string[], remove: readonly string[]): FleetSettings;
  /** Saves a view, replacing one of the same name. */
  saveView(profile: string, view: SavedView): FleetSettings;
  deleteView(profile: string, name: string): FleetSettings;
}

export function openFleetSettingsStore(file: string): FleetSettingsStore {
  const profiles = new Map<string, ProfileData>();
  let problem: string | undefined;

  if (existsSync(file)) {
    const asideName = () => `${file}.unreadable-${Date.now()}`;
    let raw: unknown;
    let whole: z.infer<typeof SettingsFile> | undefined;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
      const parsed = SettingsFile.safeParse(raw);
      if (parsed.success) whole = parsed.data;
      else problem = `the fleet settings ${file} are not a fleet settings file`;
    } catch (e) {
      problem = `the fleet settings ${file} are not JSON (${e instanceof Error ? e.message : String(e)})`;
    }
    if (!whole) {
      const aside = asideName();
      renameSync(file, aside);
      problem = `${problem}; the file was kept as ${aside} and tags and views start empty`;
    } else {
      const bad: string[] = [];
      for (const [profile, entry] of whole.profiles) {
        const p = ProfileEntry.safeParse(entry);
        if (!p.success) {
          bad.push(profile);
          continue;
        }
        profiles.set(profile, { tags: new Map(p.data.tags), views: p.data.views });
      }
      if (bad.length > 0) {
        // The next save rewrites the file without them, so the file as it was is kept first.
        const aside = asideName();
        writeAtomic(aside, JSON.stringify(raw));
        problem = `the tags and views of ${bad.length} broker profile${bad.length === 1 ? '' : 's'} in ${file} could not be read; the file as it was is kept as ${aside}`;
      }
    }
    if (problem) console.warn(`mqboard: ${problem}`);
  }

  const save = () => {
    const out = [...profiles].map(([id, p]) => [id, { tags: [...p.tags], views: p.views }]);
    writeAtomic(file, JSON.stringify({ version: 1, profiles: out }));
  };
  const data = (profile: string): ProfileData => {
    let p = profiles.get(profile);
    if (!p) profiles.set(profile, (p = { tags: new Map(), views: [] }));
    return p;
  };
  const get = (profile: string | null): FleetSettings => {
    const p = profile === null ? undefined : profiles.get(profile);
    return {
      profile,
      tags: Object.fromEntries(p?.tags ?? []),
      views: p?.views.map((v) => ({ ...v })) ?? [],
    };
  };

  return {
    file,
    get problem() {
      return problem;
    },
    get,
    setTags(profile, prefixes, add, remove) {
      const p = data(profile);
      const adding = [...new Set(add)];
      const removing = new Set(remove);
      // Worked out first and applied after, so a call that fails on one device changes none.
      const next = new Map<string, string[]>();
      let created = 0;
      for (const prefix of prefixes) {
        const old = p.tags.get(prefix) ?? [];
        const tags = [...old.filter((t) => !removing.has(t)), ...adding.filter((t) => !old.includes(t) && !removing.has(t))];
        if (tags.length > MAX_TAGS_PER_DEVICE) throw new HostError('invalid-argument', `${prefix} would have ${tags.length} tags; a device has at most ${MAX_TAGS_PER_DEVICE}`);
        if (!p.tags.has(prefix) && tags.length > 0) created++;
        next.set(prefix, tags);
      }
      if (p.tags.size + created > MAX_TAGGED_DEVICES) throw new HostError('invalid-argument', `at most ${MAX_TAGGED_DEVICES} devices can have tags on one broker`);
      for (const [prefix, tags] of next) {
        if (tags.length === 0) p.tags.delete(prefix);
        else p.tags.set(prefix, tags);
      }
      save();
      return get(profile);
    },
    saveView(profile, view) {
      const p = data(profile);
      const v = { name: view.name.trim(), selector: view.selector };
      const at = p.views.findIndex((x) => x.name === v.name);
      if (at < 0 && p.views.length >= MAX_VIEWS) throw new HostError('invalid-argument', `at most ${MAX_VIEWS} saved views; delete one first`);
      p.views = at < 0 ? [...p.views, v] : p.views.map((x, i) => (i === at ? v : x));
      save();
      return get(profile);
    },
    deleteView(profile, name) {
      const p = profiles.get(profile);
      if (p) {
        const before = p.views.length;
        p.views = p.views.filter((v) => v.name !== name.trim());
        if (p.views.length !== before) save();
      }
      return get(profile);
    },
  };
}

// Connection profiles on disk: one JSON file (`settings.json`) in the settings directory,
// written atomically with mode 0600. Secrets pass through the SecretCodec; the store never
// hands them to the renderer (ProfileSummary carries only hasPassword/hasKey). The settings
// directory holds the log store too: it is made 0700 when the store opens, and a settings file
// an older version left readable is made 0600, so other users read neither.
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  DEMO_PROFILE_ID,
  Discovery,
  issueLines,
  ProfileInput,
  type ProfileSummary,
  type ProfilesState,
} from '../../../protocol/src';
import type { BrokerProfile } from '../engine/types';
import { HostError } from './errors';
import type { SecretCodec } from './secrets';

const StoredProfile = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  username: z.string().optional(),
  /** Encoded by the codec named in `secrets`. */
  password: z.string().optional(),
  ca: z.string().optional(),
  cert: z.string().optional(),
  key: z.string().optional(),
  clientId: z.string().optional(),
  keepalive: z.number().optional(),
  discovery: Discovery.optional(),
});
type StoredProfile = z.infer<typeof StoredProfile>;

const SettingsFile = z.object({
  version: z.literal(1),
  secrets: z.enum(['safeStorage', 'file-0600']),
  active: z.string().nullable(),
  profiles: z.array(StoredProfile),
});
type SettingsFile = z.infer<typeof SettingsFile>;

/** What export writes: secrets only when the user asked for them, and then in plain text. */
const ExportFile = z.object({
  mqboardProfiles: z.literal(1),
  profiles: z.array(ProfileInput),
});

/** Owner only. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

export interface ProfilesStore {
  path: string;
  /** True when no settings file existed at start: the app opens on the demo fleet. */
  firstRun: boolean;
  state(): ProfilesState;
  save(input: ProfileInput): ProfileSummary;
  remove(id: string): void;
  setActive(id: string | null): void;
  /** The profile with its secrets decoded, ready for the engine. */
  brokerProfile(id: string): BrokerProfile & { name: string };
  /** An unsaved profile from the form, secrets filled in from the stored one when omitted. */
  resolve(input: ProfileInput): BrokerProfile;
  exportJson(includeSecrets: boolean): string;
  importJson(json: string): number;
}

export function openProfilesStore(dir: string, codec: SecretCodec): ProfilesStore {
  const file = path.join(dir, 'settings.json');
  const firstRun = !existsSync(file);
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  tighten(dir, DIR_MODE);
  if (!firstRun) tighten(file, FILE_MODE);
  let data: SettingsFile = firstRun ? { version: 1, secrets: codec.kind, active: null, profiles: [] } : load(file);
  if (data.secrets !== codec.kind) {
    // Written by the other shell (web vs desktop): its secrets cannot be decoded here. Keep the
    // profiles, drop the secrets, and say so once rather than failing to connect mysteriously.
    console.warn(`settings: secrets were stored with ${data.secrets}, this shell uses ${codec.kind}; passwords and keys must be entered again`);
    data = { ...data, secrets: codec.kind, profiles: data.profiles.map(({ password: _p, key: _k, ...rest }) => rest) };
  }

  function persist() {
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n', { mode: FILE_MODE });
    // writeFileSync's mode applies only when it creates the file; make sure of it either way.
    chmodSync(tmp, FILE_MODE);
    renameSync(tmp, file);
  }

  const summary = (p: StoredProfile): ProfileSummary => {
    const { password, key, ...rest } = p;
    return { ...rest, hasPassword: Boolean(password), hasKey: Boolean(key) };
  };

  const find = (id: string): StoredProfile => {
    const p = data.profiles.find((x) => x.id === id);
    if (!p) throw new HostError('not-found', `no profile with id ${id}`);
    return p;
  };

  const toStored = (input: ProfileInput, previous?: StoredProfile): StoredProfile => {
    const secret = (given: string | undefined, old: string | undefined) =>
      given === undefined ? old : given === '' ? undefined : codec.encode(given);
    const blank = (s: string | undefined) => (s === undefined || s.trim() === '' ? undefined : s);
    return {
      id: previous?.id ?? input.id ?? randomUUID(),
      name: input.name,
      url: input.url,
      username: blank(input.username),
      password: secret(input.password, previous?.password),
      ca: blank(input.ca),
      cert: blank(input.cert),
      key: secret(input.key, previous?.key),
      clientId: blank(input.clientId),
      keepalive: input.keepalive,
      discovery: input.discovery,
    };
  };

  const toBroker = (p: StoredProfile): BrokerProfile & { name: string } => ({
    name: p.name,
    url: p.url,
    username: p.username,
    password: p.password === undefined ? undefined : codec.decode(p.password),
    ca: p.ca,
    cert: p.cert,
    key: p.key === undefined ? undefined : codec.decode(p.key),
    clientId: p.clientId,
    keepalive: p.keepalive,
    discovery: p.discovery,
  });

  return {
    path: file,
    firstRun,
    state: () => ({ profiles: data.profiles.map(summary), active: data.active }),
    save(input) {
      if (input.id === DEMO_PROFILE_ID) throw new HostError('invalid-argument', 'the demo profile cannot be edited');
      const previous = input.id ? data.profiles.find((p) => p.id === input.id) : undefined;
      const stored = toStored(input, previous);
      data.profiles = previous ? data.profiles.map((p) => (p.id === stored.id ? stored : p)) : [...data.profiles, stored];
      persist();
      return summary(stored);
    },
    remove(id) {
      find(id);
      data.profiles = data.profiles.filter((p) => p.id !== id);
      if (data.active === id) data.active = null;
      persist();
    },
    setActive(id) {
      if (id !== null && id !== DEMO_PROFILE_ID) find(id);
      data.active = id;
      persist();
    },
    brokerProfile: (id) => toBroker(find(id)),
    resolve(input) {
      const previous = input.id ? data.profiles.find((p) => p.id === input.id) : undefined;
      return toBroker(toStored(input, previous));
    },
    exportJson(includeSecrets) {
      const profiles = data.profiles.map((p) => {
        const b = toBroker(p);
        const { id: _id, password, key, ...rest } = { ...p, password: b.password, key: b.key };
        return includeSecrets ? { ...rest, password, key } : rest;
      });
      return JSON.stringify({ mqboardProfiles: 1, profiles }, null, 2);
    },
    importJson(json) {
      let raw: unknown;
      try {
        raw = JSON.parse(json);
      } catch (e) {
        throw new HostError('invalid-argument', `not JSON: ${e instanceof Error ? e.message : e}`);
      }
      const parsed = ExportFile.safeParse(raw);
      if (!parsed.success) throw new HostError('invalid-argument', `not an MQBoard profiles file: ${issueLines(parsed.error).join('; ')}`);
      for (const p of parsed.data.profiles) data.profiles.push(toStored({ ...p, id: undefined }));
      persist();
      return parsed.data.profiles.length;
    },
  };
}

/**
 * Best effort: a folder the user named but does not own (`--settings-dir /srv/shared`) must not
 * keep the app from starting; what the app writes into it is private all the same.
 */
function tighten(p: string, mode: number): void {
  try {
    chmodSync(p, mode);
  } catch (e) {
    console.warn(`settings: could not make ${p} private: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function load(file: string): SettingsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read settings ${file}: ${e instanceof Error ? e.message : e}`);
  }
  const parsed = SettingsFile.safeParse(raw);
  if (!parsed.success) throw new Error(`settings ${file} are invalid: ${issueLines(parsed.error).join('; ')}`);
  return parsed.data;
}

// Two OTA slots in the runtime's private state, like the two app partitions of an ESP32: an
// image is written to the inactive slot, verified, and marked pending; the next boot makes
// the pending slot active. The state file is replaced atomically, so a crash at any point
// leaves either the old or the new state, never a mix.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { Manifest, unpackBundle } from './bundle';

export const SlotName = z.enum(['a', 'b']);
export type SlotName = z.infer<typeof SlotName>;

const SlotMeta = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  version: z.string().max(64),
  written: z.number().nonnegative(),
});
export type SlotMeta = z.infer<typeof SlotMeta>;

const OtaState = z.object({
  active: SlotName,
  /** Slot to boot next, set by a verified ota. */
  pending: SlotName.nullable(),
  /** Whether the active slot has been confirmed good (watchdog all-OK). */
  confirmed: z.boolean(),
  /** The slot that was active before the last switch, for rollback. */
  previous: SlotName.nullable().default(null),
  /** Boots of the active slot while unconfirmed; a second one means it never got to all-OK. */
  trialBoots: z.number().int().nonnegative().default(0),
  slots: z.object({ a: SlotMeta.nullable(), b: SlotMeta.nullable() }),
});
export type OtaState = z.infer<typeof OtaState>;

export const otherSlot = (s: SlotName): SlotName => (s === 'a' ? 'b' : 'a');

export interface OtaStore {
  dir: string;
  load(): Promise<OtaState>;
  save(state: OtaState): Promise<void>;
  slotPath(slot: SlotName): string;
  /** Where the slot's bundle is unpacked; app modules load from here. */
  slotDir(slot: SlotName): string;
}

const fresh = (): OtaState => ({ active: 'a', pending: null, confirmed: true, previous: null, trialBoots: 0, slots: { a: null, b: null } });

export function otaStore(privateDir: string): OtaStore {
  const dir = path.join(privateDir, 'ota');
  const file = path.join(dir, 'state.json');
  return {
    dir,
    slotPath: (slot) => path.join(dir, `slot-${slot}.bin`),
    slotDir: (slot) => path.join(dir, `slot-${slot}.d`),
    async load() {
      let raw: string;
      try {
        raw = await fs.readFile(file, 'utf8');
      } catch {
        return fresh();
      }
      try {
        const r = OtaState.safeParse(JSON.parse(raw));
        if (r.success) return r.data;
      } catch {
        /* fall through */
      }
      // A state file we cannot read must not brick the device: start over from slot a.
      return fresh();
    },
    async save(state) {
      await writeFileAtomic(file, JSON.stringify(state));
    },
  };
}

export async function writeFileAtomic(file: string, data: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
}

/** What a boot did with the OTA state. */
export type OtaBootAction = 'none' | 'switched' | 'rolled-back';

/**
 * The bootloader's rule, applied at every boot: a pending slot becomes active, unconfirmed; an
 * active slot that is still unconfirmed at its second boot never reached all-OK (it crashed,
 * hung, or was reset first), so the previous slot comes back.
 */
export function otaBoot(state: OtaState): { state: OtaState; action: OtaBootAction } {
  if (state.pending && state.slots[state.pending]) {
    return {
      state: { ...state, previous: state.active, active: state.pending, pending: null, confirmed: false, trialBoots: 1 },
      action: 'switched',
    };
  }
  if (!state.confirmed && state.trialBoots >= 1 && state.previous) {
    return {
      state: { ...state, active: state.previous, previous: null, pending: null, confirmed: true, trialBoots: 0 },
      action: 'rolled-back',
    };
  }
  return { state: { ...state, pending: null }, action: 'none' };
}

/** All-OK: the running slot is good; rollback is off. */
export const confirmSlot = (state: OtaState): OtaState => ({ ...state, confirmed: true, trialBoots: 0 });

/** Unpacks a verified image beside its slot; `commit` swaps it into the slot's place. */
export function slotUnpacker(store: OtaStore, maxBytes: number) {
  return async (image: string, slot: SlotName): Promise<{ version: string; commit(): Promise<void> }> => {
    const staging = `${store.slotDir(slot)}.new`;
    await fs.rm(staging, { recursive: true, force: true });
    await fs.mkdir(store.dir, { recursive: true });
    let manifest;
    try {
      manifest = await unpackBundle(image, staging, maxBytes);
    } catch (e) {
      await fs.rm(staging, { recursive: true, force: true });
      throw e;
    }
    return {
      version: manifest.version,
      async commit() {
        await fs.rm(store.slotDir(slot), { recursive: true, force: true });
        await fs.rename(staging, store.slotDir(slot));
      },
    };
  };
}

/** The manifest of an installed slot, or undefined when it has none (never written, damaged). */
export async function slotManifest(store: OtaStore, slot: SlotName): Promise<Manifest | undefined> {
  try {
    const r = Manifest.safeParse(JSON.parse(await fs.readFile(path.join(store.slotDir(slot), 'manifest.json'), 'utf8')));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

// Two OTA slots in the runtime's private state, like the two app partitions of an ESP32: an
// image is written to the inactive slot, verified, and marked pending; the next boot makes
// the pending slot active. The state file is replaced atomically, so a crash at any point
// leaves either the old or the new state, never a mix.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

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
  slots: z.object({ a: SlotMeta.nullable(), b: SlotMeta.nullable() }),
});
export type OtaState = z.infer<typeof OtaState>;

export const otherSlot = (s: SlotName): SlotName => (s === 'a' ? 'b' : 'a');

export interface OtaStore {
  dir: string;
  load(): Promise<OtaState>;
  save(state: OtaState): Promise<void>;
  slotPath(slot: SlotName): string;
}

const fresh = (): OtaState => ({ active: 'a', pending: null, confirmed: true, previous: null, slots: { a: null, b: null } });

export function otaStore(privateDir: string): OtaStore {
  const dir = path.join(privateDir, 'ota');
  const file = path.join(dir, 'state.json');
  return {
    dir,
    slotPath: (slot) => path.join(dir, `slot-${slot}.bin`),
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
export type OtaBootAction = 'none' | 'switched';

/** Applies a pending slot at boot: it becomes active, unconfirmed. */
export function applyPending(state: OtaState): { state: OtaState; action: OtaBootAction } {
  if (!state.pending || !state.slots[state.pending]) return { state: { ...state, pending: null }, action: 'none' };
  return {
    state: { ...state, previous: state.active, active: state.pending, pending: null, confirmed: false },
    action: 'switched',
  };
}

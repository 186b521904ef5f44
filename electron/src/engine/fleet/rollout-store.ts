// A rollout kept on disk: one JSON file per rollout (its summary, every device's state, and what
// the gate needs to pick up where it was) plus the image beside it, so a rollout running when
// the host stopped continues when it starts again. Files are written atomically (temp file,
// fsync, rename) and private (0600 in a 0700 folder): an image may be someone's product.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { RolloutDevice, RolloutSummary } from '../../../../protocol/src/bridge-rollouts';

/** What the gate remembers of a device between host runs (not part of the bridge contract). */
export const GateMemory = z.object({
  /** When the reset into the new image was sent (ms since the epoch), and whether the broker took it. */
  resetAt: z.number().optional(),
  resetSent: z.boolean().optional(),
  /** Crash record ids the device had before the update: any other one is new. */
  crashIds: z.array(z.string()).max(200).default([]),
  /** The crash count its status gave before the update (records go out only at its next connect). */
  crashCount: z.number().int().nonnegative().optional(),
  /** When it came back online, was confirmed, and when its soak ends. */
  backAt: z.number().optional(),
  confirmedAt: z.number().optional(),
  soakUntil: z.number().optional(),
  /** The run it came back in (DeviceState's bootCount and bootedAt): a different one later is a reboot. */
  run: z.object({ bootCount: z.number().optional(), bootedAt: z.number().optional() }).optional(),
});
export type GateMemory = z.infer<typeof GateMemory>;

export const RolloutRecord = z.object({
  format: z.literal('mqboard-rollout/1'),
  summary: RolloutSummary,
  devices: z.array(RolloutDevice),
  gates: z.record(z.string(), GateMemory).default({}),
});
export type RolloutRecord = z.infer<typeof RolloutRecord>;

const ID = /^[A-Za-z0-9_-]{1,40}$/;

export interface RolloutStore {
  dir: string;
  /** Writes the record; calls made while a write is in flight collapse into one more write. */
  save(record: RolloutRecord): Promise<void>;
  saveImage(id: string, image: Uint8Array): Promise<void>;
  loadImage(id: string): Promise<Uint8Array>;
  /** Every readable record; a damaged file is reported through `warn` and left alone. */
  loadAll(warn?: (message: string) => void): Promise<RolloutRecord[]>;
  remove(id: string): Promise<void>;
  /** Resolves once every write asked for so far is on disk. */
  flush(): Promise<void>;
}

async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await fs.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

export function createRolloutStore(dir: string): RolloutStore {
  const json = (id: string) => path.join(dir, `${id}.json`);
  const img = (id: string) => path.join(dir, `${id}.img`);
  const check = (id: string) => {
    if (!ID.test(id)) throw new RangeError(`not a rollout id: ${JSON.stringify(id)}`);
  };
  let ready: Promise<void> | undefined;
  const ensureDir = () =>
    (ready ??= (async () => {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      // An existing folder keeps its mode through mkdir: make it private anyway.
      await fs.chmod(dir, 0o700);
    })());

  // Per rollout: the write in flight and the newest record waiting for it.
  const writers = new Map<string, { running: Promise<void>; next?: RolloutRecord }>();

  const writeLoop = async (id: string, first: RolloutRecord) => {
    let rec: RolloutRecord | undefined = first;
    try {
      while (rec) {
        await ensureDir();
        await writeAtomic(json(id), JSON.stringify(rec));
        const w = writers.get(id)!;
        rec = w.next;
        w.next = undefined;
      }
    } finally {
      writers.delete(id);
    }
  };

  return {
    dir,
    save(record) {
      const id = record.summary.id;
      check(id);
      // A copy: the caller goes on changing its record while this one waits for the disk.
      const snapshot = structuredClone(record);
      const w = writers.get(id);
      if (w) {
        w.next = snapshot;
        return w.running;
      }
      const entry: { running: Promise<void>; next?: RolloutRecord } = { running: Promise.resolve() };
      writers.set(id, entry);
      entry.running = writeLoop(id, snapshot);
      return entry.running;
    },
    async saveImage(id, image) {
      check(id);
      await ensureDir();
      await writeAtomic(img(id), image);
    },
    async loadImage(id) {
      check(id);
      return new Uint8Array(await fs.readFile(img(id)));
    },
    async loadAll(warn) {
      let names: string[];
      try {
        names = await fs.readdir(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw e;
      }
      const out: RolloutRecord[] = [];
      for (const name of names) {
        if (!name.endsWith('.json') || !ID.test(name.slice(0, -5))) continue;
        try {
          const r = RolloutRecord.safeParse(JSON.parse(await fs.readFile(path.join(dir, name), 'utf8')));
          if (r.success && r.data.summary.id === name.slice(0, -5)) out.push(r.data);
          else warn?.(`${name}: not a rollout record; left alone`);
        } catch (e) {
          warn?.(`${name}: ${e instanceof Error ? e.message : String(e)}; left alone`);
        }
      }
      return out;
    },
    async remove(id) {
      check(id);
      await writers.get(id)?.running.catch(() => undefined);
      await fs.rm(json(id), { force: true });
      await fs.rm(img(id), { force: true });
    },
    async flush() {
      await Promise.all([...writers.values()].map((w) => w.running.catch(() => undefined)));
    },
  };
}

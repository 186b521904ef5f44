// Crash records: one JSON file per record under
// the device path /crash/, so the file commands can read them; only the newest `keep` stay.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CrashRecord } from '../../protocol/src';
import { writeFileAtomic } from './ota-slots';
import { userStack } from './user-stack';

export const CRASH_DIR = 'crash';

export interface CrashLog {
  add(r: Omit<CrashRecord, 'id' | 'time'> & { time?: number }): Promise<CrashRecord>;
  /** Oldest first; unreadable files are skipped. */
  list(): Promise<CrashRecord[]>;
}

const MAX_MESSAGE = 4096;
const MAX_STACK = 64 * 1024;

export function crashLog(root: string, keep = 10): CrashLog {
  const dir = path.join(root, CRASH_DIR);
  const files = async () =>
    (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => /^\d{15}-[0-9a-f]{8}\.json$/.test(f)).sort();
  return {
    async add(r) {
      const time = r.time ?? Date.now();
      const id = `${String(time).padStart(15, '0')}-${randomBytes(4).toString('hex')}`;
      const record: CrashRecord = {
        ...r,
        id,
        time,
        message: r.message.slice(0, MAX_MESSAGE),
        // Frames of the runtime and of Node would only publish the host's file layout.
        ...(r.stack ? { stack: userStack(r.stack, root).slice(0, MAX_STACK) } : {}),
        log: r.log.slice(-500).map((l) => l.slice(0, 2048)),
      };
      await fs.mkdir(dir, { recursive: true });
      await writeFileAtomic(path.join(dir, `${id}.json`), JSON.stringify(record, null, 1));
      const all = await files();
      for (const old of all.slice(0, Math.max(0, all.length - keep))) await fs.rm(path.join(dir, old), { force: true });
      return record;
    },
    async list() {
      const out: CrashRecord[] = [];
      for (const f of await files()) {
        try {
          const r = CrashRecord.safeParse(JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')));
          if (r.success) out.push(r.data);
        } catch {
          /* skip a damaged record */
        }
      }
      return out;
    },
  };
}

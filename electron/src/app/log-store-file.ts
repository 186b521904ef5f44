// Where the log store keeps its history: one DuckDB file in a folder only the user can read
// (other users of the machine must not read what devices log), tightened again whenever it
// opens. A database that will not open must not keep the app from starting.
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { openLogDb, type LogDb, type LogDbOptions } from './log-db';

export const DB_FILE = 'logs.duckdb';
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * Opens `<dir>/logs.duckdb`. `memoryOnly` when another process has it open: this one then keeps
 * its lines in memory while it runs.
 */
export async function openLogFile(dir: string, o: Omit<LogDbOptions, 'file'>): Promise<{ db: LogDb; memoryOnly: boolean }> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await tighten(dir, DIR_MODE);
  const file = path.join(dir, DB_FILE);
  const dbOptions = { ...o, file };
  let memoryOnly = false;
  const db = await openLogDb(dbOptions).catch(async (e: unknown) => {
    const why = e instanceof Error ? e.message : String(e);
    if (!existsSync(file)) throw e;
    if (/Could not set lock/i.test(why)) {
      // Another MQBoard (the desktop app and web mode on one settings folder) has the history
      // open, and one process may write it: this one keeps its lines while it runs.
      o.warn(`the log history is open in another MQBoard process; this one keeps logs in memory only (${why})`);
      memoryOnly = true;
      return openLogDb({ ...dbOptions, file: ':memory:' });
    }
    // A database that does not open (damaged by a full disk, written by a newer DuckDB) must
    // not keep the app from starting: it is set aside, kept for the user, and a new one begins.
    const aside = `${file}.unreadable-${Date.now()}`;
    o.warn(`could not open ${file} (${why}); kept as ${aside}, starting a new log history`);
    await rename(file, aside);
    await rename(`${file}.wal`, `${aside}.wal`).catch(() => {});
    return openLogDb(dbOptions);
  });
  if (!memoryOnly) await tighten(file, FILE_MODE);
  return { db, memoryOnly };
}

/** Best effort: a file the user cannot chmod (another owner's) must not keep the app from starting. */
async function tighten(p: string, mode: number): Promise<void> {
  await chmod(p, mode).catch((e: unknown) => console.warn(`log store: could not make ${p} private:`, e instanceof Error ? e.message : e));
}

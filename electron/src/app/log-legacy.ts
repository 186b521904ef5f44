// The JSON-lines store that came before the database: <dir>/<base64url(prefix)>/<firstId>.jsonl,
// one record per line (`{"i":id,"r":received,"l":level,"t":deviceTime,"n":name,"x":text}`, crash
// records add `"c"`), and crash-ids.json with the keys of crash records already stored. Read
// once, on the first start with the database, into it; then the folders go.
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { LEVELS, type CrashRecord, type Level } from '../../../protocol/src';
import type { LogRecord } from '../../../protocol/src/bridge-logs';
import { ForwardLineReader } from './log-forward-reader';
import { ReverseLineReader } from './log-reverse-reader';

export interface LegacyDevice {
  prefix: string;
  folder: string;
  /** Segment files, oldest first. */
  segments: string[];
  crashKeys: string[];
  /** The newest id on disk (-1 if none): new ids start above every legacy one. */
  lastId: number;
}

const CRASH_KEYS = 'crash-ids.json';

export async function findLegacyDevices(dir: string): Promise<LegacyDevice[]> {
  const out: LegacyDevice[] = [];
  for (const name of await readdir(dir)) {
    const folder = path.join(dir, name);
    let prefix: string;
    try {
      if (!(await stat(folder)).isDirectory()) continue;
      prefix = Buffer.from(name, 'base64url').toString('utf8');
    } catch {
      continue;
    }
    // Only folders the old store made: the name must be exactly the encoding of a prefix.
    if (!prefix || Buffer.from(prefix).toString('base64url') !== name) continue;
    const files = await readdir(folder);
    const segments = files
      .map((f) => /^(\d+)\.jsonl$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(a[1]) - Number(b[1]))
      .map((m) => path.join(folder, m[0]));
    const crashKeys = files.includes(CRASH_KEYS) ? await readCrashKeys(path.join(folder, CRASH_KEYS)) : [];
    out.push({ prefix, folder, segments, crashKeys, lastId: await lastId(segments) });
  }
  return out;
}

/** A device's records, oldest first, in batches; torn or foreign lines are skipped. */
export async function* legacyRecords(d: LegacyDevice, batch: number): AsyncGenerator<LogRecord[]> {
  const reader = new ForwardLineReader(d.segments);
  let out: LogRecord[] = [];
  for (let l = await reader.next(); l; l = await reader.next()) {
    const r = decodeLegacyRecord(d.prefix, l.json);
    if (r) out.push(r);
    if (out.length >= batch) {
      yield out;
      out = [];
    }
  }
  if (out.length) yield out;
}

export async function removeLegacyDevice(d: LegacyDevice): Promise<void> {
  await rm(d.folder, { recursive: true, force: true });
}

const LEVEL_SET = new Set<string>(LEVELS);

export function decodeLegacyRecord(prefix: string, json: string): LogRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.i !== 'number' || !Number.isSafeInteger(o.i) || o.i < 0) return undefined;
  if (typeof o.r !== 'number' || typeof o.l !== 'string' || !LEVEL_SET.has(o.l)) return undefined;
  if (typeof o.t !== 'string' || typeof o.n !== 'string' || typeof o.x !== 'string') return undefined;
  const r: LogRecord = { id: o.i, prefix, received: o.r, level: o.l as Level, time: o.t, name: o.n, text: o.x };
  // Crash records were validated by the engine before the old store wrote them; the bridge
  // host checks them again against the contract on the way out.
  if (typeof o.c === 'object' && o.c !== null) r.crash = o.c as CrashRecord;
  return r;
}

async function readCrashKeys(file: string): Promise<string[]> {
  try {
    const v: unknown = JSON.parse(await readFile(file, 'utf8'));
    return Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string') : [];
  } catch {
    return [];
  }
}

async function lastId(segments: string[]): Promise<number> {
  const reader = new ReverseLineReader(segments);
  try {
    const l = await reader.next();
    return l ? l.id : -1;
  } finally {
    await reader.close();
  }
}

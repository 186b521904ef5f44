import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CrashRecord, Level } from '../../../protocol/src';
import type { LogFilter } from '../../../protocol/src/bridge-logs';
import { DuckDBInstance } from '@duckdb/node-api';
import { DB_FILE, openLogStore, type IncomingLine } from './log-store';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp() {
  const d = mkdtempSync(path.join(os.tmpdir(), 'mqb-logstore-'));
  dirs.push(d);
  return d;
}

const line = (prefix: string, n: number, level: Level = 'I', text = `line ${n}`): IncomingLine => ({
  prefix,
  received: 1_700_000_000_000 + n,
  level,
  time: String(n),
  name: 'main',
  text,
});

const crash = (id: string, time: number, reason: CrashRecord['reason'] = 'exception'): CrashRecord => ({ id, time, bootCount: 1, mode: 'normal', reason, message: 'boom', stack: 'Error: boom\n  at x', log: [] });

describe('log store', () => {
  it('returns the newest page first and continues towards older lines in order', async () => {
    const s = await openLogStore({ dir: tmp() });
    s.append(Array.from({ length: 250 }, (_, i) => line('lab/a', i)));
    const p1 = await s.query({ prefix: 'lab/a', filter: {}, limit: 100 });
    expect(p1.records.map((r) => r.text)).toEqual(Array.from({ length: 100 }, (_, i) => `line ${150 + i}`));
    const p2 = await s.query({ prefix: 'lab/a', filter: {}, limit: 100, before: p1.cursor! });
    expect(p2.records[0]!.text).toBe('line 50');
    const p3 = await s.query({ prefix: 'lab/a', filter: {}, limit: 100, before: p2.cursor! });
    expect(p3.records).toHaveLength(50);
    expect(p3.cursor).toBeNull();
    await s.close();
  });

  it('joins lines still on their way to the database with stored ones in one page', async () => {
    const s = await openLogStore({ dir: tmp() });
    s.append(Array.from({ length: 50 }, (_, i) => line('lab/a', i)));
    await s.flush();
    s.append(Array.from({ length: 50 }, (_, i) => line('lab/a', 50 + i)));
    const page = await s.query({ filter: {}, limit: 80 });
    expect(page.records.map((r) => r.time)).toEqual(Array.from({ length: 80 }, (_, i) => String(20 + i)));
    const rest = await s.query({ filter: {}, limit: 80, before: page.cursor! });
    expect(rest.records.map((r) => r.time)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(rest.cursor).toBeNull();
    await s.close();
  });

  it('interleaves devices fleet-wide in arrival order and filters host-side, before and after the lines reach the database', async () => {
    const s = await openLogStore({ dir: tmp() });
    for (let i = 0; i < 30; i++) s.append([line(i % 3 === 0 ? 'a' : 'b', i, i % 5 === 0 ? 'E' : 'I')]);
    // Once answered for from memory (just appended), once from the database.
    for (const stage of ['in flight', 'stored']) {
      if (stage === 'stored') await s.flush();
      const all = await s.query({ filter: {}, limit: 1000 });
      expect(all.records.map((r) => r.time)).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
      expect(all.records.map((r) => r.prefix).slice(0, 4)).toEqual(['a', 'b', 'b', 'a']);
      const errors = await s.query({ filter: { levels: ['E'] }, limit: 1000 });
      expect(errors.records.map((r) => r.time)).toEqual(['0', '5', '10', '15', '20', '25']);
      const re = await s.query({ prefix: 'b', filter: { search: '^line 1[0-9]$', regex: true }, limit: 1000 });
      expect(re.records.map((r) => r.text)).toEqual(['line 10', 'line 11', 'line 13', 'line 14', 'line 16', 'line 17', 'line 19']);
    }
    await s.close();
  });

  it('keeps each device within its budget, dropping its oldest lines, without touching a quiet device', async () => {
    const s = await openLogStore({ dir: tmp(), segmentBytes: 4096, segmentsPerDevice: 3 });
    s.append([line('lab/quiet', 0, 'I', 'still here')]);
    for (let batch = 0; batch < 20; batch++) {
      s.append(Array.from({ length: 50 }, (_, i) => line('lab/a', batch * 50 + i)));
      await s.flush();
    }
    expect(s.usage().get('lab/a')).toBeLessThanOrEqual(3 * 4096);
    const page = await s.query({ prefix: 'lab/a', filter: {}, limit: 5000 });
    expect(page.records.at(-1)!.text).toBe('line 999');
    expect(page.records[0]!.text).not.toBe('line 0');
    // What is kept is contiguous: eviction drops the oldest lines, never lines in between.
    const ns = page.records.map((r) => Number(r.time));
    expect(ns).toEqual(ns.map((_, i) => ns[0]! + i));
    expect((await s.query({ prefix: 'lab/quiet', filter: {}, limit: 10 })).records.map((r) => r.text)).toEqual(['still here']);
    await s.close();
  });

  it('drops the oldest lines of the whole store above the total budget', async () => {
    const s = await openLogStore({ dir: tmp(), segmentBytes: 2048, segmentsPerDevice: 10, totalBytes: 3 * 2048 });
    for (let i = 0; i < 300; i++) {
      s.append([line(i % 2 ? 'a' : 'b', i)]);
      if (i % 20 === 0) await s.flush();
    }
    await s.flush();
    const total = [...s.usage().values()].reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(3 * 2048);
    const page = await s.query({ filter: {}, limit: 5000 });
    const ns = page.records.map((r) => Number(r.time));
    expect(ns.at(-1)).toBe(299);
    expect(ns).toEqual(ns.map((_, i) => ns[0]! + i));
    expect(ns[0]).toBeGreaterThan(0);
    await s.close();
  });

  it('reloads after a restart, budgets included, and continues ids after the stored ones', async () => {
    const dir = tmp();
    const a = await openLogStore({ dir });
    a.append([line('lab/a', 1), line('lab/b', 2)]);
    a.append([{ ...line('lab/a', 3, 'C', 'exception: boom'), crash: crash('c1', 5) }]);
    await a.close();
    const b = await openLogStore({ dir });
    expect(b.usage().get('lab/a')).toBeGreaterThan(0);
    const [r] = b.append([line('lab/a', 4)]);
    expect(r!.id).toBe(3);
    const page = await b.query({ prefix: 'lab/a', filter: {}, limit: 10 });
    expect(page.records.map((x) => x.text)).toEqual(['line 1', 'exception: boom', 'line 4']);
    expect(page.records[1]!.crash?.stack).toContain('at x');
    await b.close();
  });

  it('numbers the devices of a database written before devices had numbers, and goes on from there', async () => {
    const dir = tmp();
    const db = await DuckDBInstance.create(path.join(dir, DB_FILE));
    const c = await db.connect();
    await c.run('CREATE TABLE lines (id BIGINT, profile VARCHAR, prefix VARCHAR, received DOUBLE, level VARCHAR, time VARCHAR, name VARCHAR, text VARCHAR, bytes INTEGER, crash VARCHAR)');
    await c.run(`INSERT INTO lines VALUES (0, 'default', 'lab/a', 1, 'I', '0', 'main', 'old a', 50, NULL), (1, 'other', 'lab/a', 1, 'I', '1', 'main', 'old a elsewhere', 50, NULL), (2, 'default', 'lab/b', 1, 'I', '2', 'main', 'old b', 50, NULL)`);
    c.closeSync();
    db.closeSync();
    const s = await openLogStore({ dir });
    s.append([line('lab/a', 3, 'I', 'new a'), line('lab/c', 4, 'I', 'new c')]);
    await s.flush();
    const texts = async (prefix: string) => (await s.query({ prefix, filter: {}, limit: 10 })).records.map((r) => r.text);
    expect(await texts('lab/a')).toEqual(['old a', 'new a']);
    expect(await texts('lab/b')).toEqual(['old b']);
    expect(await texts('lab/c')).toEqual(['new c']);
    s.setProfile('other');
    expect(await texts('lab/a')).toEqual(['old a elsewhere']);
    await s.close();
  });

  it('stops a rare search after its scan limit with a cursor to continue from', async () => {
    const s = await openLogStore({ dir: tmp() });
    s.append([line('a', 0, 'I', 'needle')]);
    s.append(Array.from({ length: 100 }, (_, i) => line('a', i + 1)));
    // The limit is on what the database scans; lines still in memory are always looked through.
    await s.flush();
    const first = await s.query({ filter: { search: 'needle' }, limit: 10, scanLimit: 50 });
    expect(first.records).toEqual([]);
    expect(first.cursor).not.toBeNull();
    const rest = await s.query({ filter: { search: 'needle' }, limit: 10, before: first.cursor! });
    expect(rest.records.map((r) => r.text)).toEqual(['needle']);
    await s.close();
  });

  it('exports every match oldest first across pages', async () => {
    const s = await openLogStore({ dir: tmp() });
    s.append(Array.from({ length: 12_000 }, (_, i) => line('a', i, i % 2 ? 'W' : 'D')));
    const seen: string[] = [];
    await s.each({ filter: { levels: ['W'] } }, (r) => {
      seen.push(r.time);
    });
    expect(seen).toHaveLength(6_000);
    expect(seen[0]).toBe('1');
    expect(seen.at(-1)).toBe('11999');
    await s.close();
  });
});

describe('log store text', () => {
  it('keeps non-ASCII text intact across chunk boundaries, both directions', async () => {
    const s = await openLogStore({ dir: tmp() });
    const text = (i: number) => `température ${i} °C — ✓ ${'é'.repeat(i % 50)}`;
    s.append(Array.from({ length: 3_000 }, (_, i) => line('a', i, 'I', text(i))));
    const page = await s.query({ filter: {}, limit: 5_000 });
    expect(page.records.map((r) => r.text)).toEqual(Array.from({ length: 3_000 }, (_, i) => text(i)));
    const forward: string[] = [];
    await s.each({ filter: {} }, (r) => {
      forward.push(r.text);
    });
    expect(forward).toEqual(Array.from({ length: 3_000 }, (_, i) => text(i)));
    await s.close();
  });
});

describe('log store search', () => {
  const texts = ['Wi-Fi connected', 'wifi lost', 'Température 21°C', 'error 50% done', 'error 50x done', 'a_b', 'axb'];
  async function searched(filter: LogFilter) {
    const s = await openLogStore({ dir: tmp() });
    s.append(texts.map((t, i) => line('lab/a', i, 'I', t)));
    s.append([{ ...line('lab/a', 99, 'I', 'no match here'), name: 'wifi' }]);
    // Lines still in memory are searched on the host the way the database searches stored ones.
    const inMemory = await s.query({ filter, limit: 100 });
    await s.flush();
    const page = await s.query({ filter, limit: 100 });
    await s.close();
    expect(inMemory.records.map((r) => r.text)).toEqual(page.records.map((r) => r.text));
    return page.records.map((r) => r.text);
  }

  it('finds text case-insensitively by default, in the text or the logger name', async () => {
    expect(await searched({ search: 'WIFI' })).toEqual(['wifi lost', 'no match here']);
    expect(await searched({ search: 'température' })).toEqual(['Température 21°C']);
  });

  it('takes a plain search literally, wildcards of SQL included', async () => {
    expect(await searched({ search: '50%' })).toEqual(['error 50% done']);
    expect(await searched({ search: 'a_b' })).toEqual(['a_b']);
    expect(await searched({ search: 'Wi-Fi', caseSensitive: true })).toEqual(['Wi-Fi connected']);
    expect(await searched({ search: 'wi-fi', caseSensitive: true })).toEqual([]);
    expect(await searched({ search: 'wifi', caseSensitive: true })).toEqual(['wifi lost', 'no match here']);
  });

  it('runs a regex as RE2 with the JavaScript spellings the live view accepts', async () => {
    expect(await searched({ search: '^wi-?fi\\b', regex: true })).toEqual(['Wi-Fi connected', 'wifi lost', 'no match here']);
    expect(await searched({ search: 'Temp\\u00e9rature \\d+', regex: true })).toEqual(['Température 21°C']);
    expect(await searched({ search: '(?<n>\\d+)x', regex: true })).toEqual(['error 50x done']);
    expect(await searched({ search: 'A.B', regex: true, caseSensitive: true })).toEqual([]);
    // With a substring every match needs (` 50`, `error 50`), tested before the pattern runs.
    expect(await searched({ search: 'ERROR 50\\S done$', regex: true })).toEqual(['error 50% done', 'error 50x done']);
    expect(await searched({ search: 'error 50\\w+ done', regex: true, caseSensitive: true })).toEqual(['error 50x done']);
  });

  it('matches nothing for a regex RE2 refuses or that is too expensive, and stays up', async () => {
    expect(await searched({ search: '(', regex: true })).toEqual([]);
    expect(await searched({ search: 'a(?=b)', regex: true })).toEqual([]);
    expect(await searched({ search: '(?:a?){200}a{200}', regex: true })).toEqual([]);
  });

  it('takes quotes, backslashes and NULs in a prefix, a profile or a search as text, never as SQL', async () => {
    const s = await openLogStore({ dir: tmp() });
    const odd = "lab/o'; DROP TABLE lines; --\0\\";
    s.setProfile("it's\0mine");
    s.append([line(odd, 1, 'I', "it's 100%\0done"), line('lab/b', 2)]);
    await s.flush();
    expect((await s.query({ prefix: odd, filter: {}, limit: 10 })).records.map((r) => r.prefix)).toEqual([odd]);
    expect((await s.query({ filter: { search: "'s 100%\0" }, limit: 10 })).records.map((r) => r.time)).toEqual(['1']);
    expect((await s.query({ filter: { search: "it'S 100%\\x00", regex: true }, limit: 10 })).records.map((r) => r.time)).toEqual(['1']);
    expect((await s.query({ filter: {}, limit: 10 })).records).toHaveLength(2);
    await s.close();
  });

  it('searches logger names in the database once there are too many to list', async () => {
    const s = await openLogStore({ dir: tmp() });
    s.append(Array.from({ length: 2_100 }, (_, i) => ({ ...line('lab/a', i, 'I', 'same text'), name: `module-${i}` })));
    await s.flush();
    expect((await s.query({ filter: { search: 'MODULE-2042' }, limit: 10 })).records.map((r) => r.name)).toEqual(['module-2042']);
    expect((await s.query({ filter: { search: '^module-20[0-9]{2}$', regex: true }, limit: 1000 })).records).toHaveLength(100);
    await s.close();
  });

  it('filters by received time', async () => {
    const s = await openLogStore({ dir: tmp() });
    s.append(Array.from({ length: 10 }, (_, i) => line('lab/a', i)));
    await s.flush();
    const t0 = 1_700_000_000_000;
    expect((await s.query({ filter: {}, limit: 100, since: t0 + 3, until: t0 + 6 })).records.map((r) => r.time)).toEqual(['3', '4', '5']);
    const seen: string[] = [];
    await s.each({ filter: {}, since: t0 + 8 }, (r) => {
      seen.push(r.time);
    });
    expect(seen).toEqual(['8', '9']);
    await s.close();
  });
});

describe('log store profiles', () => {
  it('keeps the same prefix on two brokers apart', async () => {
    const dir = tmp();
    const s = await openLogStore({ dir });
    s.setProfile('home');
    s.append([line('lab/a', 1, 'I', 'at home')]);
    s.setProfile('office');
    s.append([line('lab/a', 2, 'I', 'at the office')]);
    expect((await s.query({ prefix: 'lab/a', filter: {}, limit: 10 })).records.map((r) => r.text)).toEqual(['at the office']);
    await s.close();
    const again = await openLogStore({ dir });
    again.setProfile('home');
    expect((await again.query({ filter: {}, limit: 10 })).records.map((r) => r.text)).toEqual(['at home']);
    expect([...again.usage().keys()]).toEqual(['lab/a']);
    await again.close();
  });
});

describe('log store crash records', () => {
  const day = Date.UTC(2026, 2, 10);

  it('stores each crash record once, across restarts, as a critical line with its stack', async () => {
    const dir = tmp();
    const a = await openLogStore({ dir });
    const first = a.appendCrashes('lab/a', [crash('c2', day + 2000), crash('c1', day + 1000)], day + 5000);
    expect(first.map((r) => [r.level, r.text, r.crash?.id])).toEqual([
      ['C', 'exception: boom', 'c1'],
      ['C', 'exception: boom', 'c2'],
    ]);
    expect(a.appendCrashes('lab/a', [crash('c1', day + 1000)], day + 6000)).toEqual([]);
    await a.close();
    const b = await openLogStore({ dir });
    expect(b.appendCrashes('lab/a', [crash('c1', day + 1000), crash('c3', day + 3000, 'watchdog')], day + 7000).map((r) => r.crash?.id)).toEqual(['c3']);
    const page = await b.query({ filter: { levels: ['C'] }, limit: 10 });
    expect(page.records.map((r) => r.crash?.id)).toEqual(['c1', 'c2', 'c3']);
    await b.close();
  });

  it('counts crashes per device and per day, dating those without a clock by their arrival', async () => {
    const s = await openLogStore({ dir: tmp() });
    s.appendCrashes('lab/a', [crash('1', day - 86_400_000 + 5), crash('2', day + 10)], day + 20);
    // Boards without a clock: the time is since boot, so the day is when the record arrived.
    s.appendCrashes('lab/b', [crash('3', 1234)], day + 30);
    s.setProfile('other');
    s.appendCrashes('lab/a', [crash('4', day)], day);
    s.setProfile('default');
    expect(await s.crashCounts()).toEqual([
      { prefix: 'lab/a', count: 2, last: day + 10 },
      { prefix: 'lab/b', count: 1, last: day + 30 },
    ]);
    expect(await s.crashCounts('other')).toEqual([{ prefix: 'lab/a', count: 1, last: day }]);
    expect(await s.crashesPerDay(undefined, 3, { now: day + 3_600_000 })).toEqual([
      { day: '2026-03-08', count: 0 },
      { day: '2026-03-09', count: 1 },
      { day: '2026-03-10', count: 2 },
    ]);
    expect(await s.crashesPerDay('default', 1, { now: day + 3_600_000, prefix: 'lab/b' })).toEqual([{ day: '2026-03-10', count: 1 }]);
    // Three hours behind UTC, the first minutes of 10 March are still the 9th.
    expect(await s.crashesPerDay('default', 2, { now: day + 3_600_000, utcOffsetMinutes: -180 })).toEqual([
      { day: '2026-03-08', count: 1 },
      { day: '2026-03-09', count: 2 },
    ]);
    await s.close();
  });

  it('forgets a device: its lines and crash records go, other devices stay', async () => {
    const dir = tmp();
    const s = await openLogStore({ dir });
    s.append([line('lab/a', 1), line('lab/b', 2)]);
    s.appendCrashes('lab/a', [crash('c1', day)], day);
    await s.forgetDevice('lab/a');
    expect((await s.query({ filter: {}, limit: 10 })).records.map((r) => r.prefix)).toEqual(['lab/b']);
    expect(await s.crashCounts()).toEqual([]);
    expect(s.usage().has('lab/a')).toBe(false);
    await s.close();
    const again = await openLogStore({ dir });
    expect((await again.query({ prefix: 'lab/a', filter: {}, limit: 10 })).records).toEqual([]);
    // Forgotten means forgotten: the device's retained record is new to the store again.
    expect(again.appendCrashes('lab/a', [crash('c1', day)], day)).toHaveLength(1);
    await again.close();
  });
});

describe('log store damage', () => {
  it('sets an unreadable database aside and starts a new one', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, DB_FILE), 'not a database, e.g. cut short by a full disk');
    const s = await openLogStore({ dir });
    s.append([line('lab/a', 1)]);
    await s.flush();
    expect((await s.query({ filter: {}, limit: 10 })).records.map((r) => r.text)).toEqual(['line 1']);
    await s.close();
    const aside = readdirSync(dir).filter((f) => f.startsWith(`${DB_FILE}.unreadable-`));
    expect(aside).toHaveLength(1);
  });

  it('keeps logs in memory while another process has the database open, and leaves that one alone', async () => {
    const dir = tmp();
    const a = await openLogStore({ dir });
    a.append([line('lab/a', 1, 'I', 'kept on disk')]);
    await a.close();
    // Another MQBoard (say web mode beside the desktop app) holding the file.
    const holder = spawn(process.execPath, ['-e', `require('@duckdb/node-api').DuckDBInstance.create(${JSON.stringify(path.join(dir, DB_FILE))}).then(() => { console.log('open'); setInterval(() => {}, 1000); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      const b = await openLogStore({ dir });
      b.append([line('lab/a', 2, 'I', 'in memory')]);
      await b.flush();
      expect((await b.query({ filter: {}, limit: 10 })).records.map((r) => r.text)).toEqual(['in memory']);
      await b.close();
    } finally {
      holder.kill();
      await once(holder, 'exit');
    }
    expect(readdirSync(dir).filter((f) => f.includes('unreadable'))).toEqual([]);
    const c = await openLogStore({ dir });
    expect((await c.query({ filter: {}, limit: 10 })).records.map((r) => r.text)).toEqual(['kept on disk']);
    await c.close();
  });
});

describe('log store upgrade from JSON-lines', () => {
  /** A device folder as the JSON-lines store wrote it. */
  function legacyDevice(dir: string, prefix: string, segments: Record<string, string[]>, crashIds?: string[]) {
    const folder = path.join(dir, Buffer.from(prefix).toString('base64url'));
    mkdirSync(folder, { recursive: true });
    for (const [name, lines] of Object.entries(segments)) writeFileSync(path.join(folder, name), lines.join('\n'));
    if (crashIds) writeFileSync(path.join(folder, 'crash-ids.json'), JSON.stringify(crashIds));
    return folder;
  }
  const rec = (i: number, text: string, extra = '') => `{"i":${i},"r":${1_700_000_000_000 + i},"l":"I","t":"${i}","n":"main","x":"${text}"${extra}}`;

  it('imports the old history once, under the profile it is given, and removes it', async () => {
    const dir = tmp();
    const c1 = JSON.stringify(crash('c1', 5));
    const a = legacyDevice(dir, 'lab/a', { '0.jsonl': [rec(0, 'old 0'), rec(2, 'old 2'), ''], '3.jsonl': [rec(3, 'crash', `,"c":${c1}`).replace('"l":"I"', '"l":"C"'), '{"i":4,"r":1,"l":"I","t":"2","n":"m","x":"to'] }, ['c1@5', 'c0@0']);
    const b = legacyDevice(dir, 'lab/b', { '1.jsonl': [rec(1, 'old 1'), 'not json', ''] });
    mkdirSync(path.join(dir, 'not-a-device'));

    const s = await openLogStore({ dir, legacyProfile: 'home' });
    expect(await s.imported).toBe(4);
    expect(existsSync(a)).toBe(false);
    expect(existsSync(b)).toBe(false);
    expect(existsSync(path.join(dir, 'not-a-device'))).toBe(true);
    s.setProfile('home');
    // New lines go after the old ones, torn and foreign lines are skipped.
    const [fresh] = s.append([line('lab/a', 10, 'I', 'new')]);
    expect(fresh!.id).toBe(5);
    const page = await s.query({ filter: {}, limit: 10 });
    expect(page.records.map((r) => `${r.prefix} ${r.text}`)).toEqual(['lab/a old 0', 'lab/b old 1', 'lab/a old 2', 'lab/a crash', 'lab/a new']);
    expect(page.records[3]!.crash?.stack).toContain('at x');
    // Crash records stored before the upgrade are not stored again.
    expect(s.appendCrashes('lab/a', [crash('c1', 5)], 1)).toEqual([]);
    expect(s.appendCrashes('lab/a', [crash('c0', 0)], 1)).toEqual([]);
    await s.close();

    const again = await openLogStore({ dir });
    expect(await again.imported).toBe(0);
    again.setProfile('home');
    expect((await again.query({ filter: {}, limit: 10 })).records).toHaveLength(5);
    await again.close();
  });
});

describe('log store privacy', () => {
  const mode = (p: string) => statSync(p).mode & 0o777;
  let umask: number;
  // The usual umask, under which a plain mkdir/appendFile makes what other users can read.
  beforeEach(() => {
    umask = process.umask(0o022);
  });
  afterEach(() => {
    process.umask(umask);
  });

  it('creates its folder 0700 and its database 0600', async () => {
    const root = tmp();
    const dir = path.join(root, 'settings', 'logs');
    const s = await openLogStore({ dir });
    expect(mode(path.join(root, 'settings'))).toBe(0o700);
    expect(mode(dir)).toBe(0o700);
    s.append([line('lab/a', 1)]);
    await s.close();
    expect(readdirSync(dir)).toContain(DB_FILE);
    expect(mode(path.join(dir, DB_FILE))).toBe(0o600);
  });

  it('makes a store that other users could read private when it opens, keeping its lines', async () => {
    const dir = tmp();
    const a = await openLogStore({ dir });
    a.append([line('lab/a', 1)]);
    await a.close();
    // As an older version left it.
    chmodSync(dir, 0o755);
    chmodSync(path.join(dir, DB_FILE), 0o644);

    const b = await openLogStore({ dir });
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, DB_FILE))).toBe(0o600);
    expect((await b.query({ prefix: 'lab/a', filter: {}, limit: 10 })).records.map((r) => r.text)).toEqual(['line 1']);
    await b.close();
  });
});

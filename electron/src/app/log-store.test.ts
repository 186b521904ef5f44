import { appendFileSync, chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Level } from '../../../protocol/src';
import { openLogStore, type IncomingLine } from './log-store';

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

  it('interleaves devices fleet-wide in arrival order and filters host-side', async () => {
    const s = await openLogStore({ dir: tmp() });
    for (let i = 0; i < 30; i++) s.append([line(i % 3 === 0 ? 'a' : 'b', i, i % 5 === 0 ? 'E' : 'I')]);
    const all = await s.query({ filter: {}, limit: 1000 });
    expect(all.records.map((r) => r.time)).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
    expect(all.records.map((r) => r.prefix).slice(0, 4)).toEqual(['a', 'b', 'b', 'a']);
    const errors = await s.query({ filter: { levels: ['E'] }, limit: 1000 });
    expect(errors.records.map((r) => r.time)).toEqual(['0', '5', '10', '15', '20', '25']);
    const re = await s.query({ prefix: 'b', filter: { search: '^line 1[0-9]$', regex: true }, limit: 1000 });
    expect(re.records.map((r) => r.text)).toEqual(['line 10', 'line 11', 'line 13', 'line 14', 'line 16', 'line 17', 'line 19']);
    await s.close();
  });

  it('keeps each device within its budget by rotating segments, dropping the oldest lines', async () => {
    const dir = tmp();
    const s = await openLogStore({ dir, segmentBytes: 4096, segmentsPerDevice: 3 });
    for (let batch = 0; batch < 20; batch++) {
      s.append(Array.from({ length: 50 }, (_, i) => line('lab/a', batch * 50 + i)));
      await s.flush();
    }
    expect(s.usage().get('lab/a')).toBeLessThanOrEqual(3 * 4096);
    const devDir = path.join(dir, Buffer.from('lab/a').toString('base64url'));
    expect(readdirSync(devDir)).toHaveLength(3);
    const page = await s.query({ prefix: 'lab/a', filter: {}, limit: 5000 });
    expect(page.records.at(-1)!.text).toBe('line 999');
    expect(page.records[0]!.text).not.toBe('line 0');
    // What is kept is contiguous: rotation drops whole old segments, never lines in between.
    const ns = page.records.map((r) => Number(r.time));
    expect(ns).toEqual(ns.map((_, i) => ns[0]! + i));
    await s.close();
  });

  it('evicts the oldest closed segment of the whole store above the total budget', async () => {
    const s = await openLogStore({ dir: tmp(), segmentBytes: 2048, segmentsPerDevice: 10, totalBytes: 3 * 2048 });
    for (let i = 0; i < 300; i++) {
      s.append([line(i % 2 ? 'a' : 'b', i)]);
      if (i % 20 === 0) await s.flush();
    }
    await s.flush();
    const total = [...s.usage().values()].reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(3 * 2048);
    const page = await s.query({ filter: {}, limit: 5000 });
    expect(page.records.at(-1)!.time).toBe('299');
    await s.close();
  });

  it('reloads after a restart and continues ids after the stored ones', async () => {
    const dir = tmp();
    const a = await openLogStore({ dir });
    a.append([line('lab/a', 1), line('lab/b', 2)]);
    a.append([{ ...line('lab/a', 3, 'C', 'exception: boom'), crash: { id: 'c1', time: 5, bootCount: 1, mode: 'normal', reason: 'exception', message: 'boom', stack: 'Error: boom\n  at x', log: [] } }]);
    await a.close();
    const b = await openLogStore({ dir });
    const [r] = b.append([line('lab/a', 4)]);
    expect(r!.id).toBe(3);
    const page = await b.query({ prefix: 'lab/a', filter: {}, limit: 10 });
    expect(page.records.map((x) => x.text)).toEqual(['line 1', 'exception: boom', 'line 4']);
    expect(page.records[1]!.crash?.stack).toContain('at x');
    await b.close();
  });

  it('skips a torn last line after a crash and writes on in a new segment', async () => {
    const dir = tmp();
    const a = await openLogStore({ dir });
    a.append([line('lab/a', 1)]);
    await a.close();
    const devDir = path.join(dir, Buffer.from('lab/a').toString('base64url'));
    appendFileSync(path.join(devDir, readdirSync(devDir)[0]!), '{"i":1,"r":1,"l":"I","t":"2","n":"m","x":"to');
    const b = await openLogStore({ dir });
    b.append([line('lab/a', 3)]);
    await b.flush();
    const page = await b.query({ prefix: 'lab/a', filter: {}, limit: 10 });
    expect(page.records.map((x) => x.text)).toEqual(['line 1', 'line 3']);
    expect(readdirSync(devDir)).toHaveLength(2);
    await b.close();
  });

  it('stops a rare search after its scan limit with a cursor to continue from', async () => {
    const s = await openLogStore({ dir: tmp() });
    s.append([line('a', 0, 'I', 'needle')]);
    s.append(Array.from({ length: 100 }, (_, i) => line('a', i + 1)));
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

  it('creates its folders 0700 and its files 0600 from the first write', async () => {
    const root = tmp();
    const dir = path.join(root, 'settings', 'logs');
    const s = await openLogStore({ dir });
    expect(mode(path.join(root, 'settings'))).toBe(0o700);
    expect(mode(dir)).toBe(0o700);
    s.append([line('lab/a', 1)]);
    expect(s.rememberCrash('lab/a', 'c1')).toBe(true);
    await s.close();
    const devDir = path.join(dir, Buffer.from('lab/a').toString('base64url'));
    expect(mode(devDir)).toBe(0o700);
    expect(readdirSync(devDir).sort()).toEqual(['0.jsonl', 'crash-ids.json']);
    for (const f of readdirSync(devDir)) expect(mode(path.join(devDir, f))).toBe(0o600);
  });

  it('makes a store that other users could read private when it opens, keeping its lines', async () => {
    const dir = tmp();
    const a = await openLogStore({ dir });
    a.append([line('lab/a', 1)]);
    a.rememberCrash('lab/a', 'c1');
    await a.close();
    const devDir = path.join(dir, Buffer.from('lab/a').toString('base64url'));
    // As an older version left it.
    chmodSync(dir, 0o755);
    chmodSync(devDir, 0o755);
    for (const f of readdirSync(devDir)) chmodSync(path.join(devDir, f), 0o644);

    const b = await openLogStore({ dir });
    expect(mode(dir)).toBe(0o700);
    expect(mode(devDir)).toBe(0o700);
    for (const f of readdirSync(devDir)) expect(mode(path.join(devDir, f))).toBe(0o600);
    expect((await b.query({ prefix: 'lab/a', filter: {}, limit: 10 })).records.map((r) => r.text)).toEqual(['line 1']);
    expect(b.rememberCrash('lab/a', 'c1')).toBe(false);
    await b.close();
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallContext } from './bridge-host';
import { createLogHandlers } from './log-handlers';
import { openLogStore } from './log-store';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function storeWithLines() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-logexport-'));
  dirs.push(dir);
  const store = await openLogStore({ dir: path.join(dir, 'logs') });
  const at = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
  store.append([
    { prefix: 'lab/a', received: at, level: 'I', time: '100', name: 'main', text: 'hello' },
    { prefix: 'lab/b', received: at + 1, level: 'E', time: '12:00:00.000', name: 'sensor', text: 'broken' },
    { prefix: 'lab/a', received: at + 2, level: 'C', time: '03:04:05.000', name: 'crash', text: 'exception: boom', crash: { id: 'c', time: at, bootCount: 1, mode: 'normal', reason: 'exception', message: 'boom', stack: 'Error: boom\n  at f (x.js:1)', log: [] } },
  ]);
  return { dir, store };
}

const ctx = { signal: new AbortController().signal } as CallContext;

describe('log export', () => {
  it('writes the filtered fleet view where the save dialog says, crash stacks indented', async () => {
    const { dir, store } = await storeWithLines();
    const file = path.join(dir, 'out.log');
    let asked = '';
    const h = createLogHandlers(store, {
      save: async ({ defaultName }) => {
        asked = defaultName;
        return file;
      },
    });
    const r = await h.exportLogs({ filter: { levels: ['E', 'C'] } }, ctx);
    expect(r).toEqual({ kind: 'saved', path: file, lines: 2 });
    expect(asked).toMatch(/^mqboard-fleet-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.log$/);
    expect(readFileSync(file, 'utf8')).toBe(
      '2026-01-02T03:04:05.007Z lab/b E 12:00:00.000 sensor: broken\n' +
        '2026-01-02T03:04:05.008Z lab/a C 03:04:05.000 crash: exception: boom\n    Error: boom\n      at f (x.js:1)\n',
    );
    await store.close();
  });

  it('keeps to a time range of received times, in a page and in an export', async () => {
    const { store } = await storeWithLines();
    const at = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
    const h = createLogHandlers(store, undefined);
    const page = await h.queryLogs({ filter: {}, limit: 10, since: at + 1, until: at + 2 }, ctx);
    expect(page.records.map((r) => r.text)).toEqual(['broken']);
    const r = await h.exportLogs({ filter: {}, since: at + 1 }, ctx);
    expect(r).toMatchObject({ kind: 'download', lines: 2 });
    await store.close();
  });

  it('reports a cancelled dialog and writes nothing', async () => {
    const { store } = await storeWithLines();
    const h = createLogHandlers(store, { save: async () => null });
    expect(await h.exportLogs({ prefix: 'lab/a', filter: {} }, ctx)).toEqual({ kind: 'cancelled' });
    await store.close();
  });

  it('hands web mode the text of one device, without the device column', async () => {
    const { store } = await storeWithLines();
    const h = createLogHandlers(store, undefined);
    const r = await h.exportLogs({ prefix: 'lab/a', filter: { search: 'hello' } }, ctx);
    expect(r).toMatchObject({ kind: 'download', lines: 1, text: '2026-01-02T03:04:05.006Z I 100 main: hello\n' });
    expect(r.kind === 'download' && r.filename).toMatch(/^mqboard-lab_a-/);
    await store.close();
  });
});

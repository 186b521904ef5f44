import { describe, expect, it } from 'vitest';
import type { Level, LogEntry } from '../../../../protocol/src';
import type { LogPage, LogRecord } from '../../../../protocol/src/bridge-logs';
import type { BridgeClient } from '../../bridge/client';
import { createGapTracker } from './log-live';
import { createLogViewModel } from './log-view-model';

interface Call {
  args: { prefix?: string; filter: unknown; before?: number; limit: number };
  resolve(p: LogPage): void;
}

/** A bridge whose queryLogs replies are released by the test, in any order. */
function fakeBridge() {
  const calls: Call[] = [];
  const call = ((op: string, args: Call['args']) => {
    if (op !== 'queryLogs') throw new Error(`unexpected ${op}`);
    return new Promise<LogPage>((resolve) => calls.push({ args, resolve }));
  }) as unknown as BridgeClient['call'];
  return { bridge: { call }, calls };
}

const rec = (id: number, text = `line ${id}`, level: Level = 'I', prefix = 'lab/a'): LogRecord => ({ id, prefix, received: 1000 + id, level, time: String(id), name: 'main', text });
const live = (r: LogRecord): LogEntry => ({ prefix: r.prefix, received: r.received, id: r.id, line: { level: r.level, time: r.time, name: r.name, text: r.text } });
const texts = (m: ReturnType<typeof createLogViewModel>) => Array.from({ length: m.rows.length }, (_, i) => m.rows.get(i)!.text);
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('log view model', () => {
  it('joins the first history page and lines that arrived meanwhile without duplicates', async () => {
    const { bridge, calls } = fakeBridge();
    const m = createLogViewModel(bridge, { prefix: 'lab/a' });
    m.start();
    m.live([live(rec(3)), live(rec(4)), live(rec(9, 'other device', 'I', 'lab/b'))]);
    calls[0]!.resolve({ records: [rec(1), rec(2), rec(3)], cursor: 0 });
    await settle();
    expect(texts(m)).toEqual(['line 1', 'line 2', 'line 3', 'line 4']);
    m.live([live(rec(4)), live(rec(5))]);
    expect(texts(m)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
  });

  it('applies the filter to live lines and asks the host for filtered history', async () => {
    const { bridge, calls } = fakeBridge();
    const m = createLogViewModel(bridge);
    m.start();
    calls[0]!.resolve({ records: [], cursor: null });
    await settle();
    m.setFilter({ levels: ['E'], search: 'fail' });
    expect(calls[1]!.args.filter).toEqual({ levels: ['E'], search: 'fail', regex: false, caseSensitive: false });
    calls[1]!.resolve({ records: [rec(1, 'sensor fail', 'E')], cursor: null });
    await settle();
    m.live([live(rec(2, 'disk fail', 'E')), live(rec(3, 'fail but info')), live(rec(4, 'all good', 'E'))]);
    expect(texts(m)).toEqual(['sensor fail', 'disk fail']);
  });

  it('drops a stale history reply after the filter changed', async () => {
    const { bridge, calls } = fakeBridge();
    const m = createLogViewModel(bridge);
    m.start();
    m.setFilter({ search: 'x' });
    calls[1]!.resolve({ records: [rec(7, 'x marks')], cursor: null });
    calls[0]!.resolve({ records: [rec(1, 'unfiltered')], cursor: null });
    await settle();
    expect(texts(m)).toEqual(['x marks']);
  });

  it('holds lines while paused, counts them, and shows them on resume', async () => {
    const { bridge, calls } = fakeBridge();
    const m = createLogViewModel(bridge);
    m.start();
    calls[0]!.resolve({ records: [rec(1)], cursor: null });
    await settle();
    m.setFollow(false);
    m.setPaused(true);
    const v = m.store.getState().version;
    m.live([live(rec(2)), live(rec(3))]);
    expect(m.store.getState().pending).toBe(2);
    expect(m.store.getState().version).toBe(v);
    expect(texts(m)).toEqual(['line 1']);
    m.setPaused(false);
    expect(texts(m)).toEqual(['line 1', 'line 2', 'line 3']);
    expect(m.store.getState()).toMatchObject({ pending: 0, paused: false, follow: true });
  });

  it('loads older pages to the front until history is exhausted', async () => {
    const { bridge, calls } = fakeBridge();
    const m = createLogViewModel(bridge, { pageSize: 2 });
    m.start();
    calls[0]!.resolve({ records: [rec(5), rec(6)], cursor: 5 });
    await settle();
    const older = m.loadOlder();
    expect(calls[1]!.args.before).toBe(5);
    calls[1]!.resolve({ records: [rec(3), rec(4)], cursor: null });
    expect(await older).toBe(2);
    expect(texts(m)).toEqual(['line 3', 'line 4', 'line 5', 'line 6']);
    expect([3, 4, 5, 6, 7].map((id) => m.find(id)?.text)).toEqual(['line 3', 'line 4', 'line 5', 'line 6', undefined]);
    expect(m.store.getState()).toMatchObject({ prepended: 2, historyDone: true });
    expect(await m.loadOlder()).toBe(0);
  });

  it('keeps at most its capacity, counting what it evicted', async () => {
    const { bridge, calls } = fakeBridge();
    const m = createLogViewModel(bridge, { capacity: 3 });
    m.start();
    calls[0]!.resolve({ records: [], cursor: null });
    await settle();
    m.live([1, 2, 3, 4, 5].map((i) => live(rec(i))));
    expect(texts(m)).toEqual(['line 3', 'line 4', 'line 5']);
    expect(m.store.getState().evicted).toBe(2);
  });

  it('reports a regex that does not compile instead of querying', async () => {
    const { bridge, calls } = fakeBridge();
    const m = createLogViewModel(bridge);
    m.start();
    m.setFilter({ search: '(', regex: true });
    expect(calls).toHaveLength(1);
    expect(m.store.getState().error).toBeTruthy();
  });
});

describe('live gaps', () => {
  it('finds ids the stream skipped between batches', () => {
    const next = createGapTracker();
    expect(next([live(rec(1)), live(rec(2))])).toBeUndefined();
    expect(next([live(rec(3))])).toBeUndefined();
    expect(next([live(rec(7)), live(rec(8))])).toEqual({ from: 4, to: 7 });
  });

  it('fetches a gap from history and keeps later batches in order behind it', async () => {
    const { bridge, calls } = fakeBridge();
    const m = createLogViewModel(bridge, { prefix: 'lab/a' });
    m.start();
    calls[0]!.resolve({ records: [rec(1)], cursor: null });
    await settle();
    m.live([live(rec(6))], { from: 2, to: 6 });
    m.live([live(rec(7))]);
    expect(calls[1]!.args).toMatchObject({ prefix: 'lab/a', before: 6, limit: 4 });
    expect(texts(m)).toEqual(['line 1']);
    calls[1]!.resolve({ records: [rec(3), rec(5)], cursor: null });
    await settle();
    expect(texts(m)).toEqual(['line 1', 'line 3', 'line 5', 'line 6', 'line 7']);
  });
});

describe('rare searches', () => {
  it('keeps asking for older lines while the host returns short pages with a cursor', async () => {
    const { bridge, calls } = fakeBridge();
    const m = createLogViewModel(bridge, { pageSize: 3 });
    m.start();
    calls[0]!.resolve({ records: [], cursor: 900 });
    await settle();
    expect(calls[1]!.args.before).toBe(900);
    calls[1]!.resolve({ records: [rec(10, 'needle')], cursor: 400 });
    await settle();
    expect(calls[2]!.args.before).toBe(400);
    calls[2]!.resolve({ records: [rec(3, 'needle too')], cursor: null });
    await settle();
    expect(texts(m)).toEqual(['needle too', 'needle']);
    expect(calls).toHaveLength(3);
    expect(m.store.getState().historyDone).toBe(true);
  });
});

// The event hub's terminal stream: output merged per session in order, ended sessions after
// their output. A person waits for it, so it leaves at once while the stream is idle and only
// coalesces under load; logs and device updates keep their interval. Fake timers, no clocks:
// the tests count sends.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventBatch, TransferInfo } from '../../../protocol/src';
import { createEventHub, URGENT_PER_INTERVAL } from './event-hub';

const out = (term: string, data: string) => ({ stream: 'terminal' as const, output: [{ term, data, bytes: data.length }], ended: [] });
const logLine = (text: string) => ({
  stream: 'logs' as const,
  entries: [{ prefix: 'a/b', received: 1, line: { level: 'I' as const, time: '', name: 'app', text } }],
});
const transfer = (state: TransferInfo['state'], bytesDone: number): TransferInfo => ({
  id: 'x1', kind: 'upload', prefix: 'a/b', path: '/f.bin', folder: false, state, bytesDone, bytesTotal: 10, rate: 0, created: 1, retryable: false,
});

describe('event hub: terminal output', () => {
  it('merges output per session, keeps order, and reports ends after the output', () => {
    const hub = createEventHub(1_000);
    const got: EventBatch[] = [];
    hub.attach((b) => got.push(b)).setStreams(['terminal']);
    hub.publish({ stream: 'terminal', output: [{ term: 'a', data: '1+', bytes: 2 }], ended: [] });
    hub.publish({ stream: 'terminal', output: [{ term: 'b', data: 'x', bytes: 1 }], ended: [] });
    hub.publish({ stream: 'terminal', output: [{ term: 'a', data: '1\r\n2', bytes: 4 }], ended: [{ term: 'a', reason: 'exit' }] });
    hub.flush();
    expect(got).toEqual([
      [
        {
          stream: 'terminal',
          output: [
            { term: 'a', data: '1+1\r\n2', bytes: 6 },
            { term: 'b', data: 'x', bytes: 1 },
          ],
          ended: [{ term: 'a', reason: 'exit' }],
        },
      ],
    ]);
  });

  it('sends terminal batches only to clients that subscribed to them', () => {
    const hub = createEventHub(1_000);
    const other: EventBatch[] = [];
    hub.attach((b) => other.push(b)).setStreams(['devices']);
    hub.publish({ stream: 'terminal', output: [{ term: 'a', data: 'x', bytes: 1 }], ended: [] });
    hub.flush();
    expect(other).toEqual([]);
  });
});

describe('event hub: terminal latency', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const hubWith = (streams: ('terminal' | 'logs' | 'transfers')[]) => {
    const hub = createEventHub(50);
    const got: EventBatch[] = [];
    hub.attach((b) => got.push(b)).setStreams(streams);
    return { hub, got };
  };

  it('sends output on the next turn of the event loop when the stream is idle, not at the interval', () => {
    const { hub, got } = hubWith(['terminal']);
    hub.publish(out('a', '>'));
    hub.publish(out('a', '>'));
    expect(got).toHaveLength(0);
    vi.advanceTimersByTime(0);
    // Everything published in the same turn (one socket read) is one send.
    expect(got).toEqual([[{ stream: 'terminal', output: [{ term: 'a', data: '>>', bytes: 2 }], ended: [] }]]);
    vi.advanceTimersByTime(60);
    hub.publish(out('a', 'x'));
    vi.advanceTimersByTime(0);
    expect(got).toHaveLength(2);
  });

  it('coalesces output under load: a budget of immediate sends per interval, then one merged send at its end', () => {
    const { hub, got } = hubWith(['terminal']);
    const n = URGENT_PER_INTERVAL + 12;
    for (let i = 0; i < n; i++) {
      hub.publish(out('a', String.fromCharCode(97 + i)));
      vi.advanceTimersByTime(0);
    }
    expect(got).toHaveLength(URGENT_PER_INTERVAL);
    vi.advanceTimersByTime(50);
    expect(got).toHaveLength(URGENT_PER_INTERVAL + 1);
    const text = got.flatMap((b) => b.flatMap((e) => (e.stream === 'terminal' ? e.output.map((o) => o.data) : []))).join('');
    expect(text).toBe(Array.from({ length: n }, (_, i) => String.fromCharCode(97 + i)).join(''));
  });

  it('keeps log lines on the interval even while terminal output leaves at once', () => {
    const { hub, got } = hubWith(['terminal', 'logs']);
    hub.publish(logLine('one'));
    hub.publish(out('a', 'x'));
    vi.advanceTimersByTime(0);
    expect(got.map((b) => b.map((e) => e.stream))).toEqual([['terminal']]);
    vi.advanceTimersByTime(50);
    expect(got.map((b) => b.map((e) => e.stream))).toEqual([['terminal'], ['logs']]);
  });

  it('sends a finished transfer at once, and never an older progress state after it', () => {
    const { hub, got } = hubWith(['transfers']);
    hub.publish({ stream: 'transfers', changed: [transfer('running', 5)], removed: [] });
    vi.advanceTimersByTime(0);
    expect(got).toHaveLength(0);
    hub.publish({ stream: 'transfers', changed: [transfer('done', 10)], removed: [] });
    vi.advanceTimersByTime(0);
    expect(got).toEqual([[{ stream: 'transfers', changed: [transfer('done', 10)], removed: [] }]]);
    vi.advanceTimersByTime(50);
    expect(got).toHaveLength(1);
  });
});

// The event hub's terminal stream: output merged per session in order, ended sessions after
// their output, one batch per interval.
import { describe, expect, it } from 'vitest';
import type { EventBatch } from '../../../protocol/src';
import { createEventHub } from './event-hub';

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

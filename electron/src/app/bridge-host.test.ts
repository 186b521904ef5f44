// The bridge host parses every call with the contract before a handler runs, enforces
// timeouts and cancel by id, and sends results through their schema.
import { describe, expect, it } from 'vitest';
import type { OperationName } from '../../../protocol/src';
import { createBridgeHost, type Handler, type Handlers } from './bridge-host';
import { HostError } from './errors';

const device = { prefix: 'a/b', kind: 'mqboard', presence: 'online', since: 1, source: 'status' } as const;

function handlers(over: Partial<Handlers>): Handlers {
  const unused: Handler<OperationName> = async () => {
    throw new Error('not used in this test');
  };
  const all = Object.fromEntries(
    ['getAppInfo', 'subscribe', 'getConnection', 'listDevices', 'getDevice', 'addDevice', 'forgetDevice', 'resetDevice', 'listProfiles', 'saveProfile', 'deleteProfile', 'testProfile', 'useProfile', 'exportProfiles', 'importProfiles', 'installMicroPython', 'startSimulator'].map((k) => [k, unused]),
  ) as unknown as Handlers;
  return { ...all, ...over };
}

describe('bridge host', () => {
  it('rejects arguments that do not fit the schema, listing each problem with its path', async () => {
    let ran = false;
    const host = createBridgeHost(handlers({ resetDevice: async () => ((ran = true), {}) }));
    const c = host.connect(() => {});
    const { id, reply } = await c.call('resetDevice', { id: 'x1', args: { prefix: 'a/#', mode: 'sideways' } });
    expect(id).toBe('x1');
    expect(ran).toBe(false);
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error.code).toBe('bad-request');
    expect(reply.error.issues?.some((i) => i.startsWith('prefix:'))).toBe(true);
    expect(reply.error.issues?.some((i) => i.startsWith('mode:'))).toBe(true);
  });

  it('refuses unknown operations and malformed envelopes', async () => {
    const c = createBridgeHost(handlers({})).connect(() => {});
    expect((await c.call('send', { id: 'x', args: {} })).reply).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect((await c.call('__proto__', { id: 'x', args: {} })).reply).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect((await c.call('listDevices', { args: {} })).reply).toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });

  it('strips fields the contract does not name from results', async () => {
    const c = createBridgeHost(handlers({ addDevice: async () => ({ ...device, password: 'leak' }) as typeof device })).connect(() => {});
    const { reply } = await c.call('addDevice', { id: 'x', args: { prefix: 'a/b' } });
    expect(reply.ok).toBe(true);
    if (reply.ok) expect(reply.result).not.toHaveProperty('password');
  });

  it('keeps an engine error code', async () => {
    const c = createBridgeHost(
      handlers({
        forgetDevice: async () => {
          throw new HostError('not-found', 'no device a/b');
        },
      }),
    ).connect(() => {});
    expect((await c.call('forgetDevice', { id: 'x', args: { prefix: 'a/b' } })).reply).toEqual({ ok: false, error: { code: 'not-found', message: 'no device a/b' } });
  });

  it('starts each handler as its call arrives, so calls sent together start in the order sent', async () => {
    // The REPL sends keystrokes without waiting for the previous reply; the engine queues each
    // as its handler starts, so this order is the order the device sees.
    const started: string[] = [];
    const c = createBridgeHost(
      handlers({
        termInput: async ({ data }) => {
          started.push(data);
          // Later keystrokes finish first: only the start order counts.
          await new Promise((r) => setTimeout(r, 30 - started.length * 5));
          return {};
        },
      }),
    ).connect(() => {});
    const replies = ['a', 'b', 'c', 'd'].map((data, i) => c.call('termInput', { id: `k${i}`, args: { term: 't1', data } }));
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect((await Promise.all(replies)).map((r) => r.reply.ok)).toEqual([true, true, true, true]);
  });

  it('times out a call after its timeout and aborts the handler', async () => {
    let aborted = false;
    const c = createBridgeHost(
      handlers({
        resetDevice: (_a, ctx) =>
          new Promise((_r, reject) =>
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              reject(new Error('aborted'));
            }),
          ),
      }),
    ).connect(() => {});
    const { reply } = await c.call('resetDevice', { id: 't', args: { prefix: 'a/b', mode: 'soft' }, timeoutMs: 20 });
    expect(reply).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(aborted).toBe(true);
  });

  it('cancels a call by id', async () => {
    const c = createBridgeHost(handlers({ resetDevice: () => new Promise(() => {}) })).connect(() => {});
    const pending = c.call('resetDevice', { id: 'c1', args: { prefix: 'a/b', mode: 'safe' } });
    c.cancel('c1');
    expect((await pending).reply).toMatchObject({ ok: false, error: { code: 'cancelled' } });
  });

  it('batches events per client and sends only subscribed streams', async () => {
    const host = createBridgeHost(handlers({}), { batchMs: 10_000 });
    const gotA: unknown[] = [];
    const gotB: unknown[] = [];
    host.connect((b) => gotA.push(b)).setStreams(['devices']);
    host.connect((b) => gotB.push(b)).setStreams(['connection']);
    for (let i = 0; i < 100; i++) host.events.publish({ stream: 'devices', changed: [{ ...device, since: i }], removed: [] });
    host.events.publish({ stream: 'devices', changed: [{ ...device, prefix: 'c/d' }], removed: [] });
    host.events.publish({ stream: 'devices', changed: [], removed: ['c/d'] });
    host.events.flush();
    // One batch; a hundred updates of one device collapse to the latest; c/d ends removed.
    expect(gotA).toEqual([[{ stream: 'devices', changed: [{ ...device, since: 99 }], removed: ['c/d'] }]]);
    expect(gotB).toEqual([]);
  });
});

// Terminal sessions end to end: engine -> embedded aedes broker -> our device runtime's REPL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from './errors';
import { deviceOnBroker, type DeviceOnBroker } from './test-support';
import type { TerminalInfo, TerminalListener } from './terminal';
import type { Engine } from './types';

const P = 'lab/term';
let setup: DeviceOnBroker;
let engine: Engine;

beforeAll(async () => {
  setup = await deviceOnBroker(P, 'terminal');
  ({ engine } = setup);
});

afterAll(() => setup?.close());

// eslint-disable-next-line no-control-regex -- ANSI escapes are what we strip
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

interface Opened {
  info: TerminalInfo;
  text(): string;
  bytes(): number;
  ended(): string | undefined;
  until(pred: () => boolean): Promise<void>;
}

async function open(window?: number): Promise<Opened> {
  let text = '';
  let bytes = 0;
  let ended: string | undefined;
  const waiters = new Set<() => void>();
  const listener: TerminalListener = {
    onData(d, n) {
      text += d;
      bytes += n;
      waiters.forEach((w) => w());
    },
    onEnd(reason) {
      ended = reason;
      waiters.forEach((w) => w());
    },
  };
  const info = await engine.terminals.open(P, { cols: 100, rows: 30, ...(window ? { window } : {}) }, listener);
  return {
    info,
    text: () => text.replace(ANSI, ''),
    bytes: () => bytes,
    ended: () => ended,
    until: (pred) =>
      new Promise<void>((resolve) => {
        const w = () => {
          if (!pred()) return;
          waiters.delete(w);
          resolve();
        };
        waiters.add(w);
        w();
      }),
  };
}

describe('terminal sessions', () => {
  it('delivers keystrokes written together, without waiting for each, in the order written', async () => {
    const t = await open();
    await t.until(() => t.text().includes('›'));
    const typed = "'abcdefghijklmnopqrstuvwxyz'.toUpperCase()\r";
    await Promise.all([...typed].map((ch) => engine.terminals.write(t.info.id, ch)));
    await t.until(() => t.text().includes("'ABCDEFGHIJKLMNOPQRSTUVWXYZ'"));
    await engine.terminals.close(t.info.id);
  });

  it('opens a session, evaluates input, and acks what was consumed', async () => {
    const t = await open();
    expect(t.info.window).toBeGreaterThan(0);
    await engine.terminals.write(t.info.id, '1+1\r');
    await t.until(() => /1\+1\r\n2\r\n/.test(t.text()));
    await engine.terminals.ack(t.info.id, t.bytes());
    await engine.terminals.resize(t.info.id, 120, 40);
    await engine.terminals.write(t.info.id, 'const s = "é€😀"; s + s\r');
    // Multi-byte characters arrive whole, whatever the frame boundaries.
    await t.until(() => t.text().includes("'é€😀é€😀'"));
    await engine.terminals.close(t.info.id);
    expect(t.ended()).toBe('closed');
    expect(engine.terminals.size()).toBe(0);
  });

  it('holds output at the window until it is acked', async () => {
    const window = 2048;
    const t = await open(window);
    await t.until(() => t.text().includes('›'));
    const base = t.bytes();
    await engine.terminals.ack(t.info.id, base);
    await engine.terminals.write(t.info.id, 'for (let i = 0; i < 100; i++) print(String(i).padStart(79, "-"))\r');
    await t.until(() => t.bytes() - base >= window);
    // An eval through the same connection: its reply comes after any output sent before it.
    expect(await engine.eval(P, '2 + 3')).toBe('5');
    expect(t.bytes() - base).toBe(window);
    while (!t.text().includes('-99\r\n')) {
      const before = t.bytes();
      await engine.terminals.ack(t.info.id, before);
      await t.until(() => t.bytes() > before);
    }
    await engine.terminals.close(t.info.id);
  });

  it('ends the session when the REPL exits (Ctrl-D)', async () => {
    const t = await open();
    await t.until(() => t.text().includes('›'));
    await engine.terminals.write(t.info.id, '\x04');
    await t.until(() => t.ended() !== undefined);
    expect(t.ended()).toBe('exit');
  });

  it('refuses a device without the terminal capability', async () => {
    engine.addDevice('lab/no-status');
    const e = await engine.terminals.open('lab/no-status', { cols: 80, rows: 24 }, { onData: () => undefined, onEnd: () => undefined }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).code).toBe('not-supported');
  });

  it('rejects operations on an unknown session', async () => {
    await expect(engine.terminals.write('nope', 'x')).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});

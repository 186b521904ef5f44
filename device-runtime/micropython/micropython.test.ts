// The MicroPython package on the real MicroPython interpreter (WebAssembly port), talking MQTT
// 3.1.1 through its own client to an embedded aedes broker, driven by the host's real engine
// exactly as the app drives the Node runtime.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../testing/brokers';
// eslint-disable-next-line no-restricted-imports -- the package is tested against the host's own engine, as the app drives it
import { createEngine, type DeviceState, type Engine, type LogEntry } from '../../electron/src/engine';
import { tmpRoot } from '../src/test-support/tmp-root';
import { brokerAddress, startMicroPythonDevice, type MicroPythonDevice } from '../src/micropython-wasm/device';

const P = 'mpy/board1';
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let broker: EmbeddedBroker;
let engine: Engine;
let device: MicroPythonDevice;
let root: ReturnType<typeof tmpRoot>;
const logs: LogEntry[] = [];

/** Resolves once the engine's view of the device satisfies `pred`, re-checked on every batch. */
function deviceState(pred: (d: DeviceState) => boolean, prefix = P): Promise<DeviceState> {
  return new Promise((resolve) => {
    const check = () => {
      const d = engine.device(prefix);
      if (d && pred(d)) {
        off();
        resolve(d);
      }
    };
    const off = engine.on('devices', check);
    check();
  });
}

async function failure(p: Promise<unknown>): Promise<Error & { code?: string }> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof Error)) throw new Error('expected a failure, got success');
  return e;
}

beforeAll(async () => {
  broker = await startEmbeddedBroker();
  root = tmpRoot('mpy');
  engine = createEngine();
  engine.on('logs', (entries) => logs.push(...entries));
  await engine.connect({ url: broker.url, discovery: { depths: [2] } });
  device = await startMicroPythonDevice({
    ...brokerAddress(broker.url),
    prefix: P,
    root: root.dir,
    // A short "all OK" so the OTA trial is confirmed within the test; feeds every second.
    config: { watchdog: { timeout: 4, allok: 2, revert: false }, evalTimeoutMs: 3000 },
    ...(process.env.MQB_ECHO ? { echo: (l: string) => console.log(l) } : {}),
  });
  await deviceState((d) => d.presence === 'online' && d.kind === 'mqboard');
});

afterAll(async () => {
  await device?.stop();
  await engine?.disconnect();
  await broker?.close();
  root?.cleanup();
});

describe('status', () => {
  it('announces itself retained as an MQBoard MicroPython device with its capabilities', () => {
    const d = engine.device(P)!;
    expect(d.runtime).toEqual({ kind: 'mqboard-micropython', version: '0.1.0' });
    expect(d.firmware).toMatch(/^MicroPython 1\.\d+/);
    expect(d).toMatchObject({ mode: 'normal', bootReason: 'cold' });
    expect(d.capabilities).toMatchObject({ maxChunk: 4096, putAck: true, putShaLast: true, getAck: true });
    expect(d.ota).toMatchObject({ active: 'a', confirmed: true });
  });
});

describe('eval', () => {
  it('replies the repr of an expression', async () => {
    expect(await engine.eval(P, '6 * 7')).toBe('42');
    expect(await engine.eval(P, '"mqb" + "oard"')).toBe("'mqboard'");
  });

  it('replies the printed output of statements, keeping globals between calls', async () => {
    expect(await engine.eval(P, 'greeting = "hi"\nfor i in range(2):\n    print(greeting, i)')).toBe('hi 0\nhi 1\n');
    expect(await engine.eval(P, 'greeting')).toBe("'hi'");
  });

  it('reports an exception as a device error carrying the traceback', async () => {
    const e = await failure(engine.eval(P, 'def f():\n    raise ValueError("boom from the board")\nf()'));
    expect(e.code).toBe('device-error');
    expect(e.message).toContain('Traceback');
    expect(e.message).toContain('ValueError: boom from the board');
    // The user's frames only: the framework's frame that ran the code is left out.
    expect(e.message).toContain('in f');
    expect(e.message).not.toContain('evaluation.py');
  });

  // On an ESP32 a hardware timer calls device.irq.tick() while an evaluation runs; this port has
  // no timer that runs during Python code, so the loops under test call it themselves.
  it('cuts an evaluation off at its time limit, as the Node runtime does, and keeps running', async () => {
    const e = await failure(engine.eval(P, 'n = 0\nwhile True:\n    n += 1\n    device.irq.tick()'));
    expect(e.code).toBe('device-error');
    expect(e.message).toContain('KeyboardInterrupt');
    expect(e.message).toContain('eval timed out after 3000 ms');
    expect(Number(await engine.eval(P, 'n'))).toBeGreaterThan(0);
    expect(await engine.eval(P, '"still here"')).toBe("'still here'");
  });
});

describe('put and get', () => {
  for (const size of [0, 1, 1399, 1400, 1401]) {
    it(`round-trips ${size} bytes at 1400-byte chunks, compared by SHA-256`, async () => {
      const data = randomBytes(size);
      await engine.put(P, `/rt-${size}.bin`, data, { chunk: 1400 });
      const back = await engine.get(P, `/rt-${size}.bin`, { chunk: 1400 });
      expect(sha256(back)).toBe(sha256(data));
      expect(await engine.sha256(P, `/rt-${size}.bin`)).toBe(sha256(data));
    });
  }

  it('round-trips 200 KB at the advertised chunk size with SEQ acks both ways', async () => {
    const data = randomBytes(200_000);
    await engine.put(P, '/big.bin', data);
    expect(sha256(await engine.get(P, '/big.bin'))).toBe(sha256(data));
  });

  it('refuses a put whose SHA-256 does not match and keeps the old file, leaving no temp file', async () => {
    await engine.put(P, '/keep.txt', Buffer.from('old contents'));
    const e = await failure(engine.put(P, '/keep.txt', Buffer.from('new contents'), { expectSha256: 'ab'.repeat(32) }));
    expect(e.message).toMatch(/SHA-256 mismatch/);
    expect(Buffer.from(await engine.get(P, '/keep.txt')).toString()).toBe('old contents');
    expect(await engine.eval(P, 'import os\nprint(os.listdir("/flash/.mqboard/tmp"))')).toBe('[]\n');
  });

  it('leaves no half file when a put is cut off part way', async () => {
    const ac = new AbortController();
    // Large enough that the cut lands well before the end whatever the machine's speed.
    const data = randomBytes(1_000_000);
    const cut = engine.put(P, '/half.bin', data, {
      chunk: 1400,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.bytesDone > 20_000) ac.abort();
      },
    });
    expect((await failure(cut)).code).toBe('cancelled');
    const e = await failure(engine.stat(P, '/half.bin'));
    expect(e.message).toContain('ENOENT');
  });

  it('refuses paths that escape the device root or reach its private folder', async () => {
    expect((await failure(engine.put(P, '/../outside.txt', Buffer.from('x')))).message).toContain('escapes the device root');
    expect((await failure(engine.get(P, '/lib/../../etc/passwd'))).message).toContain('escapes the device root');
    expect((await failure(engine.get(P, '/.mqboard/rtc.json'))).message).toContain('reserved');
  });
});

describe('file commands', () => {
  it('makes directories with parents, lists them with sizes and mtimes, moves and removes', async () => {
    await engine.mkdir(P, '/a/b/c', { parents: true });
    await engine.put(P, '/a/b/c/f.txt', Buffer.from('twelve bytes'));
    const st = await engine.stat(P, '/a/b/c/f.txt');
    expect(st).toMatchObject({ name: 'f.txt', type: 'file', size: 12 });
    expect(Math.abs(st.mtime! - Date.now())).toBeLessThan(60_000);
    const all = await engine.ls(P, '/a', { recursive: true });
    expect(all.map((e) => [e.name, e.type])).toEqual([
      ['b', 'dir'],
      ['b/c', 'dir'],
      ['b/c/f.txt', 'file'],
    ]);
    await engine.mv(P, '/a/b/c/f.txt', '/a/g.txt');
    expect((await engine.ls(P, '/a')).map((e) => e.name)).toEqual(['b', 'g.txt']);
    expect((await failure(engine.rmdir(P, '/a'))).message).toMatch(/ENOTEMPTY|EEXIST|EACCES|not empty/i);
    await engine.rm(P, '/a/g.txt');
    await engine.rmdir(P, '/a', { recursive: true });
    expect((await failure(engine.stat(P, '/a'))).message).toContain('ENOENT');
  });

  it('hides its private folder from a listing of the root', async () => {
    const names = (await engine.ls(P, '/')).map((e) => e.name);
    expect(names).toContain('lib');
    expect(names).not.toContain('.mqboard');
  });
});

describe('terminal sessions', () => {
  /** Opens a session whose output is collected (and acked as consumed, as xterm would). */
  async function session() {
    let out = '';
    let all = '';
    let ended: string | undefined;
    let bytes = 0;
    // Output may come before `open` resolves (the prompt and `opened` travel on different topics).
    const opened: { id?: string } = {};
    const info = await engine.terminals.open(P, { cols: 80, rows: 24 }, {
      onData(d, n) {
        out += d;
        all += d;
        bytes += n;
        if (opened.id) void engine.terminals.ack(opened.id, bytes);
      },
      onEnd(reason) {
        ended = reason;
      },
    });
    opened.id = info.id;
    await engine.terminals.ack(info.id, bytes);
    const seen = async (text: string) => {
      await expect.poll(() => out, { timeout: 5000 }).toContain(text);
      const i = out.lastIndexOf(text);
      out = out.slice(i + text.length);
    };
    return { id: info.id, seen, type: (s: string) => engine.terminals.write(info.id, s), ended: () => ended, all: () => all };
  }

  it('runs a live REPL: expressions, blocks, history, completion, Ctrl-C and Ctrl-D', async () => {
    expect(engine.device(P)?.capabilities?.terminal).toBe(true);
    const t = await session();
    await t.seen('>>> ');
    await t.type('6 * 7\r');
    await t.seen('42\r\n>>> ');
    await t.type('for i in range(3):\r');
    await t.seen('... ');
    await t.type('    print(i * 10)\r\r');
    await t.seen('0\r\n10\r\n20\r\n>>> ');
    // History and editing: recall the line, Ctrl-A to its start, 18 steps right, Delete the
    // "1", type "2".
    await t.type('mqboard_answer = 41\r');
    await t.seen('>>> ');
    await t.type(`\x1b[A\x01${'\x1b[C'.repeat(18)}\x1b[3~2\r`);
    await t.type('mqboard_ans\t\r');
    await t.seen('42\r\n>>> ');
    // Ctrl-C at the editor drops the line.
    await t.type('this is not python');
    await engine.terminals.interrupt(t.id);
    await t.seen('KeyboardInterrupt\r\n>>> ');
    await t.type('1/0\r');
    await t.seen('ZeroDivisionError');
    await t.type('\x04');
    await expect.poll(() => t.ended()).toBe('exit');
  });

  it('stops a running loop on Ctrl-C without a reset, the session going on', async () => {
    const t = await session();
    await t.seen('>>> ');
    await t.type('spins = 0\r');
    await t.seen('>>> ');
    // The loop calls the board's tick itself (no timer runs during Python code in this port).
    await t.type('while True:\r    spins += 1\r    device.irq.tick()\r\r');
    // The block's echo goes out before it runs; then let it spin a while (well within the 3 s
    // limit). The interrupt gets through because the keystrokes' PUBACK went out before the
    // loop started (the engine sends a session's messages one after another, each after the
    // previous PUBACK).
    await t.seen('device.irq.tick()\r\n... \r\n');
    await new Promise((r) => setTimeout(r, 300));
    await engine.terminals.interrupt(t.id);
    await t.seen('KeyboardInterrupt');
    await t.seen('>>> ');
    await t.type('spins > 0\r');
    await t.seen('True\r\n>>> ');
    // Stopped by the interrupt, not by the time limit, and the message was not taken twice.
    expect(t.all()).not.toContain('timed out');
    expect(t.all().split('KeyboardInterrupt').length).toBe(2);
    expect(engine.device(P)?.bootCount).toBe(1);
    await t.type('\x04');
    await expect.poll(() => t.ended()).toBe('exit');
  });
});

describe('logs', () => {
  it('sends lines to P/log in the original format, boot messages included', async () => {
    await engine.eval(P, 'device.log.info("hello from the log")');
    await expect.poll(() => logs.find((l) => l.prefix === P && l.line.text === 'hello from the log')).toBeDefined();
    const boot = logs.find((l) => l.prefix === P && l.line.text.startsWith('mqboard-micropython 0.1.0, normal mode'));
    expect(boot?.line).toMatchObject({ level: 'W', name: 'main' });
    expect(boot?.line.time).toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/);
  });
});

describe('crash records and safe mode', () => {
  const boom = (what: string) => `import asyncio\nasync def _boom():\n    raise RuntimeError("${what}")\nasyncio.create_task(_boom())`;

  it('records an uncaught task exception in flash, restarts, and publishes the record', async () => {
    // Once past the watchdog's "all OK", this boot has left the magic: the next boot is normal.
    await expect.poll(() => engine.eval(P, 'watchdog.allok'), { timeout: 5000 }).toBe('True');
    await engine.eval(P, boom('boom in a task'));
    const d = await deviceState((s) => s.presence === 'online' && s.bootReason === 'crash');
    expect(d).toMatchObject({ mode: 'normal', crashCount: 1 });
    await expect.poll(() => engine.crashes(P).length).toBe(1);
    const rec = engine.crashes(P)[0]!;
    expect(rec).toMatchObject({ reason: 'exception', mode: 'normal', bootCount: 1 });
    expect(rec.message).toContain('boom in a task');
    expect(rec.stack).toContain('RuntimeError');
    expect(rec.log.some((l) => l.includes('boom in a task'))).toBe(true);
    // The ring lives in the device's flash, readable with the file commands.
    expect((await engine.ls(P, '/crash')).map((e) => e.name)).toEqual(['c1.json']);
    expect(readdirSync(path.join(root.dir, 'crash'))).toEqual(['c1.json']);
  });

  it('boots into safe mode after a crash before "all OK" (a crash loop)', async () => {
    await engine.eval(P, boom('boom again'));
    const d = await deviceState((s) => s.presence === 'online' && s.mode === 'safe');
    expect(d).toMatchObject({ bootReason: 'crash', crashCount: 2 });
    await expect.poll(() => engine.crashes(P).map((c) => c.message)).toEqual([expect.stringContaining('boom in a task'), expect.stringContaining('boom again')]);
  });

  it('goes back to normal mode on a reset command', async () => {
    await engine.reset(P, 'normal');
    const d = await deviceState((s) => s.presence === 'online' && s.mode === 'normal' && s.bootReason === 'command');
    expect(d.crashCount).toBe(2);
    // The put cut off earlier left its temp file; a boot clears them.
    expect(await engine.eval(P, 'import os\nprint(os.listdir("/flash/.mqboard/tmp"))')).toBe('[]\n');
  });
});

describe('ota', () => {
  const image = randomBytes(50_000);

  it('refuses an image whose SHA-256 does not match, leaving the slots alone', async () => {
    const e = await failure(engine.ota(P, image, { expectSha256: 'cd'.repeat(32) }));
    expect(e.message).toContain('SHA mismatch');
    expect(engine.device(P)?.ota?.slots.find((s) => s.name === 'b')?.version).toBeNull();
  });

  it('writes the inactive slot, boots it on trial, and rolls back when it never reaches all OK', async () => {
    await engine.ota(P, image);
    const file = path.join(root.dir, '.mqboard', 'ota', 'slot-b.bin');
    await engine.reset(P, 'soft');
    const trial = await deviceState((s) => s.presence === 'online' && s.bootReason === 'ota');
    expect(trial.ota).toMatchObject({ active: 'b', confirmed: false });
    expect(sha256(readFileSync(file))).toBe(sha256(image));
    // Reset again before the watchdog's "all OK": the trial failed.
    await engine.reset(P, 'soft');
    const back = await deviceState((s) => s.presence === 'online' && s.bootReason === 'rollback');
    expect(back.ota).toMatchObject({ active: 'a', confirmed: true });
  });

  it('confirms a trial image after the watchdog reports all OK', async () => {
    await engine.ota(P, image);
    await engine.reset(P, 'soft');
    await deviceState((s) => s.presence === 'online' && s.bootReason === 'ota');
    const ok = await deviceState((s) => s.ota?.confirmed === true && s.ota.active === 'b');
    expect(ok.ota?.slots.find((s) => s.name === 'b')?.version).toBe(sha256(image).slice(0, 12));
  });
});

describe('application modules', () => {
  const config = (modules: string[]) => Buffer.from(JSON.stringify({ prefix: P, watchdog: { timeout: 4, allok: 2, revert: false }, modules, greeter: { name: 'board' } }));

  it('starts each configured module with start(mqtt, config) and lists it in the status', async () => {
    await engine.put(P, '/lib/greeter.py', Buffer.from('def start(mqtt, config):\n    mqtt.logger("greeter").info("hello " + config["name"])\n'));
    await engine.put(P, '/config.json', config(['greeter']));
    await engine.reset(P, 'normal');
    const d = await deviceState((s) => s.presence === 'online' && s.bootReason === 'command' && (s.modules ?? []).length > 0);
    expect(d.modules).toEqual(['greeter']);
    await expect.poll(() => logs.find((l) => l.prefix === P && l.line.name === 'greeter')?.line.text).toBe('hello board');
  });

  it('records a module that fails to start, and ends in safe mode when it keeps failing', async () => {
    await engine.put(P, '/lib/broken.py', Buffer.from('def start(mqtt, config):\n    raise OSError("sensor missing")\n'));
    await engine.put(P, '/config.json', config(['greeter', 'broken']));
    const before = engine.crashes(P).length;
    await engine.reset(P, 'normal');
    // The first failure comes right after boot, before "all OK": the next boot is safe mode.
    const d = await deviceState((s) => s.presence === 'online' && s.mode === 'safe');
    expect(d.bootReason).toBe('crash');
    await expect.poll(() => engine.crashes(P).length).toBeGreaterThan(before);
    expect(engine.crashes(P).at(-1)).toMatchObject({ reason: 'exception', message: expect.stringContaining('sensor missing') });
    await engine.put(P, '/config.json', config([]));
    await engine.reset(P, 'normal');
    await deviceState((s) => s.presence === 'online' && s.mode === 'normal' && (s.modules ?? []).length === 0);
  });
});

describe('going offline', () => {
  it('publishes offline "shutdown" on a clean stop', async () => {
    await device.stop();
    const stopped = await deviceState((s) => s.presence === 'offline');
    expect(stopped.offlineReason).toBe('shutdown');
    expect(existsSync(path.join(root.dir, 'lib', 'device.py'))).toBe(true);
  });
});

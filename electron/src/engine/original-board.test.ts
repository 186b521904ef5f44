// Driving an ORIGINAL MQBoard board (the faithful simulator: no status, no put acks, eval in
// Python): file operations through MicroPython snippets, paced uploads, found passively.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOriginalBoard, type OriginalBoard } from '../../../device-runtime/src/original';
import { mosquittoMissingReason, startEmbeddedBroker, startMosquitto, type EmbeddedBroker, type Mosquitto } from '../../../testing/brokers';
import { createEngine } from './engine';
import { connectedEngine, sha256, tempDir, waitForDevices, engineFailure } from './test-support';
import type { Engine } from './types';

const pythonMissing = spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is missing: original-board simulator tests skipped';
const P = 'esp32/test';


describe.skipIf(pythonMissing)('an original board through aedes', () => { // skipped without python3, which runs the original-board simulator: apt-get install python3 (CI installs it)
  let broker: EmbeddedBroker;
  let board: OriginalBoard;
  let engine: Engine;
  const root = tempDir('orig');

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    engine = await connectedEngine(broker.url, { depths: [2] });
    board = await startOriginalBoard({ url: broker.url, prefix: P, root: root.dir, watchdogIntervalMs: 200 });
  });
  afterAll(async () => {
    await engine?.disconnect();
    await board?.stop();
    await broker?.close();
    root.remove();
  });

  it('is found from its watchdog feed and log, as an original board', async () => {
    await waitForDevices(engine, () => engine.device(P)?.presence === 'online');
    expect(engine.device(P)).toMatchObject({ kind: 'original', presence: 'online' });
    expect(engine.device(P)?.capabilities).toBeUndefined();
  });

  it("is asked its build when the host missed its boot greeting (the app's engine probes)", async () => {
    // This engine connected before the board booted: it heard the greeting.
    await waitForDevices(engine, () => engine.device(P)?.firmware !== undefined);
    const heard = engine.device(P)!.firmware;
    const late = await connectedEngine(broker.url, { depths: [2], probeOriginals: true });
    const plain = await connectedEngine(broker.url, { depths: [2] });
    try {
      await waitForDevices(late, () => late.device(P)?.firmware !== undefined);
      expect(late.device(P)).toMatchObject({ kind: 'original', presence: 'online', firmware: heard });
      expect(late.device(P)!.bootedAt).toBeGreaterThan(0);
      // Without the option nothing asks: the build stays unknown until the board's next greeting.
      await waitForDevices(plain, () => plain.device(P)?.presence === 'online');
      expect(plain.device(P)!.firmware).toBeUndefined();
    } finally {
      await late.disconnect();
      await plain.disconnect();
    }
  });

  it('evaluates expressions and statements, and reports a traceback', async () => {
    expect(await engine.eval(P, '6*7')).toBe('42');
    // Printed output comes back as the board's terminal wrote it, with CR LF line ends.
    expect(await engine.eval(P, 'for i in range(3):\n  print(i)')).toBe('0\r\n1\r\n2\r\n');
    const e = await engineFailure(engine.eval(P, '1/0'));
    expect(e.code).toBe('device-error');
    expect(e.message).toMatch(/ZeroDivisionError/);
  });

  for (const size of [0, 1, 1399, 1400, 1401]) {
    it(`round-trips ${size} bytes (1400-byte put chunks, 2800-byte get chunks)`, async () => {
      const data = randomBytes(size);
      await engine.put(P, `/rt${size}.bin`, data);
      expect(sha256(await engine.get(P, `/rt${size}.bin`))).toBe(sha256(data));
    });
  }

  it('lists, hashes (SHA-256), makes, moves and removes through snippets', async () => {
    const data = new TextEncoder().encode('import machine\n');
    await engine.mkdir(P, '/lib/sub', { parents: true });
    await engine.put(P, '/lib/sub/a.py', data);
    expect(await engine.ls(P, '/lib', { recursive: true })).toEqual([
      { name: 'sub', type: 'dir' },
      { name: 'sub/a.py', type: 'file', size: data.length },
    ]);
    expect(await engine.sha256(P, '/lib/sub/a.py')).toBe(sha256(data));
    expect(await engine.hashDir(P, '/lib/sub')).toEqual({ 'a.py': sha256(data) });
    expect(await engine.stat(P, '/lib/sub/a.py')).toEqual({ name: 'a.py', type: 'file', size: data.length });
    await engine.mv(P, '/lib/sub/a.py', '/lib/b.py');
    await engine.rmdir(P, '/lib/sub');
    expect((await engine.ls(P, '/lib')).map((e) => e.name)).toEqual(['b.py']);
    await engine.rm(P, '/lib', { recursive: true });
    expect((await engineFailure(engine.ls(P, '/lib'))).code).toBe('device-error');
  });

  it('takes an ota image with its SEQ acks, and refuses a corrupt one', async () => {
    const image = randomBytes(200_000);
    image[0] = 0xe9; // an ESP32 image's magic byte: the board refuses anything else
    expect(await engine.ota(P, image)).toEqual({ sha256: sha256(image), bytes: image.length });
    expect((await engineFailure(engine.ota(P, image, { expectSha256: '0'.repeat(64) }))).code).toBe('verify-failed');
  });

  it('resets through the watchdog module and comes back', async () => {
    const rebooted = new Promise<void>((resolve) =>
      engine.on('logs', (entries) => {
        if (entries.some((l) => l.prefix === P && l.line.text.includes('Reset cause: SOFT_RESET'))) resolve();
      }),
    );
    await engine.reset(P, 'soft');
    await rebooted;
    expect(await engine.eval(P, '1+1')).toBe('2');
  });
});

describe.skipIf(pythonMissing)('an original board that goes silent', () => { // skipped without python3, which runs the original-board simulator: apt-get install python3 (CI installs it)
  it('is no longer counted online once its watchdog feeds stop (it has no Last Will)', async () => {
    const broker = await startEmbeddedBroker();
    const root = tempDir('orig-silent');
    const engine = createEngine({ originalStaleMs: 1000 });
    try {
      await engine.connect({ url: broker.url, discovery: { depths: [2] } });
      const board = await startOriginalBoard({ url: broker.url, prefix: 'quiet/board', root: root.dir, watchdogIntervalMs: 200 });
      await waitForDevices(engine, () => engine.device('quiet/board')?.presence === 'online');
      board.kill();
      await waitForDevices(engine, () => engine.device('quiet/board')?.presence === 'unknown');
      expect(engine.device('quiet/board')).toMatchObject({ kind: 'original', presence: 'unknown' });
    } finally {
      await engine.disconnect();
      await broker.close();
      root.remove();
    }
  });
});

describe.skipIf(pythonMissing || mosquittoMissingReason)('an original board through Mosquitto with stock queue limits', () => { // skipped without python3 or Mosquitto: apt-get install python3 mosquitto (CI installs both)
  let m: Mosquitto;
  let board: OriginalBoard;
  let engine: Engine;
  const root = tempDir('orig-mosq');

  beforeAll(async () => {
    m = await startMosquitto();
    engine = await connectedEngine(m.url, { depths: [] });
    engine.addDevice(P);
    await engine.settle();
    board = await startOriginalBoard({ url: m.url, prefix: P, root: root.dir });
    // Its first watchdog feed proves it has subscribed to its commands (it receives the feed).
    await waitForDevices(engine, () => engine.device(P)?.presence === 'online');
  });
  afterAll(async () => {
    await engine?.disconnect();
    await board?.stop();
    await m?.stop();
    root.remove();
  });

  it('uploads 1.5 MB intact although the board never acks a put (pacing evals)', async () => {
    const data = randomBytes(1_500_000);
    await engine.put(P, '/big.bin', data);
    expect(await engine.sha256(P, '/big.bin')).toBe(sha256(data));
    expect(sha256(await engine.get(P, '/big.bin'))).toBe(sha256(data));
  });
});

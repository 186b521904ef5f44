// Commands end to end: engine -> embedded aedes broker -> our device runtime.
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, type DeviceHandle } from '../../../device-runtime/src';
import type { EmbeddedBroker } from '../../../testing/brokers';
import { GET_WINDOW } from './transfer';
import { deviceOnBroker, engineFailure, sha256, type DeviceOnBroker } from './test-support';
import type { Engine, Progress } from './types';

const P = 'lab/dev1';
let setup: DeviceOnBroker;
let broker: EmbeddedBroker;
let device: DeviceHandle;
let engine: Engine;

beforeAll(async () => {
  setup = await deviceOnBroker(P, 'commands');
  ({ broker, device, engine } = setup);
});

afterAll(() => setup?.close());


describe('eval', () => {
  it('replies the value of an expression', async () => {
    expect(await engine.eval(P, '6 * 7')).toBe('42');
  });

  it('replies the printed output of statements', async () => {
    expect(await engine.eval(P, 'const greet = "hi"; console.log(greet + " there")')).toContain('hi there');
  });

  it('reports an exception as a device error with its text', async () => {
    const e = await engineFailure(engine.eval(P, 'throw new Error("boom from the board")'));
    expect(e.code).toBe('device-error');
    expect(e.message).toContain('boom from the board');
  });
});

describe('put and get', () => {
  const sizes = [0, 1, 1399, 1400, 1401];
  for (const size of sizes) {
    it(`round-trips ${size} bytes at 1400-byte chunks`, async () => {
      const data = randomBytes(size);
      await engine.put(P, `/rt-${size}.bin`, data, { chunk: 1400 });
      const back = await engine.get(P, `/rt-${size}.bin`, { chunk: 1400 });
      expect(back.length).toBe(size);
      expect(sha256(back)).toBe(sha256(data));
    });
  }

  it('round-trips 1.5 MB of random data at the advertised chunk size, with progress', async () => {
    const data = randomBytes(1_500_000);
    const progress: Progress[] = [];
    await engine.put(P, '/big.bin', data, { onProgress: (p) => progress.push(p) });
    expect(progress.at(-1)).toMatchObject({ bytesDone: data.length, bytesTotal: data.length });
    const getProgress: Progress[] = [];
    const back = await engine.get(P, '/big.bin', { onProgress: (p) => getProgress.push(p) });
    expect(sha256(back)).toBe(sha256(data));
    expect(getProgress.at(-1)).toMatchObject({ bytesDone: data.length, bytesTotal: data.length });
  });

  it('round-trips 1.5 MB at 1400-byte chunks (the window keeps ~16 chunks in flight)', async () => {
    const data = randomBytes(1_500_000);
    await engine.put(P, '/big1400.bin', data, { chunk: 1400 });
    expect(sha256(await engine.get(P, '/big1400.bin', { chunk: 1400 }))).toBe(sha256(data));
  });

  it('asks for a get window of GET_WINDOW and still receives every chunk in order', async () => {
    const spy = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    const request = new Promise<string>((resolve) => spy.once('message', (_t, payload) => resolve(payload.subarray(2).toString())));
    await spy.subscribeAsync(`${P}/mqb/cmd/get/#`, { qos: 1 });
    try {
      const data = randomBytes(200 * 1400);
      await engine.put(P, '/window.bin', data, { chunk: 1400 });
      expect(sha256(await engine.get(P, '/window.bin', { chunk: 1400 }))).toBe(sha256(data));
      expect(JSON.parse(await request)).toEqual({ window: GET_WINDOW, chunk: 1400 });
    } finally {
      await spy.endAsync();
    }
  });

  it('names path and size on every chunk, and the SHA-256 it hashed while sending on the last', async () => {
    const spy = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    const tails: string[] = [];
    spy.on('message', (topic) => tails.push(topic.split('/').slice(6).join('/')));
    await spy.subscribeAsync(`${P}/mqb/cmd/put/#`, { qos: 1 });
    try {
      const data = randomBytes(3 * 1400 + 5);
      await engine.put(P, '/tails.bin', data, { chunk: 1400 });
      await expect.poll(() => tails).toEqual([
        ...Array(3).fill('/tails.bin?size=4205'),
        `/tails.bin?sha256=${sha256(data)}&size=4205`,
      ]);
    } finally {
      await spy.endAsync();
    }
  });

  it('leaves the old file in place when the expected SHA-256 does not match', async () => {
    await engine.put(P, '/keep.txt', new TextEncoder().encode('old contents'));
    const e = await engineFailure(engine.put(P, '/keep.txt', new TextEncoder().encode('new contents'), { expectSha256: '0'.repeat(64) }));
    expect(e.code).toBe('verify-failed');
    expect(new TextDecoder().decode(await engine.get(P, '/keep.txt'))).toBe('old contents');
  });

  it('reports a missing file as a device error', async () => {
    const e = await engineFailure(engine.get(P, '/no/such/file'));
    expect(e.code).toBe('device-error');
  });

  it('cancels a running put and keeps the previous file', async () => {
    await engine.put(P, '/cancel.bin', new TextEncoder().encode('previous'));
    const ac = new AbortController();
    const e = await engineFailure(
      engine.put(P, '/cancel.bin', randomBytes(4_000_000), { chunk: 1400, signal: ac.signal, onProgress: () => ac.abort() }),
    );
    expect(e.code).toBe('cancelled');
    expect(new TextDecoder().decode(await engine.get(P, '/cancel.bin'))).toBe('previous');
  });
});

describe('file commands', () => {
  it('makes, lists, stats, hashes, moves and removes', async () => {
    await engine.mkdir(P, '/fs/a/b', { parents: true });
    const data = new TextEncoder().encode('print("hello")\n');
    await engine.put(P, '/fs/a/b/main.py', data);
    expect((await engine.ls(P, '/fs', { recursive: true })).map((e) => `${e.type}:${e.name}`).sort()).toEqual([
      'dir:a',
      'dir:a/b',
      'file:a/b/main.py',
    ]);
    expect(await engine.stat(P, '/fs/a/b/main.py')).toMatchObject({ type: 'file', size: data.length });
    expect(await engine.sha256(P, '/fs/a/b/main.py')).toBe(sha256(data));
    expect(await engine.hashDir(P, '/fs/a/b')).toEqual({ 'main.py': sha256(data) });
    await engine.mv(P, '/fs/a/b/main.py', '/fs/a/boot.py');
    expect((await engine.ls(P, '/fs/a')).map((e) => e.name).sort()).toEqual(['b', 'boot.py']);
    await engine.rmdir(P, '/fs/a/b');
    await engine.rm(P, '/fs', { recursive: true });
    expect((await engine.ls(P, '/')).some((e) => e.name === 'fs')).toBe(false);
  });

  it('refuses a path that leaves the device root', async () => {
    const e = await engineFailure(engine.ls(P, '/../..'));
    expect(e.code).toBe('device-error');
  });

  it('rejects paths MQTT cannot carry before sending anything', async () => {
    expect((await engineFailure(engine.get(P, '/a+b'))).code).toBe('invalid-argument');
    expect((await engineFailure(engine.eval('bad/#', '1'))).code).toBe('invalid-argument');
  });
});

describe('ota', () => {
  it('accepts an image and reports its hash', async () => {
    // Our runtime takes app bundles (a tar with a manifest); the payload makes it ~300 kB.
    const image = await createBundle({ name: 'app', version: '2.0.0', modules: [] }, { 'main.js': 'export {}\n', 'blob.bin': randomBytes(300_000) });
    expect(await engine.ota(P, image)).toEqual({ sha256: sha256(image), bytes: image.length });
  });

  it('refuses an image whose hash does not match, keeping the active slot', async () => {
    const before = device.status().ota;
    const e = await engineFailure(engine.ota(P, randomBytes(100_000), { expectSha256: 'f'.repeat(64) }));
    expect(e.code).toBe('verify-failed');
    expect(device.status().ota?.active).toBe(before?.active);
  });

  it('refuses an empty image without sending it', async () => {
    expect((await engineFailure(engine.ota(P, new Uint8Array(0)))).code).toBe('invalid-argument');
  });
});

describe('timeouts and cancellation', () => {
  it('times out when nobody answers', async () => {
    const e = await engineFailure(engine.eval('nobody/home', '1', { timeoutMs: 200 }));
    expect(e.code).toBe('timeout');
  });

  it('cancels a command waiting for its reply', async () => {
    const ac = new AbortController();
    const pending = engine.eval('nobody/home', '1', { signal: ac.signal });
    ac.abort();
    expect((await engineFailure(pending)).code).toBe('cancelled');
  });
});

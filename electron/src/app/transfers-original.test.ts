// The transfer queue against the ORIGINAL board simulator (MicroPython semantics, no status, no
// put acks, writes in place): uploads go to a part file and are renamed over the real name
// after the engine verified their SHA-256, so a cancelled upload leaves the old file and no
// part file; folder zips come from MicroPython listings; OTA streams with SEQ acks.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransferInfo } from '../../../protocol/src';
import { startOriginalBoard, type OriginalBoard } from '../../../device-runtime/src/original';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { connectedEngine, sha256, tempDir, waitForDevices } from '../engine/test-support';
import type { Engine } from '../engine/types';
import { createTransferQueue, type TransferQueue } from './transfers';

const pythonMissing = spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is missing: original-board simulator tests skipped';
const P = 'esp32/xfer';

describe.skipIf(pythonMissing)('transfer queue on an original board', () => { // skipped without python3, which runs the original-board simulator: apt-get install python3 (CI installs it)
  let broker: EmbeddedBroker;
  let board: OriginalBoard;
  let engine: Engine;
  let queue: TransferQueue;
  const listeners: ((t: TransferInfo) => void)[] = [];
  const root = tempDir('xfer-orig');

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    engine = await connectedEngine(broker.url, { depths: [2] });
    board = await startOriginalBoard({ url: broker.url, prefix: P, root: root.dir, watchdogIntervalMs: 200 });
    await waitForDevices(engine, () => engine.device(P)?.presence === 'online');
    queue = createTransferQueue({
      engine,
      publish: (changed) => {
        for (const t of changed) for (const l of listeners) l(t);
      },
      writeFile: async () => {
        throw new Error('no desktop downloads in this test');
      },
    });
  });
  afterAll(async () => {
    queue?.close();
    await engine?.disconnect();
    await board?.stop();
    await broker?.close();
    root.remove();
  });

  const names = async (dir: string) => (await engine.ls(P, dir)).map((e) => e.name).sort();

  it('replaces a file only after the whole upload is verified, leaving no part file', async () => {
    await engine.put(P, '/conf.py', new TextEncoder().encode('OLD = 1\n'));
    const data = randomBytes(30_000);
    const done = await queue.settled(queue.enqueue({ kind: 'upload', prefix: P, path: '/lib/conf.py', data }));
    expect(done).toMatchObject({ state: 'done', sha256: sha256(data) });
    expect(await engine.sha256(P, '/lib/conf.py')).toBe(sha256(data));
    expect(await names('/lib')).toEqual(['conf.py']);

    const again = new TextEncoder().encode('NEW = 2\n');
    expect((await queue.settled(queue.enqueue({ kind: 'upload', prefix: P, path: '/conf.py', data: again }))).state).toBe('done');
    expect(new TextDecoder().decode(await engine.get(P, '/conf.py'))).toBe('NEW = 2\n');
    expect(await names('/')).not.toContain('conf.py.mqbpart');
  });

  it('a cancelled upload leaves the previous file and removes its part file', async () => {
    await engine.put(P, '/keep.bin', new TextEncoder().encode('keep me'));
    const id = queue.enqueue({ kind: 'upload', prefix: P, path: '/keep.bin', data: randomBytes(200_000) });
    await new Promise<void>((resolve) =>
      listeners.push((t) => {
        if (t.id === id && t.state === 'running' && t.bytesDone > 0) {
          queue.cancel(id);
          resolve();
        }
      }),
    );
    expect((await queue.settled(id)).state).toBe('cancelled');
    expect(new TextDecoder().decode(await engine.get(P, '/keep.bin'))).toBe('keep me');
    expect(await names('/')).not.toContain('keep.bin.mqbpart');
  });

  it('zips a folder listed with MicroPython snippets', async () => {
    const a = randomBytes(5000);
    await engine.mkdir(P, '/pkg/sub', { parents: true });
    await engine.put(P, '/pkg/a.bin', a);
    await engine.put(P, '/pkg/sub/b.txt', new TextEncoder().encode('bee'));
    const id = queue.enqueue({ kind: 'download', prefix: P, path: '/pkg', folder: true, dest: { to: 'memory' } });
    const t = await queue.settled(id);
    expect(t.state).toBe('done');
    const files = unzipSync(queue.read(id, 0, t.readable!.size).data);
    expect(sha256(files['a.bin']!)).toBe(sha256(a));
    expect(new TextDecoder().decode(files['sub/b.txt'])).toBe('bee');
  });

  it('streams MicroPython firmware over OTA with SEQ acks', async () => {
    const image = randomBytes(64 * 1024);
    image[0] = 0xe9; // an ESP32 image's magic byte: the board refuses anything else
    const t = await queue.settled(queue.enqueue({ kind: 'ota', prefix: P, name: 'firmware.bin', image, sha256: sha256(image) }));
    expect(t).toMatchObject({ state: 'done', bytesDone: image.length, sha256: sha256(image) });
  });
});

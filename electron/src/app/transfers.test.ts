// The transfer queue against a real broker and a real device runtime: folder uploads create the
// tree, a folder download zips it back, a cancelled upload leaves the previous file, retry runs
// the same input again, and a failure is reported with its reason.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import type { TransferInfo } from '../../../protocol/src';
import { startDevice } from '../../../device-runtime/src';
import { startEmbeddedBroker } from '../../../testing/brokers';
import { connectedEngine, sha256, tempDir, waitForDevices } from '../engine/test-support';
import type { Engine } from '../engine/types';
import { createTransferQueue, type TransferQueue } from './transfers';

describe('transfer queue', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  async function setup(): Promise<{ engine: Engine; queue: TransferQueue; prefix: string; root: string; on(l: (t: TransferInfo) => void): void }> {
    const broker = await startEmbeddedBroker({ port: 0 });
    cleanup.push(() => broker.close());
    const root = tempDir('xfer-dev');
    const prefix = 'xfer/dev';
    const dev = await startDevice({ url: broker.url, prefix, root: root.dir });
    cleanup.push(async () => {
      await dev.stop();
      root.remove();
    });
    const engine = await connectedEngine(broker.url);
    cleanup.push(() => engine.disconnect());
    await waitForDevices(engine, (all) => all.some((d) => d.prefix === prefix && d.presence === 'online'));
    const listeners: ((t: TransferInfo) => void)[] = [];
    const queue = createTransferQueue({
      engine,
      publish: (changed) => {
        for (const t of changed) for (const l of listeners) l(t);
      },
      writeFile: async () => {
        throw new Error('no desktop downloads in this test');
      },
    });
    cleanup.push(() => queue.close());
    return { engine, queue, prefix, root: root.dir, on: (l) => void listeners.push(l) };
  }

  it('downloads a tree too large for one listing, listed a folder at a time', async () => {
    const { queue, prefix, root } = await setup();
    // 3,300 entries: more than one ls reply holds.
    for (let d = 0; d < 3; d++) {
      mkdirSync(path.join(root, 'big', `d${d}`), { recursive: true });
      for (let i = 0; i < 1099; i++) writeFileSync(path.join(root, 'big', `d${d}`, `f${i}.txt`), `${d}/${i}`);
    }
    const zipId = queue.enqueue({ kind: 'download', prefix, path: '/big', folder: true, dest: { to: 'memory' } });
    const zipped = await queue.settled(zipId);
    expect(zipped.state).toBe('done');
    const unzipped = unzipSync(queue.read(zipId, 0, zipped.readable!.size).data);
    expect(Object.keys(unzipped).filter((n) => !n.endsWith('/'))).toHaveLength(3 * 1099);
    expect(new TextDecoder().decode(unzipped['d2/f1098.txt'])).toBe('2/1098');
  }, 120_000);

  it('uploads a folder tree, creating its directories, and downloads it back as a zip', async () => {
    const { engine, queue, prefix } = await setup();
    const files: Record<string, Uint8Array> = {
      'app/main.py': new TextEncoder().encode('print("hi")\n'),
      'app/lib/util.py': new TextEncoder().encode('X = 1\n'),
      'app/lib/deep/data.bin': randomBytes(200_000),
    };
    const ids = Object.entries(files).map(([rel, data]) => queue.enqueue({ kind: 'upload', prefix, path: `/${rel}`, data }));
    const done = await Promise.all(ids.map((id) => queue.settled(id)));
    expect(done.map((t) => t.state)).toEqual(['done', 'done', 'done']);
    expect(done[2]).toMatchObject({ bytesDone: 200_000, bytesTotal: 200_000, sha256: sha256(files['app/lib/deep/data.bin']!) });

    const listing = await engine.ls(prefix, '/app', { recursive: true });
    expect(listing.filter((e) => e.type === 'file').map((e) => [e.name, e.size]).sort()).toEqual([
      ['lib/deep/data.bin', 200_000],
      ['lib/util.py', 6],
      ['main.py', 12],
    ]);

    const zipId = queue.enqueue({ kind: 'download', prefix, path: '/app', folder: true, dest: { to: 'memory' } });
    const zipped = await queue.settled(zipId);
    expect(zipped).toMatchObject({ state: 'done', readable: { name: 'app.zip', mime: 'application/zip' } });
    const bytes = queue.read(zipId, 0, zipped.readable!.size);
    expect(bytes.total).toBe(zipped.readable!.size);
    const unzipped = unzipSync(bytes.data);
    for (const [rel, data] of Object.entries(files)) expect(sha256(unzipped[rel.slice('app/'.length)]!)).toBe(sha256(data));
    expect(Object.keys(unzipped)).toContain('lib/deep/');

    // Dismissing frees what the host held for the page.
    queue.dismiss(zipId);
    expect(() => queue.read(zipId, 0, 1)).toThrow(/no transfer/);
  });

  it('a cancelled upload leaves the previous file intact, and retry sends it again', async () => {
    const s = await setup();
    const { engine, queue, prefix } = s;
    const old = new TextEncoder().encode('the old contents\n');
    await engine.put(prefix, '/big.bin', old);
    const big = randomBytes(24 * 1024 * 1024);

    const id = queue.enqueue({ kind: 'upload', prefix, path: '/big.bin', data: big });
    // Cancel as soon as the first chunk has gone out: the device holds a partial temp file.
    await new Promise<void>((resolve) => {
      s.on((t) => {
        if (t.id === id && t.state === 'running' && t.bytesDone > 0) {
          queue.cancel(id);
          resolve();
        }
      });
    });
    const cancelled = await queue.settled(id);
    expect(cancelled).toMatchObject({ state: 'cancelled', retryable: true, error: { code: 'cancelled' } });
    expect(cancelled.bytesDone).toBeLessThan(big.length);
    expect(new TextDecoder().decode(await engine.get(prefix, '/big.bin'))).toBe('the old contents\n');
    expect((await engine.ls(prefix, '/')).map((e) => e.name)).not.toContain('big.bin.mqbpart');

    const again = queue.retry(id);
    expect(again).not.toBe(id);
    expect(queue.list().map((t) => t.id)).not.toContain(id);
    const done = await queue.settled(again);
    expect(done).toMatchObject({ state: 'done', bytesDone: big.length, retryable: false });
    expect(await engine.sha256(prefix, '/big.bin')).toBe(sha256(big));
  });

  it('reports a failed transfer with its reason and refuses to retry a finished one', async () => {
    const { engine, queue, prefix } = await setup();
    await engine.put(prefix, '/plain.txt', new TextEncoder().encode('a file, not a folder'));
    // The parent is a file: the device cannot create the folder.
    const id = queue.enqueue({ kind: 'upload', prefix, path: '/plain.txt/inside.py', data: new TextEncoder().encode('x') });
    const failed = await queue.settled(id);
    expect(failed.state).toBe('failed');
    expect(failed.retryable).toBe(true);
    expect(failed.error?.message).toMatch(/plain\.txt/);

    const ok = queue.enqueue({ kind: 'download', prefix, path: '/plain.txt', folder: false, dest: { to: 'memory' } });
    const got = await queue.settled(ok);
    expect(got).toMatchObject({ state: 'done', bytesTotal: 20, readable: { name: 'plain.txt', size: 20 } });
    expect(() => queue.retry(ok)).toThrow(/only failed or cancelled/);
  });
});

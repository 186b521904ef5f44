// The file part of the bridge contract end to end through the app host, as a page uses it: bytes
// staged in raw chunks (or read by the host from a path the window was granted), an upload
// queued by stage id, its progress on the batched
// `transfers` stream, a download read back in chunks; and the limits every call is held to.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { STAGE_BINARY_CHUNK, STAGE_CHUNK, type CallReply, type EventBatch, type TransferInfo } from '../../../protocol/src';
import { startDevice } from '../../../device-runtime/src';
import { startEmbeddedBroker } from '../../../testing/brokers';
import { sha256 } from '../engine/test-support';
import { createAppHost } from './app-host';
import type { BridgeClient } from './bridge-host';
import { openProfilesStore } from './profiles-store';
import { plainFileCodec } from './secrets';

describe('file bridge', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  let n = 0;
  const call = async (client: BridgeClient, op: string, args: unknown): Promise<CallReply> => (await client.call(op, { id: `c${++n}`, args })).reply;
  const ok = async <T>(client: BridgeClient, op: string, args: unknown): Promise<T> => {
    const r = await call(client, op, args);
    if (!r.ok) throw new Error(`${op}: ${r.error.code} ${r.error.message}`);
    return r.result as T;
  };

  async function setup() {
    const broker = await startEmbeddedBroker({ port: 0 });
    cleanup.push(() => broker.close());
    const root = mkdtempSync(path.join(os.tmpdir(), 'mqb-fb-dev-'));
    const dev = await startDevice({ url: broker.url, prefix: 'fb/dev', root });
    cleanup.push(async () => {
      await dev.stop();
      rmSync(root, { recursive: true, force: true });
    });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-fb-host-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = openProfilesStore(dir, plainFileCodec);
    store.setActive(store.save({ name: 'b', url: broker.url }).id);
    const host = await createAppHost({ shell: 'web', version: 't', settingsDir: dir, codec: plainFileCodec });
    cleanup.push(() => host.close());
    const batches: EventBatch[] = [];
    const client = host.bridge.connect((b) => batches.push(b));
    client.setStreams(['transfers']);
    await vi.waitFor(() => expect(host.engine.device('fb/dev')?.presence).toBe('online'), { timeout: 10_000 });
    return { client, batches };
  }

  it('stages bytes in chunks, uploads by stage id, streams progress and reads a download back', async () => {
    const { client, batches } = await setup();
    const data = randomBytes(STAGE_CHUNK * 2 + 1234);
    const { stage } = await ok<{ stage: string }>(client, 'xferStage', { size: data.length, name: 'big.bin' });
    for (let o = 0; o < data.length; o += STAGE_CHUNK) {
      // The first chunk as base64 text (the older form), the rest as raw bytes.
      const chunk = data.subarray(o, o + STAGE_CHUNK);
      await ok(client, 'xferStageChunk', { stage, offset: o, data: o === 0 ? chunk.toString('base64') : new Uint8Array(chunk) });
    }
    const { transfers } = await ok<{ transfers: string[] }>(client, 'xferUpload', { prefix: 'fb/dev', items: [{ path: '/d/big.bin', stage }], dirs: ['/d/empty'] });
    const seen = () => batches.flat().flatMap((e) => (e.stream === 'transfers' ? e.changed : [])) as TransferInfo[];
    await vi.waitFor(() => expect(seen().find((t) => t.id === transfers[0] && t.state === 'done')).toBeDefined(), { timeout: 20_000 });

    const listing = await ok<{ entries: { name: string; type: string; size?: number }[] }>(client, 'fsList', { prefix: 'fb/dev', path: '/d' });
    expect(listing.entries.map((e) => [e.name, e.type, e.size ?? null]).sort()).toEqual([
      ['big.bin', 'file', data.length],
      ['empty', 'dir', null],
    ]);

    const { transfer } = await ok<{ transfer: string }>(client, 'xferDownload', { prefix: 'fb/dev', path: '/d/big.bin', folder: false, dest: 'memory' });
    await vi.waitFor(() => expect(seen().find((t) => t.id === transfer && t.state === 'done')).toBeDefined(), { timeout: 20_000 });
    const parts: Buffer[] = [];
    for (let o = 0; o < data.length; o += STAGE_CHUNK) {
      const r = await ok<{ data: string; total: number }>(client, 'xferRead', { transfer, offset: o, length: STAGE_CHUNK });
      expect(r.total).toBe(data.length);
      parts.push(Buffer.from(r.data, 'base64'));
    }
    expect(sha256(Buffer.concat(parts))).toBe(sha256(data));
  });

  it('stages a dropped file from disk only when the window was granted its path, and uploads it', async () => {
    const { client, batches } = await setup();
    const local = mkdtempSync(path.join(os.tmpdir(), 'mqb-fb-local-'));
    cleanup.push(() => rmSync(local, { recursive: true, force: true }));
    const file = path.join(local, 'firmware.bin');
    const data = randomBytes(300_000);
    writeFileSync(file, data);
    mkdirSync(path.join(local, 'folder'));

    // The page names the path, so a path nobody dropped is refused before anything is read.
    expect(await call(client, 'xferStagePath', { path: file })).toMatchObject({ ok: false, error: { code: 'bad-request', message: expect.stringMatching(/not dropped or picked/) } });
    client.grantPath(file);
    const staged = await ok<{ stage: string; name: string; size: number }>(client, 'xferStagePath', { path: file });
    expect(staged).toMatchObject({ name: 'firmware.bin', size: data.length });
    const { transfers } = await ok<{ transfers: string[] }>(client, 'xferUpload', { prefix: 'fb/dev', items: [{ path: '/fw/firmware.bin', stage: staged.stage }] });
    const done = () => batches.flat().flatMap((e) => (e.stream === 'transfers' ? e.changed : [])).find((t) => t.id === transfers[0] && t.state === 'done');
    await vi.waitFor(() => expect(done()).toBeDefined(), { timeout: 20_000 });
    expect(done()?.sha256).toBe(sha256(data));

    // Granted or not, only an absolute path to a regular file is read.
    for (const bad of [path.join(local, 'folder'), 'firmware.bin', path.join(local, 'missing.bin')]) {
      client.grantPath(bad);
      const r = await call(client, 'xferStagePath', { path: bad });
      expect(r.ok, bad).toBe(false);
    }
    // A raw chunk is bounded like a base64 one.
    const { stage } = await ok<{ stage: string }>(client, 'xferStage', { size: 4, name: 'x' });
    expect(await call(client, 'xferStageChunk', { stage, offset: 0, data: new Uint8Array(STAGE_BINARY_CHUNK + 1) })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await call(client, 'xferStageChunk', { stage, offset: 0, data: new Uint8Array(5) })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/past the declared 4/) } });
  });

  it('holds every call to the contract: paths, chunk sizes, base64, stage order, dialogs', async () => {
    const { client } = await setup();
    expect(await call(client, 'fsList', { prefix: 'fb/dev', path: 'relative' })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await call(client, 'fsList', { prefix: 'fb/dev', path: `/${'x'.repeat(2000)}` })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await call(client, 'fsDelete', { prefix: 'fb/dev', path: '/a+b', dir: false, recursive: false })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await call(client, 'xferStage', { size: 1e12, name: 'huge' })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    const { stage } = await ok<{ stage: string }>(client, 'xferStage', { size: 4, name: 'x' });
    expect(await call(client, 'xferStageChunk', { stage, offset: 0, data: 'A'.repeat(STAGE_CHUNK * 2) })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await call(client, 'xferStageChunk', { stage, offset: 0, data: 'not base64!' })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await call(client, 'xferStageChunk', { stage, offset: 2, data: 'AAA=' })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    // An incomplete stage cannot be uploaded.
    expect(await call(client, 'xferUpload', { prefix: 'fb/dev', items: [{ path: '/x', stage }] })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/only 0 of 4/) } });
    expect(await call(client, 'fsDelete', { prefix: 'fb/dev', path: '/', dir: true, recursive: true })).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    // Web mode has no system dialogs: the page uses the browser's.
    expect(await call(client, 'xferDownload', { prefix: 'fb/dev', path: '/x', folder: false, dest: 'dialog' })).toMatchObject({ ok: false, error: { code: 'not-supported' } });
    expect(await call(client, 'fsList', { prefix: 'no/such', path: '/' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});

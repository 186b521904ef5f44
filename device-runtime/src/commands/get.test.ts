// The get stream, driven directly: what goes out for files of awkward sizes, and for a file
// that changes while it is being sent.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeFrame, encodeGetOptions } from '../../../protocol/src';
import { createAckRegistry } from '../ack-gate';
import { openJail } from '../jail';
import { tmpRoot } from '../test-support/tmp-root';
import { openGet, type GetEnv } from './get';

let root: ReturnType<typeof tmpRoot>;
beforeEach(() => {
  root = tmpRoot('get');
});
afterEach(() => root.cleanup());

interface Sent {
  seq: number;
  last: boolean;
  body: Buffer;
}

/** Runs a get of `name` and collects every frame; `onPublish` runs as each one goes out. */
async function runGet(name: string, chunk: number, onPublish?: (n: number) => void): Promise<Sent[]> {
  const sent: Sent[] = [];
  const env: GetEnv = {
    jail: await openJail(root.dir),
    maxChunk: 65536,
    acks: createAckRegistry(),
    ackTimeoutMs: 5000,
    publish(_topic, payload) {
      const f = decodeFrame(payload);
      if (!f.ok) throw new Error(f.error);
      // Copied: the stream reuses a frame once its publish has resolved.
      sent.push({ seq: f.value.seq, last: f.value.last, body: Buffer.from(f.value.body) });
      onPublish?.(sent.length);
      return Promise.resolve();
    },
  };
  const stream = await openGet(env, 'id', `/${name}`, encodeGetOptions({ chunk }), 'reply');
  await stream.run();
  return sent;
}

const joined = (sent: Sent[]) => Buffer.concat(sent.map((s) => s.body));

describe('get stream', () => {
  it.each([0, 1, 1399, 1400, 1401, 2800, 1_000_000])('sends a %i-byte file in order, the last frame marked', async (size) => {
    const data = randomBytes(size);
    fs.writeFileSync(path.join(root.dir, 'f.bin'), data);
    const sent = await runGet('f.bin', 1400);
    expect(sent.map((s) => s.seq)).toEqual(sent.map((_, i) => i));
    expect(sent.map((s) => s.last)).toEqual(sent.map((_, i) => i === sent.length - 1));
    expect(sent.length).toBe(Math.max(1, Math.ceil(size / 1400)));
    expect(joined(sent).equals(data)).toBe(true);
  });

  it('ends early, at the new end, when the file shrinks while it is being sent', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const file = path.join(root.dir, 'shrinks.bin');
    fs.writeFileSync(file, data);
    // Cut as the first frame goes out, well beyond what has been read by then.
    const sent = await runGet('shrinks.bin', 65536, (n) => n === 1 && fs.truncateSync(file, 1_700_000));
    expect(sent.map((s) => s.seq)).toEqual(sent.map((_, i) => i));
    expect(sent.map((s) => s.last)).toEqual(sent.map((_, i) => i === sent.length - 1));
    expect(joined(sent).equals(data.subarray(0, 1_700_000))).toBe(true);
  });
});

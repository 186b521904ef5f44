// What a put names on its topic tails, by what the device can take.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { putTails } from './transfer';

const data = randomBytes(3000);
const sha = createHash('sha256').update(data).digest('hex');

/** Runs the tails as a stream would: every chunk in order, then the last tail. */
function stream(t: ReturnType<typeof putTails>): { body: string; last: string; sha256: string } {
  for (let i = 0; i < data.length; i += 1400) t.chunk?.(data.subarray(i, i + 1400));
  return { body: t.body, last: String(t.last()), sha256: t.sha256() };
}

describe('put tails', () => {
  it('name path and size on every message and the hash, taken while sending, on the last, for a device that reads the last tail', () => {
    expect(stream(putTails({ native: true, putShaLast: true }, '/a.bin', data))).toEqual({
      body: '/a.bin?size=3000',
      last: `/a.bin?sha256=${sha}&size=3000`,
      sha256: sha,
    });
  });

  it('name the hash on every message for a runtime that reads only the first tail', () => {
    const full = `/a.bin?sha256=${sha}&size=3000`;
    expect(stream(putTails({ native: true, putShaLast: false }, '/a.bin', data))).toEqual({ body: full, last: full, sha256: sha });
  });

  it('name a hash the caller already knows on every message', () => {
    const given = 'ab'.repeat(32);
    const full = `/a.bin?sha256=${given}&size=3000`;
    expect(stream(putTails({ native: true, putShaLast: true }, '/a.bin', data, given))).toEqual({ body: full, last: full, sha256: given });
  });

  it('are the bare path for an original board, which would take a query as part of the name', () => {
    expect(stream(putTails({ native: false, putShaLast: false }, '/a.bin', data))).toEqual({ body: '/a.bin', last: '/a.bin', sha256: sha });
  });
});

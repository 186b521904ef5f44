// Staging of page bytes: chunks only in order and within the declared size, a stage is usable
// only when complete, and the host's total reservation is bounded.
import { describe, expect, it } from 'vitest';
import { MAX_STAGE_BYTES } from '../../../protocol/src';
import { createTransferStages, MAX_STAGED_TOTAL } from './transfer-stages';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('transfer stages', () => {
  it('assembles chunks in order and hands the bytes over once', () => {
    const st = createTransferStages();
    const id = st.create(6, 'a.txt');
    expect(st.append(id, 0, b64('abc'))).toBe(3);
    expect(() => st.take(id)).toThrow(/only 3 of 6 bytes/);
    // Raw bytes and base64 text are the same chunk to the stage.
    expect(st.append(id, 3, new TextEncoder().encode('def'))).toBe(6);
    expect(new TextDecoder().decode(st.take(id).data)).toBe('abcdef');
    expect(() => st.take(id)).toThrow(/no staged upload/);
    expect(st.reserved()).toBe(0);
  });

  it('rejects gaps, overlaps and overruns', () => {
    const st = createTransferStages();
    const id = st.create(4, 'b.bin');
    expect(() => st.append(id, 1, b64('x'))).toThrow(/expected 0/);
    st.append(id, 0, b64('xy'));
    expect(() => st.append(id, 0, b64('xy'))).toThrow(/expected 2/);
    expect(() => st.append(id, 2, b64('xyz'))).toThrow(/past the declared 4/);
  });

  it('bounds a single stage and the total held', () => {
    const st = createTransferStages();
    expect(() => st.create(MAX_STAGE_BYTES + 1, 'huge')).toThrow(/more than/);
    const ids: string[] = [];
    for (let n = 0; n + MAX_STAGE_BYTES <= MAX_STAGED_TOTAL; n += MAX_STAGE_BYTES) ids.push(st.create(MAX_STAGE_BYTES, `f${n}`));
    expect(() => st.create(1, 'one more')).toThrow(/would hold more than/);
    st.drop(ids[0]!);
    expect(st.create(1, 'fits again')).toMatch(/^[\w-]+$/);
  });

  it('forgets a stage nobody touched for ten minutes', () => {
    let t = 0;
    const st = createTransferStages(() => t);
    const id = st.create(1, 'idle');
    t = 11 * 60_000;
    st.create(1, 'later');
    expect(() => st.append(id, 0, b64('x'))).toThrow(/no staged upload/);
  });
});

import { describe, expect, it } from 'vitest';
import { checkSeq, decodeFrame, encodeFrame, encodeSingle, frameChunks, SINGLE_HEADER } from './framing';
import { bytesEqual, concatBytes, utf8 } from './bytes';

// Fixtures: header bytes as the original board and CLI put them on the wire.
const fixtures = [
  { name: 'first of many', seq: 0, last: false, body: utf8('abc'), wire: [0x00, 0x00, 0x61, 0x62, 0x63] },
  { name: 'seq 258, not last', seq: 258, last: false, body: new Uint8Array([1]), wire: [0x01, 0x02, 0x01] },
  { name: 'last of a stream', seq: 5, last: true, body: new Uint8Array(0), wire: [0x80, 0x05] },
  { name: 'single-message reply', seq: 0x7fff, last: true, body: utf8('OK'), wire: [0xff, 0xff, 0x4f, 0x4b] },
];

describe('frame header', () => {
  for (const f of fixtures) {
    it(`${f.name}: encodes byte-exact, decodes, and round-trips`, () => {
      const wire = encodeFrame(f.seq, f.last, f.body);
      expect([...wire]).toEqual(f.wire);
      const d = decodeFrame(new Uint8Array(f.wire));
      expect(d.ok).toBe(true);
      if (!d.ok) return;
      expect(d.value.seq).toBe(f.seq);
      expect(d.value.last).toBe(f.last);
      expect(bytesEqual(d.value.body, f.body)).toBe(true);
      expect(bytesEqual(encodeFrame(d.value.seq, d.value.last, d.value.body), wire)).toBe(true);
    });
  }

  it('marks 0xFFFF as a single message so receivers skip the sequence check', () => {
    const d = decodeFrame(encodeSingle(utf8('SEQ 8')));
    expect(d.ok && d.value.single).toBe(true);
    expect(SINGLE_HEADER).toBe(0xffff);
    if (d.ok) expect(checkSeq(12, d.value)).toBe('next');
  });

  it('rejects payloads shorter than the header instead of throwing', () => {
    expect(decodeFrame(new Uint8Array([0x80]))).toEqual({ ok: false, error: expect.stringContaining('too short') });
    expect(decodeFrame(new Uint8Array(0)).ok).toBe(false);
  });

  it('refuses sequence numbers that do not fit 15 bits', () => {
    expect(() => encodeFrame(0x8000, false, new Uint8Array(0))).toThrow(RangeError);
    expect(() => encodeFrame(-1, false, new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('sequence rule', () => {
  const frame = (seq: number) => {
    const d = decodeFrame(encodeFrame(seq, false, new Uint8Array(0)));
    if (!d.ok) throw new Error(d.error);
    return d.value;
  };
  it('accepts the expected seq, drops a lower one as duplicate, fails on a gap', () => {
    expect(checkSeq(3, frame(3))).toBe('next');
    expect(checkSeq(3, frame(2))).toBe('duplicate');
    expect(checkSeq(3, frame(4))).toBe('gap');
  });
});

describe('chunking a stream', () => {
  const sizes = [0, 1, 1399, 1400, 1401, 4200];
  for (const n of sizes) {
    it(`${n} bytes at 1400: numbered from 0, only the final frame is last, bodies reassemble`, () => {
      const data = new Uint8Array(n).map((_, i) => i * 7);
      const frames = [...frameChunks(data, 1400)].map((w) => {
        const d = decodeFrame(w);
        if (!d.ok) throw new Error(d.error);
        return d.value;
      });
      expect(frames.length).toBe(Math.max(1, Math.ceil(n / 1400)));
      frames.forEach((f, i) => {
        expect(f.seq).toBe(i);
        expect(f.last).toBe(i === frames.length - 1);
      });
      expect(bytesEqual(concatBytes(frames.map((f) => f.body)), data)).toBe(true);
    });
  }

  it('refuses a stream whose last seq would collide with the single-message header', () => {
    expect([...frameChunks(new Uint8Array(0x7fff), 1)].length).toBe(0x7fff);
    expect(() => [...frameChunks(new Uint8Array(0x8000), 1)]).toThrow(RangeError);
  });
});

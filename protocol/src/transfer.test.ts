import { describe, expect, it } from 'vitest';
import { decodeAck, decodeGetOptions, decodePutTail, encodeAck, encodeGetOptions, encodePutTail, shouldAck } from './transfer';
import { bytesEqual, utf8 } from './bytes';

describe('SEQ acks', () => {
  it('encodes the original body and reads it back', () => {
    expect(bytesEqual(encodeAck(16), utf8('SEQ 16'))).toBe(true);
    expect(decodeAck(encodeAck(16))).toBe(16);
  });

  it('is sent for every 8th message, starting with the first', () => {
    expect([0, 1, 7, 8, 9, 16].filter(shouldAck)).toEqual([0, 8, 16]);
  });

  it('does not mistake other replies for acks', () => {
    expect(decodeAck(utf8('OK'))).toBeUndefined();
    expect(decodeAck(utf8('SEQ x'))).toBeUndefined();
    expect(decodeAck(utf8('SEQ 123456789'))).toBeUndefined();
  });
});

describe('verified put tail', () => {
  const sha = 'ab'.repeat(32);
  it('round-trips path, sha256 and size', () => {
    const tail = encodePutTail({ path: '/lib/foo.py', sha256: sha, size: 1400 });
    expect(tail).toBe(`/lib/foo.py?sha256=${sha}&size=1400`);
    expect(decodePutTail(tail)).toEqual({ path: '/lib/foo.py', sha256: sha, size: 1400 });
  });

  it('leaves a plain path (the original CLI) untouched', () => {
    expect(encodePutTail({ path: '/a.txt' })).toBe('/a.txt');
    expect(decodePutTail('/a.txt')).toEqual({ path: '/a.txt' });
  });

  it('takes a path that merely contains ? literally', () => {
    expect(decodePutTail('/what?.txt')).toEqual({ path: '/what?.txt' });
    expect(decodePutTail('/x?sha256=short')).toEqual({ path: '/x?sha256=short' });
  });

  it('accepts size alone', () => {
    expect(decodePutTail('/f?size=0')).toEqual({ path: '/f', size: 0 });
  });
});

describe('get options', () => {
  it('an empty body (the original CLI) asks for no flow control', () => {
    expect(decodeGetOptions(new Uint8Array(0))).toEqual({ ok: true, value: {} });
    expect(encodeGetOptions({}).length).toBe(0);
  });

  it('round-trips window and chunk', () => {
    expect(decodeGetOptions(encodeGetOptions({ window: 16, chunk: 65536 }))).toEqual({ ok: true, value: { window: 16, chunk: 65536 } });
  });

  it('reports bad options as errors', () => {
    expect(decodeGetOptions(utf8('{')).ok).toBe(false);
    expect(decodeGetOptions(utf8('[1]')).ok).toBe(false);
    expect(decodeGetOptions(utf8('{"window":-1}'))).toEqual({ ok: false, error: 'get option window must be a positive integer' });
  });
});

// The original MQBoard framing (wire facts, "Framing"): every command and reply payload starts
// with a 2-byte big-endian header; bit 15 marks the last message of a stream, bits 0-14 are the
// sequence number. A single-message reply carries 0xFFFF and receivers skip the sequence check.
import { type Decoded, fail, ok } from './result';

export const HEADER_BYTES = 2;
export const MAX_SEQ = 0x7fff;
export const SINGLE_HEADER = 0xffff;

export interface Frame {
  seq: number;
  last: boolean;
  /** True for the 0xFFFF single-message header: no sequence check applies. */
  single: boolean;
  body: Uint8Array;
}

export function encodeFrame(seq: number, last: boolean, body: Uint8Array): Uint8Array {
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) {
    throw new RangeError(`sequence number out of range: ${seq}`);
  }
  const out = new Uint8Array(HEADER_BYTES + body.length);
  const header = (last ? 0x8000 : 0) | seq;
  out[0] = header >> 8;
  out[1] = header & 0xff;
  out.set(body, HEADER_BYTES);
  return out;
}

export const encodeSingle = (body: Uint8Array): Uint8Array => encodeFrame(MAX_SEQ, true, body);

export function decodeFrame(payload: Uint8Array): Decoded<Frame> {
  if (payload.length < HEADER_BYTES) {
    return fail(`frame too short: ${payload.length} byte(s), need at least ${HEADER_BYTES}`);
  }
  const header = (payload[0]! << 8) | payload[1]!;
  return ok({
    seq: header & MAX_SEQ,
    last: (header & 0x8000) !== 0,
    single: header === SINGLE_HEADER,
    body: payload.subarray(HEADER_BYTES),
  });
}

/**
 * Splits data into frames of at most `chunk` body bytes. An empty input still yields one (last)
 * frame, because a stream must always end with a message marked last.
 */
export function* frameChunks(data: Uint8Array, chunk: number): Generator<Uint8Array> {
  if (chunk < 1) throw new RangeError(`chunk size must be positive: ${chunk}`);
  const count = Math.max(1, Math.ceil(data.length / chunk));
  // seq 0x7FFF with the last bit would read as the single-message header.
  if (count > MAX_SEQ) throw new RangeError(`too many chunks for one stream: ${count}`);
  for (let i = 0; i < count; i++) {
    yield encodeFrame(i, i === count - 1, data.subarray(i * chunk, (i + 1) * chunk));
  }
}

export type SeqVerdict = 'next' | 'duplicate' | 'gap';

/**
 * The receiver's rule (wire facts): a lower seq than expected is a duplicate and is dropped, a
 * higher one is a gap and fails the stream.
 */
export function checkSeq(expected: number, frame: Frame): SeqVerdict {
  if (frame.single || frame.seq === expected) return 'next';
  return frame.seq < expected ? 'duplicate' : 'gap';
}

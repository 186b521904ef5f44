// Flow control and verified transfers, shared by put, get and ota.
import { text, utf8 } from './bytes';
import { MAX_OPTIONS_BYTES, tooLarge } from './limits';
import { type Decoded, fail, ok } from './result';

/** The original CLI's chunk size: one TCP segment (wire facts, "Framing"). */
export const DEFAULT_CHUNK = 1400;
/** The original board streams `get` in chunks of this size. */
export const ORIGINAL_GET_CHUNK = 2800;
/** Receivers ack every 8th message (`seq & 7 == 0`), as the original OTA does. */
export const ACK_EVERY = 8;
/** Senders keep at most this many messages beyond the last ack in flight. */
export const WINDOW = 16;

export const shouldAck = (seq: number): boolean => (seq & (ACK_EVERY - 1)) === 0;

/** `SEQ <n>`: the original's flow-control ack body (sent in a 0xFFFF frame). */
export const encodeAck = (seq: number): Uint8Array => utf8(`SEQ ${seq}`);

/**
 * Recognises an ack body. The original CLI treats any body shorter than 10 bytes starting with
 * `SEQ ` as an ack, so a real reply can never look like one in practice.
 */
export function decodeAck(body: Uint8Array): number | undefined {
  if (body.length >= 10 || body.length < 5) return undefined;
  const m = /^SEQ (\d{1,5})$/.exec(text(body));
  return m ? Number(m[1]) : undefined;
}

export interface PutTarget {
  path: string;
  /** Lowercase hex SHA-256 the finished file must have, if the sender asked for verification. */
  sha256?: string;
  size?: number;
}

const QUERY = /\?(?:sha256=([0-9a-f]{64}))?(?:&?size=(\d{1,15}))?$/;

/**
 * A verified put names its expectations after the path: `/lib/foo.py?sha256=<hex>&size=<n>`.
 * MQTT topics cannot carry `#` or `+`, and the payload of seq 0 is already file data in the
 * original protocol, so the tail is the only place left. Only this exact suffix is special; a
 * path that merely contains `?` is taken literally.
 */
export function encodePutTail(t: PutTarget): string {
  const q: string[] = [];
  if (t.sha256 !== undefined) q.push(`sha256=${t.sha256.toLowerCase()}`);
  if (t.size !== undefined) q.push(`size=${t.size}`);
  return q.length ? `${t.path}?${q.join('&')}` : t.path;
}

export function decodePutTail(tail: string): PutTarget {
  const m = QUERY.exec(tail);
  if (!m || (m[1] === undefined && m[2] === undefined)) return { path: tail };
  const out: PutTarget = { path: tail.slice(0, m.index) };
  if (m[1] !== undefined) out.sha256 = m[1];
  if (m[2] !== undefined) out.size = Number(m[2]);
  return out;
}

export const isSha256Hex = (s: string): boolean => /^[0-9a-f]{64}$/.test(s);

/**
 * Body of our `get` request. The original CLI sends an empty body and gets a plain stream; a
 * host that sends `{"window":16}` promises to ack (`cmd/ack/<id>`), and the device then keeps
 * at most that many chunks unacked, so a broker queue limit can never drop any.
 */
export interface GetOptions {
  window?: number;
  chunk?: number;
}

export function decodeGetOptions(body: Uint8Array): Decoded<GetOptions> {
  if (body.length === 0) return ok({});
  if (body.length > MAX_OPTIONS_BYTES) return fail(tooLarge('get options', body.length, MAX_OPTIONS_BYTES));
  let v: unknown;
  try {
    v = JSON.parse(text(body));
  } catch {
    return fail('get options are not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail('get options must be an object');
  const o = v as Record<string, unknown>;
  const out: GetOptions = {};
  for (const k of ['window', 'chunk'] as const) {
    const n = o[k];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1 << 24) {
      return fail(`get option ${k} must be a positive integer`);
    }
    out[k] = n;
  }
  return ok(out);
}

export const encodeGetOptions = (o: GetOptions): Uint8Array =>
  Object.keys(o).length ? utf8(JSON.stringify(o)) : new Uint8Array(0);

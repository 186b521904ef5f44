// Interactive terminal sessions (docs/protocol.md, "Terminal"). One session per id `<sid>`:
//   P/mqb/term/<sid>/in   host -> device  keystrokes, framed (seq per direction, never last)
//   P/mqb/term/<sid>/out  device -> host  output bytes, framed
//   P/mqb/term/<sid>/ctl  host -> device  JSON control: open, resize, interrupt, ack, close
//   P/mqb/term/<sid>/evt  device -> host  JSON events: opened, closed, error
// Output is flow-controlled by acknowledgement: the device stops sending once it is
// `window` bytes ahead of the host's last `ack`, so a flood cannot swamp the broker or the UI.
import { z } from 'zod';
import { decodeJson } from './json';
import { OPTIONS_JSON, TERM_EVENT_JSON } from './limits';
import type { Decoded } from './result';

export const termTopic = (prefix: string, sid: string, dir: 'in' | 'out' | 'ctl' | 'evt'): string =>
  `${prefix}/mqb/term/${sid}/${dir}`;

export function parseTermTopic(prefix: string, topic: string): { sid: string; dir: 'in' | 'out' | 'ctl' | 'evt' } | undefined {
  const head = `${prefix}/mqb/term/`;
  if (!topic.startsWith(head)) return undefined;
  const m = /^([A-Za-z0-9_-]{1,32})\/(in|out|ctl|evt)$/.exec(topic.slice(head.length));
  return m ? { sid: m[1]!, dir: m[2] as 'in' | 'out' | 'ctl' | 'evt' } : undefined;
}

const Size = { cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(1000) };

export const TermControl = z.discriminatedUnion('op', [
  z.object({ op: z.literal('open'), ...Size, window: z.number().int().min(1024).max(1 << 24).optional() }),
  z.object({ op: z.literal('resize'), ...Size }),
  z.object({ op: z.literal('interrupt') }),
  /** Total output bytes the host has consumed so far. */
  z.object({ op: z.literal('ack'), bytes: z.number().int().nonnegative() }),
  z.object({ op: z.literal('close') }),
]);
export type TermControl = z.infer<typeof TermControl>;

export const TermEvent = z.discriminatedUnion('op', [
  z.object({ op: z.literal('opened'), window: z.number().int().positive() }),
  z.object({ op: z.literal('closed'), reason: z.string().max(256) }),
  z.object({ op: z.literal('error'), message: z.string().max(1024) }),
]);
export type TermEvent = z.infer<typeof TermEvent>;

/** Decodes a `ctl` message, refusing one over `OPTIONS_JSON` before parsing it. */
export const decodeTermControl = (payload: Uint8Array): Decoded<TermControl> =>
  decodeJson(TermControl, payload, 'terminal control', OPTIONS_JSON);

/** Decodes an `evt` message, refusing one over `TERM_EVENT_JSON` before parsing it. */
export const decodeTermEvent = (payload: Uint8Array): Decoded<TermEvent> =>
  decodeJson(TermEvent, payload, 'terminal event', TERM_EVENT_JSON);

export const DEFAULT_TERM_WINDOW = 256 * 1024;

/**
 * Sequence numbers of the `in` and `out` streams. A session outlives 32,768 messages, so the
 * 15-bit seq wraps to 0 after 0x7FFF (never marked last, so never the 0xFFFF single header).
 */
export const nextTermSeq = (seq: number): number => (seq + 1) & 0x7fff;

/** `next` for the expected seq, `duplicate` for one up to half the ring behind it, else `gap`. */
export function termSeqVerdict(expected: number, seq: number): 'next' | 'duplicate' | 'gap' {
  if (seq === expected) return 'next';
  const behind = (expected - seq) & 0x7fff;
  return behind > 0 && behind <= 0x4000 ? 'duplicate' : 'gap';
}

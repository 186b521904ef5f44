// Size caps for everything decoded from the wire (docs/protocol.md, "Limits"). A decoder checks
// its cap before it decodes text, runs a regular expression or parses JSON: a device is
// untrusted, and JSON.parse of a 100 MB retained message costs the host most of a gigabyte of
// memory and a stalled event loop before any schema can say no. Each cap sits well above what
// an honest sender produces; the fuzz bench (`npm run bench:fuzz`) times every decoder at its cap.

import { HEADER_BYTES } from './framing';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A line on `P/log`. Original boards cut lines here, and so does our runtime; longer ones are cut. */
export const MAX_LOG_LINE_BYTES = 1024;

/** The retained status at `P/mqb/status`; a real one is under 1 KiB. */
export const MAX_STATUS_BYTES = 16 * KiB;

/**
 * The retained crash list at `P/mqb/crash`; `encodeCrashList` keeps the newest records that fit.
 * Full records stay readable on the device (`/crash/`). Decoding text that is not ASCII costs
 * Node's TextDecoder tens of ms per MiB, so an unsolicited message stays this small.
 */
export const MAX_CRASH_LIST_BYTES = 256 * KiB;

/**
 * An `ls` reply, once reassembled from its stream. One message must decode in under 5 ms (the
 * fuzz bench's target); at 1 MiB a valid listing took 13–49 ms (at load 11): JSON.parse and the
 * schema cost ~0.3 µs per entry, and Node decodes UTF-8 that is not ASCII at ~5 ms per MiB.
 * 256 KiB holds ~3,000 recursive entries of 85 bytes (a 25-character path, size and mtime).
 */
export const MAX_LS_REPLY_BYTES = 256 * KiB;

/**
 * Any other file command's reply: a path and at most a name, each at most 4,096 characters,
 * escaped at worst as `\u0001` (6 bytes a character): 48 KiB, plus a few small fields.
 */
export const MAX_FILE_REPLY_BYTES = 64 * KiB;

/** JSON options of a command (file commands, `get`, `reset`) and terminal `ctl` messages. */
export const MAX_OPTIONS_BYTES = 4 * KiB;

/** Terminal `evt` messages; their longest field is a 1024-character error message. */
export const MAX_TERM_EVENT_BYTES = 8 * KiB;

/** The largest JSON cap. */
export const MAX_JSON_BYTES = Math.max(MAX_STATUS_BYTES, MAX_CRASH_LIST_BYTES, MAX_LS_REPLY_BYTES, MAX_FILE_REPLY_BYTES, MAX_OPTIONS_BYTES, MAX_TERM_EVENT_BYTES);

/**
 * What a JSON payload may hold. Bytes alone do not bound the cost: JSON.parse takes ~0.3 µs per
 * object however small (`{},{},…`: 110 ms per MiB), and ~2 µs per level of nesting (`[[[…`:
 * 0.8 s for 400,000 levels). So a linear scan counts values (objects, arrays and list items)
 * and nesting depth first, and refuses what exceeds the limit before parsing.
 */
export interface JsonLimit {
  bytes: number;
  /** Objects, arrays and the commas between items: an upper bound on the values parsed. */
  values: number;
}

/** No message of the protocol nests deeper than 4; this leaves room and stops `[[[[…`. */
export const MAX_JSON_DEPTH = 16;

/** A real status holds ~40 values. */
export const STATUS_JSON: JsonLimit = { bytes: MAX_STATUS_BYTES, values: 512 };
/** Ten records of 500 log lines each, as our runtime keeps them, hold ~5,200 values. */
export const CRASH_LIST_JSON: JsonLimit = { bytes: MAX_CRASH_LIST_BYTES, values: 8192 };
/**
 * An entry is at most five values (its object, three commas inside, one after), so 16,000 is
 * 3,200 entries with size and mtime, more than 256 KiB holds of them; entries of a bare name
 * and type (three values), the costliest listing there is, stop at ~5,300 instead of ~10,000.
 */
export const LS_REPLY_JSON: JsonLimit = { bytes: MAX_LS_REPLY_BYTES, values: 16_000 };
/** A stat reply, the largest of the others, is one object of five values. */
export const FILE_REPLY_JSON: JsonLimit = { bytes: MAX_FILE_REPLY_BYTES, values: 64 };
export const OPTIONS_JSON: JsonLimit = { bytes: MAX_OPTIONS_BYTES, values: 64 };
export const TERM_EVENT_JSON: JsonLimit = { bytes: MAX_TERM_EVENT_BYTES, values: 64 };
/** For a caller that names no limit: the most permissive one. */
export const DEFAULT_JSON = LS_REPLY_JSON;

/** The largest data chunk a device may advertise (`capabilities.maxChunk`), and so ask for. */
export const MAX_CHUNK_BYTES = 16 * MiB;

/** A framed message: the header and at most one chunk. */
export const MAX_FRAME_BYTES = HEADER_BYTES + MAX_CHUNK_BYTES;

/**
 * The largest payload any message of the protocol may carry: what a client can offer as its
 * MQTT 5 Maximum Packet Size (plus the packet's own header, topic and properties).
 */
export const MAX_PAYLOAD_BYTES = Math.max(MAX_FRAME_BYTES, MAX_JSON_BYTES, MAX_LOG_LINE_BYTES);

/** "1.5 MiB", "16 KiB", "900 bytes": for error messages. */
export function formatBytes(n: number): string {
  if (n >= MiB) return `${+(n / MiB).toFixed(1)} MiB`;
  if (n >= KiB) return `${+(n / KiB).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** The error for a payload over its cap, named the same way by every decoder. */
export const tooLarge = (what: string, bytes: number, max: number): string =>
  `${what} too large: ${formatBytes(bytes)}, the limit is ${formatBytes(max)}`;

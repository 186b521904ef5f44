// Topic layout (wire facts, "Addressing" and "Commands and replies"), plus this project's
// extensions under the same `P/mqb/` subtree. `P` is the board's prefix, e.g. `esp32/test`.

/** Commands the original boards implement natively. */
export const ORIGINAL_COMMANDS = ['eval', 'get', 'put', 'ota'] as const;
/** Commands this project adds; they reply JSON (docs/protocol.md). */
export const FILE_COMMANDS = ['ls', 'stat', 'sha', 'rm', 'mkdir', 'rmdir', 'mv'] as const;
export const EXTENDED_COMMANDS = [...FILE_COMMANDS, 'reset', 'ack'] as const;
export const ALL_COMMANDS = [...ORIGINAL_COMMANDS, ...EXTENDED_COMMANDS] as const;
export type CommandName = (typeof ALL_COMMANDS)[number];

/** The watchdog's self-feed uses this fixed id (wire facts, "Watchdog and safe mode"). */
export const WATCHDOG_ID = '0F00D';

export const mqbBase = (prefix: string): string => `${prefix}/mqb`;
export const commandSubscription = (prefix: string): string => `${prefix}/mqb/cmd/#`;

/**
 * `P/mqb/cmd/<cmd>/<id>/<tail>`. The original CLI omits the last slash when there is no tail and
 * the watchdog keeps it (`.../eval/0F00D/`); boards accept both, so we always emit the slash.
 * An absolute path tail keeps its leading slash, giving the double slash of the original.
 */
export const commandTopic = (prefix: string, cmd: string, id: string, tail = ''): string =>
  `${prefix}/mqb/cmd/${cmd}/${id}/${tail}`;

export const replyOutTopic = (prefix: string, id: string): string => `${prefix}/mqb/reply/out/${id}`;
export const replyErrTopic = (prefix: string, id: string): string => `${prefix}/mqb/reply/err/${id}`;
export const statusTopic = (prefix: string): string => `${prefix}/mqb/status`;
export const crashTopic = (prefix: string): string => `${prefix}/mqb/crash`;
export const logTopic = (prefix: string): string => `${prefix}/log`;

export interface CommandAddress {
  cmd: string;
  id: string;
  /** What follows the id: a path, an OTA SHA-256, or '' when absent. */
  tail: string;
}

/**
 * Parses a command topic the way the board does: what follows `cmd/` is split at the first two
 * slashes, so a tail may itself contain slashes (and start with one).
 */
export function parseCommandTopic(prefix: string, topic: string): CommandAddress | undefined {
  const head = `${prefix}/mqb/cmd/`;
  if (!topic.startsWith(head)) return undefined;
  const rest = topic.slice(head.length);
  const s1 = rest.indexOf('/');
  const cmd = s1 < 0 ? rest : rest.slice(0, s1);
  if (s1 < 0 || cmd === '') return undefined;
  const afterCmd = rest.slice(s1 + 1);
  const s2 = afterCmd.indexOf('/');
  const id = s2 < 0 ? afterCmd : afterCmd.slice(0, s2);
  if (id === '') return undefined;
  return { cmd, id, tail: s2 < 0 ? '' : afterCmd.slice(s2 + 1) };
}

export type ReplyKind = 'out' | 'err';

/** Parses `P/mqb/reply/<out|err>/<id>` for any prefix; returns the prefix too. */
export function parseReplyTopic(topic: string): { prefix: string; kind: ReplyKind; id: string } | undefined {
  const m = /^(.+)\/mqb\/reply\/(out|err)\/([^/]+)$/.exec(topic);
  if (!m) return undefined;
  return { prefix: m[1]!, kind: m[2] as ReplyKind, id: m[3]! };
}

/** A device's prefix from any topic in its `P/mqb/...` or `P/log` subtree. */
export function prefixOfTopic(topic: string): string | undefined {
  const i = topic.lastIndexOf('/mqb/');
  if (i > 0) return topic.slice(0, i);
  if (topic.endsWith('/log') && topic.length > 4) return topic.slice(0, -4);
  return undefined;
}

/**
 * Command ids: 8 URL-safe base64 characters like the original CLI's, from 6 random bytes.
 * `random` is injected so protocol/ needs no crypto import.
 */
export function makeCommandId(randomBytes: (n: number) => Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const b = randomBytes(6);
  let out = '';
  for (let i = 0; i < 6; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out += alphabet[(n >> 18) & 63]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!;
  }
  return out;
}

/** MQTT forbids these in topic names we publish to (MQTT 3.1.1 §4.7.1). */
export function isPublishableTopicPart(s: string): boolean {
  return !s.includes('+') && !s.includes('#') && !s.includes('\u0000');
}

// How to talk to one device, derived from its status (our runtime) or its absence (an original
// board, which advertises nothing).
import { DEFAULT_CHUNK, type OnlineStatus } from '../../../protocol/src';
import type { Connection } from './connection';
import type { SessionRegistry } from './command-session';

export interface DeviceProfile {
  prefix: string;
  /** Our runtime: native file commands, verified puts, JSON replies. */
  native: boolean;
  maxChunk: number;
  putAck: boolean;
  /** The device takes a put's expected SHA-256 on the last message's tail. */
  putShaLast: boolean;
  getAck: boolean;
  commands: ReadonlySet<string>;
  maxImage?: number;
}

export function profileOf(prefix: string, status: OnlineStatus | undefined): DeviceProfile {
  if (!status) {
    return { prefix, native: false, maxChunk: DEFAULT_CHUNK, putAck: false, putShaLast: false, getAck: false, commands: new Set(['eval', 'get', 'put', 'ota']) };
  }
  const c = status.capabilities;
  return {
    prefix,
    native: true,
    maxChunk: c.maxChunk,
    putAck: c.putAck,
    putShaLast: c.putShaLast,
    getAck: c.getAck,
    commands: new Set(c.commands),
    maxImage: c.maxImage,
  };
}

/** What command code needs from the engine. */
export interface CommandContext {
  conn: Connection;
  sessions: SessionRegistry;
}

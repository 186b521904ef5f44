// The device's log: every line goes to `P/log` (QoS 1) in the original format
// `<L> <time> <name>: <text>`, buffered while the broker is unreachable (log-buffer.ts).
import { encodeLogLine, formatDeviceTime, text, type Level } from '../../protocol/src';
import { createLogBuffer } from './log-buffer';

export interface Logger {
  critical(msg: string): void;
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
}

/** Sends one encoded line; resolves once the broker has it (PUBACK). */
export type LogSink = (line: Uint8Array) => Promise<void>;

export interface LogOptions {
  /** Budget while booting (before the first connection); the original keeps about 10 KB. */
  bootBudget?: number;
  /** Budget once the device has been connected. */
  runBudget?: number;
  /** How many recent lines to keep for crash records. */
  recent?: number;
  /** Also write every line here (the bin's stderr). */
  echo?: (line: string) => void;
  /** Lowest level recorded; D by default. */
  minLevel?: Level;
}

export interface DeviceLog {
  logger(name: string): Logger;
  /** Starts sending to the broker: buffered lines first, in order. */
  attach(sink: LogSink): void;
  /** Stops sending (broker gone); lines buffer again. */
  detach(): void;
  /** Formatted recent lines, oldest first (for crash records). */
  recent(): string[];
  /** Resolves once everything buffered has been sent, or at once when detached. */
  flushed(): Promise<void>;
  buffered(): number;
}

// Lines handed to mqtt.js but not yet PUBACKed: bounded so a log flood cannot queue unbounded
// publishes inside the client; the rest waits in the budgeted buffer.
const MAX_INFLIGHT = 32;
const RANK: Record<Level, number> = { C: 0, E: 1, W: 2, I: 3, D: 4 };

export function createDeviceLog(opts: LogOptions = {}): DeviceLog {
  const buffer = createLogBuffer(opts.bootBudget ?? 64 * 1024);
  const runBudget = opts.runBudget ?? 16 * 1024;
  const recentMax = opts.recent ?? 50;
  const minRank = RANK[opts.minLevel ?? 'D'];
  const recent: string[] = [];
  let sink: LogSink | undefined;
  let inflight = 0;
  let waiters: Array<() => void> = [];

  const settle = () => {
    if (buffer.size() === 0 && inflight === 0) {
      const w = waiters;
      waiters = [];
      w.forEach((f) => f());
    }
  };

  const pump = () => {
    while (sink && inflight < MAX_INFLIGHT) {
      const line = buffer.shift();
      if (!line) break;
      inflight++;
      const s = sink;
      s(line.bytes).then(
        () => {
          inflight--;
          pump();
        },
        () => {
          // The client gave up on it (ended). Put it back; it goes out on the next attach.
          inflight--;
          buffer.unshift(line);
          settle();
        },
      );
    }
    settle();
  };

  const format = (level: Level, name: string, msg: string) => {
    const bytes = encodeLogLine({ level, time: formatDeviceTime(0, Date.now()), name, text: msg });
    const line = text(bytes);
    recent.push(line);
    if (recent.length > recentMax) recent.shift();
    opts.echo?.(line);
    return bytes;
  };
  const write = (level: Level, name: string, msg: string) => {
    if (RANK[level] > minRank) return;
    buffer.push({ level, bytes: format(level, name, msg) });
    pump();
  };

  return {
    logger: (name) => ({
      critical: (m) => write('C', name, m),
      error: (m) => write('E', name, m),
      warn: (m) => write('W', name, m),
      info: (m) => write('I', name, m),
      debug: (m) => write('D', name, m),
    }),
    attach(s) {
      sink = s;
      buffer.setBudget(runBudget);
      // Said first, before the lines that survived, so a reader knows there is a gap.
      const lost = buffer.takeDropped();
      if (lost > 0) buffer.unshift({ level: 'W', bytes: format('W', 'log', `${lost} log line(s) dropped while offline`) });
      pump();
    },
    detach() {
      sink = undefined;
      const w = waiters;
      waiters = [];
      w.forEach((f) => f());
    },
    recent: () => [...recent],
    flushed: () =>
      new Promise<void>((resolve) => {
        if (!sink || (buffer.size() === 0 && inflight === 0)) return resolve();
        waiters.push(resolve);
      }),
    buffered: () => buffer.size(),
  };
}

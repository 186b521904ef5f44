// What serves the commands of one boot: the eval context (with the device's own `device` and
// `watchdog` objects), interactive terminal sessions that share it, uploads in progress, and
// the dispatcher that routes each command to its handler.
import type { MqttClient } from 'mqtt';
import type { Mode, ResetMode } from '../../protocol/src';
import { createAckRegistry } from './ack-gate';
import { createEvaluator, type Evaluator } from './commands/eval';
import { createDispatcher, type Dispatcher } from './dispatch';
import { errorMessage } from './errors';
import { createUploads, type Uploads } from './inbound';
import type { Jail } from './jail';
import type { DeviceLog } from './log';
import { slotUnpacker, type OtaState, type OtaStore } from './ota-slots';
import { DEFAULTS, type DeviceOptions } from './options';
import { createTerminalServer, type TerminalServer } from './terminal';

export interface CommandServiceOptions {
  opts: DeviceOptions;
  /** The broker and credentials of the device's connection, for a terminal's interrupt helper. */
  broker: { url: string; username?: string; password?: string; ca?: string; clientId: string };
  client: MqttClient;
  jail: Jail;
  tmpDir: string;
  mode: Mode;
  startedAt: number;
  maxChunk: number;
  maxImage: number;
  deviceLog: DeviceLog;
  store: OtaStore;
  /** Command ids to ignore: they were in progress when the runtime last died. */
  poison: string[];
  /** Publishes at QoS 1 without waiting for the PUBACK. */
  send(topic: string, payload: Uint8Array): void;
  /** Publishes and resolves on PUBACK. */
  publish(topic: string, payload: Uint8Array): Promise<void>;
  /** What `watchdog.feed()` in the eval context calls. */
  feedWatchdog(): void;
  /** An OTA image was written to the inactive slot. */
  otaWritten(slot: string, version: string, state: OtaState): void;
  reset(mode: ResetMode): void;
}

export interface CommandServices {
  uploads: Uploads;
  evaluator: Evaluator;
  terminals: TerminalServer;
  dispatcher: Dispatcher;
}

export function createCommandServices(o: CommandServiceOptions): CommandServices {
  const { opts, deviceLog } = o;
  const log = deviceLog.logger('device');
  const uploads = createUploads({
    idleMs: opts.transferIdleMs ?? DEFAULTS.transferIdleMs,
    onIdleError: (e) => log.warn(`abandoning an idle transfer: ${errorMessage(e)}`),
  });
  const evaluator = createEvaluator({
    timeoutMs: opts.evalTimeoutMs ?? DEFAULTS.evalTimeoutMs,
    maxReply: Math.min(o.maxChunk, 32 * 1024),
    stray: (line) => deviceLog.logger('eval').info(line),
    root: o.jail.root,
    globals: {
      device: Object.freeze({
        prefix: opts.prefix,
        mode: o.mode,
        uptime: () => (Date.now() - o.startedAt) / 1000,
        log: (msg: unknown) => deviceLog.logger('app').info(String(msg)),
      }),
      // What the watchdog's self-feed calls, like the original's `watchdog.feed()`.
      watchdog: Object.freeze({ feed: () => o.feedWatchdog() }),
    },
  });

  // Interactive REPL sessions share the eval context (terminal/index.ts).
  const terminals = createTerminalServer({
    prefix: opts.prefix,
    context: evaluator.globals,
    broker: o.broker,
    maxChunk: o.maxChunk,
    send: (t, p) => o.send(t, p),
    log: deviceLog.logger('term'),
    evalTimeoutMs: opts.evalTimeoutMs ?? DEFAULTS.evalTimeoutMs,
    // mqtt-packet corks once per packet (uncorking on the next tick): undo every one of them.
    flushNow: () => {
      const s = o.client.stream as { writableCorked?: number; uncork?: () => void } | undefined;
      while (s?.uncork && (s.writableCorked ?? 0) > 0) s.uncork();
    },
  });

  const dispatcher = createDispatcher({
    prefix: opts.prefix,
    jail: o.jail,
    tmpDir: o.tmpDir,
    maxChunk: o.maxChunk,
    log: deviceLog.logger('mqrepl'),
    evaluator,
    uploads,
    acks: createAckRegistry(),
    get: { ackTimeoutMs: opts.ackTimeoutMs ?? DEFAULTS.ackTimeoutMs, publish: o.publish },
    ota: {
      store: o.store,
      maxImage: o.maxImage,
      unpack: slotUnpacker(o.store, o.maxImage),
      onWritten: (slot, version, state) => o.otaWritten(slot, version, state),
    },
    send: (t, p) => o.send(t, p),
    publish: o.publish,
    reset: (m) => o.reset(m),
    poison: new Set(o.poison),
    ...(opts.onCommand ? { onCommand: opts.onCommand } : {}),
  });
  return { uploads, evaluator, terminals, dispatcher };
}

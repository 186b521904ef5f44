// One handler per command behind one switch (style anchors, "one handler per message type").
// Runs inside mqtt.js's `handleMessage`, which holds back the next incoming packet until the
// returned promise settles: commands are handled strictly in arrival order, as on a board, and
// a slow disk slows the sender down through TCP. For the same reason nothing in here may await
// the PUBACK of its own publish (PUBACKs arrive through the pipeline it is holding): replies
// are sent without waiting, and anything that must await PUBACKs (get streams, long JSON
// replies) runs as a background task.
import {
  decodeAck,
  decodeResetOptions,
  encodeAck,
  encodeJson,
  encodeSingle,
  frameChunks,
  parseCommandTopic,
  utf8,
  decodeFrame,
  WATCHDOG_ID,
  type Frame,
  type ResetMode,
} from '../../protocol/src';
import type { AckRegistry } from './ack-gate';
import { handleOta, type OtaEnv } from './commands/ota';
import { handlePut } from './commands/put';
import { openGet, type GetEnv } from './commands/get';
import { isFileCommand, runFileCommand } from './commands/files';
import type { Evaluator } from './commands/eval';
import { DeviceError, errorMessage, ProtocolError } from './errors';
import type { InboundResult, Uploads } from './inbound';
import type { Jail } from './jail';
import type { Logger } from './log';

export interface DispatchEnv {
  prefix: string;
  jail: Jail;
  tmpDir: string;
  maxChunk: number;
  log: Logger;
  evaluator: Evaluator;
  uploads: Uploads;
  acks: AckRegistry;
  get: Omit<GetEnv, 'jail' | 'maxChunk' | 'acks'>;
  ota: Omit<OtaEnv, 'uploads' | 'tmpDir'>;
  /** Publishes without waiting for the PUBACK. */
  send(topic: string, payload: Uint8Array): void;
  /** Publishes and resolves on PUBACK; only for background tasks. */
  publish(topic: string, payload: Uint8Array): Promise<void>;
  /** Runs after the reset reply has been handed to the client. */
  reset(mode: ResetMode): void;
  /** Command ids to ignore: they were in progress when the runtime last died. */
  poison?: ReadonlySet<string>;
  /** Told the id of every command as it starts (the supervisor remembers the last ones). */
  onCommand?: (id: string) => void;
}

export interface Dispatcher {
  onMessage(topic: string, payload: Uint8Array, dup: boolean): Promise<void>;
}

const isSingleMessage = (f: Frame) => f.single || (f.seq === 0 && f.last);

export function createDispatcher(env: DispatchEnv): Dispatcher {
  // The original ignores dup-flagged commands right after a (re)start until the first
  // non-dup one: a command that crashed the board would otherwise be redelivered and crash it
  // again (wire facts, "The four native commands").
  let seenNonDup = false;
  // A redelivered upload is hundreds of messages: say so once per command, not per chunk.
  const warned = new Set<string>();
  const warnOnce = (id: string, msg: string) => {
    if (warned.has(id)) return;
    if (warned.size > 256) warned.clear();
    warned.add(id);
    env.log.warn(msg);
  };
  const outTopic = (id: string) => `${env.prefix}/mqb/reply/out/${id}`;
  const errTopic = (id: string) => `${env.prefix}/mqb/reply/err/${id}`;
  const replyOut = (id: string, body: Uint8Array) => env.send(outTopic(id), encodeSingle(body));
  // Errors go out as raw text without a header: that is what the original board sends and
  // what the original CLI prints.
  const replyErr = (id: string, text: string) => env.send(errTopic(id), utf8(text));

  const background = (what: string, task: () => Promise<void>) => {
    void task().catch((e: unknown) => env.log.warn(`${what}: ${errorMessage(e)}`));
  };

  const replyJson = (id: string, value: unknown) => {
    const bytes = encodeJson(value);
    if (bytes.length <= env.maxChunk) return replyOut(id, bytes);
    // Too big for one message: a numbered stream, sent from the background with PUBACKs awaited.
    background(`reply ${id}`, async () => {
      for (const f of frameChunks(bytes, env.maxChunk)) await env.publish(outTopic(id), f);
    });
  };

  const uploadResult = (cmd: string, id: string, tail: string, r: InboundResult) => {
    if (r.kind === 'ack') replyOut(id, encodeAck(r.seq));
    if (r.kind === 'done') {
      env.log.info(`${cmd} ${tail}: done`);
      replyOut(id, utf8(r.reply));
    }
  };

  const handle = async (cmd: string, id: string, tail: string, frame: Frame): Promise<void> => {
    switch (cmd) {
      case 'eval': {
        if (!isSingleMessage(frame)) throw new ProtocolError('only single message supported');
        const r = await env.evaluator.run(new TextDecoder().decode(frame.body));
        if (r.ok) replyOut(id, utf8(r.text));
        else replyErr(id, r.text);
        return;
      }
      case 'get': {
        if (!isSingleMessage(frame)) throw new ProtocolError('only single message supported');
        const stream = await openGet({ ...env.get, jail: env.jail, maxChunk: env.maxChunk, acks: env.acks }, id, tail, frame.body, outTopic(id));
        env.log.info(`get ${stream.device}: ${stream.size} bytes`);
        background(`get ${stream.device}`, stream.run);
        return;
      }
      case 'put':
        return uploadResult(cmd, id, tail, await handlePut({ jail: env.jail, uploads: env.uploads, tmpDir: env.tmpDir }, id, tail, frame));
      case 'ota':
        return uploadResult(cmd, id, tail, await handleOta({ ...env.ota, uploads: env.uploads, tmpDir: env.tmpDir }, id, tail, frame));
      case 'ack': {
        const seq = decodeAck(frame.body);
        if (seq === undefined) throw new ProtocolError('ack body must be "SEQ <n>"');
        env.acks.ack(id, seq);
        return;
      }
      case 'reset': {
        if (!isSingleMessage(frame)) throw new ProtocolError('only single message supported');
        const opts = decodeResetOptions(frame.body);
        if (!opts.ok) throw new DeviceError(opts.error);
        const mode = opts.value.mode;
        env.log.warn(`reset (${mode}) requested`);
        // A hard reset is immediate, like machine.reset(): no reply.
        // The reply is DoneReply-shaped, as docs/protocol.md specifies: `{"ok":true,"path":""}`.
        if (mode !== 'hard') replyJson(id, { ok: true, path: '' });
        env.reset(mode);
        return;
      }
      default:
        if (isFileCommand(cmd)) {
          if (!isSingleMessage(frame)) throw new ProtocolError('only single message supported');
          return replyJson(id, await runFileCommand(env.jail, cmd, tail, frame.body));
        }
        replyErr(id, `Command '${cmd}' not supported`);
    }
  };

  return {
    async onMessage(topic, payload, dup) {
      const addr = parseCommandTopic(env.prefix, topic);
      // Like the original: anything that is not a command, or has no 2-byte header, is ignored.
      if (!addr || payload.length < 2) return;
      if (dup && !seenNonDup) {
        warnOnce(addr.id, `ignoring redelivered ${addr.cmd} ${addr.id} after restart`);
        return;
      }
      seenNonDup = true;
      if (env.poison?.has(addr.id)) {
        warnOnce(addr.id, `ignoring ${addr.cmd} ${addr.id}: it was running when the runtime died`);
        return;
      }
      const decoded = decodeFrame(payload);
      if (!decoded.ok) return;
      const frame = decoded.value;
      const { cmd, id, tail } = addr;
      if (cmd !== 'ack' && (frame.single || frame.seq === 0)) {
        const line = `${cmd} ${id}${tail ? ` ${tail}` : ''}`;
        if (id === WATCHDOG_ID) env.log.debug(line);
        else {
          env.log.info(line);
          // The watchdog's fixed id is never remembered: ignoring it would starve the watchdog.
          env.onCommand?.(id);
        }
      }
      try {
        await handle(cmd, id, tail, frame);
      } catch (e) {
        if (e instanceof ProtocolError) {
          env.log.warn(`${cmd} ${id}: protocol error: ${e.message}`);
          replyErr(id, `MQRepl protocol error ${cmd}: ${e.message}`);
        } else if (e instanceof DeviceError) {
          env.log.warn(`${cmd} ${id}: ${e.message}`);
          replyErr(id, e.message);
        } else {
          // Unexpected: still answered, never fatal to the device. Node's messages may name host
          // paths; the root's location is not the host's business.
          const msg = errorMessage(e).split(env.jail.root).join('');
          env.log.error(`${cmd} ${id}: ${msg}`);
          replyErr(id, `Error: ${msg}`);
        }
      }
    },
  };
}

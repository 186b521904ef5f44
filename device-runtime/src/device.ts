// One simulated board: boots (state, eval context, broker connection), serves commands, and
// reboots in-process on `reset` unless a supervisor takes over (options.onReset).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import {
  commandSubscription,
  encodeJson,
  logTopic,
  statusTopic,
  type BootReason,
  type Mode,
  type OnlineStatus,
  type ResetMode,
} from '../../protocol/src';
import { createAckRegistry } from './ack-gate';
import { createEvaluator } from './commands/eval';
import { createDispatcher } from './dispatch';
import { errorMessage } from './errors';
import { createUploads } from './inbound';
import { openJail } from './jail';
import { createDeviceLog, type DeviceLog } from './log';
import { asBuffer, createMqttClient, publish, redactUrl } from './mqtt-client';
import { applyPending, otaStore } from './ota-slots';
import { DEFAULTS, type DeviceOptions } from './options';
import { offlineStatus, onlineStatus } from './status';

export interface DeviceHandle {
  prefix: string;
  root: string;
  /** Clean stop: publishes the retained offline status (reason shutdown), then disconnects. */
  stop(): Promise<void>;
  /** Abrupt stop: destroys the socket without DISCONNECT, so the broker fires the Last Will. */
  kill(): void;
  /** The status the device would publish now. */
  status(): OnlineStatus;
  /** Resolves when the device has (re)booted `n` times in total (the first boot is 1). */
  booted(n: number): Promise<void>;
  log: DeviceLog;
}

interface Session {
  client: MqttClient;
  status(): OnlineStatus;
  stop(reason: 'shutdown' | 'reset'): Promise<void>;
  kill(): void;
}

const CLOSE_TIMEOUT_MS = 3000;

export async function startDevice(opts: DeviceOptions): Promise<DeviceHandle> {
  const log = createDeviceLog({ ...(opts.echo ? { echo: opts.echo } : {}) });
  let boots = 0;
  const bootWaiters: Array<{ n: number; resolve: () => void }> = [];
  let stopped = false;
  let current: Session | undefined;

  const booted = () => {
    boots++;
    for (const w of [...bootWaiters]) {
      if (boots >= w.n) {
        bootWaiters.splice(bootWaiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  const reboot = (mode: ResetMode, session: Session) => {
    // Outside the message handler: the reset reply still has to leave, and a clean close waits
    // for outstanding PUBACKs.
    setImmediate(() => {
      void (async () => {
        if (mode === 'hard') session.kill();
        else await session.stop('reset');
        if (stopped) return;
        if (opts.onReset) return opts.onReset(mode);
        const reason: BootReason = mode === 'soft' ? 'soft' : 'command';
        const nextMode: Mode = mode === 'safe' ? 'safe' : mode === 'normal' ? 'normal' : (opts.mode ?? 'normal');
        current = await bootSession(opts, log, reason, nextMode, reboot, booted);
      })().catch((e: unknown) => log.logger('device').critical(`reboot failed: ${errorMessage(e)}`));
    });
  };

  current = await bootSession(opts, log, 'cold', opts.mode ?? 'normal', reboot, booted);
  return {
    prefix: opts.prefix,
    root: opts.root,
    log,
    async stop() {
      stopped = true;
      await current?.stop('shutdown');
    },
    kill() {
      stopped = true;
      current?.kill();
    },
    status: () => current!.status(),
    booted: (n) =>
      new Promise<void>((resolve) => {
        if (boots >= n) resolve();
        else bootWaiters.push({ n, resolve });
      }),
  };
}

async function bootSession(
  opts: DeviceOptions,
  deviceLog: DeviceLog,
  bootReason: BootReason,
  mode: Mode,
  reboot: (mode: ResetMode, s: Session) => void,
  booted: () => void,
): Promise<Session> {
  const log = deviceLog.logger('device');
  const startedAt = Date.now();
  const maxChunk = opts.maxChunk ?? DEFAULTS.maxChunk;
  const maxImage = opts.maxImage ?? DEFAULTS.maxImage;
  const jail = await openJail(opts.root);
  const tmpDir = path.join(jail.privateDir, 'tmp');
  // Temp files of transfers cut short by a crash or kill are worthless after a boot.
  await fs.rm(tmpDir, { recursive: true, force: true });
  await fs.mkdir(tmpDir, { recursive: true });

  const store = otaStore(jail.privateDir);
  let ota = await store.load();
  const applied = applyPending(ota);
  if (applied.action === 'switched') {
    ota = applied.state;
    await store.save(ota);
    bootReason = 'ota';
    log.warn(`booting OTA slot ${ota.active} (${ota.slots[ota.active]?.version ?? '?'})`);
  }
  const firmware = () => ota.slots[ota.active]?.version ?? opts.firmware ?? 'none';

  const status = (): OnlineStatus =>
    onlineStatus({ mode, bootReason, startedAt, firmware: firmware(), maxChunk, maxImage, ota });

  const client = createMqttClient({
    url: opts.url,
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    clientId: opts.clientId ?? `mqb-dev/${opts.prefix}`,
    keepaliveS: opts.keepaliveS ?? 30,
    reconnectPeriodMs: opts.reconnectPeriodMs ?? 1000,
    will: { topic: statusTopic(opts.prefix), payload: encodeJson(offlineStatus('lost', false)) },
  });

  const send = (topic: string, payload: Uint8Array, retain = false) => {
    // Errors here mean the client is closing; the reply is lost with the connection, which the
    // host sees as a timeout or disconnect. Logging it would only feed back into publishing.
    client.publish(topic, asBuffer(payload), { qos: 1, retain }, () => undefined);
  };
  const pub = (topic: string, payload: Uint8Array) => publish(client, topic, payload);

  const uploads = createUploads();
  const evaluator = createEvaluator({
    timeoutMs: opts.evalTimeoutMs ?? DEFAULTS.evalTimeoutMs,
    maxReply: Math.min(maxChunk, 32 * 1024),
    stray: (line) => deviceLog.logger('eval').info(line),
    globals: {
      device: Object.freeze({
        prefix: opts.prefix,
        uptime: () => (Date.now() - startedAt) / 1000,
        log: (msg: unknown) => deviceLog.logger('app').info(String(msg)),
      }),
    },
  });

  const dispatcher = createDispatcher({
    prefix: opts.prefix,
    jail,
    tmpDir,
    maxChunk,
    log: deviceLog.logger('mqrepl'),
    evaluator,
    uploads,
    acks: createAckRegistry(),
    get: { ackTimeoutMs: opts.ackTimeoutMs ?? DEFAULTS.ackTimeoutMs, publish: pub },
    ota: {
      store,
      maxImage,
      versionOf: async () => null,
      onWritten: (slot, version) => {
        log.info(`OTA image ${version} written to slot ${slot}, boots on next reset`);
        void store.load().then((s) => (ota = s));
      },
    },
    send: (t, p) => send(t, p),
    publish: pub,
    reset: (m) => reboot(m, session),
  });

  client.handleMessage = (packet, done) => {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    dispatcher.onMessage(packet.topic, payload, packet.dup === true).then(
      () => done(),
      () => done(), // onMessage handles its own errors; a bad message never stops the pipeline
    );
  };

  const publishStatus = () => send(statusTopic(opts.prefix), encodeJson(status()), true);
  let lastError = '';
  let everConnected = false;
  const connected = new Promise<void>((resolve) => {
    client.on('connect', () => {
      lastError = '';
      client.subscribe(commandSubscription(opts.prefix), { qos: 1 }, (err) => {
        if (err) {
          log.error(`subscribe failed: ${err.message}`);
          return;
        }
        publishStatus();
        deviceLog.attach((line) => publish(client, logTopic(opts.prefix), line));
        if (!everConnected) log.info(`connected to ${redactUrl(opts.url)} as ${opts.prefix} (${mode} mode, boot: ${bootReason})`);
        else log.info('reconnected');
        everConnected = true;
        resolve();
      });
    });
  });
  client.on('close', () => deviceLog.detach());
  client.on('error', (e) => {
    // mqtt.js retries every reconnectPeriod; log each distinct error once, never the password.
    if (e.message !== lastError) log.warn(`broker: ${e.message}`);
    lastError = e.message;
  });

  const statusTimer = setInterval(() => client.connected && publishStatus(), opts.statusIntervalMs ?? DEFAULTS.statusIntervalMs);
  const sweepTimer = setInterval(() => void uploads.sweep(opts.transferIdleMs ?? DEFAULTS.transferIdleMs), 10_000);
  statusTimer.unref();
  sweepTimer.unref();

  let closed = false;
  const teardown = () => {
    closed = true;
    clearInterval(statusTimer);
    clearInterval(sweepTimer);
    void uploads.abortAll();
  };

  const session: Session = {
    client,
    status,
    async stop(reason) {
      if (closed) return;
      teardown();
      if (client.connected) {
        await withTimeout(publish(client, statusTopic(opts.prefix), encodeJson(offlineStatus(reason)), true), CLOSE_TIMEOUT_MS);
        await withTimeout(deviceLog.flushed(), CLOSE_TIMEOUT_MS);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          client.end(true);
          resolve();
        }, CLOSE_TIMEOUT_MS);
        client.end(false, () => {
          clearTimeout(t);
          resolve();
        });
      });
      deviceLog.detach();
    },
    kill() {
      if (closed) return;
      teardown();
      // Destroy the socket first: end(true) would not send DISCONNECT either, but this makes the
      // point explicit — the broker must see a broken connection and publish the Will.
      client.stream?.destroy();
      client.end(true);
      deviceLog.detach();
    },
  };

  log.info(`boot: ${bootReason}, mode ${mode}, firmware ${firmware()}`);
  if (opts.waitConnected !== false) await connected;
  booted();
  return session;
}

async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((r) => (t = setTimeout(r, ms)))]);
  clearTimeout(t);
}

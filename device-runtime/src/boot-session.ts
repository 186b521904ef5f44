// One boot of the device, from reading its state to serving commands: the broker connection
// with its Last Will, the watchdog fed through the broker, the command dispatcher, terminal
// sessions and eval context, the application's modules, and the sleep cycle when it has one.
// It ends in a clean stop, a kill, or a reboot it asks the device for (device.ts).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { crashTopic, encodeCrashList, encodeJson, statusTopic, type OnlineStatus } from '../../protocol/src';
import { recordBootFailure, startApp } from './app-start';
import { readBootState } from './boot-state';
import { CLOSE_TIMEOUT_MS, endClient, withTimeout } from './client-close';
import { onConnectionEvents, runHooks } from './connection-events';
import { createCommandServices } from './command-services';
import { crashLog } from './crash-log';
import { startDeviceSleep } from './device-sleep';
import { errorMessage } from './errors';
import { openJail } from './jail';
import type { DeviceLog } from './log';
import { routeMessages } from './message-router';
import { moduleMqtt, newHooks } from './modules';
import { asBuffer, createMqttClient, publish } from './mqtt-client';
import { confirmSlot } from './ota-slots';
import { DEFAULTS, type DeviceOptions } from './options';
import { sayStatusOnce } from './one-off-status';
import type { Reboot } from './reboot';
import type { SleepCycle } from './sleep-cycle';
import { hostFreeMem, offlineStatus, onlineStatus, simulatedFreeMem } from './status';
import { feedCommand, startBrokerWatchdog, timerWatchdog, type HardwareWatchdog } from './watchdog';

/**
 * What startDevice takes: DeviceOptions, plus `simulatedRamBytes`: the RAM of the board this
 * device stands in for (e.g. 327680 for an ESP32's 320 KiB). With it the status reports a
 * simulated, plausible free-memory figure instead of the host's.
 */
export type StartOptions = DeviceOptions & { simulatedRamBytes?: number };

export interface Session {
  client: MqttClient;
  status(): OnlineStatus;
  stop(reason: 'shutdown' | 'reset'): Promise<void>;
  kill(): void;
  /** Whether this session has ended (stopped, killed or rebooted). */
  ended(): boolean;
}

/** What a boot gets from the device it runs on. */
export interface Boot {
  opts: StartOptions;
  log: DeviceLog;
  generation: number;
  reboot(r: Reboot, s: Session): void;
}

export async function bootSession(b: Boot): Promise<Session> {
  const { opts } = b;
  const deviceLog = b.log;
  const log = deviceLog.logger('device');
  const startedAt = Date.now();
  const maxChunk = opts.maxChunk ?? DEFAULTS.maxChunk;
  const maxImage = opts.maxImage ?? DEFAULTS.maxImage;
  const jail = await openJail(opts.root);
  const tmpDir = path.join(jail.privateDir, 'tmp');
  // Temp files of transfers cut short by a crash or kill are worthless after a boot.
  await fs.rm(tmpDir, { recursive: true, force: true });
  await fs.mkdir(tmpDir, { recursive: true });
  const crashes = crashLog(jail.root);
  const boot = await readBootState(jail, opts.mode, log);
  const { decision, mode, bootReason, rtc, store, config, tags } = boot;
  const moduleFailures = boot.failures;
  let ota = boot.ota;

  const firmware = () => ota.slots[ota.active]?.version ?? opts.firmware ?? 'none';
  let crashCount = (await crashes.list()).length;
  // What actually started this boot; named in the status so nobody has to guess which code runs.
  let startedModules: string[] = [];
  const ram = opts.simulatedRamBytes;

  const status = (): OnlineStatus =>
    onlineStatus({
      mode,
      bootReason,
      bootCount: decision.bootCount,
      startedAt,
      firmware: firmware(),
      maxChunk,
      maxImage,
      ota,
      crashes: crashCount,
      freeMem: ram !== undefined ? simulatedFreeMem(ram, Date.now() - startedAt) : hostFreeMem(),
      ...(mode === 'normal' ? { modules: startedModules } : {}),
      ...(tags ? { tags } : {}),
    });

  // One broker and one set of credentials: the device's connection, and a terminal's interrupt helper.
  const broker = {
    url: opts.url,
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    clientId: opts.clientId ?? `mqb-dev/${opts.prefix}`,
  };
  const client = createMqttClient({
    ...broker,
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

  // --- watchdog, fed through the broker -------------------------------------------------
  // eslint-disable-next-line prefer-const -- assigned once the session exists, used by callbacks
  let session: Session;
  const hw: HardwareWatchdog = opts.hardwareWatchdog ?? timerWatchdog(() => {
    log.critical('watchdog expired: no feed through the broker');
    b.reboot({ kind: 'watchdog' }, session);
  });
  const reachAllOk = async () => {
    // A boot whose modules failed is not good, however well it feeds: its slot stays on trial,
    // so the module-failure reboot rolls it back instead of keeping a broken update.
    if (!ota.confirmed && moduleFailures.length === 0) {
      ota = confirmSlot(await store.load());
      await store.save(ota);
      log.info(`slot ${ota.active} confirmed`);
    }
    if (moduleFailures.length === 0) await rtc.update((s) => ({ ...s, failedBoots: 0 }));
    log.info(`all OK after ${Math.round((Date.now() - startedAt) / 1000)} s`);
    publishStatus();
    if (mode === 'safe' && config.watchdog.revert) {
      log.warn('safe mode with revert: resetting into normal mode');
      b.reboot({ kind: 'revert' }, session);
    }
  };
  const watchdog = startBrokerWatchdog({
    config: config.watchdog,
    hw,
    startedAt,
    publishFeed: () => {
      if (!client.connected) return;
      const f = feedCommand(opts.prefix);
      send(f.topic, f.payload);
    },
    onAllOk: reachAllOk,
    onError: (e) => log.error(`all-OK: ${errorMessage(e)}`),
  });

  // --- commands ---------------------------------------------------------------------------
  const { uploads, terminals, dispatcher } = createCommandServices({
    opts,
    broker,
    client,
    jail,
    tmpDir,
    mode,
    startedAt,
    maxChunk,
    maxImage,
    deviceLog,
    store,
    poison: decision.poison,
    send: (t, p) => send(t, p),
    publish: pub,
    feedWatchdog: () => void watchdog.feed(),
    otaWritten: (slot, version, state) => {
      log.warn(`OTA image ${version} written to slot ${slot}, boots on next reset`);
      ota = state;
      publishStatus();
    },
    reset: (m) => b.reboot({ kind: 'reset', mode: m }, session),
  });

  // --- application modules ------------------------------------------------------------------
  const hooks = newHooks();
  // The sleep cycle commands keep awake (set further down).
  let cycle: SleepCycle | undefined;
  const router = routeMessages({
    client,
    prefix: opts.prefix,
    terminals,
    dispatcher,
    hooks,
    appLog: deviceLog.logger('app'),
    activity: () => cycle?.activity(),
  });

  const moduleApi = (name: string) => moduleMqtt(client, opts.prefix, hooks, deviceLog.logger(name.slice(0, 8)));

  // --- connection -----------------------------------------------------------------------------
  // Nothing says "online" once the device has announced its sleep.
  const publishStatus = () => client.connected && (cycle?.state() ?? 'awake') === 'awake' && send(statusTopic(opts.prefix), encodeJson(status()), true);
  const publishCrashes = async () => {
    const list = await crashes.list();
    crashCount = list.length;
    // Only the newest records that fit the host's size cap go out; the full ones stay in /crash.
    if (list.length) send(crashTopic(opts.prefix), encodeCrashList(list.slice(-10)), true);
  };
  // Init hooks run once both the first connection is up and every module has had its start()
  // (modules start while the client connects, so either may come first).
  let modulesStarted!: () => void;
  const modulesReady = new Promise<void>((r) => (modulesStarted = r));
  const connected = onConnectionEvents({
    client,
    prefix: opts.prefix,
    url: opts.url,
    mode,
    bootReason,
    subscriptions: terminals.subscriptions,
    hooks,
    modulesReady,
    publishStatus,
    publishCrashes,
    send: (t, p) => send(t, p),
    cycle: () => cycle,
    ended: () => closed,
    deviceLog,
    log,
  });

  const statusTimer = setInterval(publishStatus, opts.statusIntervalMs ?? DEFAULTS.statusIntervalMs);
  statusTimer.unref();

  if (opts.sleepCycleMs !== undefined) {
    cycle = startDeviceSleep({
      sleepMs: opts.sleepCycleMs,
      awakeMs: opts.awakeMs ?? DEFAULTS.awakeMs,
      prefix: opts.prefix,
      client,
      watchdog,
      busy: () => router.inFlight() > 0 || uploads.active() > 0 || terminals.size() > 0,
      status,
      send,
      deviceLog,
      log,
    });
  }

  let closed = false;
  // The reboot after a failed module start, due unless something else reboots first.
  let retry: NodeJS.Timeout | undefined;
  const teardown = () => {
    closed = true;
    clearTimeout(retry);
    cycle?.stop();
    clearInterval(statusTimer);
    watchdog.stop();
    uploads.abortAll().catch((e: unknown) => log.warn(`aborting transfers: ${errorMessage(e)}`));
    terminals.closeAll('device stopping').catch((e: unknown) => log.warn(`closing terminals: ${errorMessage(e)}`));
    void runHooks('stop', hooks.stopHooks, deviceLog.logger('app'));
  };

  session = {
    client,
    status,
    ended: () => closed,
    async stop(reason) {
      if (closed) return;
      const asleep = cycle !== undefined && cycle.state() !== 'awake';
      teardown();
      if (client.connected && !client.disconnecting) {
        await withTimeout(publish(client, statusTopic(opts.prefix), encodeJson(offlineStatus(reason)), true), CLOSE_TIMEOUT_MS);
        await withTimeout(deviceLog.flushed(), CLOSE_TIMEOUT_MS);
      } else if (asleep && reason === 'shutdown') {
        // Its status says it will wake; a device that will not must not leave that behind. Said
        // once its own connection is closed, so it comes after the sleep status, and over a
        // one-off clean session: waking the persistent one would take delivery of queued commands.
        await endClient(client);
        await sayStatusOnce(opts, offlineStatus(reason), CLOSE_TIMEOUT_MS).catch(() => undefined);
      }
      await endClient(client);
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

  log.info(`boot #${decision.bootCount}: ${bootReason}, ${mode} mode, slot ${ota.active} (${firmware()})`);
  if (boot.otaAction === 'rolled-back') log.error(`slot ${boot.previousSlot} was never confirmed: rolled back to slot ${ota.active}`);

  if (mode === 'normal') {
    const r = await startApp({ root: jail.root, store, ota, config, apiFor: moduleApi, log, launcherLog: deviceLog.logger('launcher'), generation: b.generation });
    moduleFailures.push(...r.failed);
    startedModules = r.started;
  }
  modulesStarted();
  // The status sent at connect may predate the modules: say which ones run now.
  publishStatus();
  if (moduleFailures.length) {
    if (await recordBootFailure(crashes, { bootCount: decision.bootCount, mode, failures: moduleFailures, recent: deviceLog.recent() }, log)) {
      crashCount++;
      // A host watching this boot (a rollout's gate) hears of the failure now, not at the
      // next connection; if we are not connected yet, the connection publishes it.
      if (client.connected) {
        await publishCrashes().catch((e: unknown) => log.error(`crash records not published: ${errorMessage(e)}`));
        publishStatus();
      }
    }
    // Like a board whose imports fail: reboot, and after maxFailedBoots such boots in a row
    // come up in safe mode. Meanwhile the rest of the device keeps working.
    retry = setTimeout(() => b.reboot({ kind: 'module-failure' }, session), opts.moduleRetryMs ?? DEFAULTS.moduleRetryMs);
    retry.unref();
  }

  if (opts.waitConnected !== false) await connected;
  return session;
}


// One simulated board: boots (RTC memory and OTA state decide mode and slot, eval context,
// broker connection, application modules, watchdog), serves commands, and reboots on `reset`,
// a watchdog expiry or a failed module start: in-process, or through a supervisor that runs it
// as a child process (options.onReset / options.hardwareWatchdog).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import {
  commandSubscription,
  crashTopic,
  encodeCrashList,
  encodeJson,
  logTopic,
  parseCommandTopic,
  redactUrl,
  statusTopic,
  WATCHDOG_ID,
  type BootReason,
  type OnlineStatus,
  type ResetMode,
} from '../../protocol/src';
import { createAckRegistry } from './ack-gate';
import type { Manifest } from './bundle';
import { createEvaluator } from './commands/eval';
import { crashLog } from './crash-log';
import { configPath, readDeviceConfig, type DeviceConfig } from './device-config';
import { createDispatcher } from './dispatch';
import { errorMessage } from './errors';
import { createUploads } from './inbound';
import { openJail } from './jail';
import { createDeviceLog, type DeviceLog } from './log';
import { moduleMqtt, newHooks, startModules, type ModuleFailure } from './modules';
import { asBuffer, createMqttClient, publish } from './mqtt-client';
import { confirmSlot, otaBoot, otaStore, slotManifest, slotUnpacker } from './ota-slots';
import { DEFAULTS, type DeviceOptions } from './options';
import { decideBoot, rtcMemory, type RtcState } from './rtc';
import { startSleepCycle, type SleepCycle } from './sleep-cycle';
import { hostFreeMem, offlineStatus, onlineStatus, simulatedFreeMem, sleepStatus } from './status';
import { createTerminalServer } from './terminal';
import { feedCommand, startBrokerWatchdog, timerWatchdog, type HardwareWatchdog } from './watchdog';
import { sayStatusOnce } from './one-off-status';

export interface DeviceHandle {
  prefix: string;
  root: string;
  /** Clean stop: publishes the retained offline status (reason shutdown), then disconnects. */
  stop(): Promise<void>;
  /** Abrupt stop: destroys the socket without DISCONNECT, so the broker fires the Last Will. */
  kill(): void;
  /** The status the device would publish now. */
  status(): OnlineStatus;
  /** Resolves when the device has booted `n` times in total since it was started (first boot: 1). */
  booted(n: number): Promise<void>;
  log: DeviceLog;
}

/** Why a running session ends and how the next boot should see it. */
type Reboot = { kind: 'reset'; mode: ResetMode } | { kind: 'watchdog' } | { kind: 'module-failure' } | { kind: 'revert' };

interface Session {
  client: MqttClient;
  status(): OnlineStatus;
  stop(reason: 'shutdown' | 'reset'): Promise<void>;
  kill(): void;
  /** Whether this session has ended (stopped, killed or rebooted). */
  ended(): boolean;
}

interface Boot {
  opts: StartOptions;
  log: DeviceLog;
  generation: number;
  reboot(r: Reboot, s: Session): void;
}

const CLOSE_TIMEOUT_MS = 3000;

/**
 * What startDevice takes: DeviceOptions, plus `simulatedRamBytes`: the RAM of the board this
 * device stands in for (e.g. 327680 for an ESP32's 320 KiB). With it the status reports a
 * simulated, plausible free-memory figure instead of the host's.
 */
export type StartOptions = DeviceOptions & { simulatedRamBytes?: number };

export async function startDevice(opts: StartOptions): Promise<DeviceHandle> {
  const log = opts.log ?? createDeviceLog({ ...(opts.echo ? { echo: opts.echo } : {}) });
  let boots = 0;
  const bootWaiters: Array<{ n: number; resolve: () => void }> = [];
  let stopped = false;
  let current: Session | undefined;
  let rebooting = false;

  // Power on: RTC memory does not survive it. A supervised child keeps it: the supervisor
  // powered on, the child is just the next boot.
  if (opts.coldStart !== false) {
    const jail = await openJail(opts.root);
    await rtcMemory(jail.privateDir).clear();
  }

  const reboot = (r: Reboot, session: Session) => {
    // A session that has ended cannot reboot the device: a reboot it asked for late (its retry
    // after a failed module start, say, when a reset came first) would boot a second session
    // beside the one running, two clients taking the device's connection from each other.
    if (rebooting || stopped || session.ended()) return;
    rebooting = true;
    // Outside the message handler: the reset reply still has to leave, and a clean close waits
    // for outstanding PUBACKs.
    setImmediate(() => {
      void (async () => {
        const jail = await openJail(opts.root);
        await rtcMemory(jail.privateDir).update((s) => rtcForReboot(s, r));
        if (r.kind === 'watchdog' || (r.kind === 'reset' && r.mode === 'hard')) session.kill();
        else await session.stop('reset');
        if (stopped) return;
        if (opts.onReset) return opts.onReset(r.kind === 'reset' ? r.mode : 'soft');
        // A boot that fails (disk trouble, say) is retried with growing pauses, as a board that
        // keeps resetting would: the device must come back by itself once the cause is gone.
        for (let attempt = 1; !stopped; attempt++) {
          try {
            current = await bootSession(boot);
            booted();
            return;
          } catch (e) {
            log.logger('device').critical(`boot failed (attempt ${attempt}): ${errorMessage(e)}`);
            await new Promise((res) => setTimeout(res, Math.min(500 * attempt, 10_000)));
          }
        }
      })()
        .catch((e: unknown) => log.logger('device').critical(`reboot failed: ${errorMessage(e)}`))
        .finally(() => (rebooting = false));
    });
  };
  const boot: Boot = { opts, log, generation: 0, reboot };

  const booted = () => {
    boots++;
    boot.generation = boots;
    for (const w of [...bootWaiters]) {
      if (boots >= w.n) {
        bootWaiters.splice(bootWaiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  current = await bootSession(boot);
  booted();
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

/** What the RTC memory says after each kind of reboot. */
function rtcForReboot(s: RtcState, r: Reboot): RtcState {
  switch (r.kind) {
    case 'reset':
      if (r.mode === 'soft') return { ...s, resetReason: 'soft' };
      if (r.mode === 'hard') return { ...s, resetReason: 'command' };
      return { ...s, resetReason: 'command', request: r.mode };
    case 'watchdog':
      return { ...s, resetReason: 'watchdog' };
    case 'module-failure':
      return { ...s, resetReason: 'crash' };
    case 'revert':
      return { ...s, resetReason: 'command', request: 'normal' };
  }
}

async function bootSession(b: Boot): Promise<Session> {
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
  const moduleFailures: ModuleFailure[] = [];

  // The normal config also says how many failed boots lead to safe mode; if it is broken,
  // that counts against this boot like a module that fails to start.
  let normalConfig: DeviceConfig | undefined;
  try {
    normalConfig = await readDeviceConfig(configPath(jail.root, false));
  } catch (e) {
    moduleFailures.push({ name: 'config.json', error: errorMessage(e) });
  }
  const rtc = rtcMemory(jail.privateDir);
  const { decision, next } = decideBoot(await rtc.load(), normalConfig?.maxFailedBoots ?? 3, opts.mode ?? 'normal');
  await rtc.save(next);
  const mode = decision.mode;
  let bootReason: BootReason = decision.reason;

  const store = otaStore(jail.privateDir);
  const ota0 = await store.load();
  const ob = otaBoot(ota0);
  let ota = ob.state;
  if (ob.action !== 'none' || ota0.pending !== ota.pending) await store.save(ota);
  if (ob.action === 'switched') bootReason = 'ota';
  if (ob.action === 'rolled-back') bootReason = 'rollback';

  let config: DeviceConfig;
  if (mode === 'safe') {
    try {
      config = await readDeviceConfig(configPath(jail.root, true));
    } catch (e) {
      // Safe mode must come up whatever its config says.
      log.error(`safemode/config.json ignored: ${errorMessage(e)}`);
      config = await readDeviceConfig('');
    }
  } else {
    config = normalConfig ?? (await readDeviceConfig(''));
  }
  const firmware = () => ota.slots[ota.active]?.version ?? opts.firmware ?? 'none';
  // Tags say which device this is, whatever mode it runs in: a device in safe mode must still be
  // found by them, so its normal config's tags count unless the safe-mode config has its own.
  const tags = config.tags ?? normalConfig?.tags;
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
  const uploads = createUploads({
    idleMs: opts.transferIdleMs ?? DEFAULTS.transferIdleMs,
    onIdleError: (e) => log.warn(`abandoning an idle transfer: ${errorMessage(e)}`),
  });
  const evaluator = createEvaluator({
    timeoutMs: opts.evalTimeoutMs ?? DEFAULTS.evalTimeoutMs,
    maxReply: Math.min(maxChunk, 32 * 1024),
    stray: (line) => deviceLog.logger('eval').info(line),
    root: jail.root,
    globals: {
      device: Object.freeze({
        prefix: opts.prefix,
        mode,
        uptime: () => (Date.now() - startedAt) / 1000,
        log: (msg: unknown) => deviceLog.logger('app').info(String(msg)),
      }),
      // What the watchdog's self-feed calls, like the original's `watchdog.feed()`.
      watchdog: Object.freeze({ feed: () => void watchdog.feed() }),
    },
  });

  // Interactive REPL sessions share the eval context (terminal/index.ts).
  const terminals = createTerminalServer({
    prefix: opts.prefix,
    context: evaluator.globals,
    broker: {
      url: opts.url,
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      clientId: opts.clientId ?? `mqb-dev/${opts.prefix}`,
    },
    maxChunk,
    send: (t, p) => send(t, p),
    log: deviceLog.logger('term'),
    evalTimeoutMs: opts.evalTimeoutMs ?? DEFAULTS.evalTimeoutMs,
    // mqtt-packet corks once per packet (uncorking on the next tick): undo every one of them.
    flushNow: () => {
      const s = client.stream as { writableCorked?: number; uncork?: () => void } | undefined;
      while (s?.uncork && (s.writableCorked ?? 0) > 0) s.uncork();
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
      unpack: slotUnpacker(store, maxImage),
      onWritten: (slot, version, state) => {
        log.warn(`OTA image ${version} written to slot ${slot}, boots on next reset`);
        ota = state;
        publishStatus();
      },
    },
    send: (t, p) => send(t, p),
    publish: pub,
    reset: (m) => b.reboot({ kind: 'reset', mode: m }, session),
    poison: new Set(decision.poison),
    ...(opts.onCommand ? { onCommand: opts.onCommand } : {}),
  });

  // --- application modules ------------------------------------------------------------------
  const hooks = newHooks();
  // Commands being handled now, and the sleep cycle they keep awake (set further down).
  let inFlight = 0;
  let cycle: SleepCycle | undefined;
  client.handleMessage = (packet, done) => {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (terminals.handles(packet.topic)) {
      cycle?.activity();
      // Released first: an evaluation may run long, and must not hold the packet pipeline.
      done();
      terminals.onMessage(packet.topic, payload);
      return;
    }
    const addr = parseCommandTopic(opts.prefix, packet.topic);
    if (addr) {
      // The device's own watchdog feed is not work: it must not keep a sleeper awake.
      const work = addr.id !== WATCHDOG_ID;
      if (work) {
        inFlight++;
        cycle?.activity();
      }
      dispatcher
        .onMessage(packet.topic, payload, packet.dup === true)
        .catch(() => undefined) // onMessage handles its own errors; a bad message never stops the pipeline
        .finally(() => {
          if (work) {
            inFlight--;
            cycle?.activity();
          }
          done();
        });
      return;
    }
    // Module handlers run without holding up the pipeline; their failures are theirs.
    for (const h of hooks.messageHandlers) {
      try {
        void Promise.resolve(h(packet.topic, payload, packet.retain, packet.qos, packet.dup)).catch((e: unknown) =>
          deviceLog.logger('app').error(`message handler: ${errorMessage(e)}`),
        );
      } catch (e) {
        deviceLog.logger('app').error(`message handler: ${errorMessage(e)}`);
      }
    }
    done();
  };

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
  const runHooks = (what: string, fns: Array<() => unknown>) =>
    (async () => {
      for (const f of fns) {
        try {
          await f();
        } catch (e) {
          deviceLog.logger('app').error(`${what} hook: ${errorMessage(e)}`);
        }
      }
    })();

  // Init hooks run once both the first connection is up and every module has had its start()
  // (modules start while the client connects, so either may come first).
  let modulesStarted!: () => void;
  const modulesReady = new Promise<void>((r) => (modulesStarted = r));
  let lastError = '';
  let everConnected = false;
  const connected = new Promise<void>((resolve) => {
    client.on('connect', () => {
      lastError = '';
      // Status and logs first, not in the SUBACK callback: with a persistent session, redelivered
      // commands can arrive before the SUBACK and hold the packet pipeline for a while.
      publishStatus();
      void publishCrashes();
      deviceLog.attach((line) => publish(client, logTopic(opts.prefix), line));
      client.subscribe([commandSubscription(opts.prefix), ...terminals.subscriptions], { qos: 1 }, (err) => {
        if (err) {
          log.error(`subscribe failed: ${err.message}`);
          return;
        }
        if (!everConnected) {
          log.info(`connected to ${redactUrl(opts.url)} as ${opts.prefix} (${mode} mode, boot: ${bootReason})`);
          void modulesReady
            .then(() => runHooks('init', hooks.initHooks))
            .then(() => runHooks('connect', hooks.connectHooks.map((f) => () => f(true))));
        } else {
          log.info(cycle ? 'awake' : 'reconnected');
          void runHooks('connect', hooks.connectHooks.map((f) => () => f(true)));
        }
        everConnected = true;
        if (cycle) {
          // A wake may be shorter than the feed period: feed at once, so a sleeper's watchdog
          // is fed every wake and its boot can still reach all-OK (and confirm an update).
          const f = feedCommand(opts.prefix);
          send(f.topic, f.payload);
          cycle.activity();
        }
        resolve();
      });
    });
  });
  client.on('close', () => {
    deviceLog.detach();
    if (everConnected && !closed) void runHooks('connect', hooks.connectHooks.map((f) => () => f(false)));
  });
  client.on('error', (e) => {
    // mqtt.js retries every reconnectPeriod; log each distinct error once, never the password.
    if (e.message !== lastError) log.warn(`broker: ${e.message}`);
    lastError = e.message;
  });

  const statusTimer = setInterval(publishStatus, opts.statusIntervalMs ?? DEFAULTS.statusIntervalMs);
  statusTimer.unref();

  const endClient = () =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        client.end(true);
        resolve();
      }, CLOSE_TIMEOUT_MS);
      client.end(false, () => {
        clearTimeout(t);
        resolve();
      });
    });

  if (opts.sleepCycleMs !== undefined) {
    const sleepMs = opts.sleepCycleMs;
    const busy = () => inFlight > 0 || uploads.active() > 0 || terminals.size() > 0;
    cycle = startSleepCycle({
      sleepMs,
      awakeMs: opts.awakeMs ?? DEFAULTS.awakeMs,
      busy,
      async sleep(wakeAt) {
        log.info(`going to sleep for ${Math.round(sleepMs / 100) / 10} s`);
        watchdog.pause();
        // A board that could not reach the broker in its wake sleeps all the same, and tries again next time.
        if (client.connected) {
          await withTimeout(publish(client, statusTopic(opts.prefix), encodeJson(sleepStatus(wakeAt)), true), CLOSE_TIMEOUT_MS);
          await withTimeout(deviceLog.flushed(), CLOSE_TIMEOUT_MS);
          // A command that came in while it said goodbye is served first: disconnecting now would
          // lose its reply, and the broker would hand it over again at the next wake.
          if (busy() && client.connected) {
            log.info('work arrived: staying awake');
            watchdog.resume();
            send(statusTopic(opts.prefix), encodeJson(status()), true);
            return 'stayed';
          }
        }
        // A clean DISCONNECT: no Last Will, and the persistent session keeps what is sent meanwhile.
        await endClient();
        return 'asleep';
      },
      wake() {
        watchdog.resume();
        client.reconnect();
      },
      onError: (e) => log.error(`sleep cycle: ${errorMessage(e)}`),
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
    void runHooks('stop', hooks.stopHooks);
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
        await endClient();
        await sayStatusOnce(opts, offlineStatus(reason), CLOSE_TIMEOUT_MS).catch(() => undefined);
      }
      await endClient();
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
  if (ob.action === 'rolled-back') log.error(`slot ${ota0.active} was never confirmed: rolled back to slot ${ota.active}`);

  if (mode === 'normal') {
    const manifest = ota.slots[ota.active] ? await slotManifest(store, ota.active) : undefined;
    const names = modulesToStart(config, manifest, (m) => log.warn(m));
    const dirs = [...(manifest ? [store.slotDir(ota.active)] : []), path.join(jail.root, 'lib'), path.join(jail.root, 'src')];
    const r = await startModules(names, dirs, (n) => config[n], moduleApi, deviceLog.logger('launcher'), b.generation);
    moduleFailures.push(...r.failed);
    startedModules = r.started;
    log.info(`modules started: ${r.started.length ? r.started.join(', ') : 'none'}${r.failed.length ? ` (failed: ${r.failed.map((f) => f.name).join(', ')})` : ''}`);
  }
  modulesStarted();
  // The status sent at connect may predate the modules: say which ones run now.
  publishStatus();
  if (moduleFailures.length) {
    // Nothing after the client exists may throw out of the boot (it would leave the client
    // running beside the next attempt's); a record we cannot write is only logged.
    await crashes
      .add({
        bootCount: decision.bootCount,
        mode,
        reason: 'boot-failure',
        message: moduleFailures.map((f) => `${f.name}: ${f.error}`).join('; '),
        ...(moduleFailures[0]?.stack ? { stack: moduleFailures[0].stack } : {}),
        log: deviceLog.recent(),
      })
      .then(
        async () => {
          crashCount++;
          // A host watching this boot (a rollout's gate) hears of the failure now, not at the
          // next connection; if we are not connected yet, the connection publishes it.
          if (client.connected) {
            await publishCrashes().catch((e: unknown) => log.error(`crash records not published: ${errorMessage(e)}`));
            publishStatus();
          }
        },
        (e: unknown) => log.error(`crash record not written: ${errorMessage(e)}`),
      );
    // Like a board whose imports fail: reboot, and after maxFailedBoots such boots in a row
    // come up in safe mode. Meanwhile the rest of the device keeps working.
    retry = setTimeout(() => b.reboot({ kind: 'module-failure' }, session), opts.moduleRetryMs ?? DEFAULTS.moduleRetryMs);
    retry.unref();
  }

  if (opts.waitConnected !== false) await connected;
  return session;
}

/**
 * The modules a normal boot starts. An installed app bundle is the application: an update must
 * run the modules it ships, so its manifest wins over the config's list (which would otherwise
 * keep starting the old code under the new version number). Without a bundle, the config's list
 * names modules in /lib and /src.
 */
export function modulesToStart(config: Pick<DeviceConfig, 'modules'>, manifest: Manifest | undefined, warn: (msg: string) => void): string[] {
  if (!manifest) return config.modules ?? [];
  const ignored = (config.modules ?? []).filter((m) => !manifest.modules.includes(m));
  if (config.modules && ignored.length) {
    warn(`config.json modules ${ignored.join(', ')} not started: app bundle ${manifest.name} ${manifest.version} ships ${manifest.modules.join(', ') || 'no modules'}`);
  }
  return manifest.modules;
}

async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((r) => (t = setTimeout(r, ms)))]);
  clearTimeout(t);
}

// What one boot does at each connect, disconnect and broker error: at every connect, the status,
// crash records and buffered log lines go out and the command (and terminal) subscriptions are
// made; the application's init hooks run once, after the first connection and the modules'
// start; connect hooks run at every connect and disconnect.
import type { MqttClient } from 'mqtt';
import { commandSubscription, logTopic, redactUrl } from '../../protocol/src';
import { errorMessage } from './errors';
import type { DeviceLog, Logger } from './log';
import type { ModuleHooks } from './modules';
import { publish } from './mqtt-client';
import type { SleepCycle } from './sleep-cycle';
import { feedCommand } from './watchdog';

export interface ConnectionEvents {
  client: MqttClient;
  prefix: string;
  url: string;
  /** Named in the first connection's log line. */
  mode: string;
  bootReason: string;
  /** Filters besides the command subscription (terminal sessions). */
  subscriptions: string[];
  hooks: ModuleHooks;
  /** Settles once every module has had its start(). */
  modulesReady: Promise<void>;
  publishStatus(): void;
  publishCrashes(): Promise<void>;
  send(topic: string, payload: Uint8Array): void;
  /** The sleep cycle, when the device has one. */
  cycle(): SleepCycle | undefined;
  /** Whether the boot has ended (its own disconnect runs no hooks). */
  ended(): boolean;
  deviceLog: DeviceLog;
  log: Logger;
}

/** Runs a module hook list in order; a hook that fails is logged and the next one runs. */
export const runHooks = (what: string, fns: Array<() => unknown>, appLog: Logger): Promise<void> =>
  (async () => {
    for (const f of fns) {
      try {
        await f();
      } catch (e) {
        appLog.error(`${what} hook: ${errorMessage(e)}`);
      }
    }
  })();

/** Listens to the client's connection events; resolves once the first connection is subscribed. */
export function onConnectionEvents(o: ConnectionEvents): Promise<void> {
  const { client, hooks, log } = o;
  const appLog = o.deviceLog.logger('app');
  const connectHooks = (up: boolean) => runHooks('connect', hooks.connectHooks.map((f) => () => f(up)), appLog);
  let lastError = '';
  let everConnected = false;
  const connected = new Promise<void>((resolve) => {
    client.on('connect', () => {
      lastError = '';
      // Status and logs first, not in the SUBACK callback: with a persistent session, redelivered
      // commands can arrive before the SUBACK and hold the packet pipeline for a while.
      o.publishStatus();
      void o.publishCrashes();
      o.deviceLog.attach((line) => publish(client, logTopic(o.prefix), line));
      client.subscribe([commandSubscription(o.prefix), ...o.subscriptions], { qos: 1 }, (err) => {
        if (err) {
          log.error(`subscribe failed: ${err.message}`);
          return;
        }
        const cycle = o.cycle();
        if (!everConnected) {
          log.info(`connected to ${redactUrl(o.url)} as ${o.prefix} (${o.mode} mode, boot: ${o.bootReason})`);
          void o.modulesReady.then(() => runHooks('init', hooks.initHooks, appLog)).then(() => connectHooks(true));
        } else {
          log.info(cycle ? 'awake' : 'reconnected');
          void connectHooks(true);
        }
        everConnected = true;
        if (cycle) {
          // A wake may be shorter than the feed period: feed at once, so a sleeper's watchdog
          // is fed every wake and its boot can still reach all-OK (and confirm an update).
          const f = feedCommand(o.prefix);
          o.send(f.topic, f.payload);
          cycle.activity();
        }
        resolve();
      });
    });
  });
  client.on('close', () => {
    o.deviceLog.detach();
    if (everConnected && !o.ended()) void connectHooks(false);
  });
  client.on('error', (e) => {
    // mqtt.js retries every reconnectPeriod; log each distinct error once, never the password.
    if (e.message !== lastError) log.warn(`broker: ${e.message}`);
    lastError = e.message;
  });
  return connected;
}

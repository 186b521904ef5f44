// What sleeping means for the device (sleep-cycle.ts keeps the timing): it says so in a retained
// status with its wake time, lets its log drain and disconnects cleanly with the watchdog paused;
// waking reconnects. A command that arrives while it says goodbye keeps it awake.
import type { MqttClient } from 'mqtt';
import { encodeJson, statusTopic, type OnlineStatus } from '../../protocol/src';
import { CLOSE_TIMEOUT_MS, endClient, withTimeout } from './client-close';
import { errorMessage } from './errors';
import type { DeviceLog, Logger } from './log';
import { publish } from './mqtt-client';
import { startSleepCycle, type SleepCycle } from './sleep-cycle';
import { sleepStatus } from './status';
import type { BrokerWatchdog } from './watchdog';

export interface DeviceSleep {
  sleepMs: number;
  awakeMs: number;
  prefix: string;
  client: MqttClient;
  watchdog: BrokerWatchdog;
  /** Work in progress keeps it awake. */
  busy(): boolean;
  /** The online status, said again when work keeps it awake. */
  status(): OnlineStatus;
  send(topic: string, payload: Uint8Array, retain: boolean): void;
  deviceLog: DeviceLog;
  log: Logger;
}

export function startDeviceSleep(o: DeviceSleep): SleepCycle {
  const { client, watchdog, log } = o;
  return startSleepCycle({
    sleepMs: o.sleepMs,
    awakeMs: o.awakeMs,
    busy: () => o.busy(),
    async sleep(wakeAt) {
      log.info(`going to sleep for ${Math.round(o.sleepMs / 100) / 10} s`);
      watchdog.pause();
      // A board that could not reach the broker in its wake sleeps all the same, and tries again next time.
      if (client.connected) {
        await withTimeout(publish(client, statusTopic(o.prefix), encodeJson(sleepStatus(wakeAt)), true), CLOSE_TIMEOUT_MS);
        await withTimeout(o.deviceLog.flushed(), CLOSE_TIMEOUT_MS);
        // A command that came in while it said goodbye is served first: disconnecting now would
        // lose its reply, and the broker would hand it over again at the next wake.
        if (o.busy() && client.connected) {
          log.info('work arrived: staying awake');
          watchdog.resume();
          o.send(statusTopic(o.prefix), encodeJson(o.status()), true);
          return 'stayed';
        }
      }
      // A clean DISCONNECT: no Last Will, and the persistent session keeps what is sent meanwhile.
      await endClient(client);
      return 'asleep';
    },
    wake() {
      watchdog.resume();
      client.reconnect();
    },
    onError: (e) => log.error(`sleep cycle: ${errorMessage(e)}`),
  });
}

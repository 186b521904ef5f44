// A retained status said for a device whose own connection cannot say it: a sleeper whose
// connection is closed, or a runtime the supervisor has just killed. It goes over a one-off
// clean session (client id `<device's id>/bye`): the device's persistent session would take
// delivery of its queued commands.
import { encodeJson, statusTopic, type OfflineStatus } from '../../protocol/src';
import { createMqttClient, publish } from './mqtt-client';

/** The device's broker settings: the same credentials and CA its own connection uses. */
export interface OneOffBroker {
  url: string;
  prefix: string;
  username?: string;
  password?: string;
  ca?: string;
  /** The device's own client id; default `mqb-dev/<prefix>`. */
  clientId?: string;
}

/** Long enough for a loaded broker, short enough that a board's reset or stop does not wait on one that is gone. */
export const ONE_OFF_TIMEOUT_MS = 3000;

/**
 * Publishes `status` retained (QoS 1) and resolves on its PUBACK; rejects when the broker cannot
 * be reached or does not take it within `timeoutMs`. The connection is gone either way when it
 * settles, so nothing it queued can reach the broker later (after a status it would then hide).
 */
export async function sayStatusOnce(b: OneOffBroker, status: OfflineStatus, timeoutMs = ONE_OFF_TIMEOUT_MS): Promise<void> {
  const bye = createMqttClient({
    url: b.url,
    ...(b.username !== undefined ? { username: b.username } : {}),
    ...(b.password !== undefined ? { password: b.password } : {}),
    ...(b.ca !== undefined ? { ca: b.ca } : {}),
    clientId: `${b.clientId ?? `mqb-dev/${b.prefix}`}/bye`,
    clean: true,
    reconnectPeriodMs: 0,
  });
  // mqtt.js emits 'error' on a refused connection; unheard, it would be thrown.
  bye.on('error', () => undefined);
  const said = (async () => {
    await new Promise<void>((resolve, reject) => {
      bye.once('connect', () => resolve());
      bye.once('error', reject);
      bye.once('close', () => reject(new Error('connection to the broker closed')));
    });
    await publish(bye, statusTopic(b.prefix), encodeJson(status), true);
  })();
  // Once the time is up nobody awaits it any more; its failure then is no news.
  said.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      said,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the broker did not take the status within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    bye.end(true);
  }
}

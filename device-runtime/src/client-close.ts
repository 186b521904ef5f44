// Closing the device's broker connection without hanging on a broker that no longer answers:
// a clean close waits for outstanding PUBACKs, but only so long.
import type { MqttClient } from 'mqtt';

export const CLOSE_TIMEOUT_MS = 3000;

/** Waits for `p` (its failure ignored) at most `ms`. */
export async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((r) => (t = setTimeout(r, ms)))]);
  clearTimeout(t);
}

/** A clean DISCONNECT after what is in flight, forced after CLOSE_TIMEOUT_MS. */
export function endClient(client: MqttClient): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      client.end(true);
      resolve();
    }, CLOSE_TIMEOUT_MS);
    client.end(false, () => {
      clearTimeout(t);
      resolve();
    });
  });
}

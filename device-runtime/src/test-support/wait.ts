// Waiting on things seen on the wire, never on time.
import type { MqttClient } from 'mqtt';

/**
 * Subscribes to `topic` and resolves with the first message whose payload satisfies `pred`
 * (retained ones included).
 */
export async function waitForMessage(client: MqttClient, topic: string, pred: (payload: string, topic: string) => boolean, timeoutMs = 15_000): Promise<string> {
  let onMsg: ((t: string, p: Buffer) => void) | undefined;
  const found = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing matching on ${topic} within ${timeoutMs} ms`)), timeoutMs);
    onMsg = (t, p) => {
      if (!matches(topic, t)) return;
      const s = p.toString();
      let hit = false;
      try {
        hit = pred(s, t);
      } catch {
        // A payload the predicate cannot read is simply not the one we wait for.
      }
      if (hit) {
        clearTimeout(timer);
        resolve(s);
      }
    };
    client.on('message', onMsg);
  });
  await client.subscribeAsync(topic, { qos: 1 });
  try {
    return await found;
  } finally {
    client.off('message', onMsg!);
  }
}

function matches(pattern: string, topic: string): boolean {
  const p = pattern.split('/');
  const t = topic.split('/');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '#') return true;
    if (i >= t.length || (p[i] !== '+' && p[i] !== t[i])) return false;
  }
  return p.length === t.length;
}

// The receiving half of the raw mqtt.js ceilings, in its own process like a device would be:
// subscribes at QoS 1, counts payload bytes, and says `done <bytes>` once it has `want` bytes.
// With an ack topic it also publishes `<n>` there for every 8th message (n = its index), like a
// device's `SEQ n` acks, so the publisher can run a receiver-acked window.
// Usage: ceiling-subscriber.ts <url> <topic> <want-bytes> [ack-topic]
import mqtt from 'mqtt';

const [url, topic, wantArg, ackTopic] = process.argv.slice(2);
if (!url || !topic || !wantArg) {
  console.error('usage: ceiling-subscriber.ts <url> <topic> <want-bytes> [ack-topic]');
  process.exit(2);
}
const want = Number(wantArg);
const client = await mqtt.connectAsync(url, { protocolVersion: 4, clean: true });
(client.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
let got = 0;
let n = 0;
client.on('message', (_t, payload) => {
  got += payload.length;
  if (ackTopic && (n & 7) === 0) client.publish(ackTopic, String(n), { qos: 1 });
  n++;
  if (got >= want) {
    process.stdout.write(`done ${got}\n`);
    void client.endAsync().then(() => process.exit(0));
  }
});
await client.subscribeAsync(topic, { qos: 1 });
process.stdout.write('ready\n');

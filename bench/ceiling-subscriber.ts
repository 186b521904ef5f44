// The receiving half of the raw mqtt.js ceiling, in its own process like a device would be:
// subscribes at QoS 1, counts payload bytes, and says `done <bytes>` once it has `want` bytes.
// Usage: ceiling-subscriber.ts <url> <topic> <want-bytes>
import mqtt from 'mqtt';

const [url, topic, wantArg] = process.argv.slice(2);
if (!url || !topic || !wantArg) {
  console.error('usage: ceiling-subscriber.ts <url> <topic> <want-bytes>');
  process.exit(2);
}
const want = Number(wantArg);
const client = await mqtt.connectAsync(url, { protocolVersion: 4, clean: true });
(client.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
let got = 0;
client.on('message', (_t, payload) => {
  got += payload.length;
  if (got >= want) {
    process.stdout.write(`done ${got}\n`);
    void client.endAsync().then(() => process.exit(0));
  }
});
await client.subscribeAsync(topic, { qos: 1 });
process.stdout.write('ready\n');

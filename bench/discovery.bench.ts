// `npm run bench:discovery`: how many of a large fleet's retained statuses a freshly connected
// engine lists, and how fast, on a stock Mosquitto (max_queued_messages 1000: it drops QoS 0
// messages to a client that falls behind) and on the embedded aedes. One level holds every
// device (`bench/disc/<n>`), the layout no subscription can split.
//   MQB_BENCH_DISCOVERY=20000,50000   fleet sizes (default)
//   MQB_BENCH_BROKERS=mosquitto,aedes brokers (default both)
import mqtt from 'mqtt';
import { mosquittoMissingReason, startEmbeddedBroker, startMosquitto } from '../testing/brokers';
import { createEngine } from '../electron/src/engine';

const SIZES = (process.env.MQB_BENCH_DISCOVERY ?? '20000,50000').split(',').map(Number);
const BROKERS = (process.env.MQB_BENCH_BROKERS ?? 'mosquitto,aedes').split(',');

const status = (i: number) =>
  JSON.stringify({
    online: true, protocol: 1, runtime: { kind: 'bench', version: '0' }, firmware: '1.0.0', mode: i % 50 ? 'normal' : 'safe',
    bootReason: 'cold', uptime: i, freeMem: 100_000, time: Date.now(),
    capabilities: { maxChunk: 65536, commands: ['eval', 'get', 'put', 'ls', 'stat', 'sha256', 'rm', 'mkdir'], putAck: true, getAck: true },
  });
const topic = (i: number) => `bench/disc/${String(i).padStart(5, '0')}/mqb/status`;

async function publishMany(c: mqtt.MqttClient, n: number, payload: (i: number) => string): Promise<void> {
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    let inFlight = 0;
    const pump = () => {
      while (inFlight < 256 && next < n) {
        const i = next++;
        inFlight++;
        c.publish(topic(i), payload(i), { qos: 1, retain: true }, (err) => {
          inFlight--;
          if (err) return reject(err);
          if (next === n && inFlight === 0) resolve();
          else pump();
        });
      }
    };
    pump();
  });
}

interface Row {
  broker: string;
  devices: number;
  listed: number;
  ms: number;
  incomplete: boolean;
}

async function run(brokerName: string, n: number): Promise<Row> {
  const broker = brokerName === 'mosquitto' ? await startMosquitto() : await startEmbeddedBroker();
  const url = broker.url;
  try {
    const pub = await mqtt.connectAsync(url, { protocolVersion: 4 });
    await publishMany(pub, n, status);
    await pub.endAsync();
    const engine = createEngine();
    const t0 = performance.now();
    await engine.connect({ url, discovery: { patterns: ['bench/disc/+/mqb/status'] } });
    await engine.settle();
    const ms = performance.now() - t0;
    const listed = engine.devices().filter((d) => d.presence === 'online').length;
    const incomplete = engine.discovery().incomplete;
    await engine.disconnect();
    return { broker: brokerName, devices: n, listed, ms: Math.round(ms), incomplete };
  } finally {
    await ('stop' in broker ? broker.stop() : broker.close());
  }
}

const rows: Row[] = [];
for (const b of BROKERS) {
  if (b === 'mosquitto' && mosquittoMissingReason) {
    console.warn(mosquittoMissingReason);
    continue;
  }
  for (const n of SIZES) {
    const r = await run(b, n);
    rows.push(r);
    console.log(`${r.broker.padEnd(9)} ${String(r.devices).padStart(6)} retained statuses: listed ${r.listed} in ${r.ms} ms${r.incomplete ? ' (engine says: incomplete)' : ''}`);
  }
}
if (rows.some((r) => r.listed !== r.devices && !r.incomplete)) {
  console.error('a list missed devices without saying it was incomplete');
  process.exitCode = 1;
}

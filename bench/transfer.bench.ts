// `npm run bench`: transfer throughput against a Mosquitto on loopback, in one run.
//  1. the ceiling: raw mqtt.js QoS 1, publisher (here) -> Mosquitto -> subscriber (own process),
//     16 publishes awaiting PUBACK at a time, same chunk sizes;
//  2. put and get of a 16 MB file through the engine to a `mqboard-device` process, at 1400-byte
//     chunks and at the chunk size the device advertises;
//  3. eval round-trip latency (REPL echo) and discovery of a simulated fleet;
//  4. the MicroPython package in the WebAssembly port: put and get of 1.5 MB against the Node
//     runtime's figure from this run, and its RAM after boot (micropython.bench-part.ts).
// Prints a table and writes bench/results.json (git-ignored).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { startMosquitto, mosquittoMissingReason, type Mosquitto } from '../testing/brokers';
import { createEngine } from '../electron/src/engine';
import { benchMicropython, printMicropython, type MicropythonResult } from './micropython.bench-part';
import { deviceOnline } from './device-fleet';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const SIZE = 16 * 1024 * 1024;
const IN_FLIGHT = 16;
const SMALL = 1400;
const DEVICES = Number(process.env.MQB_BENCH_DEVICES ?? 10_000);
const LOG_LINES = Number(process.env.MQB_BENCH_LOG_LINES ?? 100_000);
const LOG_RATE = Number(process.env.MQB_BENCH_LOG_RATE ?? 25_000);
/** Runs per measurement; the median is reported (the machine may be shared and noisy). */
const RUNS = Number(process.env.MQB_BENCH_RUNS ?? 5);

const step = (what: string) => process.stderr.write(`bench: ${what}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;


interface TransferRow {
  op: 'put' | 'get';
  chunkBytes: number;
  MBps: number;
  ceilingMBps: number;
  ratio: number;
  /** Raw mqtt.js with the same receiver-acked window as the protocol, for reference. */
  ackedCeilingMBps: number;
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

function runTs(file: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [path.join(repo, 'bin/run-ts.mjs'), file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function waitLine(child: ChildProcess, pred: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      const hit = lines.find(pred);
      if (hit !== undefined) {
        child.stdout?.off('data', onData);
        resolve(hit);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before the expected output`)));
  });
}

/**
 * Raw mqtt.js QoS 1 throughput. The ceiling: IN_FLIGHT publishes awaiting the broker's PUBACK.
 * With `acked`, for reference: at most IN_FLIGHT messages beyond the receiver's last ack (acks
 * every 8th message), the flow control our protocol needs to survive broker queue limits.
 */
async function ceiling(m: Mosquitto, chunk: number, acked = false): Promise<number> {
  const topic = `bench/ceiling/${chunk}`;
  const ackTopic = `bench/ceiling-ack/${chunk}`;
  const count = Math.ceil(SIZE / chunk);
  const pub = await mqtt.connectAsync(m.url, { protocolVersion: 4 });
  (pub.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  let lastAck = -1;
  let wake: (() => void) | undefined;
  if (acked) {
    await pub.subscribeAsync(ackTopic, { qos: 1 });
    pub.on('message', (_t, p) => {
      lastAck = Math.max(lastAck, Number(p.toString()));
      wake?.();
    });
  }
  const sub = runTs(path.join(here, 'ceiling-subscriber.ts'), [m.url, topic, String(count * chunk), ...(acked ? [ackTopic] : [])]);
  await waitLine(sub, (l) => l === 'ready');
  const payload = randomBytes(chunk);
  const done = waitLine(sub, (l) => l.startsWith('done '));
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve, reject) => {
    let inFlight = 0;
    const pump = () => {
      while (inFlight < IN_FLIGHT && sent < count && (!acked || sent - lastAck <= IN_FLIGHT)) {
        inFlight++;
        sent++;
        pub.publish(topic, payload, { qos: 1 }, (err) => {
          inFlight--;
          if (err) return reject(err);
          if (sent === count && inFlight === 0) resolve();
          else pump();
        });
      }
    };
    wake = pump;
    pump();
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    done,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`ceiling at ${chunk} B: the subscriber did not get everything within 60 s`)), 60_000))),
  ]).finally(() => clearTimeout(timer));
  const ms = performance.now() - t0;
  await pub.endAsync();
  sub.kill();
  return mbps(count * chunk, ms);
}

/** Publishes n messages at QoS 1 with up to 256 awaiting PUBACK. */
async function publishMany(c: mqtt.MqttClient, n: number, msg: (i: number) => [string, string, boolean]): Promise<void> {
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    let inFlight = 0;
    const pump = () => {
      while (inFlight < 256 && next < n) {
        const [topic, payload, retain] = msg(next++);
        inFlight++;
        c.publish(topic, payload, { qos: 1, retain }, (err) => {
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

async function startDeviceProcess(m: Mosquitto, prefix: string, root: string): Promise<ChildProcess> {
  const args = ['--server', '127.0.0.1', '--port', String(m.port), '--prefix', prefix, '--root', root, '--quiet'];
  return spawn(process.execPath, [path.join(repo, 'bin/mqboard-device.mjs'), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    c.once('exit', () => resolve());
    c.kill('SIGTERM');
  });
}

async function main() {
  if (mosquittoMissingReason) {
    console.error(`bench: ${mosquittoMissingReason}`);
    process.exit(1);
  }
  // The ceiling's publisher waits only for the broker's PUBACK: when its subscriber lags, a
  // stock Mosquitto drops what passes max_queued_messages (1000) and the measurement would never
  // complete. So the queue is unbounded here. Our transfers do not rely on it: their window is
  // end to end, and the tests prove them against the stock limits.
  const m = await startMosquitto({ extra: ['max_queued_messages 0'] });
  // The device's files live in RAM when possible: this measures the protocol, not the disk's
  // fsync (the runtime syncs every committed put).
  const tmp = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'mqb-bench-'));
  const prefix = 'bench/dev';
  const dev = await startDeviceProcess(m, prefix, path.join(tmp, 'dev'));
  const engine = createEngine({ timeoutMs: 15_000 });
  const rows: TransferRow[] = [];
  let evalStats: { n: number; medianMs: number; p99Ms: number } | undefined;
  let micropython: MicropythonResult | undefined;
  let discovery: { devices: number; ms: number; events: number } | undefined;
  let logs: { lines: number; sent: number; lost: number; linesPerSec: number; batches: number } | undefined;
  try {
    await engine.connect({ url: m.url, discovery: { depths: [] } });
    await deviceOnline(engine, prefix);
    const advertised = engine.device(prefix)?.capabilities?.maxChunk ?? SMALL;
    const data = randomBytes(SIZE);
    // MQB_BENCH_CHUNKS=65536 (comma-separated) measures only those chunk sizes.
    const chunks = process.env.MQB_BENCH_CHUNKS ? process.env.MQB_BENCH_CHUNKS.split(',').map(Number) : [SMALL, advertised];
    for (const chunk of chunks) {
      // Interleaved, so a load spike on a shared machine hits the ceiling and our transfers alike.
      step(`ceilings, put and get at ${chunk} B (${RUNS} rounds)`);
      const ceil: number[] = [];
      const acked: number[] = [];
      const puts: number[] = [];
      const gets: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        ceil.push(await ceiling(m, chunk));
        if (process.env.MQB_BENCH_TRACE) step('  ceiling done');
        acked.push(await ceiling(m, chunk, true));
        if (process.env.MQB_BENCH_TRACE) step('  acked ceiling done');
        let t0 = performance.now();
        await engine.put(prefix, '/bench.bin', data, { chunk });
        puts.push(mbps(SIZE, performance.now() - t0));
        if (process.env.MQB_BENCH_TRACE) step('  put done');
        t0 = performance.now();
        const back = await engine.get(prefix, '/bench.bin', { chunk });
        gets.push(mbps(SIZE, performance.now() - t0));
        if (back.length !== SIZE || Buffer.compare(Buffer.from(back), data) !== 0) throw new Error(`get at ${chunk} returned different data`);
      }
      step(`  ceiling ${ceil.map((x) => x.toFixed(0)).join(' ')} | acked ${acked.map((x) => x.toFixed(0)).join(' ')} | put ${puts.map((x) => x.toFixed(0)).join(' ')} | get ${gets.map((x) => x.toFixed(0)).join(' ')} MB/s`);
      const c = median(ceil);
      const a = median(acked);
      for (const [op, xs] of [['put', puts], ['get', gets]] as const) {
        const v = median(xs);
        rows.push({ op, chunkBytes: chunk, MBps: round(v), ceilingMBps: round(c), ratio: round(v / c, 3), ackedCeilingMBps: round(a) });
      }
    }

    // REPL echo: eval round trips, one at a time.
    step('eval round trips');
    const times: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      await engine.eval(prefix, '1');
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    evalStats = { n: times.length, medianMs: round(times[Math.floor(times.length / 2)]!, 3), p99Ms: round(times[Math.floor(times.length * 0.99)]!, 3) };

    step(`MicroPython board (WebAssembly port): put and get of 1.5 MB against the Node runtime (${RUNS} rounds), RAM after boot`);
    micropython = await benchMicropython({ broker: m, engine, nodePrefix: prefix, root: path.join(tmp, 'micropython'), runs: RUNS, step });
  } finally {
    await engine.disconnect();
    await stopChild(dev);
  }

  // Discovery at scale: DEVICES retained statuses (as many boards would leave them), then a fresh
  // engine connects and reads them all.
  if (DEVICES > 0) {
    step(`discovery of ${DEVICES} devices`);
    const pub = await mqtt.connectAsync(m.url, { protocolVersion: 4 });
    const status = (i: number) =>
      JSON.stringify({
        online: true, protocol: 1, runtime: { kind: 'bench', version: '0' }, firmware: '1.0.0', mode: i % 50 ? 'normal' : 'safe',
        bootReason: 'cold', uptime: i, freeMem: 100_000, time: Date.now(),
        capabilities: { maxChunk: 65536, commands: ['eval', 'get', 'put'], putAck: true, getAck: true },
      });
    await publishMany(pub, DEVICES, (i) => [`bench/scale/${String(i).padStart(5, '0')}/mqb/status`, status(i), true]);
    const fresh = createEngine();
    let events = 0;
    fresh.on('devices', () => events++);
    const t0 = performance.now();
    await fresh.connect({ url: m.url, discovery: { patterns: ['bench/scale/+/mqb/status'] } });
    await fresh.settle();
    const found = fresh.devices().filter((d) => d.presence === 'online').length;
    discovery = { devices: found, ms: round(performance.now() - t0, 1), events };
    await fresh.disconnect();
    // Clear the retained statuses again.
    await publishMany(pub, DEVICES, (i) => [`bench/scale/${String(i).padStart(5, '0')}/mqb/status`, '', true]);
    await pub.endAsync();
  }

  // Log ingest: LOG_LINES lines from 100 boards at LOG_RATE lines/s, parsed and delivered in
  // batches. A stock Mosquitto drops what a slow subscriber cannot take (queue limit 1000), so
  // lost lines mean the engine fell behind.
  if (LOG_LINES > 0) {
    step(`${LOG_LINES} log lines at ${LOG_RATE}/s`);
    const logEngine = createEngine();
    await logEngine.connect({ url: m.url, discovery: { patterns: ['bench/logs/+/log'] } });
    let got = 0;
    let batches = 0;
    logEngine.on('logs', (entries) => {
      batches++;
      got += entries.length;
    });
    const pub = await mqtt.connectAsync(m.url, { protocolVersion: 4 });
    const t0 = performance.now();
    let sent = 0;
    while (sent < LOG_LINES) {
      // Keep to the target rate: send what is due by now, then yield a few ms.
      const due = Math.min(LOG_LINES, Math.floor(((performance.now() - t0) / 1000) * LOG_RATE) + 100);
      const from = sent;
      sent = Math.max(sent, due);
      await publishMany(pub, sent - from, (i) => [`bench/logs/${(from + i) % 100}/log`, `I ${from + i} mqtt: line ${from + i} of the log ingest benchmark`, false]);
      await new Promise((r) => setTimeout(r, 5));
    }
    await logEngine.settle();
    const ms = performance.now() - t0;
    logs = { lines: got, sent, lost: sent - got, linesPerSec: Math.round(got / (ms / 1000)), batches };
    await pub.endAsync();
    await logEngine.disconnect();
  }
  await m.stop();
  rmSync(tmp, { recursive: true, force: true });

  console.log(`\nTransfers of 16 MiB through Mosquitto on loopback, median of ${RUNS} (ceiling: raw mqtt.js QoS 1, 16 in flight)\n`);
  console.log('op   chunk    MB/s  ceiling MB/s  ratio   receiver-acked raw MB/s');
  for (const r of rows) {
    console.log(
      `${r.op.padEnd(4)} ${String(r.chunkBytes).padStart(6)} ${r.MBps.toFixed(1).padStart(7)} ${r.ceilingMBps.toFixed(1).padStart(13)} ${(r.ratio * 100).toFixed(0).padStart(5)}%   ${r.ackedCeilingMBps.toFixed(1).padStart(10)}`,
    );
  }
  if (evalStats) console.log(`\neval round trip (REPL echo), ${evalStats.n} runs: median ${evalStats.medianMs} ms, p99 ${evalStats.p99Ms} ms`);
  if (discovery) console.log(`discovery: ${discovery.devices} devices' retained statuses read in ${discovery.ms} ms (connect to settled), ${discovery.events} device events`);
  if (logs) console.log(`logs: ${logs.lines} of ${logs.sent} lines received at ${logs.linesPerSec} lines/s (offered ${LOG_RATE}/s), ${logs.lost} lost, ${logs.batches} batches`);
  if (micropython) printMicropython(micropython, RUNS);
  writeFileSync(path.join(here, 'results.json'), JSON.stringify({ date: new Date().toISOString(), fileBytes: SIZE, transfers: rows, eval: evalStats, discovery, logs, micropython }, null, 2) + '\n');
  console.log('\nwrote bench/results.json');
}

await main();
process.exit(0);

// `npm run bench:rollout`: a rollout of an app bundle across a simulated fleet on a real
// Mosquitto, waves 1,10%,50%,100% with 20 devices at once, each device through the whole gate
// (send, reset, back online, new version, confirmed, a 1 s soak). Reports the total time, per
// wave, and what the host side (this process: engine and rollout manager) spent in CPU and
// memory. The devices run in a child process (the runtime's `--fleet`) so they do not count.
// The machine's load is printed with the result: other work on it slows the devices.
//   MQB_BENCH_ROLLOUT=200         devices (default)
//   MQB_BENCH_CONCURRENCY=20      devices updated at once (default)
//   MQB_BENCH_SOAK=1              soak seconds (default)
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mosquittoMissingReason, startMosquitto } from '../testing/brokers';
import { createBundle } from '../device-runtime/src';
import { RolloutInput } from '../protocol/src/bridge-rollouts';
import { createEngine } from '../electron/src/engine';
import { createRolloutManager, createRolloutStore } from '../electron/src/engine/fleet/rollout';
import { describeRolloutImage } from '../electron/src/engine/fleet/rollout-image';
import { fleetOnline, spawnDevices, stopDevices } from './device-fleet';

const N = Number(process.env.MQB_BENCH_ROLLOUT ?? 200);
const CONCURRENCY = Number(process.env.MQB_BENCH_CONCURRENCY ?? 20);
const SOAK = Number(process.env.MQB_BENCH_SOAK ?? 1);

if (mosquittoMissingReason) {
  console.warn(mosquittoMissingReason);
  process.exit(0);
}
if (!(N >= 1 && N <= 999)) throw new RangeError(`MQB_BENCH_ROLLOUT must be 1..999: ${N}`);

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(', ');
console.log(`load average before: ${load()} (${os.cpus().length} cores)`);

const broker = await startMosquitto();
const root = mkdtempSync(path.join(os.tmpdir(), 'mqb-bench-rollout-'));
const children: ChildProcess[] = [];
const engine = createEngine();
const manager = createRolloutManager({ engine, store: createRolloutStore(path.join(root, 'state')), profile: () => 'bench' });
try {
  // A watchdog fed every 2 s, all-OK at the first feed after 0.5 s: the gate's confirmation comes
  // quickly, and a busy machine does not starve the devices into watchdog resets.
  for (let i = 1; i <= N; i++) {
    const dir = path.join(root, 'fleet', String(i).padStart(3, '0'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ watchdog: { timeoutS: 8, initialS: 30, allokS: 0.5 } }));
  }
  children.push(spawnDevices(broker.port, 'bench/ro', path.join(root, 'fleet'), N));
  await engine.connect({ url: broker.url, discovery: { patterns: ['bench/ro/+/mqb/status'] } });
  // Online and reporting its OTA state, which the rollout's gate reads.
  const prefixes = await fleetOnline(engine, N, (d) => d.ota !== undefined);

  const image = await createBundle({ name: 'bench', version: '1.0.0', modules: ['app'] }, { 'app.mjs': `export function start() {}\n// ${'x'.repeat(16 * 1024)}\n` });
  const info = await describeRolloutImage('bench-1.0.0.tar', image);
  const input = RolloutInput.parse({ image: { from: 'example', name: 'bench' }, prefixes, waves: '1,10%,50%,100%', concurrency: CONCURRENCY, soakS: SOAK, onlineWithinS: 60 });

  let peakRss = 0;
  let peakHeap = 0;
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 100);
  const rssBefore = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const started = await manager.start({ input, image: new Uint8Array(image), info });
  const waveEnds: number[] = [];
  const end = await (async () => {
    // Wave boundaries from the summary as it moves on.
    let wave = 0;
    const tick = setInterval(() => {
      const s = manager.get(started.id).rollout;
      while (wave < s.wave) {
        waveEnds.push(performance.now() - t0);
        wave++;
      }
    }, 50);
    try {
      return await manager.settled(started.id);
    } finally {
      clearInterval(tick);
    }
  })();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sample);

  const { devices } = manager.get(started.id);
  const per = devices.filter((d) => d.started && d.ended).map((d) => d.ended! - d.started!).sort((a, b) => a - b);
  const sizes = end.waves.map((w) => `${w.label}: ${w.size}`).join(', ');
  console.log(`${N} devices, waves ${sizes}, concurrency ${CONCURRENCY}, soak ${SOAK} s, image ${image.length} bytes`);
  console.log(`rollout ${end.state} in ${(ms / 1000).toFixed(1)} s: ${Object.entries(end.counts).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  console.log(`waves ended at ${[...waveEnds, ms].map((t) => `${(t / 1000).toFixed(1)} s`).join(', ')}`);
  console.log(`per device (send to updated): p50 ${per[Math.floor(per.length / 2)]} ms, p95 ${per[Math.floor(per.length * 0.95)]} ms, max ${per.at(-1)} ms`);
  console.log(
    `host CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (user ${(cpu.user / 1000).toFixed(0)}, system ${(cpu.system / 1000).toFixed(0)}; ${((100 * (cpu.user + cpu.system)) / 1000 / ms).toFixed(1)}% of one core); ` +
      `RSS ${(rssBefore / 2 ** 20).toFixed(0)} → peak ${(peakRss / 2 ** 20).toFixed(0)} MiB, heap peak ${(peakHeap / 2 ** 20).toFixed(0)} MiB`,
  );
  const failed = devices.filter((d) => d.state === 'failed' || d.state === 'rolled-back');
  for (const d of failed.slice(0, 5)) console.log(`  ${d.prefix} ${d.state}: ${d.reason ?? ''}`);
  console.log(`load average after: ${load()}`);
  if (end.state !== 'done' || end.counts.updated !== N) process.exitCode = 1;
} finally {
  await manager.close();
  await engine.disconnect();
  await stopDevices(children);
  await broker.stop();
  rmSync(root, { recursive: true, force: true });
}

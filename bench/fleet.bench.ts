// `npm run bench:fleet`: run-on-many across a large simulated fleet on a real Mosquitto: the
// time from the first command until every device's result is in (target: 1,000 devices under
// 5 s on loopback). The devices run in child processes of up to 999 devices each (the
// runtime's `--fleet`), so the engine under test has this process to itself.
//   MQB_BENCH_FLEET=1000          devices (default)
//   MQB_BENCH_CONCURRENCY=50,200  concurrency limits to try (default)
//   MQB_BENCH_ROUNDS=3            runs per limit (default)
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mosquittoMissingReason, startMosquitto } from '../testing/brokers';
import { createEngine } from '../electron/src/engine';
import { evalAction, enginePresence, groupResults, runMany, summarizeGroups } from '../electron/src/engine/fleet/run-many';
import { fleetOnline, spawnDevices, stopDevices } from './device-fleet';

const N = Number(process.env.MQB_BENCH_FLEET ?? 1000);
const LIMITS = (process.env.MQB_BENCH_CONCURRENCY ?? '50,200').split(',').map(Number);
const ROUNDS = Number(process.env.MQB_BENCH_ROUNDS ?? 3);
const PER_PROCESS = 500;

if (mosquittoMissingReason) {
  console.warn(mosquittoMissingReason);
  process.exit(0);
}

const broker = await startMosquitto();
const root = mkdtempSync(path.join(os.tmpdir(), 'mqb-bench-fleet-'));
const children: ChildProcess[] = [];
const engine = createEngine();
try {
  const t0 = performance.now();
  for (let i = 0, group = 0; i < N; i += PER_PROCESS, group++) {
    children.push(spawnDevices(broker.port, `bench/fleet/g${group}`, path.join(root, `g${group}`), Math.min(PER_PROCESS, N - i)));
  }
  await engine.connect({ url: broker.url, discovery: { patterns: ['bench/fleet/+/+/mqb/status'] } });
  const prefixes = await fleetOnline(engine, N);
  console.log(`${N} devices in ${children.length} processes online after ${Math.round(performance.now() - t0)} ms`);

  let failed = false;
  for (const limit of LIMITS) {
    for (let round = 1; round <= ROUNDS; round++) {
      const start = performance.now();
      const results = await runMany(prefixes, evalAction(engine, '1+1'), { concurrency: limit, timeoutMs: 30_000, presence: enginePresence(engine) });
      const ms = performance.now() - start;
      const per = results.map((r) => r.ms).sort((a, b) => a - b);
      const ok = results.filter((r) => r.status === 'ok' && r.output === '2').length;
      console.log(
        `concurrency ${String(limit).padStart(3)} round ${round}: all ${results.length} results in ${Math.round(ms)} ms ` +
          `(${ok} ok; per device p50 ${per[Math.floor(per.length / 2)]} ms, p95 ${per[Math.floor(per.length * 0.95)]} ms)` +
          (ok === results.length ? '' : ` — ${summarizeGroups(groupResults(results)).join('; ')}`),
      );
      if (ok !== results.length) failed = true;
    }
  }
  if (failed) process.exitCode = 1;
} finally {
  await engine.disconnect();
  await stopDevices(children);
  await broker.stop();
  rmSync(root, { recursive: true, force: true });
}

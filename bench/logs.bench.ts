// `npm run bench:logs`: the app host's log store, which must keep up with 20,000 lines/s
// fleet-wide without loss. Appends 100,000 lines from 1,000 devices in engine-sized batches,
// waits until all are on disk, checks none is missing, then times history queries: the newest
// page fleet-wide and per device, and a search that has to scan everything.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openLogStore, type IncomingLine } from '../electron/src/app/log-store';

const LINES = Number(process.env.MQB_BENCH_LOG_LINES ?? 100_000);
const DEVICES = Number(process.env.MQB_BENCH_LOG_DEVICES ?? 1_000);
/** The engine emits at most every 50 ms; at 20,000 lines/s that is 1,000 lines per batch. */
const BATCH = 1_000;

const dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-bench-logs-'));
try {
  const store = await openLogStore({ dir });
  const t0 = performance.now();
  for (let i = 0; i < LINES; i += BATCH) {
    const batch: IncomingLine[] = [];
    for (let k = i; k < Math.min(LINES, i + BATCH); k++) {
      batch.push({ prefix: `bench/${String(k % DEVICES).padStart(4, '0')}`, received: Date.now(), level: k % 10 === 0 ? 'W' : 'I', time: String(k), name: 'sensor', text: `reading ${k}: temperature=21.5 humidity=40 battery=3.71V` });
    }
    store.append(batch);
    // Let the store's flush timer run between batches, as it does under live traffic.
    if ((i / BATCH) % 5 === 4) await new Promise((r) => setImmediate(r));
  }
  await store.flush();
  const appendMs = performance.now() - t0;

  const count = await countAll(store);
  if (count !== LINES) throw new Error(`lost lines: stored ${count} of ${LINES}`);

  const t1 = performance.now();
  await store.query({ filter: {}, limit: 2_000 });
  const fleetPageMs = performance.now() - t1;
  const t2 = performance.now();
  await store.query({ prefix: 'bench/0007', filter: {}, limit: 2_000 });
  const devicePageMs = performance.now() - t2;
  const t3 = performance.now();
  const hits = await store.query({ filter: { search: 'reading 9999\\d:', regex: true }, limit: 2_000 });
  const searchMs = performance.now() - t3;
  await store.close();

  const usage = [...store.usage().values()].reduce((a, b) => a + b, 0);
  console.log(`log store: ${LINES.toLocaleString()} lines from ${DEVICES.toLocaleString()} devices`);
  console.log(`  append + write:        ${appendMs.toFixed(0)} ms  (${Math.round(LINES / (appendMs / 1000)).toLocaleString()} lines/s), ${(usage / 1048576).toFixed(1)} MiB on disk, none lost`);
  console.log(`  newest 2,000 (fleet):  ${fleetPageMs.toFixed(0)} ms`);
  console.log(`  newest 2,000 (device): ${devicePageMs.toFixed(0)} ms`);
  console.log(`  regex over everything: ${searchMs.toFixed(0)} ms (${hits.records.length} hits)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

async function countAll(store: Awaited<ReturnType<typeof openLogStore>>): Promise<number> {
  let n = 0;
  await store.each({ filter: {} }, () => {
    n++;
  });
  return n;
}

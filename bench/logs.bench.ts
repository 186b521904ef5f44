// `npm run bench:logs`: the app host's log store under fleet load. Fills it with 1,000,000
// lines from 10,000 devices, then floods it at 20,000 lines/s (1,000 lines every 50 ms, the
// engine's batch cadence) while a view asks what a user would: the newest page fleet-wide and
// of one device, and a text and a regex search over 1,000,000 lines. Reports the ingest rate
// and loss (every appended line counted back out of the store), page and search latencies
// during the flood, the host's event-loop delay, disk per million lines and memory. The
// machine's load average is printed with the figures: on a shared machine they move with it.
//
// MQB_BENCH_LOG_FILL, _DEVICES, _RATE and _SECONDS change the sizes.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openLogStore, type IncomingLine, type LogQuery, type LogStore } from '../electron/src/app/log-store';

const FILL = Number(process.env.MQB_BENCH_LOG_FILL ?? 1_000_000);
const DEVICES = Number(process.env.MQB_BENCH_LOG_DEVICES ?? 10_000);
const RATE = Number(process.env.MQB_BENCH_LOG_RATE ?? 20_000);
const SECONDS = Number(process.env.MQB_BENCH_LOG_SECONDS ?? 20);
/** The engine emits at most every 50 ms. */
const TICK_MS = 50;
const PAGE = 2_000;

let n = 0;
function batch(count: number): IncomingLine[] {
  const out: IncomingLine[] = [];
  for (let k = 0; k < count; k++, n++) {
    out.push({
      prefix: `fleet/dev-${String(n % DEVICES).padStart(5, '0')}`,
      received: Date.now(),
      level: n % 50 === 0 ? 'E' : n % 10 === 0 ? 'W' : 'I',
      time: String(n),
      name: n % 7 === 0 ? 'wifi' : 'sensor',
      text: `reading ${n}: temperature=21.5 humidity=40 battery=3.71V rssi=-61`,
    });
  }
  return out;
}

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
const ms = (v: number) => `${v.toFixed(0)} ms`;

function summary(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `median ${ms(q(0.5))}, p90 ${ms(q(0.9))}, max ${ms(s.at(-1)!)} (${s.length} runs)`;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += statSync(path.join(e.parentPath, e.name)).size;
  }
  return total;
}

async function timed(store: LogStore, q: LogQuery): Promise<{ ms: number; hits: number }> {
  const t = performance.now();
  const page = await store.query(q);
  return { ms: performance.now() - t, hits: page.records.length };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'mqb-bench-logs-'));
let peakRss = 0;
const sampleRss = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 200);
try {
  console.log(`log store bench: ${FILL.toLocaleString()} lines from ${DEVICES.toLocaleString()} devices, then ${RATE.toLocaleString()} lines/s for ${SECONDS} s`);
  console.log(`  load average at start:   ${load()} (${os.cpus().length} cores)`);
  const store = await openLogStore({ dir });

  // Fill as fast as the store takes it, in engine-sized batches.
  const t0 = performance.now();
  for (let i = 0; i < FILL; i += 1_000) {
    store.append(batch(Math.min(1_000, FILL - i)));
    if (i % 50_000 === 0) await store.flush();
  }
  await store.flush();
  const fillMs = performance.now() - t0;
  console.log(`  fill:                    ${FILL.toLocaleString()} lines in ${ms(fillMs)} (${Math.round(FILL / (fillMs / 1000)).toLocaleString()} lines/s stored)`);

  // The flood, with a view asking questions meanwhile.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const perTick = Math.round((RATE * TICK_MS) / 1000);
  const ticks = Math.round((SECONDS * 1000) / TICK_MS);
  const floodStart = performance.now();
  const fromBeforeFlood = n;
  let flooding = true;
  const flood = (async () => {
    for (let t = 0; t < ticks; t++) {
      store.append(batch(perTick));
      // Keep the cadence: wait for the next tick's slot, not a fixed pause after the work.
      const next = floodStart + (t + 1) * TICK_MS;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
    flooding = false;
  })();
  const lat = { fleet: [] as number[], device: [] as number[], text: [] as number[], regex: [] as number[] };
  let searchHits = 0;
  const during = (async () => {
    await new Promise((r) => setTimeout(r, 1_000));
    while (flooding) {
      lat.fleet.push((await timed(store, { filter: {}, limit: PAGE })).ms);
      lat.device.push((await timed(store, { prefix: 'fleet/dev-00042', filter: {}, limit: PAGE })).ms);
      // Over the newest 1,000,000 lines, whatever was written meanwhile.
      const text = await timed(store, { filter: { search: 'READING 999999:' }, limit: PAGE, scanLimit: 1_000_000 });
      lat.text.push(text.ms);
      const regex = await timed(store, { filter: { search: 'reading 99999\\d: .*rssi=-6\\d$', regex: true }, limit: PAGE, scanLimit: 1_000_000 });
      lat.regex.push(regex.ms);
      searchHits = regex.hits;
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  await flood;
  const floodMs = performance.now() - floodStart;
  await during;
  const tDrain = performance.now();
  await store.flush();
  const drainMs = performance.now() - tDrain;
  lag.disable();
  const flooded = n - fromBeforeFlood;

  // Count every line back out of the store (this is also an export of the whole fleet).
  const tCount = performance.now();
  let stored = 0;
  await store.each({ filter: {} }, () => {
    stored++;
  });
  const countMs = performance.now() - tCount;
  const rss = process.memoryUsage().rss;
  await store.close();
  clearInterval(sampleRss);
  const disk = dirBytes(dir);

  console.log(`  flood:                   ${flooded.toLocaleString()} lines in ${ms(floodMs)} = ${Math.round(flooded / (floodMs / 1000)).toLocaleString()} lines/s offered; written ${ms(drainMs)} after the flood ended`);
  console.log(`  loss:                    ${(n - stored).toLocaleString()} of ${n.toLocaleString()} lines (${stored.toLocaleString()} counted back, ${ms(countMs)} to read them all in order)`);
  console.log(`  event-loop delay:        p50 ${(lag.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms, max ${(lag.max / 1e6).toFixed(1)} ms during the flood`);
  console.log(`  newest ${PAGE} (fleet):     ${summary(lat.fleet)}`);
  console.log(`  newest ${PAGE} (device):    ${summary(lat.device)}`);
  console.log(`  text search, 1M lines:   ${summary(lat.text)}`);
  console.log(`  regex search, 1M lines:  ${summary(lat.regex)} (${searchHits} hits)`);
  console.log(`  disk:                    ${mib(disk)} for ${stored.toLocaleString()} lines = ${mib((disk / stored) * 1e6)} per million lines`);
  console.log(`  host memory (RSS):       ${mib(rss)} at the end, ${mib(peakRss)} at most`);
  console.log(`  load average at end:     ${load()}`);
  if (stored !== n) process.exitCode = 1;
} finally {
  clearInterval(sampleRss);
  rmSync(dir, { recursive: true, force: true });
}

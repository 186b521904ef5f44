// `npm run bench:select`: what the device list's search costs at 10,000 devices, the work done
// on every keystroke in the search box and on every status update while a search is active.
// Runs the renderer's own row memo (renderer/src/state/device-view.ts) over a realistic fleet:
// twenty sites, five firmware strings, tags reported by half the devices and given by the
// user to some, a mix of presence, safe mode and crashes. Per selector, the median (and p90)
// of many calls, and the fastest one (what a quiet machine gives; the median follows the load), of:
//   search   a new search typed over an unchanged fleet (the name order already known);
//   update   one device's firmware changing under that search (the map replaced, as the store does);
//   cold     the search over a fleet whose device objects are all new (a full snapshot arrived).
import { performance } from 'node:perf_hooks';
import type { DeviceState } from '../protocol/src';
import { rowsSelector, type ViewInput } from '../renderer/src/state/device-view';

const N = Number(process.env.MQB_BENCH_DEVICES ?? 10_000);
const RUNS = Number(process.env.MQB_BENCH_RUNS ?? 60);
const SELECTORS = ['', 'online', 'tag:greenhouse', 'fw<2.5.0', 'dev-1', 'site1/*', 'site1*/**', 'outdated', 'tag:pumps,lab -offline fw>=2.4'];
const FIRMWARE = ['2.3.1', '2.4.0', 'v2.5.0', 'esp32-20230426-v1.20.0', '2.5.0-rc.1'];
const TAGS = ['greenhouse', 'lab', 'pumps', 'outdoor', 'battery'];

function fleet(n: number): Map<string, DeviceState> {
  const m = new Map<string, DeviceState>();
  for (let i = 0; i < n; i++) {
    const prefix = `site${i % 20}/dev-${i}`;
    const tags = i % 2 === 0 ? [TAGS[i % 5]!, TAGS[(i >> 3) % 5]!] : undefined;
    m.set(prefix, {
      prefix,
      kind: i % 7 === 0 ? 'original' : 'mqboard',
      presence: i % 11 === 0 ? 'offline' : 'online',
      since: 1_700_000_000_000,
      lastSeen: 1_700_000_000_000 + i,
      mode: i % 97 === 0 ? 'safe' : 'normal',
      firmware: FIRMWARE[i % FIRMWARE.length],
      uptime: i * 13,
      freeMem: 100_000 + (i % 1000),
      crashCount: i % 53 === 0 ? 1 : 0,
      tags,
      source: 'status',
    } as DeviceState);
  }
  return m;
}

function userTags(devices: Map<string, DeviceState>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let i = 0;
  for (const p of devices.keys()) if (i++ % 9 === 0) out[p] = ['greenhouse', 'Shelf-A'];
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;
const best = (xs: number[]) => Math.min(...xs);

function time(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

const base = fleet(N);
const tags = userTags(base);
const view = (devices: ReadonlyMap<string, DeviceState>, search: string): ViewInput => ({
  devices,
  search,
  filter: 'all',
  sort: 'name',
  groupByPrefix: false,
  userTags: tags,
});

type Cells = { search: number[]; update: number[]; cold: number[]; rows: number };
const results = new Map<string, Cells>(SELECTORS.map((s) => [s, { search: [], update: [], cold: [], rows: 0 }]));
// Searches and updates first, then the cold runs: those throw 10,000 device objects away each
// time, and their garbage would otherwise be collected in the middle of the warm measurements.
for (const [s, c] of results) {
  for (let r = 0; r < RUNS; r++) {
    const rowsOf = rowsSelector();
    // The list was showing something else (the name order is known): the user types `s`.
    rowsOf(view(base, s === '' ? 'online' : ''));
    c.search.push(time(() => (c.rows = rowsOf(view(base, s)).length)));
    // A status update under the search: one device's firmware moves on.
    const changed = new Map(base);
    const key = `site${r % 20}/dev-${r % 20}`;
    changed.set(key, { ...base.get(key)!, firmware: r % 2 ? '2.5.1' : '2.2.0' });
    c.update.push(time(() => rowsOf(view(changed, s))));
  }
}
for (const [s, c] of results) {
  for (let r = 0; r < RUNS; r++) {
    const rowsOf = rowsSelector();
    rowsOf(view(base, s === '' ? 'online' : ''));
    // A full snapshot: every device object new, nothing the search derived can be reused.
    const fresh = new Map([...base].map(([p, d]) => [p, { ...d }]));
    c.cold.push(time(() => rowsOf(view(fresh, s))));
  }
}

console.log(`device list search, ${N} devices, median / p90 / fastest of ${RUNS} calls, ms`);
console.log(`${'selector'.padEnd(34)}${'search'.padStart(22)}${'update'.padStart(22)}${'cold'.padStart(22)}  rows`);
const cell = (xs: number[]) => `${median(xs).toFixed(1)} / ${p90(xs).toFixed(1)} / ${best(xs).toFixed(1)}`.padStart(22);
for (const [s, c] of results) console.log(`${JSON.stringify(s).padEnd(34)}${cell(c.search)}${cell(c.update)}${cell(c.cold)}  ${c.rows}`);

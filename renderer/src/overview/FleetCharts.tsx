// The overview's pictures: firmware versions as bars (a click selects those devices in the list),
// online devices over time and crash records per day from the host's fleet history (asked for
// again every half minute while the overview is shown).
import { useEffect, useMemo, useState } from 'react';
import uPlot from 'uplot';
import type { FleetHistory } from '../../../protocol/src';
import { useApp, useAppStore, useBridge } from '../ui/context';
import { useNow } from '../ui/use-now';
import { crashSeries, devicesOfBar, firmwareBars, onlineSeries, OTHER_FW, shortFirmware } from './chart-data';
import { axis, UChart, useChartColors, type ChartColors } from './UChart';
import './charts.css';

const HISTORY_EVERY_MS = 30_000;
const HISTORY_SOON_MS = 5_000;
const BAR_HEIGHT = 170;
const SMALL_HEIGHT = 150;

/** `online`/`total`: the list's counts now, the online chart's newest point. */
export function FleetCharts({ online, total }: { online: number; total: number }) {
  return (
    <div className="charts" data-testid="fleet-charts">
      <FirmwareChart />
      <HistoryCharts online={online} total={total} />
    </div>
  );
}

function FirmwareChart() {
  const devices = useApp((s) => s.devices);
  const store = useAppStore();
  const colors = useChartColors();
  const bars = useMemo(() => firmwareBars(devices.values()), [devices]);
  // The chart only changes when a count does, not on every status a device sends; it is made
  // again only when the versions themselves change (the axis labels are part of its options).
  const labelsKey = bars.labels.join('\n');
  const countsKey = bars.counts.join(',');
  const options = useMemo(() => {
    const labels = labelsKey.split('\n');
    return barOptions(colors, (i) => shortFirmware(labels[i] ?? ''));
  }, [colors, labelsKey]);
  const data = useMemo<uPlot.AlignedData>(() => {
    const counts = countsKey ? countsKey.split(',').map(Number) : [];
    return [counts.map((_, i) => i), counts];
  }, [countsKey]);
  const [hover, setHover] = useState<number | null>(null);

  const pick = (i: number) => {
    const prefixes = devicesOfBar(store.getState().devices.values(), bars, i);
    if (prefixes.length === 0) return;
    store.getState().setSelected(prefixes);
    store.getState().toast('info', `Selected ${prefixes.length.toLocaleString()} device${prefixes.length === 1 ? '' : 's'} on ${bars.labels[i] === OTHER_FW ? 'other versions' : bars.labels[i]}`);
  };

  const h = hover !== null ? hover : null;
  return (
    <section className="panel raised chart-card chart-wide">
      <header>
        <h3 className="section-label">Firmware versions</h3>
        <span className="chart-readout" data-testid="firmware-readout">
          {h !== null && bars.labels[h] !== undefined ? `${bars.labels[h]}: ${bars.counts[h]!.toLocaleString()} device${bars.counts[h] === 1 ? '' : 's'}` : bars.labels.length ? 'Click a bar to select those devices' : ''}
        </span>
      </header>
      {bars.labels.length === 0 ? (
        <p className="muted chart-empty">No devices yet.</p>
      ) : (
        <UChart options={options} data={data} height={BAR_HEIGHT} onPick={pick} onHover={setHover} testId="chart-firmware" label={bars.labels.map((l, i) => `${l}: ${bars.counts[i]}`).join(', ')} />
      )}
      {/* The bars as buttons too: reachable by keyboard and by tests, and readable without the chart. */}
      <div className="chart-keys" role="group" aria-label="Select devices by firmware">
        {bars.labels.map((l, i) => (
          <button key={l} className="chart-key" onClick={() => pick(i)} data-testid="firmware-bar" data-firmware={l} data-count={bars.counts[i]} title={l}>
            <span className="chart-key-label mono">{shortFirmware(l, 20)}</span> <span className="muted">{bars.counts[i]!.toLocaleString()}</span>
          </button>
        ))}
      </div>
    </section>
  );
}

function HistoryCharts({ online: onlineNow, total: totalNow }: { online: number; total: number }) {
  const bridge = useBridge();
  const profile = useApp((s) => s.profiles.active);
  const colors = useChartColors();
  const [history, setHistory] = useState<FleetHistory | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      bridge
        .call('fleetHistory', {})
        .then((h) => {
          if (!live) return;
          setHistory(h);
          setError(null);
          // A line needs two samples: until the host has them, ask again sooner.
          timer = setTimeout(load, h.online.length < 2 ? HISTORY_SOON_MS : HISTORY_EVERY_MS);
        })
        .catch((e: unknown) => {
          if (!live) return;
          setError(e instanceof Error ? e.message : String(e));
          timer = setTimeout(load, HISTORY_EVERY_MS);
        });
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [bridge, profile]);

  // The host's samples, then the list's own count as the newest point: the line ends at what the
  // tiles above say, not at the last fetch.
  // The point moves along every ten seconds (the host's own sampling), not at every clock tick.
  const tenSeconds = Math.floor(useNow() / 10_000);
  const online = useMemo<uPlot.AlignedData>(
    () => (history ? onlineSeries(history, { t: Math.max(tenSeconds * 10_000, history.online.at(-1)?.t ?? 0), online: onlineNow, total: totalNow }) : [[], [], []]),
    [history, onlineNow, totalNow, tenSeconds],
  );
  const crashes = useMemo(() => (history ? crashSeries(history) : { labels: [], counts: [] }), [history]);
  const crashData = useMemo<uPlot.AlignedData>(() => [crashes.counts.map((_, i) => i), crashes.counts], [crashes]);
  const onlineOpts = useMemo(() => onlineOptions(colors), [colors]);
  const daysKey = crashes.labels.join(',');
  const crashOpts = useMemo(() => {
    const days = daysKey.split(',');
    return barOptions(colors, (i) => days[i] ?? '', colors.bad);
  }, [colors, daysKey]);
  const last = history ? { online: onlineNow, total: totalNow } : undefined;
  const totalCrashes = crashes.counts.reduce((a, b) => a + b, 0);

  return (
    <>
      <section className="panel raised chart-card">
        <header>
          <h3 className="section-label">Online devices</h3>
          <span className="chart-readout">{last ? `${last.online.toLocaleString()} of ${last.total.toLocaleString()} now` : ''}</span>
        </header>
        {error && !history ? <p className="muted chart-empty">History not available: {error}</p> : online[0].length < 2 ? <p className="muted chart-empty">Collecting samples…</p> : <UChart options={onlineOpts} data={online} height={SMALL_HEIGHT} testId="chart-online" label={`online devices over time${last ? `, ${last.online} of ${last.total} now` : ''}`} />}
      </section>
      <section className="panel raised chart-card">
        <header>
          <h3 className="section-label">Crashes per day</h3>
          <span className="chart-readout">{history ? `${totalCrashes.toLocaleString()} in ${crashes.counts.length} day${crashes.counts.length === 1 ? '' : 's'}` : ''}</span>
        </header>
        {error && !history ? <p className="muted chart-empty">History not available: {error}</p> : crashes.counts.length === 0 ? <p className="muted chart-empty">No crash records.</p> : <UChart options={crashOpts} data={crashData} height={SMALL_HEIGHT} testId="chart-crashes" label={crashes.labels.map((l, i) => `${l}: ${crashes.counts[i]}`).join(', ')} />}
      </section>
    </>
  );
}

/** Bars over categories 0..n-1, labelled by `label(i)`; integer counts on the y axis. */
function barOptions(c: ChartColors, label: (i: number) => string, fill = c.accent): Omit<uPlot.Options, 'width' | 'height'> {
  return {
    legend: { show: false },
    cursor: { points: { show: false }, drag: { x: false, y: false, setScale: false }, y: false },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    scales: {
      x: { time: false, range: (u) => [-0.5, Math.max(0.5, u.data[0].length - 0.5)] },
      y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.15))] },
    },
    axes: [
      axis(c, { grid: { show: false }, splits: (u) => categorySplits(u, label), values: (_u, splits) => splits.map((i) => label(i)), size: 34 }),
      axis(c, { size: 44, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000], values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? v.toLocaleString() : '')) }),
    ],
    // No outline: a day without crashes is no bar rather than a red line on the axis.
    series: [{}, { label: 'devices', fill: withAlpha(fill, 0.75), stroke: fill, width: 0, paths: uPlot.paths.bars!({ size: [0.7, 64], radius: 0.1 }), points: { show: false } }],
  };
}

/** One tick per category, or every second, third… one when their labels would not fit side by side. */
function categorySplits(u: uPlot, label: (i: number) => string): number[] {
  const n = u.data[0].length;
  let widest = 0;
  for (let i = 0; i < n; i++) widest = Math.max(widest, label(i).length);
  // About 6.5 px per character of the axis font, and a gap between labels.
  const per = widest * 6.5 + 10;
  const room = u.bbox.width / (window.devicePixelRatio || 1);
  const every = Math.max(1, Math.ceil((n * per) / Math.max(1, room)));
  const out: number[] = [];
  for (let i = 0; i < n; i += every) out.push(i);
  return out;
}

function onlineOptions(c: ChartColors): Omit<uPlot.Options, 'width' | 'height'> {
  return {
    legend: { show: false },
    cursor: { drag: { x: false, y: false, setScale: false }, points: { size: 6 } },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    scales: { y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] } },
    axes: [axis(c, { size: 44, space: 60 }), axis(c, { size: 44, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000] })],
    series: [
      {},
      { label: 'online', stroke: c.ok, width: 2, fill: withAlpha(c.ok, 0.15), points: { show: false } },
      { label: 'known', stroke: c.muted, width: 1, dash: [4, 4], points: { show: false } },
    ],
  };
}

/** A theme colour (#rgb or #rrggbb) at some opacity, for canvas fills; other forms as they are. */
function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color)?.[1];
  if (!hex) return color;
  const full = hex.length === 3 ? [...hex].map((x) => x + x).join('') : hex;
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

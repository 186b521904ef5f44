// One uPlot chart in React: made once per theme (canvas colours cannot be CSS variables, so they
// are read from the theme and the chart is made again when the OS theme flips), given new data
// with setData, and resized with its box. uPlot sets its sizes through the CSSOM, which the
// CSP's style-src allows.
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartColors {
  text: string;
  muted: string;
  grid: string;
  accent: string;
  ok: string;
  bad: string;
  warn: string;
  panel: string;
  font: string;
}

function readColors(): ChartColors {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    text: v('--text', '#1c2127'),
    muted: v('--text-2', '#5c6672'),
    grid: v('--border', '#dde1e6'),
    accent: v('--accent', '#2f6fed'),
    ok: v('--ok', '#1d9a55'),
    bad: v('--bad', '#d13b3b'),
    warn: v('--warn', '#b25e00'),
    panel: v('--bg-panel', '#ffffff'),
    font: `11px ${v('--font', 'system-ui, sans-serif')}`,
  };
}

/** The theme's colours, read again when the OS switches between light and dark. */
export function useChartColors(): ChartColors {
  const [colors, setColors] = useState(readColors);
  useEffect(() => {
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    const update = () => setColors(readColors());
    mq.addEventListener('change', update);
    return () => mq.removeEventListener('change', update);
  }, []);
  return colors;
}

/** Axis styling shared by every chart. */
export function axis(c: ChartColors, o: uPlot.Axis = {}): uPlot.Axis {
  return {
    stroke: c.muted,
    font: c.font,
    grid: { stroke: c.grid, width: 1 },
    ticks: { stroke: c.grid, width: 1, size: 4 },
    ...o,
  };
}

export function UChart({
  options,
  data,
  height,
  onPick,
  onHover,
  testId,
  label,
}: {
  /** Everything but the size; a new object makes the chart again (keep it memoized). */
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  height: number;
  /** A click on the plot, with the data index under the cursor. */
  onPick?: (index: number) => void;
  /** The data index under the cursor (null when it leaves). */
  onHover?: (index: number | null) => void;
  testId: string;
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const handlers = useRef({ onPick, onHover });
  const latest = useRef(data);
  // Before the effects below: the chart is made with the newest data and calls the newest handlers.
  useLayoutEffect(() => {
    handlers.current = { onPick, onHover };
    latest.current = data;
  });

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(120, Math.floor(el.clientWidth));
    const u = new uPlot(
      {
        ...options,
        width,
        height,
        hooks: {
          ...options.hooks,
          setCursor: [...(options.hooks?.setCursor ?? []), (self) => handlers.current.onHover?.(self.cursor.idx ?? null)],
        },
      },
      latest.current,
      el,
    );
    chart.current = u;
    const click = () => {
      const i = u.cursor.idx;
      if (i !== null && i !== undefined) handlers.current.onPick?.(i);
    };
    u.over.addEventListener('click', click);
    const leave = () => handlers.current.onHover?.(null);
    u.over.addEventListener('mouseleave', leave);
    // Resizing follows the box, at most once per frame.
    let frame = 0;
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        const w = Math.max(120, Math.floor(el.clientWidth));
        if (w !== u.width) u.setSize({ width: w, height });
      });
    });
    ro.observe(el);
    return () => {
      cancelAnimationFrame(frame);
      ro.disconnect();
      u.over.removeEventListener('click', click);
      u.over.removeEventListener('mouseleave', leave);
      u.destroy();
      chart.current = null;
    };
  }, [options, height]);

  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);

  return <div ref={box} className={`uchart${onPick ? ' pickable' : ''}`} data-testid={testId} role="img" aria-label={label} />;
}

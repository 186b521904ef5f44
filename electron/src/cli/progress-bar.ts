// A one-line progress bar with rate and ETA on a TTY; silence otherwise (plain output stays
// parseable when piped).
import type { Progress } from '../engine/types';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatProgress(label: string, p: Progress, width = 24): string {
  const frac = p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : 0;
  const filled = Math.round(frac * width);
  const bar = p.bytesTotal > 0 ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}%` : '';
  const eta = p.etaMs !== undefined ? ` ETA ${Math.ceil(p.etaMs / 1000)}s` : '';
  const total = p.bytesTotal > 0 ? `/${formatBytes(p.bytesTotal)}` : '';
  return `${label} ${bar} ${formatBytes(p.bytesDone)}${total} ${formatBytes(Math.round(p.rate))}/s${eta}`;
}

export interface ProgressBar {
  onProgress: (p: Progress) => void;
  end(): void;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!stream.isTTY) return { onProgress: () => undefined, end: () => undefined };
  let drawn = false;
  return {
    onProgress(p) {
      const line = formatProgress(label, p).slice(0, Math.max(20, (stream.columns ?? 80) - 1));
      stream.write(`\r\x1b[2K${line}`);
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}

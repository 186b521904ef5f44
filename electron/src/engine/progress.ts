// Progress reports for transfers: bytes, rate over the transfer so far, ETA; throttled so a
// 64 KiB-chunk transfer at 100 MB/s does not call back 1,500 times a second.
import type { Progress } from './types';

export interface ProgressMeter {
  update(bytesDone: number): void;
  /** Reports the final state unconditionally. */
  done(bytesDone: number): void;
}

const MIN_INTERVAL_MS = 100;

export function createProgressMeter(total: number, onProgress: ((p: Progress) => void) | undefined, now: () => number = Date.now): ProgressMeter {
  const t0 = now();
  let lastReport = -Infinity;
  const report = (bytesDone: number) => {
    if (!onProgress) return;
    const t = now();
    lastReport = t;
    const elapsed = Math.max(1, t - t0);
    const rate = (bytesDone * 1000) / elapsed;
    const p: Progress = { bytesDone, bytesTotal: total, rate };
    if (rate > 0 && bytesDone > 0 && total >= bytesDone) p.etaMs = Math.max(0, ((total - bytesDone) / rate) * 1000);
    try {
      onProgress(p);
    } catch {
      // A failing progress callback must not break the transfer.
    }
  };
  return {
    update(bytesDone) {
      if (onProgress && now() - lastReport >= MIN_INTERVAL_MS) report(bytesDone);
    },
    done: report,
  };
}

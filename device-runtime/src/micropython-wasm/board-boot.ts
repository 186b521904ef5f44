// One boot of a board running the MicroPython package: a worker thread with a fresh interpreter
// (worker.mjs), and the chip's hardware watchdog on this side. The package arms the watchdog and
// feeds it from its event loop; when the feeds stop (an endless loop holds that loop, and no
// interrupt reaches code running in this port), the worker is ended as the chip would reset:
// no goodbye on the wire, so the broker publishes the Last Will.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));

type FromWorker =
  | { kind: 'line'; line: string }
  | { kind: 'done'; how: string }
  | { kind: 'wdt'; timeoutMs: number }
  | { kind: 'feed' };

export interface BoardBoot {
  worker: Worker;
  /**
   * How the boot ended: the package's word (soft, normal, safe, hard, crash), `watchdog`, or
   * `killed`; undefined when the worker ended without saying (the interpreter failed).
   */
  ended: Promise<string | undefined>;
  /** The worker's own error, when it failed. */
  error(): unknown;
  /** Power loss: the worker ends at once. */
  kill(): void;
}

/**
 * Starts one boot. `bootWdtMs` is a watchdog armed from the start (a board's boot-time WDT);
 * without it, the watchdog runs only once the package arms it.
 */
export function startBoardBoot(workerData: Record<string, unknown>, o: { bootWdtMs?: number; onLine?: (line: string) => void }): BoardBoot {
  const w = new Worker(WORKER, { workerData });
  let how: string | undefined;
  let failure: unknown;
  let wdt: ReturnType<typeof setTimeout> | undefined;
  let wdtMs = o.bootWdtMs ?? 0;
  const arm = () => {
    if (wdtMs <= 0) return;
    clearTimeout(wdt);
    wdt = setTimeout(() => {
      how = 'watchdog';
      o.onLine?.('hardware watchdog: no feed, resetting');
      void w.terminate();
    }, wdtMs);
    wdt.unref?.();
  };
  arm();
  w.on('message', (m: FromWorker) => {
    if (m.kind === 'line') o.onLine?.(m.line);
    else if (m.kind === 'wdt') {
      wdtMs = m.timeoutMs;
      arm();
    } else if (m.kind === 'feed') arm();
    else {
      // Its interpreter may still hold timers: the worker is ended, as a reset ends a board's RAM.
      how = m.how;
      void w.terminate();
    }
  });
  w.on('error', (e) => (failure = e));
  const ended = new Promise<string | undefined>((resolve) =>
    w.on('exit', () => {
      clearTimeout(wdt);
      resolve(how);
    }),
  );
  return {
    worker: w,
    ended,
    error: () => failure,
    kill() {
      how ??= 'killed';
      void w.terminate();
    },
  };
}

// A battery board's day: awake while there is work and for a short idle window after it, then
// radio off for a fixed time, and again. Only the timing lives here; what going to sleep and
// waking up mean (the sleep status, the disconnect, the paused watchdog) is the device's.
//
// The simulated sleep is a light sleep: the runtime keeps its memory (eval context, running
// modules, boot count) and only its connection goes, like an ESP32 with its radio off. A deep
// sleep would be a reboot every cycle, and a board that never stays up long enough to reach
// all-OK would count each one as a failed boot.

export interface SleepCycleOptions {
  /** How long each sleep lasts. */
  sleepMs: number;
  /** How long the device stays up with nothing to do, after waking and after its last work. */
  awakeMs: number;
  /** Work in progress (a command running, an upload, a terminal session) keeps it awake. */
  busy(): boolean;
  /**
   * Radio off: say so, and disconnect. `wakeAt` is when `wake` will be called (ms since the
   * epoch). Resolves `stayed` instead when work arrived while it was saying goodbye (`busy()`
   * again): the device has said it is online again, and the cycle carries on awake.
   */
  sleep(wakeAt: number): Promise<'asleep' | 'stayed'>;
  /** Radio on again. */
  wake(): void;
  onError(e: unknown): void;
}

export type SleepState = 'awake' | 'falling-asleep' | 'asleep' | 'stopped';

export interface SleepCycle {
  /** Work arrived or ended: the idle window starts again. */
  activity(): void;
  state(): SleepState;
  /** No more sleeping or waking; the timers go. */
  stop(): void;
}

export function startSleepCycle(o: SleepCycleOptions): SleepCycle {
  let state: SleepState = 'awake';
  let timer: NodeJS.Timeout | undefined;

  const armIdle = () => {
    clearTimeout(timer);
    timer = setTimeout(onIdle, o.awakeMs);
  };
  const onIdle = () => {
    if (state !== 'awake') return;
    if (o.busy()) return armIdle();
    state = 'falling-asleep';
    // The wake time is fixed before going: the status that announces it must be exact however
    // long the goodbye (status PUBACK, log flush, DISCONNECT) takes.
    const wakeAt = Date.now() + o.sleepMs;
    void o
      .sleep(wakeAt)
      .catch((e: unknown) => {
        o.onError(e);
        return 'asleep' as const;
      })
      .then((outcome) => {
        if (state !== 'falling-asleep') return;
        if (outcome === 'stayed') {
          state = 'awake';
          return armIdle();
        }
        state = 'asleep';
        timer = setTimeout(() => {
          if (state !== 'asleep') return;
          state = 'awake';
          try {
            o.wake();
          } catch (e) {
            o.onError(e);
          }
          armIdle();
        }, Math.max(0, wakeAt - Date.now()));
      });
  };

  armIdle();
  return {
    activity() {
      if (state === 'awake') armIdle();
    },
    state: () => state,
    stop() {
      state = 'stopped';
      clearTimeout(timer);
    },
  };
}

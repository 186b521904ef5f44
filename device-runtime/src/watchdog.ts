// The watchdog fed through the broker (wire facts, "Watchdog and safe mode"): a task publishes
// `watchdog.feed()` as an eval to the device's own command topic with the fixed id 0F00D every
// timeout/4; only when that command comes back through the broker and runs is the "hardware"
// watchdog fed. A fed watchdog therefore proves the device can be reached and commanded.
import { commandTopic, encodeFrame, utf8, WATCHDOG_ID } from '../../protocol/src';
import type { WatchdogConfig } from './device-config';

/** The part that resets the runtime: the supervisor process, or a timer for in-process devices. */
export interface HardwareWatchdog {
  /** (Re)arms with a timeout; a feed is then due within `timeoutMs`. */
  arm(timeoutMs: number): void;
  feed(): void;
  stop(): void;
}

/** In-process stand-in: fires `onExpire` when not fed in time. Cannot see a blocked loop. */
export function timerWatchdog(onExpire: () => void): HardwareWatchdog {
  let timer: NodeJS.Timeout | undefined;
  let timeout = 0;
  const restart = () => {
    clearTimeout(timer);
    timer = setTimeout(onExpire, timeout);
    timer.unref();
  };
  return {
    arm(ms) {
      timeout = ms;
      restart();
    },
    feed: () => timeout > 0 && restart(),
    stop: () => clearTimeout(timer),
  };
}

/** The feed command exactly as the original's watchdog task publishes it. */
export const feedCommand = (prefix: string): { topic: string; payload: Uint8Array } => ({
  topic: commandTopic(prefix, 'eval', WATCHDOG_ID),
  payload: encodeFrame(0, true, utf8('watchdog.feed()')),
});

export interface BrokerWatchdog {
  /** What the `watchdog.feed()` eval calls when the self-sent feed comes back. */
  feed(): void;
  /**
   * Asleep (radio off): no feed can come back, so neither the feeds nor the hardware watchdog
   * run, as a board's watchdog stops in sleep.
   */
  pause(): void;
  /** Awake again: the hardware watchdog is armed afresh and feeds are published again. */
  resume(): void;
  stop(): void;
}

/**
 * Arms the hardware watchdog with the boot timeout, publishes a feed every timeout/4, switches
 * to the configured timeout at the first feed that comes back, and calls `onAllOk` once at the
 * first feed after `allokS` seconds.
 */
export function startBrokerWatchdog(o: {
  config: WatchdogConfig;
  hw: HardwareWatchdog;
  startedAt: number;
  publishFeed: () => void;
  onAllOk: () => Promise<void>;
  onError: (e: unknown) => void;
}): BrokerWatchdog {
  const { config, hw } = o;
  hw.arm(config.initialS * 1000);
  let fed = false;
  let allOk = false;
  let stopped = false;
  const every = Math.max(100, (config.timeoutS * 1000) / 4);
  let timer: NodeJS.Timeout | undefined = setInterval(o.publishFeed, every);
  timer.unref();
  return {
    feed() {
      hw.feed();
      if (!fed) hw.arm(config.timeoutS * 1000);
      fed = true;
      if (!allOk && Date.now() - o.startedAt >= config.allokS * 1000) {
        allOk = true;
        o.onAllOk().catch(o.onError);
      }
    },
    pause() {
      clearInterval(timer);
      timer = undefined;
      hw.stop();
    },
    resume() {
      if (timer || stopped) return;
      hw.arm((fed ? config.timeoutS : config.initialS) * 1000);
      timer = setInterval(o.publishFeed, every);
      timer.unref();
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      hw.stop();
    },
  };
}

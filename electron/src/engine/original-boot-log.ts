// What an original MQBoard board says about itself. It publishes no status, so its own log lines
// are the host's only source: the boot greeting of main.py (`MicroPython 1.12.0 (v1.12-weather-1-8-
// g251c8f5a3 on 2020-05-23)`, whose build is also the firmware image's app-description version),
// the boot partition, and the watchdog's all-OK, when the board marks the running firmware valid
// (cancelling the OTA rollback) and arms a normal next boot.
import type { LogLine } from '../../../protocol/src';

export type BootLogFact =
  /** A new boot: the board runs this build now, on trial until its all-OK. */
  | { kind: 'greeting'; firmware: string }
  | { kind: 'partition'; partition: string }
  /** The watchdog's all-OK: the running firmware is marked valid. */
  | { kind: 'all-ok' };

// Bounded, without nested repetition: linear on untrusted text. The build is printable ASCII
// without spaces or parentheses, at most 64 characters.
const GREETING = /^MicroPython \d{1,4}\.\d{1,4}(?:\.\d{1,4})? \(([!-'*-~]{1,64})(?: on [^)]{0,64})?[,)]/;
const PARTITION = /^Boot partition: ([0-9A-Za-z_]{1,32})$/;
/** The watchdog's words at all-OK: in normal mode, and in safe mode just before it resets into normal mode. */
const ALL_OK = new Set(['Next reset: normal boot', 'Switching to NORMAL MODE via reset']);

/** The fact a line states, or undefined for every other line. */
export function readBootLogLine(l: LogLine): BootLogFact | undefined {
  if (l.name === 'main' && l.level === 'W') {
    const g = GREETING.exec(l.text);
    if (g) return { kind: 'greeting', firmware: g[1]! };
    const p = PARTITION.exec(l.text);
    if (p) return { kind: 'partition', partition: p[1]! };
    return undefined;
  }
  if (l.name === 'watchdog' && (l.level === 'W' || l.level === 'C') && ALL_OK.has(l.text)) return { kind: 'all-ok' };
  return undefined;
}

/** A cheap look at the raw payload: only WARNING and CRITICAL lines can state a fact. */
export const mayStateBootFact = (payload: Uint8Array): boolean => payload[0] === 0x57 || payload[0] === 0x43;

// Asking an original board what its log said at boot. It publishes no status: the host learns its
// build from the boot greeting and its confirmation from the watchdog's all-OK line
// (original-boot-log.ts), and a host that was not listening then (it started later, or its own
// broker connection was down) has neither. One eval answers both, and dates the running boot
// so that a reboot the host did not see can be told from the same run:
// - `os.uname().version` starts with the build the greeting names (`v1.12-… on 2020-05-23`);
// - `time.ticks_ms()` counts from the boot (it wraps after 2^30 ms, about 12 days: far longer
//   than anything the host compares across);
// - the watchdog module sets its `first` to None once it has marked the firmware valid (the
//   all-OK); a board without the module answers None for "unknown".
export interface OriginalProbe {
  firmware: string;
  /** When the running boot began, host clock, ms since the epoch (probe time minus ticks). */
  bootedAt: number;
  /** The watchdog's all-OK has happened in this boot; undefined when the board cannot say. */
  confirmed?: boolean;
}

export const PROBE_CODE = [
  'import os, time',
  'try:',
  '    _ok = watchdog.first is None',
  'except Exception:',
  '    _ok = None',
  'print(os.uname().version)',
  'print(time.ticks_ms())',
  'print(_ok)',
].join('\n');

// The greeting's build: printable ASCII without spaces or parentheses, at most 64 characters.
const BUILD = /^([!-'*-~]{1,64})(?: on [ -~]{0,64})?$/;
const TICKS = /^\d{1,12}$/;

/**
 * Reads the board's answer to PROBE_CODE, sent at `sentAt` and answered at `answeredAt`; the
 * answer is untrusted text, so anything but the three expected lines is an error in words.
 */
export function readProbe(output: string, sentAt: number, answeredAt: number): OriginalProbe {
  if (output.length > 512) throw new Error('the board answered the probe with more than it should');
  const lines = output.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  if (lines.length !== 3) throw new Error('the board answered the probe with something other than three lines');
  const build = BUILD.exec(lines[0]!);
  if (!build) throw new Error('the board answered the probe with a version that is not a build name');
  if (!TICKS.test(lines[1]!)) throw new Error('the board answered the probe with ticks that are not a number');
  const ok = lines[2];
  if (ok !== 'True' && ok !== 'False' && ok !== 'None') throw new Error('the board answered the probe with an all-OK state that is not True, False or None');
  // The ticks were read somewhere between sending and the answer: the midpoint halves the error.
  const bootedAt = Math.round((sentAt + answeredAt) / 2) - Number(lines[1]);
  return { firmware: build[1]!, bootedAt, ...(ok === 'None' ? {} : { confirmed: ok === 'True' }) };
}

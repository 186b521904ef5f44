// `view`: log lines coloured as the original viewer does (C magenta bold, E red bold, W yellow
// bold, I green, D dim). The line is the device's text: its control characters are shown as text
// (raw: its own SGR colours pass), so only the colours added here reach the terminal as such.
import type { Level, LogLine } from '../../../protocol/src';
import { neutraliseControls } from '../../../protocol/src/control-chars';

const STYLE: Record<Level, string> = {
  C: '\x1b[35;1m',
  E: '\x1b[31;1m',
  W: '\x1b[33;1m',
  I: '\x1b[32m',
  D: '\x1b[2m',
};
const RESET = '\x1b[0m';

export const formatLine = (l: LogLine): string => `${l.level} ${l.time} ${l.name.padStart(8)}: ${l.text}`;

export function colourLine(l: LogLine, colour: boolean, prefix?: string, raw = false): string {
  const s = neutraliseControls((prefix ? `${prefix} ` : '') + formatLine(l), { keepSgr: raw });
  return colour ? `${STYLE[l.level]}${s}${RESET}` : s;
}

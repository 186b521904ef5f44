// Log lines waiting for the broker (wire facts, "Logging"), so logging survives bad
// connectivity: kept in order within a byte budget; on overflow the least severe lines go
// first and, among equals, the oldest. A WARNING therefore survives as long as there is any
// INFO or DEBUG line left to drop.
import { LEVEL_RANK, type Level } from '../../protocol/src';

export interface BufferedLine {
  level: Level;
  bytes: Uint8Array;
}

export interface LogBuffer {
  push(line: BufferedLine): void;
  shift(): BufferedLine | undefined;
  /** Puts a line back at the front, e.g. when sending it failed. */
  unshift(line: BufferedLine): void;
  setBudget(bytes: number): void;
  size(): number;
  bytes(): number;
  /** How many lines were dropped since the last call; reported as one warning once connected. */
  takeDropped(): number;
}

export function createLogBuffer(budget: number): LogBuffer {
  const lines: BufferedLine[] = [];
  let total = 0;
  let dropped = 0;

  const trim = () => {
    while (total > budget && lines.length > 0) {
      // Find the least severe level present, then drop its oldest line. O(n) per drop, and n is
      // a few hundred lines for budgets of tens of KB.
      let worst = -1;
      let at = 0;
      for (let i = 0; i < lines.length; i++) {
        const r = LEVEL_RANK[lines[i]!.level];
        if (r > worst) {
          worst = r;
          at = i;
        }
      }
      total -= lines[at]!.bytes.length;
      lines.splice(at, 1);
      dropped++;
    }
  };

  return {
    push(line) {
      lines.push(line);
      total += line.bytes.length;
      trim();
    },
    shift() {
      const l = lines.shift();
      if (l) total -= l.bytes.length;
      return l;
    },
    unshift(line) {
      lines.unshift(line);
      total += line.bytes.length;
    },
    setBudget(bytes) {
      budget = bytes;
      trim();
    },
    size: () => lines.length,
    bytes: () => total,
    takeDropped() {
      const n = dropped;
      dropped = 0;
      return n;
    },
  };
}

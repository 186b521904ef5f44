// Formats log records for export: one line per record, the columns of the log view (received
// time, device, level, device time, logger, text), crash stacks indented below their record.
import type { LogRecord } from '../../../protocol/src/bridge-logs';

export function formatExportLine(r: LogRecord, withDevice: boolean): string {
  const received = new Date(r.received).toISOString();
  const head = `${received} ${withDevice ? `${r.prefix} ` : ''}${r.level} ${r.time} ${r.name}: ${r.text}`;
  const stack = r.crash?.stack;
  return stack ? `${head}\n${stack.replace(/^/gm, '    ')}` : head;
}

/** `mqboard-<device or fleet>-<date>.log`, safe on every file system. */
export function exportFileName(prefix: string | undefined, now: Date): string {
  const who = prefix ? prefix.replace(/[^A-Za-z0-9._-]+/g, '_') : 'fleet';
  const when = now.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
  return `mqboard-${who}-${when}.log`;
}

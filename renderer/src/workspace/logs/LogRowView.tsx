// One line of a log view: received time, device time, device (fleet view), level, logger and
// text, coloured by level as the original viewer (wire facts, "Logging"), search hits marked.
// Everything the device sent is shown with its control characters visible (`\e]52;…\a`), on one line.
import { memo } from 'react';
import { oneLine as visible } from '../../../../protocol/src/control-chars';
import { splitHighlights, type LogMatcher } from '../../../../protocol/src/log-filter';
import type { LogRow } from './log-view-model';

export const ROW_HEIGHT = 20;

/** Local wall-clock time with milliseconds: the column is narrow and the date rarely matters. */
export function receivedTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

interface Props {
  row: LogRow;
  matcher: LogMatcher;
  showDevice: boolean;
  selected: boolean;
  onSelect(id: number): void;
}

export const LogRowView = memo(function LogRowView({ row, matcher, showDevice, selected, onSelect }: Props) {
  // Hits are found in the text as sent and each piece made visible after, so a match that
  // spans an escape sequence is still marked whole.
  const parts = splitHighlights(row.text, matcher.highlights(row.text));
  return (
    <div
      className={`log-row lv-${row.level}${selected ? ' selected' : ''}${row.crash ? ' crash-row' : ''}`}
      data-testid="log-row"
      data-level={row.level}
      data-prefix={row.prefix}
      onClick={() => onSelect(row.id)}
      title={new Date(row.received).toLocaleString()}
    >
      <span className="lc-received">{receivedTime(row.received)}</span>
      <span className="lc-time">{row.time}</span>
      {showDevice ? <span className="lc-device">{visible(row.prefix)}</span> : null}
      <span className="lc-level">{row.level}</span>
      <span className="lc-name">{visible(row.name)}</span>
      <span className="lc-text">
        {row.crash ? <span className="crash-tag">crash</span> : null}
        {parts.map((p, i) =>
          p.hit ? (
            <mark key={i} data-testid="log-hit">
              {visible(p.text)}
            </mark>
          ) : (
            visible(p.text)
          ),
        )}
      </span>
    </div>
  );
});

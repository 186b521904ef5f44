// The one definition of "which log lines does a view show" (issue 5: level filter, text and
// regex search). The app host runs it over stored history and the renderer over live lines, so
// both must agree; it lives here, without Node or DOM, for that reason.
import type { LogFilter } from './bridge-logs';
import { LEVELS, type Level } from './log-line';

export interface LogMatcher {
  /** Whether a line passes the level filter and the search. */
  test(level: Level, name: string, text: string): boolean;
  /** [start, end) character ranges of `text` to highlight; empty without a search. */
  highlights(text: string): [number, number][];
  /** Set when the regex does not compile; such a search matches nothing. */
  error?: string;
}

/** Guards against a pattern that matches the empty string looping forever in highlights(). */
const MAX_HIGHLIGHTS = 200;

export function compileLogFilter(f: LogFilter): LogMatcher {
  const levels = f.levels && f.levels.length < LEVELS.length ? new Set<Level>(f.levels) : null;
  const search = f.search ?? '';
  let re: RegExp | null = null;
  let error: string | undefined;
  if (search) {
    try {
      const source = f.regex ? search : search.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      re = new RegExp(source, f.caseSensitive ? 'g' : 'gi');
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
  }
  const searchMatches = (s: string): boolean => {
    if (!re) return true;
    re.lastIndex = 0;
    return re.test(s);
  };
  return {
    error,
    test(level, name, text) {
      if (levels && !levels.has(level)) return false;
      if (error !== undefined) return false;
      // The logger name is searchable too ("show me everything from `wifi`").
      return searchMatches(text) || (re !== null && searchMatches(name));
    },
    highlights(text) {
      if (!re) return [];
      const out: [number, number][] = [];
      re.lastIndex = 0;
      for (let m = re.exec(text); m && out.length < MAX_HIGHLIGHTS; m = re.exec(text)) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        out.push([m.index, m.index + m[0].length]);
      }
      return out;
    },
  };
}

/** Splits text into plain and highlighted parts for rendering. */
export function splitHighlights(text: string, ranges: [number, number][]): { text: string; hit: boolean }[] {
  const parts: { text: string; hit: boolean }[] = [];
  let at = 0;
  for (const [s, e] of ranges) {
    if (s > at) parts.push({ text: text.slice(at, s), hit: false });
    parts.push({ text: text.slice(s, e), hit: true });
    at = e;
  }
  if (at < text.length || parts.length === 0) parts.push({ text: text.slice(at), hit: false });
  return parts;
}

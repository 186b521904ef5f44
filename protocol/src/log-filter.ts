// The one definition of "which log lines does a view show". The app host runs it over stored
// history and the renderer over live lines, so
// both must agree; it lives here, without Node or DOM, for that reason.
import { RE2JS } from 're2js';
import type { LogFilter } from './bridge-logs';
import { LEVELS, type Level } from './log-line';

export interface LogMatcher {
  /** Whether a line passes the level filter and the search. */
  test(level: Level, name: string, text: string): boolean;
  /** [start, end) character ranges of `text` to highlight; empty without a search. */
  highlights(text: string): [number, number][];
  /** Set when the regex does not compile or uses what RE2 lacks; such a search matches nothing. */
  error?: string;
}

/**
 * Enough to show; also bounds the work per line whatever the pattern: each highlight is a search
 * in RE2's slower engine, and 200 of them on a 1 KiB line cost up to ~12 ms (bench:fuzz).
 */
const MAX_HIGHLIGHTS = 50;
/** Searches that match the empty string find it at every position; past this, a line shows fewer highlights. */
const MAX_FINDS = 2 * MAX_HIGHLIGHTS;
/**
 * RE2 matches in time linear in the text but proportional to the compiled program, and finding
 * where a match starts and ends (highlights) runs the slower of its engines. Real searches
 * compile to well under 100 instructions (`\b(error|fail(ed|ure)?|timeout)\b`: 33); a pattern
 * like `(?:a?){200}a{200}` (602) cost ~30 ms per 1 KiB line to highlight.
 */
export const MAX_SEARCH_INSTRUCTIONS = 200;

/**
 * Compiles a search with RE2 (re2js), which matches in time linear in the text whatever the
 * pattern: a user's regex runs over every stored line on the host's main thread, and a
 * backtracking engine hangs it on `.*.*.*.*.*.*.*.*.*.*x`. JavaScript spellings RE2 reads
 * differently (`\u00e9`, `(?<name>…)`) are translated first; what RE2 does not do at all
 * (lookahead, backreferences) is reported as unsupported.
 */
function compileSearch(search: string, caseSensitive: boolean | undefined): RE2JS | string {
  const flags = caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE;
  try {
    const re = RE2JS.compile(RE2JS.translateRegExp(search), flags);
    const size = re.re2().numberOfInstructions();
    if (size > MAX_SEARCH_INSTRUCTIONS) {
      return `pattern too expensive: it compiles to ${size} instructions, the limit is ${MAX_SEARCH_INSTRUCTIONS} (use fewer or smaller {n} repeats)`;
    }
    return re;
  } catch (e) {
    const detail = (e instanceof Error ? e.message : String(e))
      .replace(/^error parsing regexp: /, '')
      // re2js spells the case flag into the pattern it quotes; the user did not write it.
      .replace('`(?i)', '`');
    if (detail.includes('unsupported Perl syntax')) return `unsupported regular expression: no lookaround in this search (${detail})`;
    if (/escape sequence: `\\[1-9]/.test(detail)) return `unsupported regular expression: no backreferences in this search (${detail})`;
    return `invalid regular expression: ${detail}`;
  }
}

/** What a compiled search does to one text: whether it is there, and where. */
interface Finder {
  test(text: string): boolean;
  highlights(text: string): [number, number][];
}

/**
 * A plain-text search: `indexOf` in case-folded text, whose cost does not grow with the length of
 * what the user typed (a pasted message of a few hundred characters compiles to an RE2 program as
 * long, which is slow to start on every search). Where folding changes a text's length (a few
 * letters, e.g. `İ`), positions would shift: that text is searched with RE2 instead.
 */
function plainFinder(search: string, caseSensitive: boolean | undefined): Finder {
  const fold = (t: string) => (caseSensitive ? t : t.toLowerCase());
  const needle = fold(search);
  let exact: RE2JS | undefined;
  const viaRe2 = () => (exact ??= RE2JS.compile(RE2JS.quote(search), caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE));
  return {
    test(text) {
      const hay = fold(text);
      return hay.length === text.length ? hay.includes(needle) : viaRe2().test(text);
    },
    highlights(text) {
      const hay = fold(text);
      if (hay.length !== text.length) return re2Highlights(viaRe2(), text);
      const out: [number, number][] = [];
      for (let at = hay.indexOf(needle); at >= 0 && out.length < MAX_HIGHLIGHTS; at = hay.indexOf(needle, at + needle.length)) out.push([at, at + needle.length]);
      return out;
    },
  };
}

function re2Highlights(re: RE2JS, text: string): [number, number][] {
  const out: [number, number][] = [];
  // The fast engine says first whether there is anything to find at all.
  if (!re.test(text)) return out;
  // find() steps past an empty match by itself, so `x*` cannot loop here.
  const m = re.matcher(text);
  for (let finds = 0; finds < MAX_FINDS && out.length < MAX_HIGHLIGHTS && m.find(); finds++) {
    if (m.end() > m.start()) out.push([m.start(), m.end()]);
  }
  return out;
}

export function compileLogFilter(f: LogFilter): LogMatcher {
  const levels = f.levels && f.levels.length < LEVELS.length ? new Set<Level>(f.levels) : null;
  const search = f.search ?? '';
  let finder: Finder | null = null;
  let error: string | undefined;
  if (search && f.regex) {
    const compiled = compileSearch(search, f.caseSensitive);
    if (typeof compiled === 'string') error = compiled;
    else finder = { test: (t) => compiled.test(t), highlights: (t) => re2Highlights(compiled, t) };
  } else if (search) {
    finder = plainFinder(search, f.caseSensitive);
  }
  return {
    error,
    test(level, name, text) {
      if (levels && !levels.has(level)) return false;
      if (error !== undefined) return false;
      // The logger name is searchable too ("show me everything from `wifi`").
      return !finder || finder.test(text) || finder.test(name);
    },
    highlights: (text) => finder?.highlights(text) ?? [],
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

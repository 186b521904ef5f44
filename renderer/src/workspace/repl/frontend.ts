// The one place that knows xterm.js (Tabby's "frontend" habit): the terminal, its fit, search
// and web-links addons, a throttled ResizeObserver that reports only real size changes, and
// clipboard keys. Everything else talks to this class, on xterm's public typings only.
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal, type ITheme } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';

/** Resize work (fit, then telling the device) at most this often while a pane is dragged. */
const RESIZE_THROTTLE_MS = 100;

export interface FrontendEvents {
  /** Keystrokes and pastes, as xterm encodes them. */
  onData(data: string): void;
  /** Only when the character grid really changed. */
  onResize(cols: number, rows: number): void;
  /** Where Find stands: the active match (-1 for none) of how many. */
  onFindResults?(index: number, count: number): void;
}

const DARK: ITheme = {
  background: '#121418',
  foreground: '#e6e9ed',
  cursor: '#4d86f7',
  cursorAccent: '#121418',
  selectionBackground: '#2b4a80',
  black: '#1c2025',
  red: '#f26464',
  green: '#3ecf7a',
  yellow: '#f2a33a',
  blue: '#4d86f7',
  magenta: '#c678dd',
  cyan: '#56b6c2',
  white: '#d5dae0',
  brightBlack: '#707a86',
};
const LIGHT: ITheme = {
  background: '#fbfbfc',
  foreground: '#1c2127',
  cursor: '#2f6fed',
  cursorAccent: '#fbfbfc',
  selectionBackground: '#cfe0ff',
  black: '#1c2127',
  red: '#d13b3b',
  green: '#1d9a55',
  yellow: '#b25e00',
  blue: '#2f6fed',
  magenta: '#a626a4',
  cyan: '#0b7d8a',
  white: '#5c6672',
  brightBlack: '#8a939e',
};

export class TerminalFrontend {
  readonly term: Terminal;
  private readonly fit = new FitAddon();
  private readonly search = new SearchAddon();
  private observer: ResizeObserver | undefined;
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;
  private lastSize = { cols: 0, rows: 0 };
  private disposed = false;

  constructor(private readonly events: FrontendEvents) {
    const dark = typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
    this.term = new Terminal({
      fontFamily: "ui-monospace, 'SF Mono', 'Cascadia Mono', 'JetBrains Mono', Menlo, Consolas, 'DejaVu Sans Mono', monospace",
      fontSize: 13,
      lineHeight: 1.2,
      cursorBlink: true,
      scrollback: 10_000,
      // The search addon highlights matches through decorations, a proposed API.
      allowProposedApi: true,
      theme: dark ? DARK : LIGHT,
    });
    this.term.loadAddon(this.fit);
    this.term.loadAddon(this.search);
    this.term.loadAddon(new WebLinksAddon());
    this.term.onData((d) => this.events.onData(d));
    // Ctrl+Shift+C / Ctrl+Shift+V copy and paste (plain Ctrl+C is the interrupt). For the paste
    // xterm only has to leave the key alone: the browser turns it into a paste event, which
    // xterm handles (reading the clipboard here as well would paste twice).
    this.term.attachCustomKeyEventHandler((e) => {
      if (!e.ctrlKey || !e.shiftKey || e.altKey || e.metaKey) return true;
      if (e.code === 'KeyC') {
        if (e.type === 'keydown') void this.copy();
        return false;
      }
      return e.code !== 'KeyV';
    });
    this.search.onDidChangeResults((r) => this.events.onFindResults?.(r.resultIndex, r.resultCount));
  }

  mount(el: HTMLElement): void {
    this.term.open(el);
    this.observer = new ResizeObserver(() => this.scheduleFit());
    this.observer.observe(el);
    this.fitNow();
  }

  private scheduleFit(): void {
    if (this.resizeTimer) return;
    this.resizeTimer = setTimeout(() => {
      this.resizeTimer = undefined;
      this.fitNow();
    }, RESIZE_THROTTLE_MS);
  }

  private fitNow(): void {
    if (this.disposed) return;
    // A hidden tab has no size: keep the last one rather than shrinking the device's to nothing.
    const dims = this.fit.proposeDimensions();
    if (!dims || !Number.isFinite(dims.cols) || !Number.isFinite(dims.rows) || dims.cols < 2 || dims.rows < 1) return;
    this.fit.fit();
    const { cols, rows } = this.term;
    if (cols === this.lastSize.cols && rows === this.lastSize.rows) return;
    this.lastSize = { cols, rows };
    this.events.onResize(cols, rows);
  }

  size(): { cols: number; rows: number } {
    return { cols: this.term.cols, rows: this.term.rows };
  }

  /** `done` runs once xterm has parsed the data: the consumer's signal for flow control. */
  write(data: string, done?: () => void): void {
    this.term.write(data, done);
  }

  clear(): void {
    this.term.clear();
  }

  focus(): void {
    this.term.focus();
  }

  async copy(): Promise<void> {
    const text = this.term.getSelection();
    if (text) await navigator.clipboard.writeText(text).catch(() => undefined);
  }

  async paste(): Promise<void> {
    const text = await navigator.clipboard.readText().catch(() => '');
    // xterm.paste applies bracketed-paste mode and normalises line ends, then emits onData.
    if (text) this.term.paste(text);
  }

  /**
   * Finds and highlights `query` in the scrollback. `incremental` (while typing) keeps the
   * current match if it still matches; otherwise the next (or previous) match becomes active.
   */
  find(query: string, how: { backwards?: boolean; incremental?: boolean } = {}): boolean {
    if (!query) {
      this.search.clearDecorations();
      this.term.clearSelection();
      this.events.onFindResults?.(-1, 0);
      return false;
    }
    const opts = {
      incremental: how.incremental === true,
      decorations: { matchOverviewRuler: '#f2a33a', activeMatchColorOverviewRuler: '#4d86f7', matchBackground: '#7a5317', activeMatchBackground: '#2f6fed' },
    };
    return how.backwards ? this.search.findPrevious(query, opts) : this.search.findNext(query, opts);
  }

  dispose(): void {
    this.disposed = true;
    if (this.resizeTimer) clearTimeout(this.resizeTimer);
    this.observer?.disconnect();
    this.term.dispose();
  }
}

// The line-mode REPL for boards without a live terminal (original MQBoard boards):
// line editing and history happen here, in the terminal; each entered line, or block (a line
// ending in `:` opens one, an empty line ends it, as in Python's REPL), is sent as one `eval`,
// and the reply is printed, errors in red.
//
// What the board replies (wire facts, `eval`): source that compiles as an expression is
// evaluated and its repr() comes back, so `print("hi")` replies `None` while "hi" goes to the
// board's serial console; anything else runs as statements and the output they print is
// captured and comes back. A line that is a print() call is therefore sent as statements (a
// second line, `pass`, makes it so), and what it prints is what the user sees.
import { BridgeCallError, type BridgeClient } from '../../bridge/client';
import type { TerminalFrontend } from './frontend';

const PROMPT = '\x1b[36m>>>\x1b[0m ';
const MORE = '\x1b[36m...\x1b[0m ';
const RED = '\x1b[31m';
const DIM = '\x1b[2m';
const YELLOW = '\x1b[33m';
const OFF = '\x1b[0m';
const HISTORY_MAX = 500;

const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');

/**
 * The source sent for an entered line or block: a single line that calls print() is followed
 * by a `pass` line. Two lines never compile as an expression, so the board runs them as
 * statements and replies with what the print wrote instead of `None` (a comment or a string
 * holding `#` on the line changes nothing).
 */
export function evalSource(code: string): string {
  if (code.includes('\n') || !/^\s*print\s*\(/.test(code)) return code;
  return `${code.trim()}\npass`;
}

export class LineModeRepl {
  private line = '';
  private cursor = 0;
  private block: string[] = [];
  private history: string[] = [];
  /** Position while browsing history; history.length = the line being edited. */
  private browse = 0;
  private draft = '';
  private running: AbortController | undefined;
  private typeAhead = '';
  private disposed = false;

  constructor(
    private readonly bridge: BridgeClient,
    private readonly prefix: string,
    private readonly fe: TerminalFrontend,
  ) {}

  start(): void {
    this.fe.write(
      `${YELLOW}This board has no live terminal.${OFF} ${DIM}Line mode: each line (or block) runs as one eval on the board.${OFF}\r\n` +
        `${DIM}An expression shows its value; statements show what they print. Output printed while an expression runs (a function that prints) goes to the board's console.${OFF}\r\n` +
        `${DIM}↑/↓ history · Ctrl+C clears or abandons · a line ending in ':' opens a block, an empty line runs it${OFF}\r\n\r\n`,
    );
    this.prompt();
  }

  private prompt() {
    this.fe.write(this.block.length ? MORE : PROMPT);
  }

  private redraw() {
    const back = this.line.length - this.cursor;
    this.fe.write(`\r\x1b[K${this.block.length ? MORE : PROMPT}${this.line}${back > 0 ? `\x1b[${back}D` : ''}`);
  }

  input(data: string): void {
    if (this.disposed) return;
    if (this.running) {
      if (data.includes('\x03')) {
        this.typeAhead = '';
        this.running.abort();
        this.fe.write(`^C\r\n${DIM}(abandoned: the board may still be running it)${OFF}\r\n`);
        return;
      }
      // Typed while the board works: kept, and edited once the prompt is back (type-ahead).
      this.typeAhead += data;
      return;
    }
    // Escape sequences first, then single characters; a paste may hold several lines.
    // eslint-disable-next-line no-control-regex -- matching terminal escape sequences
    const re = /\x1b\[[0-9;]*[A-Za-z~]|\x1bO[A-Za-z]|[\s\S]/g;
    let offset = 0;
    for (const m of data.matchAll(re)) {
      offset = (m.index ?? 0) + m[0].length;
      this.key(m[0]);
      if (this.running) {
        // The rest waits for this evaluation, in order.
        this.typeAhead = data.slice(offset) + this.typeAhead;
        return;
      }
    }
  }

  private key(k: string) {
    switch (k) {
      case '\r':
      case '\n':
        return this.enter();
      case '\x7f':
      case '\b':
        if (this.cursor > 0) {
          this.line = this.line.slice(0, this.cursor - 1) + this.line.slice(this.cursor);
          this.cursor--;
          this.redraw();
        }
        return;
      case '\x03':
        this.fe.write('^C\r\n');
        this.line = '';
        this.cursor = 0;
        this.block = [];
        this.browse = this.history.length;
        return this.prompt();
      case '\x1b[A':
        return this.recall(-1);
      case '\x1b[B':
        return this.recall(1);
      case '\x1b[C':
        if (this.cursor < this.line.length) {
          this.cursor++;
          this.fe.write(k);
        }
        return;
      case '\x1b[D':
        if (this.cursor > 0) {
          this.cursor--;
          this.fe.write(k);
        }
        return;
      case '\x1b[H':
      case '\x1bOH':
      case '\x01':
        this.cursor = 0;
        return this.redraw();
      case '\x1b[F':
      case '\x1bOF':
      case '\x05':
        this.cursor = this.line.length;
        return this.redraw();
      case '\x1b[3~':
        this.line = this.line.slice(0, this.cursor) + this.line.slice(this.cursor + 1);
        return this.redraw();
      case '\t':
        return this.insert('    ');
      default:
        if (k.length === 1 && k >= ' ') this.insert(k);
    }
  }

  private insert(s: string) {
    this.line = this.line.slice(0, this.cursor) + s + this.line.slice(this.cursor);
    this.cursor += s.length;
    if (this.cursor === this.line.length) this.fe.write(s);
    else this.redraw();
  }

  private recall(dir: -1 | 1) {
    const next = this.browse + dir;
    if (next < 0 || next > this.history.length) return;
    if (this.browse === this.history.length) this.draft = this.line;
    this.browse = next;
    this.line = next === this.history.length ? this.draft : this.history[next]!;
    this.cursor = this.line.length;
    this.redraw();
  }

  private enter() {
    const line = this.line;
    this.fe.write('\r\n');
    this.line = '';
    this.cursor = 0;
    if (line.trim() && this.history[this.history.length - 1] !== line) {
      this.history.push(line);
      if (this.history.length > HISTORY_MAX) this.history.shift();
    }
    this.browse = this.history.length;
    this.draft = '';
    if (this.block.length) {
      if (line.trim() !== '') {
        this.block.push(line);
        return this.prompt();
      }
    } else if (/:\s*$/.test(line)) {
      this.block.push(line);
      return this.prompt();
    } else if (!line.trim()) return this.prompt();
    const code = this.block.length ? this.block.join('\n') : line;
    this.block = [];
    void this.run(code);
  }

  private async run(code: string) {
    const ac = new AbortController();
    this.running = ac;
    try {
      const r = await this.bridge.call('replEval', { prefix: this.prefix, code: evalSource(code) }, { signal: ac.signal });
      if (ac.signal.aborted || this.disposed) return;
      if (r.text) this.fe.write(crlf(r.text.endsWith('\n') ? r.text : `${r.text}\n`));
    } catch (e) {
      if (ac.signal.aborted || this.disposed) return;
      const msg = e instanceof BridgeCallError || e instanceof Error ? e.message : String(e);
      this.fe.write(`${RED}${crlf(msg.trimEnd())}${OFF}\r\n`);
    } finally {
      if (this.running === ac) this.running = undefined;
      if (!this.disposed) {
        this.prompt();
        const pending = this.typeAhead;
        this.typeAhead = '';
        if (pending) this.input(pending);
      }
    }
  }

  dispose(): void {
    this.disposed = true;
    this.running?.abort();
  }
}

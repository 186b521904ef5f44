// A live terminal session on a device with the `terminal` capability: keystrokes out, output
// into xterm, and flow control by acknowledgement. xterm's write callback says when output has
// been consumed; only then is it acked (through the host to the device), so a flood is held at
// the device and never piles up in this window (xterm's flow-control guide, VS Code's terminal).
// The session survives tab and device switches (the tab stays mounted); after a broker drop or a
// device restart it is reopened in the same xterm, so the scrollback stays.
import type { BridgeClient } from '../../bridge/client';
import type { TerminalFrontend } from './frontend';
import { termRouter } from './term-events';

export type LivePhase = 'opening' | 'open' | 'ended';
export interface LiveStatus {
  phase: LivePhase;
  reason?: string;
}

const DIM = '\x1b[2m';
/** Reopen attempts after a broker drop (each waits for the device up to the host's timeout). */
const RETRY_LIMIT = 8;
const RETRY_MS = 1_000;
/**
 * Input calls on their way to the host at once. A keystroke leaves as soon as it is typed (its
 * echo must not wait for the previous keystroke's reply); only a burst beyond this (a paste
 * arriving in pieces, a host that stopped answering) waits, merged into one call.
 */
const INPUT_IN_FLIGHT = 8;
const RED = '\x1b[31m';
const OFF = '\x1b[0m';

export class LiveSession {
  private term: string | undefined;
  private window = 0;
  private unclaim: (() => void) | undefined;
  /** Device bytes handed to xterm, bytes xterm has consumed, and the last total acked. */
  private written = 0;
  private acked = 0;
  private acking = false;
  private pendingInput = '';
  private sending = 0;
  private status: LiveStatus = { phase: 'opening' };
  private disposed = false;
  /** The session ended because the broker connection dropped: reopen once it is back. */
  private lostConnection = false;
  private retries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly bridge: BridgeClient,
    private readonly prefix: string,
    private readonly fe: TerminalFrontend,
    private readonly onStatus: (s: LiveStatus) => void,
    /** Whether the app's broker connection is up now (the store's view). */
    private readonly connected: () => boolean,
  ) {}

  private set(s: LiveStatus) {
    this.status = s;
    if (!this.disposed) this.onStatus(s);
  }

  async open(): Promise<void> {
    if (this.disposed || (this.status.phase === 'opening' && this.term)) return;
    this.retryTimer = undefined;
    this.set({ phase: 'opening' });
    this.written = 0;
    this.acked = 0;
    this.pendingInput = '';
    const { cols, rows } = this.fe.size();
    try {
      const r = await this.bridge.call('termOpen', { prefix: this.prefix, cols, rows });
      if (this.disposed) {
        void this.bridge.call('termClose', { term: r.term }).catch(() => undefined);
        return;
      }
      this.term = r.term;
      this.window = r.window;
      this.lostConnection = false;
      this.retries = 0;
      this.set({ phase: 'open' });
      this.unclaim = termRouter(this.bridge).claim(r.term, {
        data: (text, bytes) => this.output(text, bytes),
        ended: (reason) => this.ended(reason),
      });
      // The pane may have been resized while opening.
      const now = this.fe.size();
      if (now.cols !== cols || now.rows !== rows) this.resize(now.cols, now.rows);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      if (this.disposed) return;
      // After a broker drop the app is often back before the device is (its subscriptions
      // return with its own reconnect): keep trying for a while before asking the user.
      if (this.lostConnection && this.retries < RETRY_LIMIT) {
        if (this.retries === 0) this.fe.write(`${DIM}waiting for the device to come back…${OFF}\r\n`);
        this.retries++;
        this.set({ phase: 'opening', reason });
        this.retryTimer = setTimeout(() => void this.open(), RETRY_MS);
        return;
      }
      this.fe.write(`\r\n${RED}Could not open a terminal: ${reason}${OFF}\r\n${DIM}Press Enter to try again.${OFF}\r\n`);
      this.lostConnection = false;
      this.set({ phase: 'ended', reason });
    }
  }

  private output(text: string, bytes: number) {
    this.fe.write(text, () => {
      this.written += bytes;
      this.ack();
    });
  }

  /** Coalesced: one ack in flight, sent once a quarter window is consumed or output pauses. */
  private ack() {
    const term = this.term;
    if (!term || this.acking || this.written === this.acked) return;
    this.acking = true;
    const total = this.written;
    void this.bridge
      .call('termAck', { term, bytes: total })
      .then(() => (this.acked = Math.max(this.acked, total)))
      .catch(() => undefined)
      .finally(() => {
        this.acking = false;
        if (this.written - this.acked >= Math.max(1, this.window / 4)) this.ack();
        else if (this.written !== this.acked) queueMicrotask(() => this.ack());
      });
  }

  private ended(reason: string) {
    this.unclaim?.();
    this.unclaim = undefined;
    this.term = undefined;
    this.lostConnection = /connection to the broker|disconnected|restarted/i.test(reason);
    const line = this.lostConnection
      ? `session ended: ${reason} · a new one opens when it is back`
      : `${reason === 'exit' ? 'session ended' : `session ended: ${reason}`} · press Enter for a new one`;
    this.fe.write(`\r\n${DIM}── ${line} ──${OFF}\r\n`);
    this.set({ phase: 'ended', reason });
    // The end may be reported after the connection is already back (events are batched).
    if (this.lostConnection && this.connected()) this.connectionRestored();
  }

  /** The broker connection is back: reopen a session that the drop ended. */
  connectionRestored(): void {
    if (this.status.phase === 'ended' && this.lostConnection) {
      this.retries = 0;
      void this.open();
    }
  }

  input(data: string): void {
    if (this.status.phase === 'ended') {
      if (data.includes('\r')) void this.open();
      return;
    }
    // Ctrl-C is an interrupt, not a byte: the device must see it even while an evaluation keeps
    // its only thread busy (device-runtime/src/terminal/interrupt.ts).
    const parts = data.split('\x03');
    parts.forEach((part, i) => {
      if (i > 0) this.interrupt();
      if (part) this.pendingInput += part;
    });
    this.flushInput();
  }

  /**
   * Sends what was typed, in order: the transport delivers calls in order, and the host queues
   * each on the session's publish chain as its call arrives (electron/src/engine/terminal.ts),
   * so calls in flight together still reach the device in the order typed.
   */
  private flushInput() {
    const term = this.term;
    if (!term || this.sending >= INPUT_IN_FLIGHT || !this.pendingInput) return;
    const data = this.pendingInput;
    this.pendingInput = '';
    this.sending++;
    void this.bridge
      .call('termInput', { term, data })
      .catch(() => undefined)
      .finally(() => {
        this.sending--;
        this.flushInput();
      });
  }

  interrupt(): void {
    const term = this.term;
    if (term) void this.bridge.call('termInterrupt', { term }).catch(() => undefined);
  }

  resize(cols: number, rows: number): void {
    const term = this.term;
    if (term) void this.bridge.call('termResize', { term, cols, rows }).catch(() => undefined);
  }

  /** Ends this session and starts a new one in the same terminal (scrollback kept). */
  async reconnect(): Promise<void> {
    const term = this.term;
    this.unclaim?.();
    this.unclaim = undefined;
    this.term = undefined;
    if (term) await this.bridge.call('termClose', { term }).catch(() => undefined);
    this.fe.write(`\r\n${DIM}── reconnecting ──${OFF}\r\n`);
    await this.open();
  }

  dispose(): void {
    this.disposed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.unclaim?.();
    const term = this.term;
    this.term = undefined;
    if (term) void this.bridge.call('termClose', { term }).catch(() => undefined);
  }
}

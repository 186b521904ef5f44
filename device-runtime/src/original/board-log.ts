// The original board's MQTT logging (wire facts, "Logging"): one line per QoS 1 message on
// `P/log`, `<L> <ms since boot> <name right-aligned in 8>: <text>`. Lines are buffered in RAM
// (10 KB until the first connection, then 1 KB) and flushed in order while connected; on overflow
// lines below WARNING go first, then the oldest. The buffer is RAM: a reset loses it.
import { encodeLogLine, formatDeviceTime, LEVEL_RANK, type Level } from '../../../protocol/src';

export const BOOT_BUFFER_BYTES = 10 * 1024;
export const RUN_BUFFER_BYTES = 1024;

type Publish = (line: Uint8Array) => Promise<void>;

export class BoardLog {
  private queue: { level: Level; bytes: Uint8Array }[] = [];
  private queued = 0;
  private capacity = BOOT_BUFFER_BYTES;
  private publish: Publish | undefined;
  private draining = false;
  private closed = false;

  constructor(
    private readonly bootAt: number,
    private readonly echo?: (line: string) => void,
  ) {}

  /** ms since boot, wrapped like the original's `time.ticks_ms() % 100000000`. */
  ticks(): number {
    return (Date.now() - this.bootAt) % 100_000_000;
  }

  log(level: Level, name: string, text: string): void {
    if (this.closed) return;
    const bytes = encodeLogLine({ level, time: formatDeviceTime(this.ticks()), name, text });
    this.echo?.(Buffer.from(bytes).toString('utf8'));
    this.queue.push({ level, bytes });
    this.queued += bytes.length;
    this.trim();
    void this.drain();
  }

  info(name: string, text: string): void {
    this.log('I', name, text);
  }

  warning(name: string, text: string): void {
    this.log('W', name, text);
  }

  /** Connected: flush in order. The first connection also shrinks the buffer to its run size. */
  attach(publish: Publish): void {
    this.publish = publish;
    void this.drain();
  }

  /** Called once the boot backlog has been handed over, like the original's "Log buf" step. */
  shrink(): void {
    this.capacity = RUN_BUFFER_BYTES;
    this.trim();
  }

  detach(): void {
    this.publish = undefined;
  }

  /** The board resets: whatever is still buffered is lost with the RAM. */
  close(): void {
    this.closed = true;
    this.publish = undefined;
    this.queue = [];
    this.queued = 0;
  }

  stats(): { used: number; capacity: number } {
    return { used: this.queued, capacity: this.capacity };
  }

  private trim(): void {
    while (this.queued > this.capacity && this.queue.length > 0) {
      // Drop the oldest line below WARNING first; when none is left, the oldest line.
      let i = this.queue.findIndex((l) => LEVEL_RANK[l.level] > LEVEL_RANK.W);
      if (i < 0) i = 0;
      this.queued -= this.queue[i]!.bytes.length;
      this.queue.splice(i, 1);
    }
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      // One line in flight at a time, each awaited, like the board's publish loop.
      while (this.publish && this.queue.length > 0) {
        const line = this.queue[0]!;
        try {
          await this.publish(line.bytes);
        } catch {
          return; // connection lost; keep the line and retry on the next attach
        }
        if (this.queue[0] === line) {
          this.queue.shift();
          this.queued -= line.bytes.length;
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

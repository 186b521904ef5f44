// A terminal session's output stream with flow control by acknowledgement (docs/protocol.md,
// "Terminal sessions"; the VS Code terminal's FlowControlConstants idea): the device sends while
// it is less than `window` bytes ahead of the host's last `ack` and queues the rest.
//
// Invariant: sent - acked <= window. Nothing is published beyond it, whatever the producer does.
//
// The producer is user code, and a synchronous flood (`for(;;) print(1)`) cannot be paused
// without blocking the device's only thread (no ack could ever be read). So the queue is bounded
// too: past `cap` bytes output is dropped, counted, and reported in the stream once the host has
// caught up. An asynchronous producer is held back by the same window, never by memory.
import { encodeFrame, nextTermSeq } from '../../../protocol/src';

export interface FlowOutputOptions {
  window: number;
  /** Largest frame body. */
  chunk: number;
  /** Most bytes queued beyond the window before output is dropped. */
  cap: number;
  /** Publishes one `out` frame (header included). */
  publish(frame: Uint8Array): void;
}

export interface FlowOutput {
  write(data: Uint8Array): void;
  /** The host's total of consumed bytes. */
  ack(total: number): void;
  /** Sends what the window allows now, not at the end of this turn (before a long evaluation). */
  flush(): void;
  /** Bytes published so far, and acknowledged so far. */
  readonly sent: number;
  readonly acked: number;
  readonly queued: number;
  readonly dropped: number;
  dispose(): void;
}

export function createFlowOutput(o: FlowOutputOptions): FlowOutput {
  let sent = 0;
  let acked = 0;
  let seq = 0;
  let queue: Buffer[] = [];
  let queued = 0;
  let dropped = 0;
  let droppedTotal = 0;
  let scheduled: NodeJS.Immediate | undefined;
  let disposed = false;

  const take = (n: number): Buffer => {
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const head = queue[0]!;
      if (head.length <= need) {
        parts.push(head);
        queue.shift();
        need -= head.length;
      } else {
        parts.push(head.subarray(0, need));
        queue[0] = head.subarray(need);
        need = 0;
      }
    }
    queued -= n;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  };

  const pump = () => {
    if (disposed) return;
    if (dropped > 0 && queued < o.cap / 2) {
      // Said in the stream itself, where the gap is, once there is room to say it.
      const note = Buffer.from(`\r\n\x1b[33m[${dropped} bytes of output dropped: the host was not keeping up]\x1b[0m\r\n`);
      dropped = 0;
      queue.push(note);
      queued += note.length;
    }
    while (queued > 0) {
      const room = o.window - (sent - acked);
      if (room <= 0) return;
      const n = Math.min(room, o.chunk, queued);
      o.publish(encodeFrame(seq, false, take(n)));
      seq = nextTermSeq(seq);
      sent += n;
    }
  };

  return {
    write(data) {
      if (disposed || data.length === 0) return;
      if (queued + data.length > o.cap) {
        const fits = Math.max(0, o.cap - queued);
        dropped += data.length - fits;
        droppedTotal += data.length - fits;
        data = data.subarray(0, fits);
        if (data.length === 0) return pump();
      }
      queue.push(Buffer.from(data));
      queued += data.length;
      // Whole chunks go out at once, so output streams while a synchronous evaluation is still
      // running; small writes (keystroke echo, a prompt) are coalesced until the turn ends.
      if (queued >= o.chunk) pump();
      else {
        scheduled ??= setImmediate(() => {
          scheduled = undefined;
          pump();
        });
      }
    },
    ack(total) {
      // Acks are totals, so a lost or repeated one is harmless; one beyond what was sent is not.
      if (!Number.isSafeInteger(total) || total <= acked || total > sent) return;
      acked = total;
      pump();
    },
    flush: () => pump(),
    get sent() {
      return sent;
    },
    get acked() {
      return acked;
    },
    get queued() {
      return queued;
    },
    get dropped() {
      return droppedTotal;
    },
    dispose() {
      disposed = true;
      if (scheduled) clearImmediate(scheduled);
      queue = [];
      queued = 0;
    },
  };
}

// Host acks for `get` streams: the host that asked for `{"window": n}` publishes `SEQ k` on
// `P/mqb/cmd/ack/<id>/` as it consumes chunks; the stream waits whenever it is `window` chunks
// beyond the last ack. Acks for ids that are not streaming (late, duplicated) are ignored.

export interface AckGate {
  /** Resolves once `seq` may be sent: `seq <= lastAck + window`. Rejects after `timeoutMs`. */
  waitFor(seq: number, timeoutMs: number): Promise<void>;
  ack(seq: number): void;
  close(): void;
}

export interface AckRegistry {
  open(id: string, window: number): AckGate;
  ack(id: string, seq: number): boolean;
}

export function createAckRegistry(): AckRegistry {
  const gates = new Map<string, AckGate>();
  return {
    open(id, window) {
      let lastAck = -1;
      let waiter: { seq: number; resolve: () => void } | undefined;
      const gate: AckGate = {
        waitFor(seq, timeoutMs) {
          if (seq <= lastAck + window) return Promise.resolve();
          return new Promise<void>((resolve, reject) => {
            const t = setTimeout(() => {
              waiter = undefined;
              reject(new Error(`no ack from the host for ${timeoutMs} ms (last ack ${lastAck}, waiting to send ${seq})`));
            }, timeoutMs);
            waiter = { seq, resolve: () => (clearTimeout(t), resolve()) };
          });
        },
        ack(seq) {
          if (seq > lastAck) lastAck = seq;
          if (waiter && waiter.seq <= lastAck + window) {
            const w = waiter;
            waiter = undefined;
            w.resolve();
          }
        },
        close() {
          gates.delete(id);
        },
      };
      gates.set(id, gate);
      return gate;
    },
    ack(id, seq) {
      const g = gates.get(id);
      g?.ack(seq);
      return g !== undefined;
    },
  };
}

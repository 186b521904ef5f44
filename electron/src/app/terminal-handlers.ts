// Bridge handlers for terminal sessions (protocol/src/bridge-terminal.ts). Output goes out on
// the `terminal` event stream: the event hub sends it at once while the stream is idle (an echo
// must not wait for the batch interval) and merges it per session under load, so a chatty device
// costs a bounded number of IPC messages per interval; flow control (acks from the renderer)
// bounds how much can be pending at all.
import type { BridgeEvent } from '../../../protocol/src';
import type { Engine } from '../engine/types';
import type { Handlers } from './bridge-host';

type TerminalOps = 'termOpen' | 'termInput' | 'termResize' | 'termInterrupt' | 'termAck' | 'termClose' | 'replEval';

export function createTerminalHandlers(engine: Engine, publish: (e: BridgeEvent) => void): Pick<Handlers, TerminalOps> {
  return {
    termOpen: async ({ prefix, cols, rows }, ctx) => {
      // The id is only known once open resolves; output that arrives before (the prompt) is
      // held and sent with it, in order.
      const known: { id?: string } = {};
      const early: { data: string; bytes: number }[] = [];
      let endedEarly: string | undefined;
      const info = await engine.terminals.open(
        prefix,
        { cols, rows, signal: ctx.signal },
        {
          onData: (data, bytes) => {
            if (known.id) publish({ stream: 'terminal', output: [{ term: known.id, data, bytes }], ended: [] });
            else early.push({ data, bytes });
          },
          onEnd: (reason) => {
            if (known.id) publish({ stream: 'terminal', output: [], ended: [{ term: known.id, reason }] });
            else endedEarly = reason;
          },
        },
      );
      known.id = info.id;
      const term = info.id;
      if (early.length || endedEarly !== undefined) {
        publish({ stream: 'terminal', output: early.map((e) => ({ term, ...e })), ended: endedEarly !== undefined ? [{ term, reason: endedEarly }] : [] });
      }
      return { term, window: info.window };
    },
    termInput: async ({ term, data }) => {
      await engine.terminals.write(term, data);
      return {};
    },
    termResize: async ({ term, cols, rows }) => {
      await engine.terminals.resize(term, cols, rows);
      return {};
    },
    termInterrupt: async ({ term }) => {
      await engine.terminals.interrupt(term);
      return {};
    },
    termAck: async ({ term, bytes }) => {
      await engine.terminals.ack(term, bytes);
      return {};
    },
    termClose: async ({ term }) => {
      await engine.terminals.close(term);
      return {};
    },
    replEval: async ({ prefix, code }, ctx) => ({ text: await engine.eval(prefix, code, { signal: ctx.signal }) }),
  };
}

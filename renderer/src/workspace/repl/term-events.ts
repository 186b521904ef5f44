// Routes the bridge's `terminal` event stream to the session that owns each terminal id. The
// bytes go from here straight to xterm, never through the store (style anchors: terminal bytes
// do not belong in the store). Output can arrive before `termOpen` has returned the id (the
// prompt races the reply), so it is held for an id nobody has claimed yet, briefly.
import type { BridgeClient } from '../../bridge/client';

export interface TermSink {
  data(text: string, bytes: number): void;
  ended(reason: string): void;
}

interface Held {
  output: { data: string; bytes: number }[];
  ended?: string;
  at: number;
}

/** Unclaimed output older than this belongs to a session whose opener went away. */
const HOLD_MS = 30_000;

export interface TermRouter {
  claim(term: string, sink: TermSink): () => void;
}

const routers = new WeakMap<BridgeClient, TermRouter>();

export function termRouter(bridge: BridgeClient): TermRouter {
  let r = routers.get(bridge);
  if (!r) {
    r = createRouter(bridge);
    routers.set(bridge, r);
  }
  return r;
}

function createRouter(bridge: BridgeClient): TermRouter {
  const sinks = new Map<string, TermSink>();
  const held = new Map<string, Held>();
  const hold = (term: string): Held => {
    let h = held.get(term);
    if (!h) {
      h = { output: [], at: Date.now() };
      held.set(term, h);
    }
    return h;
  };
  bridge.onEvents((batch) => {
    const now = Date.now();
    for (const [t, h] of held) if (now - h.at > HOLD_MS) held.delete(t);
    for (const e of batch) {
      if (e.stream !== 'terminal') continue;
      for (const o of e.output) {
        const s = sinks.get(o.term);
        if (s) s.data(o.data, o.bytes);
        else hold(o.term).output.push({ data: o.data, bytes: o.bytes });
      }
      for (const x of e.ended) {
        const s = sinks.get(x.term);
        if (s) s.ended(x.reason);
        else hold(x.term).ended = x.reason;
      }
    }
  });
  return {
    claim(term, sink) {
      sinks.set(term, sink);
      const h = held.get(term);
      if (h) {
        held.delete(term);
        for (const o of h.output) sink.data(o.data, o.bytes);
        if (h.ended !== undefined) sink.ended(h.ended);
      }
      return () => {
        if (sinks.get(term) === sink) sinks.delete(term);
      };
    },
  };
}

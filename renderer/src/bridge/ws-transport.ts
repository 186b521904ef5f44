// Web mode: one WebSocket to /bridge, authenticated by the per-run token the server printed
// (it travels in the URL fragment, which browsers never send to servers or in Referer headers).
import { encodeBinaryCall, WsServerMessage, type CallEnvelope, type OperationName, type WsClientMessage } from '../../../protocol/src';
import type { Transport } from './transport';

export function wsTransport(token: string): Transport {
  const url = new URL('/bridge', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('token', token);
  const ws = new WebSocket(url);
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(batch: unknown) => void>();
  const lostListeners = new Set<(why: string) => void>();
  const queue: (string | Uint8Array)[] = [];
  let lost: string | undefined;

  const sendFrame = (f: string | Uint8Array) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(f);
    else queue.push(f);
  };
  const send = (m: WsClientMessage) => sendFrame(JSON.stringify(m));
  ws.addEventListener('open', () => {
    for (const s of queue.splice(0)) ws.send(s);
  });
  ws.addEventListener('message', (ev) => {
    let raw: unknown;
    try {
      raw = JSON.parse(String(ev.data));
    } catch {
      return;
    }
    const msg = WsServerMessage.safeParse(raw);
    if (!msg.success) return console.error('bridge: unexpected message from host', msg.error.issues);
    if (msg.data.t === 'events') {
      for (const l of listeners) l(msg.data.batch);
      return;
    }
    const p = pending.get(msg.data.id);
    pending.delete(msg.data.id);
    p?.resolve(msg.data.reply);
  });
  ws.addEventListener('close', (ev) => {
    lost = ev.code === 1006 ? 'the MQBoard host stopped or the connection dropped' : `bridge closed (${ev.code} ${ev.reason})`;
    for (const p of pending.values()) p.reject(new Error(lost));
    pending.clear();
    for (const l of lostListeners) l(lost);
  });

  return {
    kind: 'ws',
    invoke(op: OperationName, call: CallEnvelope) {
      if (lost) return Promise.reject(new Error(lost));
      return new Promise((resolve, reject) => {
        pending.set(call.id, { resolve, reject });
        // File bytes go as one binary frame, never as base64 in JSON.
        const data = (call.args as { data?: unknown } | undefined)?.data;
        if (data instanceof Uint8Array) sendFrame(encodeBinaryCall(op, call, data));
        else send({ t: 'call', op, call });
      });
    },
    cancel: (id) => send({ t: 'cancel', id }),
    onEvents(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onLost(listener) {
      lostListeners.add(listener);
      if (lost) listener(lost);
    },
    // A page in a browser never learns where a file lives.
    pathForFile: () => '',
  };
}

// Fans engine events out to connected renderers in batches: each client gets at most one
// message per interval, holding only the streams it subscribed to. Device updates for the same
// prefix within one interval collapse to the latest, so a flood of status messages costs one
// row update per device per interval (issue 4: "never one IPC message per MQTT message").
import type { BridgeEvent, DeviceState, EventBatch, StreamName, TransferInfo } from '../../../protocol/src';

export interface EventSink {
  setStreams(streams: StreamName[]): void;
  detach(): void;
}

export interface EventHub {
  attach(send: (batch: EventBatch) => void): EventSink;
  publish(event: BridgeEvent): void;
  /** Sends everything pending now (tests and shutdown). */
  flush(): void;
}

interface Subscriber {
  send: (batch: EventBatch) => void;
  streams: Set<StreamName>;
}

/** Caps one batch's log lines; the on-disk log store (issue 5) is the place for everything. */
const MAX_LOGS_PER_BATCH = 2_000;

export function createEventHub(batchMs: number): EventHub {
  const subscribers = new Set<Subscriber>();
  let pending = emptyPending();
  let timer: ReturnType<typeof setTimeout> | undefined;

  function flush() {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = toBatch(pending);
    pending = emptyPending();
    if (batch.length === 0) return;
    for (const s of subscribers) {
      const mine = batch.filter((e) => s.streams.has(e.stream));
      if (mine.length) {
        try {
          s.send(mine);
        } catch (e) {
          // A closed window or socket must not stop the others from getting their batch.
          console.warn('bridge: dropping a batch for a closed client:', e instanceof Error ? e.message : e);
        }
      }
    }
  }

  return {
    attach(send) {
      const sub: Subscriber = { send, streams: new Set() };
      subscribers.add(sub);
      return {
        setStreams(streams) {
          sub.streams = new Set(streams);
        },
        detach() {
          subscribers.delete(sub);
        },
      };
    },
    publish(event) {
      merge(pending, event);
      timer ??= setTimeout(flush, batchMs);
    },
    flush,
  };
}

interface Pending {
  connection?: BridgeEvent & { stream: 'connection' };
  devices: Map<string, DeviceState | null>;
  logs: (BridgeEvent & { stream: 'logs' })['entries'];
  crashes: Map<string, BridgeEvent & { stream: 'crashes' }>;
  profiles?: BridgeEvent & { stream: 'profiles' };
  app?: BridgeEvent & { stream: 'app' };
  /** Terminal output merged per session (flow control bounds it), then ended sessions. */
  terminal: Map<string, { data: string; bytes: number }>;
  ended: (BridgeEvent & { stream: 'terminal' })['ended'];
  /** Latest state per transfer id (null = dismissed): a progress flood is one row per batch. */
  transfers: Map<string, TransferInfo | null>;
}

const emptyPending = (): Pending => ({ devices: new Map(), logs: [], crashes: new Map(), terminal: new Map(), ended: [], transfers: new Map() });

function merge(p: Pending, e: BridgeEvent): void {
  switch (e.stream) {
    case 'connection':
      p.connection = e;
      return;
    case 'devices':
      for (const d of e.changed) p.devices.set(d.prefix, d);
      for (const r of e.removed) p.devices.set(r, null);
      return;
    case 'logs':
      p.logs.push(...e.entries);
      if (p.logs.length > MAX_LOGS_PER_BATCH) p.logs.splice(0, p.logs.length - MAX_LOGS_PER_BATCH);
      return;
    case 'crashes':
      p.crashes.set(e.prefix, e);
      return;
    case 'profiles':
      p.profiles = e;
      return;
    case 'app':
      p.app = e;
      return;
    case 'terminal':
      for (const o of e.output) {
        const t = p.terminal.get(o.term);
        if (t) {
          t.data += o.data;
          t.bytes += o.bytes;
        } else p.terminal.set(o.term, { data: o.data, bytes: o.bytes });
      }
      p.ended.push(...e.ended);
      return;
    case 'transfers':
      for (const t of e.changed) p.transfers.set(t.id, t);
      for (const id of e.removed) p.transfers.set(id, null);
      return;
  }
}

function toBatch(p: Pending): EventBatch {
  const out: EventBatch = [];
  // App and profile changes first: a broker switch announces itself before the new fleet.
  if (p.app) out.push(p.app);
  if (p.profiles) out.push(p.profiles);
  if (p.connection) out.push(p.connection);
  if (p.devices.size) {
    const changed: DeviceState[] = [];
    const removed: string[] = [];
    for (const [prefix, d] of p.devices) {
      if (d) changed.push(d);
      else removed.push(prefix);
    }
    out.push({ stream: 'devices', changed, removed });
  }
  if (p.logs.length) out.push({ stream: 'logs', entries: p.logs });
  out.push(...p.crashes.values());
  if (p.terminal.size || p.ended.length) {
    out.push({ stream: 'terminal', output: [...p.terminal].map(([term, o]) => ({ term, ...o })), ended: p.ended });
  }
  if (p.transfers.size) {
    const all = [...p.transfers];
    out.push({ stream: 'transfers', changed: all.flatMap(([, t]) => (t ? [t] : [])), removed: all.filter(([, t]) => !t).map(([id]) => id) });
  }
  return out;
}

// Fans engine events out to connected renderers in batches: each client gets at most one
// message per interval, holding only the streams it subscribed to. Device updates for the same
// prefix within one interval collapse to the latest, so a flood of status messages costs one
// row update per device per interval.
//
// Terminal output and finished transfers are what a person sits waiting for (a keystroke's echo,
// "Done"), so they do not wait for the interval: they leave on the next turn of the event loop
// (which still merges everything one socket read delivered), up to URGENT_PER_INTERVAL sends per
// interval. Past that budget a chatty device is under load and its output coalesces to the end
// of the interval like everything else. Logs and device updates keep their batching.
import type { BridgeEvent, DeviceState, EventBatch, JobResult, JobSummary, RolloutDevice, RolloutSummary, StreamName, TransferInfo } from '../../../protocol/src';

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

/** Caps one batch's log lines; the on-disk log store is the place for everything. */
const MAX_LOGS_PER_BATCH = 2_000;
/** Immediate sends per interval before urgent events coalesce like the rest. */
export const URGENT_PER_INTERVAL = 8;

export function createEventHub(batchMs: number, now: () => number = Date.now): EventHub {
  const subscribers = new Set<Subscriber>();
  let pending = emptyPending();
  /** Terminal output and transfer states held for the immediate path. */
  let urgent = emptyPending();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let soon: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined;
  let windowStart = -Infinity;
  let urgentSent = 0;

  function deliver(batch: EventBatch) {
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

  function cancelSoon() {
    if (soon === undefined) return;
    clearTimeout(soon as ReturnType<typeof setTimeout>);
    clearImmediate(soon as ReturnType<typeof setImmediate>);
    soon = undefined;
  }

  function flush() {
    if (timer) clearTimeout(timer);
    timer = undefined;
    cancelSoon();
    const batch = [...toBatch(urgent), ...toBatch(pending)];
    pending = emptyPending();
    urgent = emptyPending();
    deliver(batch);
  }

  function flushUrgent() {
    soon = undefined;
    const batch = toBatch(urgent);
    urgent = emptyPending();
    if (batch.length === 0) return;
    const t = now();
    if (t - windowStart >= batchMs) {
      windowStart = t;
      urgentSent = 0;
    }
    urgentSent++;
    deliver(batch);
  }

  function scheduleUrgent() {
    if (soon !== undefined) return;
    const t = now();
    const spent = t - windowStart < batchMs && urgentSent >= URGENT_PER_INTERVAL;
    // setImmediate, not a microtask: every message of the socket read in progress joins this send.
    soon = spent ? setTimeout(flushUrgent, windowStart + batchMs - t) : setImmediate(flushUrgent);
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
      if (isUrgent(event, urgent)) {
        // A transfer's earlier progress still waiting for the interval goes with its final state,
        // so the interval cannot deliver an older state after the newer one.
        if (event.stream === 'transfers') moveTransfers(pending, urgent);
        merge(urgent, event);
        scheduleUrgent();
        return;
      }
      merge(pending, event);
      timer ??= setTimeout(flush, batchMs);
    },
    flush,
  };
}

const FINISHED = new Set<TransferInfo['state']>(['done', 'failed', 'cancelled']);

function isUrgent(e: BridgeEvent, urgent: Pending): boolean {
  if (e.stream === 'terminal') return true;
  // Once one transfer state took the immediate path, later ones follow it there (in order).
  if (e.stream === 'transfers') return urgent.transfers.size > 0 || e.removed.length > 0 || e.changed.some((t) => FINISHED.has(t.state));
  return false;
}

function moveTransfers(from: Pending, to: Pending): void {
  for (const [id, t] of from.transfers) to.transfers.set(id, t);
  from.transfers.clear();
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
  /** Latest summary and rows per job: rows of one job within an interval go out as one event. */
  jobs: Map<string, { job: JobSummary; results: Map<string, JobResult> }>;
  queue?: BridgeEvent & { stream: 'queue' };
  fleet?: BridgeEvent & { stream: 'fleet' };
  discovery?: BridgeEvent & { stream: 'discovery' };
  /** Latest summary and changed devices per rollout. */
  rollouts: Map<string, { rollout: RolloutSummary; devices: Map<string, RolloutDevice> }>;
}

const emptyPending = (): Pending => ({ devices: new Map(), logs: [], crashes: new Map(), terminal: new Map(), ended: [], transfers: new Map(), jobs: new Map(), rollouts: new Map() });

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
    case 'jobs': {
      const rows = p.jobs.get(e.job.id)?.results ?? new Map<string, JobResult>();
      for (const r of e.results) rows.set(r.prefix, r);
      p.jobs.set(e.job.id, { job: e.job, results: rows });
      return;
    }
    case 'queue':
      p.queue = e;
      return;
    case 'fleet':
      p.fleet = e;
      return;
    case 'discovery':
      p.discovery = e;
      return;
    case 'rollouts': {
      const devices = p.rollouts.get(e.rollout.id)?.devices ?? new Map<string, RolloutDevice>();
      for (const d of e.devices) devices.set(d.prefix, d);
      p.rollouts.set(e.rollout.id, { rollout: e.rollout, devices });
      return;
    }
    default: {
      // A stream added to the contract must be merged here, or its events never leave the host.
      const unmerged: never = e;
      throw new Error(`event hub: no merge for ${JSON.stringify((unmerged as { stream?: unknown }).stream)}`);
    }
  }
}

function toBatch(p: Pending): EventBatch {
  const out: EventBatch = [];
  // App and profile changes first: a broker switch announces itself before the new fleet.
  if (p.app) out.push(p.app);
  if (p.profiles) out.push(p.profiles);
  if (p.connection) out.push(p.connection);
  if (p.discovery) out.push(p.discovery);
  if (p.fleet) out.push(p.fleet);
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
  for (const { job, results } of p.jobs.values()) out.push({ stream: 'jobs', job, results: [...results.values()] });
  if (p.queue) out.push(p.queue);
  for (const { rollout, devices } of p.rollouts.values()) out.push({ stream: 'rollouts', rollout, devices: [...devices.values()] });
  return out;
}

// Device discovery and state: retained status messages (our runtime), watchdog self-feeds and
// log traffic (original boards, found passively), and devices added by hand.
import {
  WATCHDOG_ID,
  decodeCrashList,
  decodeLogLine,
  decodeStatus,
  type CrashRecord,
  type OfflineReason,
  type OnlineStatus,
} from '../../../protocol/src';
import type { Batcher } from './batcher';
import { mayStateBootFact, readBootLogLine, type BootLogFact } from './original-boot-log';
import type { OriginalProbe } from './original-probe';
import type { DeviceState, DiscoverySettings, LogEntry } from './types';

export const DEFAULT_DEPTHS = [1, 2, 3];

/** The subscriptions that find devices: status, crash records, watchdog feeds and logs per depth. */
export function discoveryFilters(settings: DiscoverySettings | undefined): string[] {
  if (settings?.patterns?.length) return [...settings.patterns];
  const depths = settings?.depths ?? DEFAULT_DEPTHS;
  const out: string[] = [];
  for (const d of depths) {
    if (!Number.isInteger(d) || d < 1 || d > 8) continue;
    const p = Array.from({ length: d }, () => '+').join('/');
    out.push(`${p}/mqb/status`, `${p}/mqb/crash`, `${p}/mqb/cmd/eval/${WATCHDOG_ID}/#`, `${p}/log`);
  }
  return out;
}

/** Per-device subscriptions for a device added by hand (discovery may not cover its depth). */
export const deviceFilters = (prefix: string): string[] => [
  `${prefix}/mqb/status`,
  `${prefix}/mqb/crash`,
  `${prefix}/mqb/cmd/eval/${WATCHDOG_ID}/#`,
  `${prefix}/log`,
];

export type Classified =
  | { kind: 'status'; prefix: string }
  | { kind: 'crash'; prefix: string }
  | { kind: 'watchdog'; prefix: string }
  | { kind: 'log'; prefix: string }
  | { kind: 'reply'; prefix: string; reply: 'out' | 'err'; id: string }
  | { kind: 'other' };

const FEED = `/mqb/cmd/eval/${WATCHDOG_ID}`;

/** One pass over the topic string; this runs for every message, so no regex in the hot path. */
export function classifyTopic(topic: string): Classified {
  if (topic.endsWith('/log')) return topic.length > 4 ? { kind: 'log', prefix: topic.slice(0, -4) } : { kind: 'other' };
  const i = topic.lastIndexOf('/mqb/');
  if (i <= 0) return { kind: 'other' };
  const prefix = topic.slice(0, i);
  const rest = topic.slice(i + 5);
  if (rest === 'status') return { kind: 'status', prefix };
  if (rest === 'crash') return { kind: 'crash', prefix };
  if (rest.startsWith('reply/out/') || rest.startsWith('reply/err/')) {
    const id = rest.slice(10);
    if (id && !id.includes('/')) return { kind: 'reply', prefix, reply: rest[6] === 'o' ? 'out' : 'err', id };
    return { kind: 'other' };
  }
  // lastIndexOf('/mqb/') may land inside a command tail; look for the feed from the first /mqb/.
  const j = topic.indexOf(FEED);
  if (j > 0) return { kind: 'watchdog', prefix: topic.slice(0, j) };
  return { kind: 'other' };
}

/**
 * What a status says about commands in flight to the device: it went offline (Last Will or
 * clean stop), or it is online again after a reboot we did not see go by.
 */
export type StatusChange =
  | { kind: 'offline'; reason: OfflineReason }
  | { kind: 'rebooted'; bootReason: string }
  /** Online again after being offline, in the same run (a resumed session). */
  | { kind: 'back' };

/** Words for a StatusChange, as the end of a failed command's message. */
export function describeChange(c: StatusChange): string {
  if (c.kind === 'rebooted') return `the device reset (boot reason: ${c.bootReason}) before it replied`;
  if (c.kind === 'back') return 'the device is back online';
  if (c.reason === 'reset') return 'the device reset before it replied';
  if (c.reason === 'shutdown') return 'the device shut down before it replied';
  if (c.reason === 'sleep') return 'the device went to sleep before it replied';
  return 'the device went offline';
}

export interface DeviceRegistry {
  get(prefix: string): DeviceState | undefined;
  /** The last status (with capabilities) seen for a device. */
  status(prefix: string): OnlineStatus | undefined;
  all(): DeviceState[];
  crashes(prefix: string): CrashRecord[];
  addManual(prefix: string): DeviceState;
  forget(prefix: string): boolean;
  /** Applies a status; says when it ended the device's current run (see StatusChange). */
  onStatus(prefix: string, payload: Uint8Array): StatusChange | undefined;
  onCrash(prefix: string, payload: Uint8Array): void;
  onWatchdog(prefix: string): void;
  /** Applies what a probe of an original board found (original-probe.ts). */
  onProbe(prefix: string, facts: OriginalProbe): void;
  /** Returns the entry when the line parses (and somebody listens for logs). */
  onLog(prefix: string, payload: Uint8Array, wantEntry: boolean): void;
  /** Marks every device whose presence we cannot observe as unknown (our connection dropped). */
  markAllUnknown(): void;
  /**
   * Original boards have no Last Will: one whose watchdog feeds stopped more than `staleMs` ago
   * is no longer known to be online.
   */
  expireSilent(staleMs: number): void;
  /** Bad payloads seen so far (kept for diagnostics; never thrown). */
  rejected(): number;
}

/** A new run of the runtime: its boot count moved, or its uptime went back. */
function rebooted(before: OnlineStatus, now: OnlineStatus): boolean {
  if (before.bootCount !== undefined && now.bootCount !== undefined) return before.bootCount !== now.bootCount;
  return now.uptime < before.uptime;
}

export function createDeviceRegistry(batch: Batcher, now: () => number = Date.now): DeviceRegistry {
  const devices = new Map<string, DeviceState>();
  const statuses = new Map<string, OnlineStatus>();
  const crashRecords = new Map<string, CrashRecord[]>();
  /**
   * Latest device clock seen per device. A status may reach us twice (the discovery
   * subscription at QoS 0 and a device's own at QoS 1) and the two copies are not ordered with
   * each other: one older than what we applied is stale, never applied.
   */
  const lastTime = new Map<string, number>();
  let rejected = 0;

  const upsert = (prefix: string, source: DeviceState['source'], kind: DeviceState['kind']): DeviceState => {
    let d = devices.get(prefix);
    if (!d) {
      d = { prefix, kind, presence: 'unknown', since: now(), source };
      devices.set(prefix, d);
    }
    return d;
  };
  const commit = (d: DeviceState) => {
    const copy = { ...d };
    devices.set(d.prefix, copy);
    batch.deviceChanged(copy);
  };

  return {
    get: (p) => devices.get(p),
    status: (p) => statuses.get(p),
    all: () => [...devices.values()],
    crashes: (p) => crashRecords.get(p) ?? [],
    addManual(prefix) {
      const existing = devices.get(prefix);
      if (existing) return existing;
      const d = upsert(prefix, 'manual', 'unknown');
      commit(d);
      return devices.get(prefix)!;
    },
    forget(prefix) {
      const had = devices.delete(prefix);
      statuses.delete(prefix);
      lastTime.delete(prefix);
      crashRecords.delete(prefix);
      if (had) batch.deviceRemoved(prefix);
      return had;
    },
    onStatus(prefix, payload) {
      if (payload.length === 0) return undefined; // a cleared retained status: nothing to learn
      const s = decodeStatus(payload);
      if (!s.ok) {
        rejected++;
        return undefined;
      }
      const seen = lastTime.get(prefix);
      if (s.value.time !== undefined) {
        if (seen !== undefined && s.value.time < seen) return undefined;
        lastTime.set(prefix, s.value.time);
      } else if (seen !== undefined) {
        // A Last Will carries no clock; it is newer than every status before it.
        lastTime.set(prefix, seen + 1);
      }
      const t = now();
      const before = statuses.get(prefix);
      const prev = upsert(prefix, 'status', 'mqboard');
      let change: StatusChange | undefined;
      if (!s.value.online) {
        // After a Last Will, a status that says why (a supervisor that reset the runtime) still counts.
        if (prev.presence !== 'offline' || (prev.offlineReason === 'lost' && s.value.reason !== 'lost')) change = { kind: 'offline', reason: s.value.reason };
      } else if (before && prev.presence !== 'unknown' && rebooted(before, s.value)) {
        change = { kind: 'rebooted', bootReason: s.value.bootReason };
      } else if (prev.presence === 'offline') {
        change = { kind: 'back' };
      }
      // A device added by hand stays 'manual' so forgetting it stays the user's decision.
      const d: DeviceState = { ...prev, kind: 'mqboard', source: prev.source === 'manual' ? 'manual' : 'status', lastSeen: t };
      const presence = s.value.online ? 'online' : 'offline';
      if (presence !== prev.presence) {
        d.presence = presence;
        d.since = t;
      }
      if (!s.value.online) {
        d.offlineReason = s.value.reason;
        // The device's own clock says when it expects to wake; shown as a hint, never relied on.
        if (s.value.reason === 'sleep' && s.value.wake !== undefined) d.wake = s.value.wake;
        else delete d.wake;
      } else {
        delete d.offlineReason;
        delete d.wake;
      }
      if (s.value.online) {
        const st = s.value;
        statuses.set(prefix, st);
        d.mode = st.mode;
        d.runtime = st.runtime;
        d.firmware = st.firmware;
        d.uptime = st.uptime;
        d.freeMem = st.freeMem;
        d.bootReason = st.bootReason;
        d.bootCount = st.bootCount;
        d.bootedAt = st.time - st.uptime * 1000;
        d.capabilities = st.capabilities;
        d.ota = st.ota;
        d.modules = st.modules;
        d.tags = st.tags;
        // A status that does not count crashes must not erase what the crash records told us.
        d.crashCount = st.crashes ?? crashRecords.get(prefix)?.length ?? prev.crashCount;
      }
      devices.set(prefix, d);
      batch.deviceChanged({ ...d });
      return change;
    },
    onCrash(prefix, payload) {
      if (payload.length === 0) {
        crashRecords.delete(prefix);
        batch.crashes(prefix, []);
        return;
      }
      const c = decodeCrashList(payload);
      if (!c.ok) {
        rejected++;
        return;
      }
      crashRecords.set(prefix, c.value.crashes);
      const d = upsert(prefix, 'status', 'unknown');
      if (d.crashCount !== c.value.crashes.length) commit({ ...d, crashCount: c.value.crashes.length });
      batch.crashes(prefix, c.value.crashes);
    },
    onWatchdog(prefix) {
      // A feed proves the board can be reached through the broker right now.
      const t = now();
      const prev = upsert(prefix, 'watchdog', 'original');
      const d: DeviceState = { ...prev, lastSeen: t };
      if (d.kind === 'unknown') d.kind = 'original';
      if (d.presence !== 'online' && d.kind === 'original') {
        d.presence = 'online';
        d.since = t;
      }
      commit(d);
    },
    onProbe(prefix, facts) {
      // It answered MicroPython through the original's eval: an original board, found by asking.
      const prev = devices.get(prefix) ?? upsert(prefix, 'watchdog', 'original');
      if (prev.kind === 'mqboard') return;
      const d: DeviceState = { ...prev, kind: 'original', firmware: facts.firmware, bootedAt: facts.bootedAt, lastSeen: now() };
      if (facts.confirmed !== undefined) d.ota = { active: prev.ota?.active ?? 'unknown', confirmed: facts.confirmed, slots: [] };
      if (d.presence !== 'online') {
        // It answered an eval through the broker just now.
        d.presence = 'online';
        d.since = now();
      }
      commit(d);
    },
    onLog(prefix, payload, wantEntry) {
      const t = now();
      const prev = devices.get(prefix);
      // An original board publishes no status: its boot greeting names its firmware and starts a
      // new run, and its watchdog's all-OK confirms that firmware (see original-boot-log.ts).
      let fact: BootLogFact | undefined;
      // Decoded at most once: for the fact, and again for the log view.
      let decoded: ReturnType<typeof decodeLogLine> | undefined;
      // A device of ours that is offline may have come back running the original framework (a
      // board migrated to the MicroPython package falls back to the original's safe mode): its
      // greeting says so. While it is online, its lines are its own.
      const ours = prev?.kind === 'mqboard';
      if ((!ours || prev.presence !== 'online') && mayStateBootFact(payload)) {
        decoded = decodeLogLine(payload);
        if (decoded.ok) fact = readBootLogLine(decoded.value);
        if (ours && fact?.kind !== 'greeting') fact = undefined;
      }
      if (fact) {
        const base = prev ?? upsert(prefix, 'log', 'original');
        const d: DeviceState = { ...base, kind: 'original', lastSeen: t };
        if (ours) {
          // What its last status said belongs to the runtime it no longer runs.
          statuses.delete(prefix);
          for (const k of ['mode', 'runtime', 'uptime', 'freeMem', 'bootReason', 'bootCount', 'capabilities', 'modules', 'offlineReason', 'wake'] as const) delete d[k];
          if (d.source === 'status') d.source = 'log';
        }
        if (fact.kind === 'greeting') {
          d.firmware = fact.firmware;
          // A new run, whose start only a probe can date.
          delete d.bootedAt;
          d.ota = { active: 'unknown', confirmed: false, slots: [] };
          d.presence = 'online';
          d.since = t;
        } else if (fact.kind === 'partition') {
          d.ota = { active: fact.partition, confirmed: d.ota?.confirmed ?? false, slots: [] };
        } else {
          d.ota = { active: d.ota?.active ?? 'unknown', confirmed: true, slots: [] };
        }
        commit(d);
      } else if (!prev || prev.lastSeen === undefined || t - prev.lastSeen >= 1000) {
        // lastSeen at 1 s resolution: a log flood must not turn into a device event per line.
        const d: DeviceState = { ...(prev ?? upsert(prefix, 'log', 'unknown')), lastSeen: t };
        commit(d);
      }
      if (!wantEntry) return;
      const l = decoded ?? decodeLogLine(payload);
      if (!l.ok) {
        rejected++;
        return;
      }
      const entry: LogEntry = { prefix, received: t, line: l.value };
      batch.log(entry);
    },
    markAllUnknown() {
      const t = now();
      for (const d of devices.values()) {
        if (d.presence !== 'unknown') commit({ ...d, presence: 'unknown', since: t });
      }
    },
    expireSilent(staleMs) {
      const t = now();
      for (const d of devices.values()) {
        if (d.kind === 'original' && d.presence === 'online' && d.lastSeen !== undefined && t - d.lastSeen > staleMs) {
          commit({ ...d, presence: 'unknown', since: t });
        }
      }
    },
    rejected: () => rejected,
  };
}

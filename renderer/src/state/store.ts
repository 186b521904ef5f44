// The renderer's one store: a zustand vanilla store (no React here) built from slices. Only
// the bridge feed (../bridge/feed.ts) writes fleet data into it; components read single fields
// through selectors, so a device update re-renders only the rows showing that device.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type {
  AppInfo,
  ConnectionState,
  CrashRecord,
  DeviceState,
  DiscoveryInfo,
  FleetSettings,
  JobResult,
  JobSummary,
  ProfilesState,
  QueuedCommand,
} from '../../../protocol/src';

export type PresenceFilter = 'all' | 'online' | 'offline' | 'safe' | 'crash';
export type SortKey = 'name' | 'status' | 'lastSeen' | 'uptime' | 'freeMem';

export interface FleetSlice {
  app: AppInfo | null;
  connection: ConnectionState | null;
  profiles: ProfilesState;
  /** Replaced (not mutated) on every batch so selectors can compare by reference. */
  devices: ReadonlyMap<string, DeviceState>;
  crashes: ReadonlyMap<string, CrashRecord[]>;
  /** Why the host went away (web mode), if it did. */
  hostLost: string | null;
  applyDevices(changed: DeviceState[], removed: string[]): void;
  setDevices(all: DeviceState[]): void;
  setCrashes(prefix: string, records: CrashRecord[]): void;
}

export interface ViewSlice {
  search: string;
  filter: PresenceFilter;
  sort: SortKey;
  groupByPrefix: boolean;
  /** The keyboard cursor in the list. */
  cursor: string | null;
  setSearch(s: string): void;
  setFilter(f: PresenceFilter): void;
  setSort(s: SortKey): void;
  setGroupByPrefix(g: boolean): void;
  setCursor(p: string | null): void;
  /** Devices picked for a fleet action (checkboxes, Shift/Ctrl-click, chart bars). */
  selected: ReadonlySet<string>;
  /** Where a Shift-click range starts: the last row clicked or toggled. */
  anchor: string | null;
  /** Replaces the selection (the set is new, so selectors compare by reference). */
  setSelected(prefixes: Iterable<string>): void;
  toggleSelected(prefix: string): void;
  /** Adds (or, with `on` false, removes) many devices at once. */
  selectMany(prefixes: Iterable<string>, on?: boolean): void;
  clearSelected(): void;
  setAnchor(p: string | null): void;
}

/** Tabs inside a device's workspace; the workspace adds repl, logs, files, ota. */
export type WorkspaceTabId = 'details' | (string & {});

export interface WorkspaceSlice {
  /** Devices open in the workspace, in tab order. */
  open: string[];
  active: string | null;
  tab: Record<string, WorkspaceTabId>;
  openDevice(prefix: string): void;
  closeDevice(prefix: string): void;
  setTab(prefix: string, tab: WorkspaceTabId): void;
}

export type Dialog = { kind: 'profiles'; editId?: string } | { kind: 'addDevice' } | null;

export interface Toast {
  id: number;
  tone: 'info' | 'error' | 'success';
  text: string;
}

export interface UiSlice {
  dialog: Dialog;
  toasts: Toast[];
  setDialog(d: Dialog): void;
  toast(tone: Toast['tone'], text: string): void;
  dismissToast(id: number): void;
}

/** A job's table as the renderer holds it: rows by prefix, replaced on every update. */
export interface JobView {
  summary: JobSummary;
  results: ReadonlyMap<string, JobResult>;
  /** When the window last heard of this job (ms since the epoch). */
  heard: number;
}

/** The fleet action dialogs the selection bar opens, over the devices selected when opened. */
export type FleetDialog =
  | { kind: 'run'; prefixes: readonly string[] }
  | { kind: 'put'; prefixes: readonly string[] }
  | { kind: 'reset'; prefixes: readonly string[] }
  | { kind: 'tags'; prefixes: readonly string[] }
  | { kind: 'results'; job: string }
  | null;

export interface FleetOpsSlice {
  /** Tags and saved views of the current broker profile; null until the host sends them. */
  fleetSettings: FleetSettings | null;
  /** FleetSettings.tags, the same object until the tags change (the list's memo compares it). */
  userTags: Readonly<Record<string, readonly string[]>>;
  discovery: DiscoveryInfo | null;
  jobs: ReadonlyMap<string, JobView>;
  /** Commands waiting for offline or sleeping devices, for every device of the broker. */
  queue: readonly QueuedCommand[];
  fleetDialog: FleetDialog;
  setFleetSettings(s: FleetSettings): void;
  /** Merges rows that changed (the `jobs` stream) or a whole table (jobGet) into a job. */
  applyJob(summary: JobSummary, results: readonly JobResult[]): void;
  setFleetDialog(d: FleetDialog): void;
}

export type AppState = FleetSlice & ViewSlice & WorkspaceSlice & UiSlice & FleetOpsSlice;
export type AppStore = StoreApi<AppState>;

type Slice<T> = (set: StoreApi<AppState>['setState'], get: StoreApi<AppState>['getState']) => T;

const fleetSlice: Slice<FleetSlice> = (set) => ({
  app: null,
  connection: null,
  profiles: { profiles: [], active: null },
  devices: new Map(),
  crashes: new Map(),
  hostLost: null,
  applyDevices(changed, removed) {
    set((s) => {
      const devices = new Map(s.devices);
      for (const d of changed) devices.set(d.prefix, d);
      for (const r of removed) devices.delete(r);
      return { devices };
    });
  },
  setDevices(all) {
    set({ devices: new Map(all.map((d) => [d.prefix, d])) });
  },
  setCrashes(prefix, records) {
    set((s) => ({ crashes: new Map(s.crashes).set(prefix, records) }));
  },
});

const viewSlice: Slice<ViewSlice> = (set) => ({
  search: '',
  filter: 'all',
  sort: 'name',
  groupByPrefix: false,
  cursor: null,
  setSearch: (search) => set({ search }),
  setFilter: (filter) => set({ filter }),
  setSort: (sort) => set({ sort }),
  setGroupByPrefix: (groupByPrefix) => set({ groupByPrefix }),
  setCursor: (cursor) => set({ cursor }),
  selected: new Set(),
  anchor: null,
  setSelected: (prefixes) => set({ selected: new Set(prefixes) }),
  toggleSelected: (prefix) =>
    set((s) => {
      const selected = new Set(s.selected);
      if (!selected.delete(prefix)) selected.add(prefix);
      return { selected, anchor: prefix };
    }),
  selectMany: (prefixes, on = true) =>
    set((s) => {
      const selected = new Set(s.selected);
      for (const p of prefixes) {
        if (on) selected.add(p);
        else selected.delete(p);
      }
      return { selected };
    }),
  clearSelected: () => set((s) => (s.selected.size === 0 ? s : { selected: new Set<string>() })),
  setAnchor: (anchor) => set({ anchor }),
});

const workspaceSlice: Slice<WorkspaceSlice> = (set) => ({
  open: [],
  active: null,
  tab: {},
  openDevice: (prefix) =>
    set((s) => ({ open: s.open.includes(prefix) ? s.open : [...s.open, prefix], active: prefix, cursor: prefix })),
  closeDevice: (prefix) =>
    set((s) => {
      const i = s.open.indexOf(prefix);
      const open = s.open.filter((p) => p !== prefix);
      const active = s.active === prefix ? (open[Math.min(i, open.length - 1)] ?? null) : s.active;
      return { open, active };
    }),
  setTab: (prefix, tab) => set((s) => ({ tab: { ...s.tab, [prefix]: tab } })),
});

let toastSeq = 0;
const uiSlice: Slice<UiSlice> = (set) => ({
  dialog: null,
  toasts: [],
  setDialog: (dialog) => set({ dialog }),
  toast: (tone, text) => set((s) => ({ toasts: [...s.toasts.slice(-3), { id: ++toastSeq, tone, text }] })),
  dismissToast: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
});

/** Most jobs kept in the window (the host keeps its own history; jobList fetches it). */
const MAX_JOBS = 20;

const fleetOpsSlice: Slice<FleetOpsSlice> = (set) => ({
  fleetSettings: null,
  userTags: {},
  discovery: null,
  jobs: new Map(),
  queue: [],
  fleetDialog: null,
  setFleetSettings: (fleetSettings) =>
    set((s) => {
      const userTags = JSON.stringify(s.userTags) === JSON.stringify(fleetSettings.tags) ? s.userTags : fleetSettings.tags;
      // Another broker: its devices are others, so the selection and the job tables go.
      if (s.fleetSettings && s.fleetSettings.profile !== fleetSettings.profile) {
        return { fleetSettings, userTags, selected: new Set<string>(), anchor: null, jobs: new Map(), fleetDialog: null };
      }
      return { fleetSettings, userTags };
    }),
  applyJob: (summary, changed) =>
    set((s) => {
      const before = s.jobs.get(summary.id);
      const results = new Map(before?.results);
      for (const r of changed) results.set(r.prefix, r);
      const jobs = new Map(s.jobs);
      jobs.delete(summary.id);
      jobs.set(summary.id, { summary, results, heard: Date.now() });
      // Insertion order is recency: the oldest go first.
      for (const id of jobs.keys()) {
        if (jobs.size <= MAX_JOBS) break;
        if (id !== summary.id) jobs.delete(id);
      }
      return { jobs };
    }),
  setFleetDialog: (fleetDialog) => set({ fleetDialog }),
});

export function createAppStore(): AppStore {
  return createStore<AppState>()((set, get) => ({
    ...fleetSlice(set, get),
    ...viewSlice(set, get),
    ...workspaceSlice(set, get),
    ...uiSlice(set, get),
    ...fleetOpsSlice(set, get),
  }));
}

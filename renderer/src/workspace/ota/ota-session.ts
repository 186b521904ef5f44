// One OTA per device, kept outside React so it survives switching tabs and devices: the staged
// image and what the host said about it, the transfer that streams it, and the reboot being
// followed. A small vanilla zustand store per bridge client.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { DeviceState, OtaInfo } from '../../../../protocol/src';
import type { BridgeClient } from '../../bridge/client';
import { stageBlob } from '../files/staging';

export interface RebootWatch {
  /** ms since the epoch when the reset was sent. */
  sentAt: number;
  /** The slot that was active before: the same slot afterwards means a rollback. */
  activeBefore?: string;
  versionBefore?: string;
  /** The version the image should bring. */
  expected?: string;
}

export interface OtaSession {
  phase: 'staging' | 'ready' | 'sending' | 'written' | 'rebooting' | 'failed';
  name: string;
  info?: OtaInfo;
  transfer?: string;
  reboot?: RebootWatch;
  error?: string;
}

export interface OtaSessions {
  sessions: ReadonlyMap<string, OtaSession>;
}

export type OtaStore = StoreApi<OtaSessions> & {
  /** Stages a dropped or chosen image and asks the host to inspect it. */
  load(prefix: string, file: File): Promise<void>;
  /** An image the desktop dialog already staged and inspected. */
  loaded(prefix: string, info: OtaInfo): void;
  set(prefix: string, patch: Partial<OtaSession> | null): void;
};

const stores = new WeakMap<BridgeClient, OtaStore>();

export function otaStore(bridge: BridgeClient): OtaStore {
  let s = stores.get(bridge);
  if (!s) {
    s = create(bridge);
    stores.set(bridge, s);
  }
  return s;
}

function create(bridge: BridgeClient): OtaStore {
  const store = createStore<OtaSessions>()(() => ({ sessions: new Map() }));
  const set = (prefix: string, patch: Partial<OtaSession> | null) =>
    store.setState((st) => {
      const sessions = new Map(st.sessions);
      if (patch === null) sessions.delete(prefix);
      else sessions.set(prefix, { ...(sessions.get(prefix) ?? { phase: 'staging', name: '' }), ...patch } as OtaSession);
      return { sessions };
    });
  const discardStage = (prefix: string) => {
    const old = store.getState().sessions.get(prefix);
    if (old?.info && old.phase === 'ready') void bridge.call('xferUnstage', { stage: old.info.stage }).catch(() => undefined);
  };
  return Object.assign(store, {
    async load(prefix: string, file: File) {
      discardStage(prefix);
      store.setState((st) => ({ sessions: new Map(st.sessions).set(prefix, { phase: 'staging', name: file.name }) }));
      try {
        const stage = await stageBlob(bridge, file, file.name);
        const info = await bridge.call('otaInspect', { prefix, stage });
        set(prefix, { phase: 'ready', info });
      } catch (e) {
        set(prefix, { phase: 'failed', error: e instanceof Error ? e.message : String(e) });
      }
    },
    loaded(prefix: string, info: OtaInfo) {
      discardStage(prefix);
      store.setState((st) => ({ sessions: new Map(st.sessions).set(prefix, { phase: 'ready', name: info.name, info }) }));
    },
    set,
  });
}

/** What the device says since the reset was sent: back yet, which version, confirmed, rolled back. */
export function rebootProgress(d: DeviceState | undefined, w: RebootWatch) {
  const back = !!d && d.presence === 'online' && (d.kind === 'original' ? heardAfter(d, w) : d.since >= w.sentAt);
  const rolledBack = back && (d.bootReason === 'rollback' || (w.activeBefore !== undefined && d.ota?.active === w.activeBefore));
  return {
    back,
    version: back ? d.firmware : undefined,
    active: back ? d.ota?.active : undefined,
    confirmed: back ? d.ota?.confirmed : undefined,
    bootReason: back ? d.bootReason : undefined,
    rolledBack,
  };
}

/**
 * Original boards publish no status and no Last Will, so their presence does not drop during a
 * reboot. A message (watchdog feed or log line) well after the reset was sent is the first sign
 * of the new boot; the margin keeps a feed that was already on its way from counting.
 */
const ORIGINAL_MARGIN_MS = 1000;
const heardAfter = (d: DeviceState, w: RebootWatch) => (d.lastSeen ?? 0) > w.sentAt + ORIGINAL_MARGIN_MS;

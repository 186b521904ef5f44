// The renderer's view of the host's transfer queue: a small vanilla zustand store of
// TransferInfo rows, fed by the `transfers` event stream and a first snapshot (xferList). One
// store per bridge client, created on first use; components select the rows they show.
// Finished in-memory downloads the page asked for are handed to the browser here (web mode).
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { TransferInfo } from '../../../../protocol/src';
import type { BridgeClient } from '../../bridge/client';
import { saveToBrowser } from './browser-download';

export interface TransfersState {
  rows: ReadonlyMap<string, TransferInfo>;
  /** Transfer ids whose finished download goes to the browser's downloads. */
  deliver: ReadonlySet<string>;
  /** Download ids delivered (or failed to deliver), with the file name the browser got. */
  delivered: ReadonlyMap<string, string>;
}

export type TransfersStore = StoreApi<TransfersState> & { deliverWhenDone(id: string): void };

const stores = new WeakMap<BridgeClient, TransfersStore>();

export function transfersStore(bridge: BridgeClient): TransfersStore {
  let s = stores.get(bridge);
  if (!s) {
    s = create(bridge);
    stores.set(bridge, s);
  }
  return s;
}

function create(bridge: BridgeClient): TransfersStore {
  const store = createStore<TransfersState>()(() => ({ rows: new Map(), deliver: new Set(), delivered: new Map() }));
  const apply = (changed: TransferInfo[], removed: string[]) => {
    store.setState((st) => {
      const rows = new Map(st.rows);
      for (const t of changed) rows.set(t.id, t);
      for (const id of removed) rows.delete(id);
      return { rows };
    });
    for (const t of changed) maybeDeliver(t);
  };
  const maybeDeliver = (t: TransferInfo) => {
    const st = store.getState();
    if (!st.deliver.has(t.id) || t.state !== 'done' || !t.readable) return;
    const deliver = new Set(st.deliver);
    deliver.delete(t.id);
    store.setState({ deliver });
    const name = t.readable.name;
    saveToBrowser(bridge, t.id, t.readable)
      .then(() => store.setState((x) => ({ delivered: new Map(x.delivered).set(t.id, name) })))
      .catch((e: unknown) => console.error('download could not be handed to the browser', e));
  };
  bridge.onEvents((batch) => {
    for (const e of batch) if (e.stream === 'transfers') apply(e.changed, e.removed);
  });
  bridge
    .call('xferList', {})
    .then((r) => apply(r.transfers, []))
    .catch((e: unknown) => console.warn('transfer list unavailable', e));
  return Object.assign(store, {
    deliverWhenDone(id: string) {
      store.setState((x) => ({ deliver: new Set(x.deliver).add(id) }));
      const row = store.getState().rows.get(id);
      if (row) maybeDeliver(row);
    },
  });
}

// The one module that feeds the store from the bridge: it subscribes to the event streams,
// loads the first snapshot, and applies every batch in a single store update per stream. No
// component talks to the event stream directly.
import { StreamName, type EventBatch } from '../../../protocol/src';
import type { LogRing } from '../state/log-ring';
import type { AppStore } from '../state/store';
import type { BridgeClient } from './client';

/** Everything the window shows; logs go to the ring of recent lines, not into the store. */
// 'transfers' feeds the file browser's transfer queue (workspace/files/transfers-store.ts).
// 'terminal' output goes straight to xterm (workspace/repl/term-events.ts), never into the store.
// 'rollouts' feeds the Rollouts view and the top bar's badge (rollouts/rollouts-feed.ts).
/** Every stream the contract names: the window shows all of them, and a new one cannot be forgotten here. */
const STREAMS: StreamName[] = [...StreamName.options];

export async function startFeed(bridge: BridgeClient, store: AppStore, logs: LogRing): Promise<void> {
  let ready = false;
  const early: EventBatch[] = [];
  const apply = (batch: EventBatch) => {
    const s = store.getState();
    for (const e of batch) {
      switch (e.stream) {
        case 'app':
          store.setState({ app: e.info });
          break;
        case 'profiles':
          store.setState({ profiles: e.state });
          break;
        case 'connection':
          store.setState({ connection: e.state });
          break;
        case 'devices':
          s.applyDevices(e.changed, e.removed);
          break;
        case 'crashes':
          s.setCrashes(e.prefix, e.records);
          break;
        case 'logs':
          logs.push(e.entries);
          break;
        case 'fleet':
          s.setFleetSettings(e.settings);
          break;
        case 'jobs':
          s.applyJob(e.job, e.results);
          break;
        case 'queue':
          store.setState({ queue: e.items });
          break;
        case 'discovery':
          store.setState({ discovery: e.state });
          break;
      }
    }
  };
  bridge.onEvents((batch) => (ready ? apply(batch) : early.push(batch)));
  bridge.onLost((why) => store.setState({ hostLost: why }));

  await bridge.call('subscribe', { streams: STREAMS });
  const [app, connection, profiles, devices] = await Promise.all([
    bridge.call('getAppInfo', {}),
    bridge.call('getConnection', {}),
    bridge.call('listProfiles', {}),
    bridge.call('listDevices', {}),
  ]);
  store.setState({ app, connection, profiles });
  store.getState().setDevices(devices);
  ready = true;
  for (const b of early.splice(0)) apply(b);
  await loadFleet(bridge, store);
}

/**
 * The fleet state a page opened later has missed: tags and views, discovery, the queue and the
 * recent jobs. Each is optional to the window (the list works without them), so a host that
 * cannot answer one is logged, not fatal; its stream fills the gap when it next changes.
 */
async function loadFleet(bridge: BridgeClient, store: AppStore): Promise<void> {
  const warn = (what: string) => (e: unknown) => console.warn(`fleet: ${what}:`, e instanceof Error ? e.message : e);
  await Promise.all([
    bridge.call('getFleetSettings', {}).then((f) => store.getState().setFleetSettings(f), warn('tags and views')),
    bridge.call('getDiscovery', {}).then((d) => store.setState({ discovery: d }), warn('discovery')),
    bridge.call('queueList', {}).then((q) => store.setState({ queue: q.items }), warn('queue')),
    bridge.call('jobList', {}).then(async ({ jobs }) => {
      // Oldest first, so the newest ends up most recent in the store.
      for (const job of jobs.slice(0, 5).reverse()) {
        const t = await bridge.call('jobGet', { job: job.id });
        store.getState().applyJob(t.job, t.results);
      }
    }).catch(warn('jobs')),
  ]);
}

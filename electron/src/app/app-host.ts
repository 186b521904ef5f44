// The app host: the engine, the connection profiles, the demo fleet and the bridge handlers,
// in plain Node. The Electron main process and the web-mode server both create exactly one and
// only differ in how secrets are kept and how envelopes travel.
import path from 'node:path';
import type { AppInfo, BridgeEvent, ProfilesState } from '../../../protocol/src';
import { DEMO_PROFILE_ID } from '../../../protocol/src';
import { createEngine } from '../engine';
import type { BrokerProfile, Engine } from '../engine/types';
import { createBridgeHost, type BridgeHost } from './bridge-host';
import { startDemo, type Demo } from './demo';
import { createFileHandlers } from './file-handlers';
import { createHandlers } from './handlers';
import { createFleetHandlers } from './fleet-handlers';
import { createRolloutHandlers } from './rollout-handlers';
import { demoBundles } from './demo-bundles';
import type { HostDialogs } from './host-dialogs';
import { createLogHandlers } from './log-handlers';
import { ingestLogs } from './log-ingest';
import { openLogStore, type LogStoreOptions } from './log-store';
import { writeLocalAtomic } from './local-files';
import { openProfilesStore, type ProfilesStore } from './profiles-store';
import type { SecretCodec } from './secrets';
import { startSimulatedFleet, type SimulatedFleet } from './simulator';
import { createTransferStages } from './transfer-stages';
import { createTransferQueue, type TransferQueue } from './transfers';

export interface AppHostOptions {
  shell: AppInfo['shell'];
  version: string;
  settingsDir: string;
  codec: SecretCodec;
  /** Connect to the demo fleet when no settings exist yet (default true). */
  demoOnFirstRun?: boolean;
  /** Open/save dialogs for file transfers; the desktop app only (electron/src/main/dialogs.ts). */
  dialogs?: HostDialogs;
  /** Log store budgets (log-store.ts); stored under <settingsDir>/logs. */
  logs?: Omit<LogStoreOptions, 'dir'>;
}

export interface AppHost {
  bridge: BridgeHost;
  profiles: ProfilesStore;
  engine: Engine;
  info(): AppInfo;
  /** Switches the one broker connection: a saved profile id or `demo`. */
  useProfile(id: string): Promise<ProfilesState>;
  /** Starts simulated devices on the current broker (menu and bridge). */
  startSimulator(prefix: string, count: number): Promise<string[]>;
  /** Uploads, downloads and OTA streams (transfers.ts). */
  transfers: TransferQueue;
  close(): Promise<void>;
}

export async function createAppHost(opts: AppHostOptions): Promise<AppHost> {
  const profiles = openProfilesStore(opts.settingsDir, opts.codec);
  const engine = createEngine({ probeOriginals: true });
  // The demo starts when first chosen and then lives as long as the app: switching away only
  // disconnects, so its URL, device roots and OTA'd versions are there on the way back.
  let demo: Promise<Demo> | undefined;
  let demoShown: Demo | undefined;
  let currentBroker: BrokerProfile | undefined;
  /** The profile the connection belongs to (`demo` for the demo): tags, views, queued commands and rollouts are kept per profile. */
  let currentProfile: string | null = null;
  const simulators: SimulatedFleet[] = [];
  // History from before logs were kept per broker belongs to the profile in use then.
  const logStore = await openLogStore({ ...opts.logs, dir: path.join(opts.settingsDir, 'logs'), legacyProfile: profiles.state().active ?? DEMO_PROFILE_ID });

  const publish = (e: BridgeEvent) => bridge.events.publish(e);
  engine.on('connection', (state) => publish({ stream: 'connection', state }));
  engine.on('devices', (changed, removed) => publish({ stream: 'devices', changed, removed }));
  // Lines go through the log store first, which stamps them with ids.
  ingestLogs(engine, logStore, publish);
  engine.on('crashes', (prefix, records) => publish({ stream: 'crashes', prefix, records }));
  engine.on('discovery', (state) => publish({ stream: 'discovery', state }));

  const info = (): AppInfo => ({
    version: opts.version,
    shell: opts.shell,
    platform: process.platform,
    // The URL only: the demo's per-run credentials never leave the host.
    demo: demoShown ? { url: demoShown.url, devices: demoShown.prefixes.length } : null,
    settings: { path: profiles.path, secrets: opts.codec.kind },
  });

  async function connectTo(profile: BrokerProfile, id: string) {
    // Forget the previous broker's devices in the UI: a switch shows only the new fleet.
    const old = engine.devices().map((d) => d.prefix);
    await engine.disconnect();
    for (const p of old) engine.forgetDevice(p);
    currentBroker = profile;
    currentProfile = id;
    // From here on lines, crash records, tags, queued commands and rollouts belong to this broker:
    // the same prefix on another broker is another device.
    logStore.setProfile(id);
    fleet.profileChanged();
    rollouts.profileChanged();
    // A broker that is down now may be up in a minute: the engine keeps trying in the
    // background, and the connection bar counts down to its next attempt.
    await engine.connect(profile, { keepTrying: true });
  }

  async function useProfile(id: string): Promise<ProfilesState> {
    if (id === DEMO_PROFILE_ID) {
      const d = await ensureDemo();
      await stopSimulators();
      demoShown = d;
      await connectTo({ url: d.url, ...d.credentials, clientId: `mqboard-app-${process.pid}` }, DEMO_PROFILE_ID);
    } else {
      const profile = profiles.brokerProfile(id);
      await stopSimulators();
      demoShown = undefined;
      try {
        await connectTo(profile, id);
      } finally {
        // The choice sticks even when the first attempt fails: the engine keeps retrying and the
        // connection state shows why, as it would after a restart. Every window hears of it, so
        // the top bar and the profile list agree with the saved settings.
        profiles.setActive(id);
        publish({ stream: 'app', info: info() });
        publish({ stream: 'profiles', state: profiles.state() });
      }
    }
    if (id === DEMO_PROFILE_ID) profiles.setActive(DEMO_PROFILE_ID);
    publish({ stream: 'app', info: info() });
    publish({ stream: 'profiles', state: profiles.state() });
    return profiles.state();
  }

  function ensureDemo(): Promise<Demo> {
    demo ??= startDemo().catch((e: unknown) => {
      // A failed start is tried again the next time the demo is chosen.
      demo = undefined;
      throw e;
    });
    return demo;
  }

  async function stopSimulators() {
    await Promise.all(simulators.splice(0).map((s) => s.stop()));
  }

  const transfers = createTransferQueue({
    engine,
    publish: (changed, removed) => publish({ stream: 'transfers', changed, removed }),
    writeFile: writeLocalAtomic,
  });
  // Files staged from the page: uploads, OTA images, and the files and images of fleet jobs and rollouts.
  const stages = createTransferStages();
  const fleet = createFleetHandlers({
    engine,
    settingsDir: opts.settingsDir,
    profile: () => currentProfile,
    stages,
    publish,
    crashesPerDay: (profile, days) => logStore.crashesPerDay(profile, days),
  });
  const rollouts = createRolloutHandlers({
    engine,
    dir: path.join(opts.settingsDir, 'rollouts'),
    profile: () => currentProfile,
    stages,
    // The example bundles belong to the demo fleet: elsewhere they would only be a trap.
    examples: async () => (currentProfile === DEMO_PROFILE_ID ? demoBundles() : []),
    publish,
  });
  const handlers = createHandlers({
    engine,
    profiles,
    info,
    useProfile: (id) => useProfile(id),
    startSimulator: (prefix, count) => host.startSimulator(prefix, count),
    onProfilesChanged: () => publish({ stream: 'profiles', state: profiles.state() }),
    publish,
    files: createFileHandlers({ engine, queue: transfers, stages, dialogs: opts.dialogs }),
    logs: createLogHandlers(logStore, opts.dialogs),
    fleet: fleet.handlers,
    rollouts: rollouts.handlers,
    forgetLogs: (prefix) => logStore.forgetDevice(prefix),
  });
  const bridge = createBridgeHost(handlers);

  const host: AppHost = {
    bridge,
    profiles,
    engine,
    info,
    useProfile,
    transfers,
    async startSimulator(prefix, count) {
      if (!currentBroker) throw new Error('not connected to a broker');
      const fleet = await startSimulatedFleet({ broker: currentBroker, prefix, count });
      simulators.push(fleet);
      return fleet.prefixes;
    },
    async close() {
      try {
        transfers.close();
        await Promise.all([fleet.close(), rollouts.close()]);
        await stopSimulators();
        await engine.disconnect();
        const d = demo;
        demo = undefined;
        demoShown = undefined;
        await (await d?.catch(() => undefined))?.stop();
      } finally {
        // Whatever failed above, the lines received so far reach the disk.
        await logStore.close();
      }
    },
  };

  const start = profiles.state().active ?? (profiles.firstRun && opts.demoOnFirstRun !== false ? DEMO_PROFILE_ID : null);
  if (start) {
    await useProfile(start).catch((e: unknown) => {
      // A broker that is down at start-up is not fatal: the connection bar shows the error and
      // the engine keeps retrying.
      console.warn(`mqboard: could not connect at start-up: ${e instanceof Error ? e.message : e}`);
    });
  }
  return host;
}


// The bridge handlers: one function per contract operation, arguments already parsed by the
// bridge host. They stay thin; the engine and the profile store do the work.
import type { AppInfo, BridgeEvent, fleetOperations, ProfilesState, rolloutOperations } from '../../../protocol/src';
import type { Engine } from '../engine/types';
import { InstallError, installOnOriginalBoard } from '../engine/board-install';
import type { Handlers } from './bridge-host';
import { HostError } from './errors';
import type { ProfilesStore } from './profiles-store';
import type { createFileHandlers } from './file-handlers';
import { createTerminalHandlers } from './terminal-handlers';
import type { createLogHandlers } from './log-handlers';
import { testConnection } from './test-connection';

export interface HandlerDeps {
  engine: Engine;
  /** Fills the crash indicator from retained crash records when the status has none. */
  profiles: ProfilesStore;
  info(): AppInfo;
  useProfile(id: string): Promise<ProfilesState>;
  startSimulator(prefix: string, count: number): Promise<string[]>;
  onProfilesChanged(): void;
  /** Pushes an event to the renderers (terminal output). */
  publish(e: BridgeEvent): void;
  /** File browser, transfer queue and OTA (file-handlers.ts). */
  files: ReturnType<typeof createFileHandlers>;
  /** Log history and export (log-handlers.ts). */
  logs: ReturnType<typeof createLogHandlers>;
  /** Tags, saved views, jobs on many devices, the command queue (fleet-handlers.ts). */
  fleet: FleetHandlers;
  /** Staged rollouts (rollout-handlers.ts). */
  rollouts: RolloutHandlers;
  /** Removes a forgotten device's stored log lines and crash records. */
  forgetLogs(prefix: string): Promise<void>;
}

export type FleetHandlers = Pick<Handlers, keyof typeof fleetOperations>;
export type RolloutHandlers = Pick<Handlers, keyof typeof rolloutOperations>;

export function createHandlers(d: HandlerDeps): Handlers {
  const device = (prefix: string) => {
    const dev = d.engine.device(prefix);
    if (!dev) throw new HostError('not-found', `no device ${prefix}`);
    return dev;
  };
  return {
    getAppInfo: async () => d.info(),
    subscribe: async ({ streams }, ctx) => {
      ctx.client.setStreams(streams);
      return {};
    },
    getConnection: async () => d.engine.connection(),
    listDevices: async () => d.engine.devices(),
    getDevice: async ({ prefix }) => ({ device: device(prefix), crashes: d.engine.crashes(prefix) }),
    addDevice: async ({ prefix }) => d.engine.addDevice(prefix),
    forgetDevice: async ({ prefix }) => {
      d.engine.forgetDevice(prefix);
      await d.forgetLogs(prefix);
      return {};
    },
    resetDevice: async ({ prefix, mode }, ctx) => {
      device(prefix);
      await d.engine.reset(prefix, mode, { signal: ctx.signal });
      return {};
    },
    installMicroPython: async ({ prefix, overrides, waitS }, ctx) => {
      device(prefix);
      try {
        const r = await installOnOriginalBoard(d.engine, prefix, { overrides, waitMs: waitS * 1000, signal: ctx.signal });
        return { prefix: r.device.prefix, runtime: r.device.runtime?.kind ?? 'mqboard-micropython', version: r.device.runtime?.version ?? '', files: r.files.length };
      } catch (e) {
        // Its message says what happened and what to do (the original safe mode, a missing setting).
        if (e instanceof InstallError) throw new HostError(e.stage === 'missing-config' || e.stage === 'not-original' || e.stage === 'firmware' ? 'invalid-argument' : 'device-error', e.message);
        throw e;
      }
    },
    listProfiles: async () => d.profiles.state(),
    saveProfile: async (input) => {
      const saved = d.profiles.save(input);
      d.onProfilesChanged();
      return saved;
    },
    deleteProfile: async ({ id }) => {
      d.profiles.remove(id);
      d.onProfilesChanged();
      return {};
    },
    testProfile: async ({ profile }, ctx) => testConnection(d.profiles.resolve(profile), ctx.signal),
    useProfile: async ({ id }) => d.useProfile(id),
    exportProfiles: async ({ includeSecrets }) => ({ json: d.profiles.exportJson(includeSecrets) }),
    importProfiles: async ({ json }) => {
      const imported = d.profiles.importJson(json);
      d.onProfilesChanged();
      return { imported };
    },
    startSimulator: async ({ prefix, count }) => ({ prefixes: await d.startSimulator(prefix, count) }),
    ...createTerminalHandlers(d.engine, d.publish),
    ...d.files,
    ...d.logs,
    ...d.fleet,
    ...d.rollouts,
  };
}

// The application a normal boot starts: which modules (an installed app bundle's, or the
// config's list), found in the active slot, /lib and /src; and the crash record of a boot whose
// modules (or config) failed, which is what leads a board that keeps failing into safe mode.
import path from 'node:path';
import type { Mode } from '../../protocol/src';
import type { Manifest } from './bundle';
import type { CrashLog } from './crash-log';
import type { DeviceConfig } from './device-config';
import { errorMessage } from './errors';
import type { Logger } from './log';
import { startModules, type ModuleFailure, type ModuleMqtt } from './modules';
import { slotManifest, type OtaState, type OtaStore } from './ota-slots';

/**
 * The modules a normal boot starts. An installed app bundle is the application: an update must
 * run the modules it ships, so its manifest wins over the config's list (which would otherwise
 * keep starting the old code under the new version number). Without a bundle, the config's list
 * names modules in /lib and /src.
 */
export function modulesToStart(config: Pick<DeviceConfig, 'modules'>, manifest: Manifest | undefined, warn: (msg: string) => void): string[] {
  if (!manifest) return config.modules ?? [];
  const ignored = (config.modules ?? []).filter((m) => !manifest.modules.includes(m));
  if (config.modules && ignored.length) {
    warn(`config.json modules ${ignored.join(', ')} not started: app bundle ${manifest.name} ${manifest.version} ships ${manifest.modules.join(', ') || 'no modules'}`);
  }
  return manifest.modules;
}

export interface AppStart {
  root: string;
  store: OtaStore;
  ota: OtaState;
  config: DeviceConfig;
  apiFor: (name: string) => ModuleMqtt;
  /** The device's log (`device`) and the launcher's. */
  log: Logger;
  launcherLog: Logger;
  /** Distinguishes boots so an in-process reboot imports a module file afresh. */
  generation: number;
}

/** Starts the application's modules, each with its config; a module that fails is skipped and listed. */
export async function startApp(a: AppStart): Promise<{ started: string[]; failed: ModuleFailure[] }> {
  const manifest = a.ota.slots[a.ota.active] ? await slotManifest(a.store, a.ota.active) : undefined;
  const names = modulesToStart(a.config, manifest, (m) => a.log.warn(m));
  const dirs = [...(manifest ? [a.store.slotDir(a.ota.active)] : []), path.join(a.root, 'lib'), path.join(a.root, 'src')];
  const r = await startModules(names, dirs, (n) => a.config[n], a.apiFor, a.launcherLog, a.generation);
  a.log.info(`modules started: ${r.started.length ? r.started.join(', ') : 'none'}${r.failed.length ? ` (failed: ${r.failed.map((f) => f.name).join(', ')})` : ''}`);
  return r;
}

/**
 * Writes the crash record of a boot that failed to start its application. Nothing after the
 * client exists may throw out of the boot (it would leave the client running beside the next
 * attempt's), so a record that cannot be written is only logged: resolves whether it was.
 */
export async function recordBootFailure(
  crashes: CrashLog,
  boot: { bootCount: number; mode: Mode; failures: ModuleFailure[]; recent: string[] },
  log: Logger,
): Promise<boolean> {
  try {
    await crashes.add({
      bootCount: boot.bootCount,
      mode: boot.mode,
      reason: 'boot-failure',
      message: boot.failures.map((f) => `${f.name}: ${f.error}`).join('; '),
      ...(boot.failures[0]?.stack ? { stack: boot.failures[0].stack } : {}),
      log: boot.recent,
    });
    return true;
  } catch (e) {
    log.error(`crash record not written: ${errorMessage(e)}`);
    return false;
  }
}

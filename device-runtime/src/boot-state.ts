// What a boot starts from, read before anything connects: the mode (RTC memory and the count of
// failed boots decide it), the OTA slot it runs (a slot on trial that never confirmed is rolled
// back), and the config of that mode.
import type { BootReason } from '../../protocol/src';
import { configPath, readDeviceConfig, type DeviceConfig } from './device-config';
import { errorMessage } from './errors';
import type { Jail } from './jail';
import type { Logger } from './log';
import type { ModuleFailure } from './modules';
import { otaBoot, otaStore, type OtaBootAction, type OtaState, type OtaStore, type SlotName } from './ota-slots';
import type { DeviceOptions } from './options';
import { decideBoot, rtcMemory, type BootDecision, type Rtc } from './rtc';

export interface BootState {
  decision: BootDecision;
  mode: BootDecision['mode'];
  bootReason: BootReason;
  rtc: Rtc;
  store: OtaStore;
  /** The slots as this boot runs them. */
  ota: OtaState;
  /** What the OTA state did at this boot, and the slot that was active before it. */
  otaAction: OtaBootAction;
  previousSlot: SlotName;
  /** The config of the mode it runs in. */
  config: DeviceConfig;
  /** Tags from the mode's config, or else the normal config's. */
  tags: DeviceConfig['tags'];
  /** A broken normal config, which counts against this boot like a module that fails to start. */
  failures: ModuleFailure[];
}

export async function readBootState(jail: Jail, configured: DeviceOptions['mode'], log: Logger): Promise<BootState> {
  const failures: ModuleFailure[] = [];
  // The normal config also says how many failed boots lead to safe mode; if it is broken,
  // that counts against this boot like a module that fails to start.
  let normalConfig: DeviceConfig | undefined;
  try {
    normalConfig = await readDeviceConfig(configPath(jail.root, false));
  } catch (e) {
    failures.push({ name: 'config.json', error: errorMessage(e) });
  }
  const rtc = rtcMemory(jail.privateDir);
  const { decision, next } = decideBoot(await rtc.load(), normalConfig?.maxFailedBoots ?? 3, configured ?? 'normal');
  await rtc.save(next);
  const mode = decision.mode;
  let bootReason: BootReason = decision.reason;

  const store = otaStore(jail.privateDir);
  const ota0 = await store.load();
  const ob = otaBoot(ota0);
  const ota = ob.state;
  if (ob.action !== 'none' || ota0.pending !== ota.pending) await store.save(ota);
  if (ob.action === 'switched') bootReason = 'ota';
  if (ob.action === 'rolled-back') bootReason = 'rollback';

  let config: DeviceConfig;
  if (mode === 'safe') {
    try {
      config = await readDeviceConfig(configPath(jail.root, true));
    } catch (e) {
      // Safe mode must come up whatever its config says.
      log.error(`safemode/config.json ignored: ${errorMessage(e)}`);
      config = await readDeviceConfig('');
    }
  } else {
    config = normalConfig ?? (await readDeviceConfig(''));
  }
  // Tags say which device this is, whatever mode it runs in: a device in safe mode must still be
  // found by them, so its normal config's tags count unless the safe-mode config has its own.
  const tags = config.tags ?? normalConfig?.tags;
  return { decision, mode, bootReason, rtc, store, ota, otaAction: ob.action, previousSlot: ota0.active, config, tags, failures };
}

// The device runtime as a library: other folders' tests start devices in-process with these.
export { startDevice, type DeviceHandle } from './device';
export { startFleet, type FleetHandle, type FleetOptions } from './fleet';
export { defaultRoot, DEFAULTS, type DeviceOptions } from './options';
export { PRIVATE_DIR } from './jail';
export { RUNTIME_KIND, RUNTIME_VERSION } from './status';
export { createBundle, BUNDLE_FORMAT, Manifest } from './bundle';
export { installDemo, BLINKY_SOURCE, buildDemoBundles, DEMO_BUNDLES_DIR, type DemoBundle } from './demo';
export { startSupervisedDevice, type SupervisedDevice, type SupervisorOptions } from './supervisor';
export type { ModuleMqtt } from './modules';

// Compile-time checks that the engine's types still fit the bridge contract's schemas
// (protocol/src/bridge.ts): if the engine grows a field or an error code the contract does not
// know, `npm run typecheck` fails here instead of the renderer dropping data at run time.
import type { ConnectionState as WireConnection, DeviceState as WireDevice, ErrorCode, LogEntry as WireLog } from '../../../protocol/src';
import type { ConnectionState, DeviceState, EngineErrorCode, LogEntry } from '../engine/types';

type Assert<T extends true> = T;
type Fits<A, B> = [A] extends [B] ? true : false;

export type ContractChecks = [
  Assert<Fits<DeviceState, WireDevice>>,
  Assert<Fits<ConnectionState, WireConnection>>,
  Assert<Fits<LogEntry, WireLog>>,
  Assert<Fits<EngineErrorCode, ErrorCode>>,
  // Every device field the engine reports is named by the contract (none stripped silently).
  Assert<Fits<keyof DeviceState, keyof WireDevice>>,
];

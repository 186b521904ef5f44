// The retained status message at `P/mqb/status` (protocol/src/status.ts), the Last Will that
// replaces it when the connection is lost, and the explicit offline message on clean stop.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import {
  ALL_COMMANDS,
  PROTOCOL_VERSION,
  type BootReason,
  type Mode,
  type OfflineStatus,
  type OnlineStatus,
} from '../../protocol/src';
import type { OtaState } from './ota-slots';

export const RUNTIME_KIND = 'mqboard-device-node';

export const RUNTIME_VERSION: string = (() => {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const v = typeof pkg === 'object' && pkg !== null ? (pkg as { version?: unknown }).version : undefined;
    return typeof v === 'string' ? v : '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

export interface StatusInput {
  mode: Mode;
  bootReason: BootReason;
  bootCount?: number;
  startedAt: number;
  firmware: string;
  maxChunk: number;
  maxImage: number;
  ota: OtaState;
  crashes?: number;
}

export function onlineStatus(s: StatusInput): OnlineStatus {
  const heap = v8.getHeapStatistics();
  const now = Date.now();
  return {
    online: true,
    protocol: PROTOCOL_VERSION,
    runtime: { kind: RUNTIME_KIND, version: RUNTIME_VERSION },
    firmware: s.firmware,
    mode: s.mode,
    bootReason: s.bootReason,
    ...(s.bootCount !== undefined ? { bootCount: s.bootCount } : {}),
    uptime: Math.floor((now - s.startedAt) / 1000),
    freeMem: Math.max(0, heap.heap_size_limit - heap.used_heap_size),
    time: now,
    capabilities: {
      maxChunk: s.maxChunk,
      maxImage: s.maxImage,
      commands: [...ALL_COMMANDS],
      putAck: true,
      putShaLast: true,
      getAck: true,
      terminal: true,
    },
    ota: {
      active: s.ota.active,
      confirmed: s.ota.confirmed,
      slots: (['a', 'b'] as const).map((name) => ({ name, version: s.ota.slots[name]?.version ?? null })),
    },
    ...(s.crashes !== undefined ? { crashes: s.crashes } : {}),
  };
}

export const offlineStatus = (reason: OfflineStatus['reason'], withTime = true): OfflineStatus =>
  withTime ? { online: false, reason, time: Date.now() } : { online: false, reason };

// The retained status message at `P/mqb/status` (protocol/src/status.ts), the Last Will that
// replaces it when the connection is lost, and the explicit offline message on clean stop.
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
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
  /** Free memory to report; default: what this process could still allocate on its host. */
  freeMem?: number;
  /** The application modules that actually started this boot (normal mode), in order. */
  modules?: string[];
  /** Labels from the device's config.json, for grouping in fleets. */
  tags?: string[];
}

/** Free memory of the Node runtime on a real host (a Linux SBC): the lesser of V8 headroom and the OS's. */
export function hostFreeMem(): number {
  const heap = v8.getHeapStatistics();
  return Math.max(0, Math.min(heap.heap_size_limit - heap.used_heap_size, os.freemem()));
}

/**
 * Free memory of a simulated board with `totalBytes` of RAM (an ESP32's 320 KiB, or 4 MiB of
 * PSRAM), so a demo device does not report its host's gigabytes. The figure behaves like a
 * MicroPython heap: the firmware and the application hold about a third from boot, the
 * application's garbage grows with uptime until a collection frees it (a sawtooth with a
 * period of about a minute), and allocations by the moment add a little noise. Rounded to the
 * heap's 16-byte blocks.
 */
export function simulatedFreeMem(totalBytes: number, uptimeMs: number, noise: (max: number) => number = (m) => randomInt(m + 1)): number {
  const resident = totalBytes * 0.34;
  const garbageMax = totalBytes * 0.22;
  const garbage = garbageMax * ((uptimeMs % 61_000) / 61_000);
  const free = totalBytes - resident - garbage - noise(Math.floor(totalBytes * 0.02));
  return Math.max(0, Math.floor(free / 16) * 16);
}

export function onlineStatus(s: StatusInput): OnlineStatus {
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
    freeMem: s.freeMem ?? hostFreeMem(),
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
    ...(s.modules !== undefined ? { modules: [...s.modules] } : {}),
    ...(s.tags !== undefined ? { tags: [...s.tags] } : {}),
  };
}

export const offlineStatus = (reason: OfflineStatus['reason'], withTime = true): OfflineStatus =>
  withTime ? { online: false, reason, time: Date.now() } : { online: false, reason };

/** What a sleeping device leaves behind: asleep, back at `wakeAt` (ms since the epoch). */
export const sleepStatus = (wakeAt: number, now = Date.now()): OfflineStatus => ({ online: false, reason: 'sleep', time: now, wake: wakeAt });

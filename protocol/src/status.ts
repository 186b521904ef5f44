// The retained status message at `P/mqb/status` (docs/protocol.md, "Status").
import { z } from 'zod';
import { decodeJson } from './json';
import { MAX_CHUNK_BYTES, STATUS_JSON } from './limits';
import type { Decoded } from './result';

export const PROTOCOL_VERSION = 1;

export const Mode = z.enum(['normal', 'safe']);
export type Mode = z.infer<typeof Mode>;

export const BootReason = z.enum(['cold', 'command', 'soft', 'watchdog', 'crash', 'ota', 'rollback', 'unknown']);
export type BootReason = z.infer<typeof BootReason>;

export const Capabilities = z.object({
  /** Largest data chunk the device accepts per message (body bytes, header excluded). */
  maxChunk: z.number().int().min(64).max(MAX_CHUNK_BYTES),
  /** Largest OTA image the device can take, in bytes. */
  maxImage: z.number().int().nonnegative().optional(),
  commands: z.array(z.string().max(32)).max(64),
  /** The device acks put chunks with `SEQ n` (the original only acks ota). */
  putAck: z.boolean().default(false),
  /** The device takes a put's expected SHA-256 on the last message's tail as well as the first. */
  putShaLast: z.boolean().default(false),
  /** The device honours `{"window":n}` on get and waits for host acks. */
  getAck: z.boolean().default(false),
  /** The device serves interactive terminal sessions on `P/mqb/term/...`. */
  terminal: z.boolean().default(false),
});
export type Capabilities = z.infer<typeof Capabilities>;

export const SlotInfo = z.object({
  name: z.string().max(32),
  version: z.string().max(64).nullable(),
});

export const OnlineStatus = z.object({
  online: z.literal(true),
  protocol: z.number().int().positive(),
  runtime: z.object({ kind: z.string().max(64), version: z.string().max(64) }),
  firmware: z.string().max(64),
  mode: Mode,
  bootReason: BootReason,
  bootCount: z.number().int().nonnegative().optional(),
  /** Seconds since the runtime started. */
  uptime: z.number().nonnegative(),
  freeMem: z.number().nonnegative(),
  /** Device clock when published, ms since the epoch. */
  time: z.number().nonnegative(),
  capabilities: Capabilities,
  ota: z
    .object({ active: z.string().max(32), confirmed: z.boolean(), slots: z.array(SlotInfo).max(4) })
    .optional(),
  crashes: z.number().int().nonnegative().optional(),
  /** Application modules this boot started (normal mode). */
  modules: z.array(z.string().max(64)).max(64).optional(),
  /** Tags from the device's config, for selecting devices in fleet operations. */
  tags: z.array(z.string().min(1).max(32)).max(16).optional(),
});
export type OnlineStatus = z.infer<typeof OnlineStatus>;

/** Why a device is offline: `lost` (the Last Will), `shutdown`, `reset`, or `sleep` (a planned radio-off period). */
export const OfflineReason = z.enum(['lost', 'shutdown', 'reset', 'sleep']);
export type OfflineReason = z.infer<typeof OfflineReason>;

/**
 * Published as the Last Will (reason `lost`), on clean shutdown (`shutdown`), before a reset
 * (`reset`), and by a device that sleeps between wakes (`sleep`, with `wake`).
 */
export const OfflineStatus = z.object({
  online: z.literal(false),
  reason: OfflineReason.default('lost'),
  time: z.number().nonnegative().optional(),
  /** With reason `sleep`: when the device expects to be back, device clock, ms since the epoch. */
  wake: z.number().nonnegative().optional(),
});
export type OfflineStatus = z.infer<typeof OfflineStatus>;

export const Status = z.discriminatedUnion('online', [OnlineStatus, OfflineStatus]);
export type Status = z.infer<typeof Status>;

/** Decodes a status payload, refusing one over `STATUS_JSON` before parsing it. */
export const decodeStatus = (payload: Uint8Array): Decoded<Status> => decodeJson(Status, payload, 'status', STATUS_JSON);

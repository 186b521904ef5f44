// The bridge contract's rollout part: firmware or app-bundle updates for a selection of devices,
// in waves, each device held to a health gate before the next wave starts. The host runs the
// rollout with the engine's state machine (electron/src/engine/fleet/rollout*.ts), keeps its
// state on disk so it continues after a restart, and streams every change on `rollouts`.
// Hooked into bridge.ts's `operations` and `BridgeEvent`. The states are described for users in
// docs/fleet.md ("Rollouts").
import { z } from 'zod';
import { MAX_FLEET_SELECTION } from './bridge-fleet';

const Prefix = z.string().min(1).max(256).regex(/^[^#+\s]+$/, 'a topic prefix without wildcards or spaces');
const Id = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'an id');

/** Where the image comes from: a staged file (bridge-files.ts `xferStage`) or a demo example image. */
export const RolloutImageSource = z.discriminatedUnion('from', [
  z.object({ from: z.literal('stage'), stage: Id }).strict(),
  z.object({ from: z.literal('example'), name: z.string().min(1).max(64) }).strict(),
]);
export type RolloutImageSource = z.infer<typeof RolloutImageSource>;

/** Waves as the user writes them: counts and percentages of the selection, e.g. `1,10%,50%,100%`. */
export const WavesSpec = z
  .string()
  .max(200)
  .regex(/^\s*\d+(\.\d+)?%?\s*(,\s*\d+(\.\d+)?%?\s*)*$/, 'waves like 1,10%,50%,100%');

export const RolloutInput = z
  .object({
    name: z.string().trim().max(128).optional(),
    image: RolloutImageSource,
    /**
     * The version devices report once updated. Read from the image: our runtime's bundles name it
     * in their manifest, a MicroPython firmware image in its app description (esp_app_desc_t);
     * required only for an image that says nothing, and it must agree with one that does.
     */
    version: z.string().trim().min(1).max(64).optional(),
    /** The devices (the renderer resolves the selector); `selector` is kept for the record. */
    prefixes: z.array(Prefix).min(1).max(MAX_FLEET_SELECTION),
    selector: z.string().max(4096).optional(),
    waves: WavesSpec.default('1,10%,50%,100%'),
    /** Devices updated at once within a wave. */
    concurrency: z.number().int().min(1).max(256).default(10),
    /** Skip devices that already report the image's version. */
    onlyOutdated: z.boolean().default(true),
    /** A device offline when its turn comes: skip it, or wait for it (the wave waits too). */
    offline: z.enum(['skip', 'wait']).default('skip'),
    /** Failures allowed in the first (canary) wave before the rollout pauses itself. */
    canaryMaxFailures: z.number().int().min(0).default(0),
    /** In later waves, the rollout pauses when more than this share of its devices so far failed. */
    maxFailurePercent: z.number().min(0).max(100).default(10),
    /** An absolute cap instead: more than this many failed devices in all pauses the rollout. */
    maxFailures: z.number().int().min(0).optional(),
    /** Seconds a device may take to come back online with the new image. */
    onlineWithinS: z.number().int().min(5).max(3600).default(120),
    /** Seconds after coming back during which a new crash record (or a reboot) fails the device. */
    soakS: z.number().int().min(0).max(86_400).default(30),
  })
  .strict();
export type RolloutInput = z.infer<typeof RolloutInput>;
export type RolloutInputArgs = z.input<typeof RolloutInput>;

/** `bundle`: our runtime's app bundle; `firmware`: an ESP32 MicroPython image (original boards). */
export const RolloutImageKind = z.enum(['bundle', 'firmware']);
export type RolloutImageKind = z.infer<typeof RolloutImageKind>;

/**
 * The kind of image a device takes, by the device's kind (bridge.ts `DeviceState.kind`): app
 * bundles for our runtime, firmware for original boards; undefined while the host does not know
 * what a device is (the plan does not skip it for its kind then).
 */
export function imageKindFor(deviceKind: 'mqboard' | 'original' | 'unknown'): RolloutImageKind | undefined {
  return deviceKind === 'mqboard' ? 'bundle' : deviceKind === 'original' ? 'firmware' : undefined;
}

export const RolloutImage = z.object({
  name: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string(),
  kind: RolloutImageKind,
  version: z.string().optional(),
});
export type RolloutImage = z.infer<typeof RolloutImage>;

export const RolloutPlan = z.object({
  image: RolloutImage,
  /** Devices per wave, in order. */
  waves: z.array(z.object({ index: z.number().int().nonnegative(), label: z.string(), prefixes: z.array(z.string()) })),
  /** Devices that will not be updated, and why (already on the version, offline, cannot take this image). */
  skipped: z.array(z.object({ prefix: z.string(), reason: z.string() })),
});
export type RolloutPlan = z.infer<typeof RolloutPlan>;

/**
 * One device's way through a rollout: pending → (waiting) → sending → rebooting → verifying →
 * soaking → updated; or failed (then rolled-back when the device is back on its previous
 * version), skipped, or cancelled (the rollout was aborted before its turn ended).
 */
export const RolloutDeviceState = z.enum([
  'pending',
  'skipped',
  'waiting',
  'sending',
  'rebooting',
  'verifying',
  'soaking',
  'updated',
  'failed',
  'rolled-back',
  'cancelled',
]);
export type RolloutDeviceState = z.infer<typeof RolloutDeviceState>;

/** The gate's checks, in the order they pass. */
export const GateCheckName = z.enum(['online', 'version', 'confirmed', 'no-crash']);
export type GateCheckName = z.infer<typeof GateCheckName>;

export const GateCheck = z.object({
  name: GateCheckName,
  state: z.enum(['pending', 'passed', 'failed']),
  /** ms since the epoch when it passed or failed. */
  at: z.number().optional(),
  /** What was seen, e.g. "reports 2.5.0", "crash record: ZeroDivisionError". */
  detail: z.string().optional(),
});
export type GateCheck = z.infer<typeof GateCheck>;

export const RolloutDevice = z.object({
  prefix: z.string(),
  wave: z.number().int().nonnegative(),
  state: RolloutDeviceState,
  /** The version it reported before, and after (when known). */
  from: z.string().optional(),
  now: z.string().optional(),
  /** Why it was skipped, failed or rolled back, in words. */
  reason: z.string().optional(),
  /** Image bytes sent so far, while sending. */
  sent: z.number().int().nonnegative().optional(),
  checks: z.array(GateCheck),
  started: z.number().optional(),
  ended: z.number().optional(),
});
export type RolloutDevice = z.infer<typeof RolloutDevice>;

export const RolloutState = z.enum(['running', 'paused', 'done', 'aborted']);
export type RolloutState = z.infer<typeof RolloutState>;

export const RolloutSummary = z.object({
  id: Id,
  name: z.string(),
  /** The broker profile it runs on. */
  profile: z.string(),
  created: z.number(),
  ended: z.number().optional(),
  state: RolloutState,
  /** Why it paused (the threshold it crossed, or "paused by the user"), while paused. */
  pausedReason: z.string().optional(),
  image: RolloutImage,
  options: RolloutInput.omit({ image: true, prefixes: true }),
  waves: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      label: z.string(),
      size: z.number().int().nonnegative(),
      state: z.enum(['pending', 'running', 'done']),
    }),
  ),
  /** Index of the wave in progress (or the last one, once done). */
  wave: z.number().int().nonnegative(),
  /** Devices per state. */
  counts: z.record(z.string(), z.number().int().nonnegative()),
});
export type RolloutSummary = z.infer<typeof RolloutSummary>;

/** A rollout's new summary and the devices that changed since the last event. */
export const RolloutsEvent = z.object({ stream: z.literal('rollouts'), rollout: RolloutSummary, devices: z.array(RolloutDevice) });
export type RolloutsEvent = z.infer<typeof RolloutsEvent>;

export const RolloutExample = z.object({ name: z.string(), kind: RolloutImageKind, description: z.string(), version: z.string(), size: z.number().int().nonnegative() });
export type RolloutExample = z.infer<typeof RolloutExample>;

const Empty = z.object({}).strict();
const op = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R, timeoutMs: number) => ({ args, result, timeoutMs }) as const;
const ById = z.object({ id: Id }).strict();
const One = z.object({ rollout: RolloutSummary });

export const rolloutOperations = {
  /** The wave plan for review before starting: which devices in which wave, which skipped and why. */
  rolloutPlan: op(RolloutInput, z.object({ plan: RolloutPlan }), 30_000),
  rolloutStart: op(RolloutInput, One, 30_000),
  rolloutPause: op(ById, One, 10_000),
  /** Continues a paused rollout with the wave it paused in. */
  rolloutResume: op(ById, One, 10_000),
  /** Stops it: devices not yet updated stay as they are; one mid-transfer is cancelled. */
  rolloutAbort: op(ById, One, 30_000),
  /** Tries the failed (and rolled-back) devices of a rollout again, then carries on. */
  rolloutRetry: op(ById, One, 10_000),
  /** Past and current rollouts on this broker, newest first. */
  rolloutList: op(Empty, z.object({ rollouts: z.array(RolloutSummary) }), 5_000),
  rolloutGet: op(ById, z.object({ rollout: RolloutSummary, devices: z.array(RolloutDevice) }), 10_000),
  /** Removes a finished rollout from the history. */
  rolloutForget: op(ById, Empty, 10_000),
  /** Example images to try rollouts with (the demo's good and crashing bundles and firmware images); empty elsewhere. */
  rolloutExamples: op(Empty, z.object({ examples: z.array(RolloutExample) }), 10_000),
} as const;

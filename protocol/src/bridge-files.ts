// The bridge contract's file part: file
// operations on a device, the transfer queue, and the batched `transfers` event stream. Hooked
// into bridge.ts's `operations` and `BridgeEvent`; kept here so the contract reads in one place.
//
// File bytes from the computer reach the host without base64:
//   - upload: `xferStage` reserves a staging buffer of a declared size in the host and
//     `xferStageChunk` fills it in order with raw bytes (a Uint8Array: structured clone over
//     Electron IPC, a binary WebSocket frame in web mode, see bridge.ts), at most
//     STAGE_BINARY_CHUNK each. In the desktop app a dropped or picked file has a path on disk
//     (the preload's `pathForFile`): `xferStagePath` has the host read it itself, and the host
//     reads only paths the preload granted for a File the user gave the page. `xferUpload`/
//     `otaInspect`/`otaStart` refer to the stage by id. The host rejects a chunk that overlaps,
//     overruns or leaves a gap, and a stage whose bytes are not all there.
//   - download: in the desktop app the host asks for a destination with Electron's save dialog
//     and writes the file itself (`dest: 'dialog'`); in web mode the host keeps the finished
//     download (`dest: 'memory'`) and the page pulls it with `xferRead` in base64 chunks and
//     hands it to the browser as a download.
// Every transfer runs in the host; the renderer only shows progress and asks for cancel/retry.
import { z } from 'zod';
import { FileEntry } from './files';

const Prefix = z.string().min(1).max(256).regex(/^[^#+\s]+$/, 'a topic prefix without wildcards or spaces');
/** A device path: absolute, no NUL, no MQTT wildcards (it travels in a topic tail). */
export const DevicePath = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^\/[^#+\0]*$/, 'an absolute device path without + # or NUL');
const Id = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'an id');

/** Decoded bytes per base64 staging chunk and per `xferRead` reply (base64 makes it 4/3 on the wire). */
export const STAGE_CHUNK = 512 * 1024;
/** Bytes per raw staging chunk: well inside the web-mode WebSocket's 8 MiB frame limit. */
export const STAGE_BINARY_CHUNK = 4 * 1024 * 1024;
/** Largest single file the host stages for an upload or an OTA image. */
export const MAX_STAGE_BYTES = 64 * 1024 * 1024;
/** Largest text file the editor opens or saves. */
export const MAX_TEXT_BYTES = 1024 * 1024;
/** Most files in one upload request (a dropped folder tree). */
export const MAX_UPLOAD_ITEMS = 2000;

const Base64 = z
  .string()
  .max(Math.ceil(STAGE_CHUNK / 3) * 4)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');

/** Raw bytes (a Uint8Array, or a Node Buffer, which is one). */
const Bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'bytes').refine((b) => b.byteLength <= STAGE_BINARY_CHUNK, `at most ${STAGE_BINARY_CHUNK} bytes per chunk`);

export const TransferKind = z.enum(['upload', 'download', 'ota']);
export type TransferKind = z.infer<typeof TransferKind>;
export const TransferState = z.enum(['queued', 'running', 'done', 'failed', 'cancelled']);
export type TransferState = z.infer<typeof TransferState>;

export const TransferInfo = z.object({
  id: Id,
  kind: TransferKind,
  prefix: z.string(),
  /** Device path (upload destination, download source; the image name for ota). */
  path: z.string(),
  /** A folder download (zip). */
  folder: z.boolean(),
  state: TransferState,
  bytesDone: z.number().nonnegative(),
  /** 0 while unknown (a folder download before its listing). */
  bytesTotal: z.number().nonnegative(),
  /** Bytes per second over the transfer so far. */
  rate: z.number().nonnegative(),
  etaMs: z.number().nonnegative().optional(),
  /** ms since the epoch. */
  created: z.number(),
  started: z.number().optional(),
  ended: z.number().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** Failed or cancelled, and its input is still held: `xferRetry` may run it again. */
  retryable: z.boolean(),
  /** Finished: SHA-256 of what was sent (ota, upload) or received (file download). */
  sha256: z.string().optional(),
  /** Finished download kept in the host for `xferRead` (web mode), and its file name. */
  readable: z.object({ size: z.number().int().nonnegative(), name: z.string(), mime: z.string() }).optional(),
  /** Finished download written by the host (desktop app). */
  savedTo: z.string().optional(),
});
export type TransferInfo = z.infer<typeof TransferInfo>;

/** One batch: the latest state of every transfer that changed, and transfers dismissed. */
export const TransfersEvent = z.object({
  stream: z.literal('transfers'),
  changed: z.array(TransferInfo),
  removed: z.array(Id),
});
export type TransfersEvent = z.infer<typeof TransfersEvent>;

export const OtaInfo = z.object({
  stage: Id,
  name: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string(),
  /** The device's limit (capabilities.maxImage), when it states one. */
  maxImage: z.number().int().optional(),
  /** The slot the image goes to (the inactive one), when the device reports slots. */
  targetSlot: z.string().optional(),
  currentVersion: z.string().optional(),
  /** For our runtime: the app bundle's manifest version, read from the image itself. */
  imageVersion: z.string().optional(),
  /** Why the image must not be sent (empty, too large, not a bundle), or absent if it may be. */
  refused: z.string().optional(),
});
export type OtaInfo = z.infer<typeof OtaInfo>;

const Empty = z.object({}).strict();
const op = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R, timeoutMs: number) => ({ args, result, timeoutMs }) as const;

export const fileOperations = {
  /** One directory level (the tree expands lazily); sizes and mtimes when the device knows them. */
  fsList: op(z.object({ prefix: Prefix, path: DevicePath }).strict(), z.object({ path: z.string(), entries: z.array(FileEntry) }), 60_000),
  fsMkdir: op(z.object({ prefix: Prefix, path: DevicePath }).strict(), Empty, 30_000),
  /** Never overwrites: renaming onto an existing name is refused by the device. */
  fsRename: op(z.object({ prefix: Prefix, from: DevicePath, to: DevicePath }).strict(), Empty, 30_000),
  fsDelete: op(z.object({ prefix: Prefix, path: DevicePath, dir: z.boolean(), recursive: z.boolean() }).strict(), Empty, 120_000),
  /** A text file for the editor (at most MAX_TEXT_BYTES, UTF-8). */
  fsReadText: op(z.object({ prefix: Prefix, path: DevicePath }).strict(), z.object({ text: z.string(), sha256: z.string(), size: z.number().int() }), 120_000),
  /** Saves the editor's text: an atomic, verified put (size and SHA-256 checked by the device or read back). */
  fsWriteText: op(
    z.object({ prefix: Prefix, path: DevicePath, text: z.string().max(MAX_TEXT_BYTES) }).strict(),
    z.object({ sha256: z.string(), size: z.number().int() }),
    120_000,
  ),

  /** Reserves a staging buffer in the host for `size` bytes coming from the page. */
  xferStage: op(z.object({ size: z.number().int().nonnegative().max(MAX_STAGE_BYTES), name: z.string().min(1).max(255) }).strict(), z.object({ stage: Id }), 10_000),
  /** The next chunk of a stage, in order: raw bytes, or base64 text (at most STAGE_CHUNK decoded). */
  xferStageChunk: op(
    z.object({ stage: Id, offset: z.number().int().nonnegative(), data: z.union([Bytes, Base64]) }).strict(),
    z.object({ received: z.number().int() }),
    30_000,
  ),
  /**
   * Desktop app: stages a file the user dropped or picked, read by the host from its path (the
   * preload's `pathForFile`). Only paths the preload granted this window are read.
   */
  xferStagePath: op(
    z.object({ path: z.string().min(1).max(4096) }).strict(),
    z.object({ stage: Id, name: z.string(), size: z.number().int().nonnegative() }),
    60_000,
  ),
  /** Drops a stage that will not be used (the user cancelled the drop). */
  xferUnstage: op(z.object({ stage: Id }).strict(), Empty, 10_000),
  /**
   * Queues uploads of staged files to device paths; `dirs` are created first (empty folders of
   * a dropped tree). Parent folders of every file are created as needed.
   */
  xferUpload: op(
    z
      .object({
        prefix: Prefix,
        items: z.array(z.object({ path: DevicePath, stage: Id }).strict()).max(MAX_UPLOAD_ITEMS),
        dirs: z.array(DevicePath).max(MAX_UPLOAD_ITEMS).default([]),
      })
      .strict(),
    z.object({ transfers: z.array(Id) }),
    60_000,
  ),
  /** Desktop app: choose files or a folder with the system dialog and upload them into `dir`. */
  xferPickUpload: op(z.object({ prefix: Prefix, dir: DevicePath, folder: z.boolean() }).strict(), z.object({ transfers: z.array(Id) }), 600_000),
  /** Queues a download of a file, or of a folder as a zip. `dialog` = desktop save dialog first. */
  xferDownload: op(
    z.object({ prefix: Prefix, path: DevicePath, folder: z.boolean(), dest: z.enum(['dialog', 'memory']) }).strict(),
    z.object({ transfer: Id.nullable() }),
    600_000,
  ),
  /** Reads a finished in-memory download. */
  xferRead: op(
    z.object({ transfer: Id, offset: z.number().int().nonnegative(), length: z.number().int().min(1).max(STAGE_CHUNK) }).strict(),
    z.object({ data: Base64, total: z.number().int() }),
    30_000,
  ),
  xferList: op(Empty, z.object({ transfers: z.array(TransferInfo) }), 5_000),
  xferCancel: op(z.object({ transfer: Id }).strict(), Empty, 5_000),
  /** Runs a failed or cancelled transfer again (same input); returns the new transfer's id. */
  xferRetry: op(z.object({ transfer: Id }).strict(), z.object({ transfer: Id }), 5_000),
  /** Removes a finished transfer from the queue and frees what the host held for it. */
  xferDismiss: op(z.object({ transfer: Id }).strict(), Empty, 5_000),

  /** Size, SHA-256 (computed in the host), target slot and current version for a staged image. */
  otaInspect: op(z.object({ prefix: Prefix, stage: Id }).strict(), OtaInfo, 30_000),
  /** Desktop app: choose a firmware image with the system dialog; null when the user cancels. */
  otaPick: op(z.object({ prefix: Prefix }).strict(), OtaInfo.nullable(), 600_000),
  /** Queues the OTA stream of a staged image (refused if `otaInspect` would refuse it). */
  otaStart: op(z.object({ prefix: Prefix, stage: Id }).strict(), z.object({ transfer: Id }), 30_000),
} as const;

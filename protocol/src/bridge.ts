// The one contract between the renderer and the app host. Every operation the renderer may
// call and every event stream it may receive is
// defined here as a zod schema; the Electron preload exposes exactly these operations as named
// functions and the web-mode WebSocket serves exactly the same. The host parses every call's
// arguments with these schemas before acting, and the renderer parses every reply and event:
// nothing that crosses the boundary is trusted until parsed. Commands (a promise with an id, a
// timeout and a cancel) and event streams (batched pushes) are different things, as in VS Code's
// `call`/`listen`.
import { z } from 'zod';
import { Capabilities, Mode, OfflineReason, OnlineStatus } from './status';
import { CrashRecord } from './crash';
import { ResetMode } from './files';
import { LEVELS } from './log-line';
import { terminalOperations, TerminalEvent } from './bridge-terminal';
import { fileOperations, TransfersEvent } from './bridge-files';
import { logOperations } from './bridge-logs';
import { DiscoveryEvent, FleetEvent, fleetOperations, JobsEvent, QueueEvent } from './bridge-fleet';
import { rolloutOperations, RolloutsEvent } from './bridge-rollouts';

export * from './bridge-terminal';
export * from './bridge-files';
export * from './bridge-logs';
export * from './bridge-fleet';
export * from './bridge-rollouts';
export * from './log-filter';

// ---------------------------------------------------------------------------------------------
// Shared value schemas. They mirror electron/src/engine/types.ts; the app host checks at compile
// time that the engine's types still fit them (electron/src/app/contract-check.ts).

export const ErrorCode = z.enum([
  // Engine errors (EngineErrorCode).
  'timeout', 'cancelled', 'device-error', 'protocol-error', 'not-supported', 'disconnected',
  'not-connected', 'invalid-argument', 'verify-failed', 'dns', 'refused', 'tls', 'auth', 'network',
  // Bridge errors.
  'bad-request', 'not-found', 'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const BridgeError = z.object({
  code: ErrorCode,
  message: z.string(),
  /** For `bad-request`: one line per schema problem, with its path. */
  issues: z.array(z.string()).optional(),
});
export type BridgeError = z.infer<typeof BridgeError>;

const Prefix = z.string().min(1).max(256).regex(/^[^#+\s]+$/, 'a topic prefix without wildcards or spaces');

export const ConnectionState = z.object({
  phase: z.enum(['idle', 'connecting', 'connected', 'reconnecting', 'closed']),
  url: z.string().optional(),
  since: z.number(),
  error: z.object({ code: ErrorCode, message: z.string() }).optional(),
  retryAt: z.number().optional(),
});
export type ConnectionState = z.infer<typeof ConnectionState>;

export const DeviceState = z.object({
  prefix: z.string(),
  kind: z.enum(['mqboard', 'original', 'unknown']),
  presence: z.enum(['online', 'offline', 'unknown']),
  since: z.number(),
  lastSeen: z.number().optional(),
  mode: Mode.optional(),
  runtime: z.object({ kind: z.string(), version: z.string() }).optional(),
  firmware: z.string().optional(),
  uptime: z.number().optional(),
  freeMem: z.number().optional(),
  bootReason: z.string().optional(),
  bootCount: z.number().optional(),
  bootedAt: z.number().optional(),
  capabilities: Capabilities.optional(),
  ota: OnlineStatus.shape.ota,
  crashCount: z.number().optional(),
  modules: OnlineStatus.shape.modules,
  tags: OnlineStatus.shape.tags,
  offlineReason: OfflineReason.optional(),
  wake: z.number().optional(),
  source: z.enum(['status', 'watchdog', 'log', 'manual']),
});
export type DeviceState = z.infer<typeof DeviceState>;

export const LogEntry = z.object({
  prefix: z.string(),
  received: z.number(),
  line: z.object({ level: z.enum(LEVELS), time: z.string(), name: z.string(), text: z.string() }),
  /** The log store's id (bridge-logs.ts): joins live lines to history without duplicates. */
  id: z.number().int().nonnegative().optional(),
  /** Set when the line stands for a crash record, which the log view shows with its stack. */
  crash: CrashRecord.optional(),
});
export type LogEntry = z.infer<typeof LogEntry>;

const BrokerUrl = z
  .string()
  .max(2048)
  .regex(/^(mqtt|mqtts|ws|wss):\/\/[^\s]+$/, 'a URL starting with mqtt://, mqtts://, ws:// or wss://');

export const Discovery = z.object({
  depths: z.array(z.number().int().min(1).max(8)).max(8).optional(),
  patterns: z.array(z.string().min(1).max(512)).max(64).optional(),
});

/** A connection profile as the renderer edits it. Secrets travel only renderer → host. */
export const ProfileInput = z.object({
  /** Absent when creating a profile. */
  id: z.string().max(64).optional(),
  name: z.string().trim().min(1).max(128),
  url: BrokerUrl,
  username: z.string().max(256).optional(),
  /** Omitted on edit = keep the stored password; empty string = clear it. */
  password: z.string().max(4096).optional(),
  ca: z.string().max(256 * 1024).optional(),
  cert: z.string().max(256 * 1024).optional(),
  /** Omitted on edit = keep the stored key; empty string = clear it. */
  key: z.string().max(256 * 1024).optional(),
  clientId: z.string().max(128).optional(),
  keepalive: z.number().int().min(5).max(3600).optional(),
  discovery: Discovery.optional(),
});
export type ProfileInput = z.infer<typeof ProfileInput>;

/** A stored profile as the host shows it: secrets are never sent back, only whether they exist. */
export const ProfileSummary = ProfileInput.omit({ password: true, key: true }).extend({
  id: z.string(),
  hasPassword: z.boolean(),
  hasKey: z.boolean(),
});
export type ProfileSummary = z.infer<typeof ProfileSummary>;

export const ProfilesState = z.object({
  profiles: z.array(ProfileSummary),
  /** The profile in use, or `demo` for the embedded demo broker, or null when disconnected. */
  active: z.string().nullable(),
});
export type ProfilesState = z.infer<typeof ProfilesState>;

export const DEMO_PROFILE_ID = 'demo';

export const AppInfo = z.object({
  version: z.string(),
  /** `electron` for the desktop app, `web` for the browser served by `npm run web`. */
  shell: z.enum(['electron', 'web']),
  platform: z.string(),
  /** Set while connected to the embedded demo broker with its simulated fleet. */
  demo: z.object({ url: z.string(), devices: z.number().int() }).nullable(),
  /** Where settings are stored, and how secrets are protected there. */
  settings: z.object({ path: z.string(), secrets: z.enum(['safeStorage', 'file-0600']) }),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const DeviceDetails = z.object({
  device: DeviceState,
  crashes: z.array(CrashRecord),
});
export type DeviceDetails = z.infer<typeof DeviceDetails>;

export const TestResult = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), ms: z.number() }),
  z.object({ ok: z.literal(false), error: BridgeError }),
]);
export type TestResult = z.infer<typeof TestResult>;

// ---------------------------------------------------------------------------------------------
// Event streams. The host sends them in batches (at most one message per 50 ms per client),
// never one message per MQTT message; terminal output and finished transfers, which a person
// is waiting for, leave at once while the stream is idle (electron/src/app/event-hub.ts).

export const StreamName = z.enum([
  'connection', 'devices', 'logs', 'crashes', 'profiles', 'app', 'terminal', 'transfers',
  'fleet', 'jobs', 'queue', 'discovery', 'rollouts',
]);
export type StreamName = z.infer<typeof StreamName>;

export const BridgeEvent = z.discriminatedUnion('stream', [
  z.object({ stream: z.literal('connection'), state: ConnectionState }),
  z.object({ stream: z.literal('devices'), changed: z.array(DeviceState), removed: z.array(z.string()) }),
  z.object({ stream: z.literal('logs'), entries: z.array(LogEntry) }),
  z.object({ stream: z.literal('crashes'), prefix: z.string(), records: z.array(CrashRecord) }),
  z.object({ stream: z.literal('profiles'), state: ProfilesState }),
  z.object({ stream: z.literal('app'), info: AppInfo }),
  TerminalEvent,
  TransfersEvent,
  FleetEvent,
  JobsEvent,
  QueueEvent,
  DiscoveryEvent,
  RolloutsEvent,
]);
export type BridgeEvent = z.infer<typeof BridgeEvent>;

export const EventBatch = z.array(BridgeEvent);
export type EventBatch = z.infer<typeof EventBatch>;

// ---------------------------------------------------------------------------------------------
// Operations. Each has argument and result schemas and a default timeout; the caller may pass
// a shorter or longer one and may cancel by id.

const Empty = z.object({}).strict();

function op<A extends z.ZodType, R extends z.ZodType>(args: A, result: R, timeoutMs: number) {
  return { args, result, timeoutMs } as const;
}

export const operations = {
  /** Which shell, version, whether the demo broker is in use. */
  getAppInfo: op(Empty, AppInfo, 5_000),
  /** Chooses which event streams this renderer receives; replaces the previous choice. */
  subscribe: op(z.object({ streams: z.array(StreamName).max(16) }).strict(), Empty, 5_000),
  getConnection: op(Empty, ConnectionState, 5_000),
  listDevices: op(Empty, z.array(DeviceState), 10_000),
  getDevice: op(z.object({ prefix: Prefix }).strict(), DeviceDetails, 5_000),
  addDevice: op(z.object({ prefix: Prefix }).strict(), DeviceState, 5_000),
  forgetDevice: op(z.object({ prefix: Prefix }).strict(), Empty, 5_000),
  /** Resets a device into normal or safe mode, or soft-resets it (wire facts, "reset"). */
  resetDevice: op(z.object({ prefix: Prefix, mode: ResetMode }).strict(), Empty, 30_000),
  listProfiles: op(Empty, ProfilesState, 5_000),
  saveProfile: op(ProfileInput, ProfileSummary, 5_000),
  deleteProfile: op(z.object({ id: z.string().max(64) }).strict(), Empty, 5_000),
  /** Connects with a throwaway client and reports the precise failure (DNS, refused, TLS, auth). */
  testProfile: op(z.object({ profile: ProfileInput }).strict(), TestResult, 30_000),
  /** Switches the app's one broker connection to a saved profile (or `demo`), no restart. */
  useProfile: op(z.object({ id: z.string().max(64) }).strict(), ProfilesState, 30_000),
  exportProfiles: op(z.object({ includeSecrets: z.boolean() }).strict(), z.object({ json: z.string() }), 5_000),
  importProfiles: op(z.object({ json: z.string().max(4 * 1024 * 1024) }).strict(), z.object({ imported: z.number().int() }), 5_000),
  /**
   * Migrates an original board to the MQBoard MicroPython package over MQTT (its config kept,
   * each file verified, the original safe mode left as the way back), resets it and waits for
   * its status. `overrides` fill in or change what the board's config says.
   */
  installMicroPython: op(
    z
      .object({
        prefix: Prefix,
        overrides: z
          .object({
            server: z.string().min(1).max(253).optional(),
            port: z.number().int().min(1).max(65_535).optional(),
            tls: z.boolean().optional(),
            user: z.string().max(256).optional(),
            password: z.string().max(256).optional(),
            wifiSsid: z.string().min(1).max(32).optional(),
            wifiPassword: z.string().max(64).optional(),
          })
          .strict()
          .default({}),
        waitS: z.number().int().min(10).max(600).default(120),
      })
      .strict(),
    z.object({ prefix: z.string(), runtime: z.string(), version: z.string(), files: z.number().int().nonnegative() }),
    // Puts of ~20 files with the original protocol, a reset and the wait above.
    900_000,
  ),
  /** Starts simulated devices from the bundled device runtime on the current broker. */
  startSimulator: op(
    z.object({ prefix: z.string().min(1).max(128).regex(/^[^#+\s]+$/), count: z.number().int().min(1).max(10_000) }).strict(),
    z.object({ prefixes: z.array(z.string()) }),
    60_000,
  ),
  ...terminalOperations,
  ...fileOperations,
  ...logOperations,
  ...fleetOperations,
  ...rolloutOperations,
} as const;

export type Operations = typeof operations;
export type OperationName = keyof Operations;
export type OpArgs<N extends OperationName> = z.input<Operations[N]['args']>;
export type OpResult<N extends OperationName> = z.infer<Operations[N]['result']>;
export const OPERATION_NAMES = Object.keys(operations) as OperationName[];

export function isOperationName(s: unknown): s is OperationName {
  return typeof s === 'string' && Object.hasOwn(operations, s);
}

/** How every call travels, whatever the transport: the id lets the caller cancel it. */
export const CallEnvelope = z.object({
  id: z.string().min(1).max(64),
  args: z.unknown(),
  timeoutMs: z.number().int().min(1).max(3_600_000).optional(),
});
export type CallEnvelope = z.infer<typeof CallEnvelope>;

export const CallReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: BridgeError }),
]);
export type CallReply = z.infer<typeof CallReply>;

// ---------------------------------------------------------------------------------------------
// The WebSocket transport (web mode). One JSON message per text frame; a call whose `data`
// argument is raw bytes (a staging chunk) travels as one binary frame instead (encodeBinaryCall).

export const WsClientMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('call'), op: z.string().max(64), call: CallEnvelope }),
  z.object({ t: z.literal('cancel'), id: z.string().min(1).max(64) }),
]);
export type WsClientMessage = z.infer<typeof WsClientMessage>;

export const WsServerMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('reply'), id: z.string(), reply: CallReply }),
  z.object({ t: z.literal('events'), batch: z.unknown() }),
]);
export type WsServerMessage = z.infer<typeof WsServerMessage>;

/**
 * A binary frame: a 4-byte big-endian header length, the header (a `call` message as JSON, its
 * args without `data`), then the bytes that become `args.data`. Bytes never go through base64
 * or JSON; the host parses the header and the call's arguments like any other call.
 */
export function encodeBinaryCall(op: string, call: CallEnvelope, data: Uint8Array): Uint8Array {
  const args = { ...(call.args as Record<string, unknown>), data: undefined };
  const header = new TextEncoder().encode(JSON.stringify({ t: 'call', op, call: { ...call, args } }));
  const out = new Uint8Array(4 + header.length + data.byteLength);
  new DataView(out.buffer).setUint32(0, header.length);
  out.set(header, 4);
  out.set(data, 4 + header.length);
  return out;
}

/** The call a binary frame carries, `data` restored; undefined for a malformed frame. */
export function decodeBinaryCall(frame: Uint8Array): (WsClientMessage & { t: 'call' }) | undefined {
  if (frame.byteLength < 4) return undefined;
  const len = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0);
  if (len > 4096 || 4 + len > frame.byteLength) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray(4, 4 + len)));
  } catch {
    return undefined;
  }
  const msg = WsClientMessage.safeParse(raw);
  if (!msg.success || msg.data.t !== 'call') return undefined;
  const args: unknown = msg.data.call.args;
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return undefined;
  return { ...msg.data, call: { ...msg.data.call, args: { ...args, data: frame.subarray(4 + len) } } };
}

/** The IPC channel names (Electron): one per operation, so the preload cannot be made generic. */
export const ipcChannel = (name: OperationName) => `mqb:op:${name}`;
export const IPC_CANCEL = 'mqb:cancel';
export const IPC_EVENTS = 'mqb:events';
/** Preload → main: a path the user gave the page (a dropped or picked File); see `pathForFile`. */
export const IPC_GRANT_PATH = 'mqb:grant-path';

/** Formats zod issues as `path: message` lines (Signal's schema errors list every problem). */
export function issueLines(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}

/**
 * What the Electron preload exposes on `window.mqboard`: one named function per operation (the
 * envelope carries id, arguments and timeout), a cancel by id, and the batched event stream.
 * The renderer treats every value it gets back as unknown and parses it with the schemas above.
 */
export type PreloadApi = { readonly [N in OperationName]: (call: CallEnvelope) => Promise<unknown> } & {
  readonly cancel: (id: string) => void;
  /** Returns an unsubscribe function. */
  readonly onEvents: (listener: (batch: unknown) => void) => () => void;
  /**
   * The path on disk of a File the user dropped or picked (Electron's webUtils.getPathForFile),
   * or '' when it has none. The preload also grants the host the right to read that path for
   * `xferStagePath`: the page cannot name any other file.
   */
  readonly pathForFile?: (file: unknown) => string;
};

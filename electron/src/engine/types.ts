// The host engine's public surface: what the CLI, the Electron main process and the web-mode
// bridge call. Plain Node; nothing here may import Electron.
import type { OriginalProbe } from './original-probe';
import type { Terminals } from './terminal';
import type { Capabilities, CrashRecord, FileEntry, LogLine, Mode, OfflineReason, OnlineStatus, ResetMode } from '../../../protocol/src';

/** A broker to connect to. Secrets (password, key) are never logged. */
export interface BrokerProfile {
  /** mqtt://, mqtts://, ws:// or wss:// */
  url: string;
  username?: string;
  password?: string;
  /** PEM text of the CA bundle to trust for mqtts/wss. */
  ca?: string;
  /** PEM client certificate and key for mutual TLS. */
  cert?: string;
  key?: string;
  clientId?: string;
  /** Seconds; default 30. */
  keepalive?: number;
  /** MQTT protocol version; 4 (3.1.1) by default because aedes speaks only that. */
  protocolVersion?: 4 | 5;
  discovery?: DiscoverySettings;
}

export interface DiscoverySettings {
  /** Prefix depths to watch, e.g. 2 finds `a/b/mqb/status`; default [1, 2, 3]. */
  depths?: number[];
  /** Explicit subscription patterns used instead of depths, e.g. `site1/+/mqb/status`. */
  patterns?: string[];
}

export type ConnectionPhase = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ConnectionState {
  phase: ConnectionPhase;
  url?: string;
  /** ms since the epoch when this phase began. */
  since: number;
  /** The last connection error, in words, with its category. */
  error?: { code: EngineErrorCode; message: string };
  /** Next reconnect attempt (ms since the epoch) while reconnecting. */
  retryAt?: number;
}

export type DeviceKind = 'mqboard' | 'original' | 'unknown';
export type Presence = 'online' | 'offline' | 'unknown';

export interface DeviceState {
  prefix: string;
  kind: DeviceKind;
  presence: Presence;
  /** When presence last changed (ms since the epoch). */
  since: number;
  /** Last message of any kind from this device (ms since the epoch), if any. */
  lastSeen?: number;
  mode?: Mode;
  runtime?: { kind: string; version: string };
  firmware?: string;
  uptime?: number;
  freeMem?: number;
  bootReason?: string;
  /** The runtime's boot counter, from its status. */
  bootCount?: number;
  /**
   * When the running boot began, to tell one run from the next across a gap in what the host
   * saw: the device's clock for our runtime (status time minus uptime), the host's for an
   * original board (probe time minus its `ticks_ms`, see original-probe.ts).
   */
  bootedAt?: number;
  capabilities?: Capabilities;
  ota?: OnlineStatus['ota'];
  crashCount?: number;
  /** Application modules the device's last boot started, as its status says. */
  modules?: string[];
  /** Tags from the device's own config (status). */
  tags?: string[];
  /** Why it is offline, when its last status said (a sleeping device says `sleep`). */
  offlineReason?: OfflineReason;
  /** A sleeping device's expected wake (its clock, ms since the epoch). */
  wake?: number;
  /** How it was found: status message, original watchdog feed, log traffic, or by hand. */
  source: 'status' | 'watchdog' | 'log' | 'manual';
}

export interface LogEntry {
  prefix: string;
  /** Received time, ms since the epoch. */
  received: number;
  line: LogLine;
}

export interface Progress {
  bytesDone: number;
  bytesTotal: number;
  /** Bytes per second over the transfer so far. */
  rate: number;
  /** Estimated ms remaining, or undefined before a rate is known. */
  etaMs?: number;
}

export interface CommandOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export type EngineErrorCode =
  | 'timeout'
  | 'cancelled'
  | 'device-error'
  | 'protocol-error'
  | 'not-supported'
  | 'disconnected'
  | 'not-connected'
  | 'invalid-argument'
  | 'verify-failed'
  | 'dns'
  | 'refused'
  | 'tls'
  | 'auth'
  | 'network';

export interface PutOptions extends CommandOptions {
  /** Chunk size; default: what the device advertises, 1400 for boards that advertise nothing. */
  chunk?: number;
  /**
   * put/ota: the SHA-256 (hex) the device must find, when the caller knows it independently of
   * `data` (e.g. an editor saving a file it hashed earlier); default: the hash of `data`.
   */
  expectSha256?: string;
}

export interface OtaResult {
  sha256: string;
  bytes: number;
}

/**
 * Whether the device list holds everything the broker had retained when we connected. A broker
 * drops QoS 0 messages to a client that falls behind (a stock Mosquitto beyond its socket buffer
 * and 1000 queued packets), so a very large fleet's retained statuses may not all arrive.
 */
export interface DiscoveryState {
  /** `listing` while the retained statuses are being read after connecting. */
  phase: 'idle' | 'listing' | 'listed';
  /**
   * True when the engine knows the list may miss devices: we fell behind the broker while
   * listing, or the broker refused a discovery subscription. Devices missing from it still
   * appear when they publish a status or log a line.
   */
  incomplete: boolean;
  /** Why the list is incomplete, in words. */
  reason?: string;
  /** Devices listed when the listing ended. */
  listed?: number;
  /** ms since the epoch when this phase began. */
  since: number;
}

/** Emitted at most every `batchMs` (default 50 ms): never one event per MQTT message. */
export interface EngineEvents {
  connection: (state: ConnectionState) => void;
  devices: (changed: DeviceState[], removed: string[]) => void;
  logs: (entries: LogEntry[]) => void;
  crashes: (prefix: string, records: CrashRecord[]) => void;
  /** On every DiscoveryState change (a few per connection). */
  discovery: (state: DiscoveryState) => void;
}

export interface ConnectOptions {
  /**
   * When the first attempt fails in a way that may pass (nothing listening, unreachable, name
   * not resolving, timeout), keep trying with backoff until connected or until `disconnect` or
   * another `connect`; the state says `reconnecting` meanwhile. The call still rejects with the
   * first error. Refused credentials and TLS failures are final either way.
   */
  keepTrying?: boolean;
}

export interface Engine {
  connect(profile: BrokerProfile, opts?: ConnectOptions): Promise<void>;
  disconnect(): Promise<void>;
  connection(): ConnectionState;
  /** How complete the device list is (see DiscoveryState). */
  discovery(): DiscoveryState;
  /**
   * Resolves once the broker has delivered everything it queued for our current subscriptions,
   * e.g. every retained status after connecting (a round trip through the broker, not a sleep).
   */
  settle(): Promise<void>;
  on<E extends keyof EngineEvents>(event: E, fn: EngineEvents[E]): () => void;

  devices(): DeviceState[];
  device(prefix: string): DeviceState | undefined;
  addDevice(prefix: string): DeviceState;
  forgetDevice(prefix: string): void;
  crashes(prefix: string): CrashRecord[];

  eval(prefix: string, code: string, opts?: CommandOptions): Promise<string>;
  /**
   * Asks an original board for its build, the start of its running boot and its all-OK (what
   * its boot log said, for a host that did not hear it), and applies the answer to its state.
   */
  probeOriginal(prefix: string, opts?: CommandOptions): Promise<OriginalProbe>;
  get(prefix: string, path: string, opts?: PutOptions): Promise<Uint8Array>;
  put(prefix: string, path: string, data: Uint8Array, opts?: PutOptions): Promise<void>;
  ota(prefix: string, image: Uint8Array, opts?: PutOptions): Promise<OtaResult>;
  ls(prefix: string, path: string, opts?: CommandOptions & { recursive?: boolean }): Promise<FileEntry[]>;
  stat(prefix: string, path: string, opts?: CommandOptions): Promise<FileEntry>;
  sha256(prefix: string, path: string, opts?: CommandOptions): Promise<string>;
  /** SHA-256 of every file directly in `dir` (name -> lowercase hex); one round trip on original boards. Used by sync. */
  hashDir(prefix: string, dir: string, opts?: CommandOptions): Promise<Record<string, string>>;
  rm(prefix: string, path: string, opts?: CommandOptions & { recursive?: boolean }): Promise<void>;
  mkdir(prefix: string, path: string, opts?: CommandOptions & { parents?: boolean }): Promise<void>;
  rmdir(prefix: string, path: string, opts?: CommandOptions & { recursive?: boolean }): Promise<void>;
  mv(prefix: string, from: string, to: string, opts?: CommandOptions): Promise<void>;
  reset(prefix: string, mode: ResetMode, opts?: CommandOptions): Promise<void>;
  /** Interactive terminal sessions on devices with the `terminal` capability (terminal.ts). */
  readonly terminals: Terminals;
}

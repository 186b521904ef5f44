// What a device is started with: by the bin, by startFleet, and by other folders' tests.
import os from 'node:os';
import path from 'node:path';
import type { Mode, ResetMode } from '../../protocol/src';
import type { DeviceLog } from './log';
import type { HardwareWatchdog } from './watchdog';

export interface DeviceOptions {
  /** mqtt://host[:port] or mqtts://host[:port] */
  url: string;
  username?: string;
  password?: string;
  /** PEM text of the CA to trust for mqtts://. */
  ca?: string;
  /** Topic prefix `P`; commands arrive on `P/mqb/cmd/...`. */
  prefix: string;
  /** The device's filesystem: device path `/a/b` is `<root>/a/b`. Created if missing. */
  root: string;
  /** Largest chunk accepted and advertised (body bytes). Default 65536. */
  maxChunk?: number;
  /** Largest OTA image accepted. Default 64 MiB. */
  maxImage?: number;
  /** How often the retained status is refreshed. Default 60 s. */
  statusIntervalMs?: number;
  /** Firmware/app version reported when the active OTA slot names none. */
  firmware?: string;
  /** Limit for one eval (synchronous run, and awaiting its promise). Default 5 s. */
  evalTimeoutMs?: number;
  /** A get stream waiting this long for a host ack gives up. Default 60 s. */
  ackTimeoutMs?: number;
  /** Uploads (put/ota) idle this long are abandoned and their temp data removed. Default 120 s. */
  transferIdleMs?: number;
  /** MQTT client id; default derived from the prefix so the persistent session survives restarts. */
  clientId?: string;
  keepaliveS?: number;
  reconnectPeriodMs?: number;
  /** Mode to boot in (the supervisor decides it from RTC memory); default normal. */
  mode?: Mode;
  /** Echo log lines (e.g. to stderr in the bin). */
  echo?: (line: string) => void;
  /**
   * Called after a `reset` command has been answered and the connection closed. Without it the
   * device reboots in-process (new connection, fresh eval context, pending OTA slot applied).
   */
  onReset?: (mode: ResetMode) => void;
  /** Resolve startDevice only once connected and subscribed. Default true. */
  waitConnected?: boolean;
  /**
   * A fresh start is a power-on: RTC memory is cleared. A supervised child passes false, since
   * for it a start is just the next boot. Default true.
   */
  coldStart?: boolean;
  /** What resets the runtime when the watchdog is not fed; default an in-process timer. */
  hardwareWatchdog?: HardwareWatchdog;
  /** Told the id of each command as it starts (the supervisor uses it; see rtc.ts `poison`). */
  onCommand?: (id: string) => void;
  /** Use this log (e.g. one the caller already routes console output into). */
  log?: DeviceLog;
  /** Delay before rebooting after application modules failed to start. Default 3 s. */
  moduleRetryMs?: number;
  /**
   * Sleep like a battery board: awake while there is work and for `awakeMs` after it, then
   * offline (status reason `sleep`) for this long, and again (sleep-cycle.ts). Default: never.
   */
  sleepCycleMs?: number;
  /** With `sleepCycleMs`: the idle window before going to sleep. Default 5 s. */
  awakeMs?: number;
}

export const DEFAULTS = {
  maxChunk: 65536,
  maxImage: 64 * 1024 * 1024,
  statusIntervalMs: 60_000,
  evalTimeoutMs: 5_000,
  ackTimeoutMs: 60_000,
  transferIdleMs: 120_000,
  moduleRetryMs: 3_000,
  awakeMs: 5_000,
} as const;

/** `$XDG_DATA_HOME/mqboard-device/<prefix>` or `~/.local/share/mqboard-device/<prefix>`. */
export function defaultRoot(prefix: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'mqboard-device', ...prefix.split('/').filter((s) => s && s !== '.' && s !== '..'));
}

/** Fleet member n (1-based): prefix `<prefix>/001`, root `<root>/001`. */
export const fleetMember = (n: number): string => String(n).padStart(3, '0');

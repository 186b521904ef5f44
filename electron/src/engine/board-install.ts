// Migrating a board that runs the ORIGINAL MQBoard code to our MicroPython package
// (device-runtime/micropython/), over MQTT only, with the original protocol (eval, put):
//
//  1. read the board's own config (board_config.py, board_secrets.py) by eval, so the new
//     framework keeps its broker, credentials and Wi-Fi; what cannot be read must be given;
//  2. put the package files, each to a temporary name, verified by a SHA-256 read back through
//     eval (the original's put checks nothing), then renamed into place;
//  3. switch the boot: a migration boot.py (written here, see MIGRATION_BOOT) runs our framework
//     in normal mode and the original's own /safemode copy in safe mode; the original boot.py and
//     main.py are kept beside it as boot_original.py and main_original.py;
//  4. reset into normal mode and wait for the board's status as an MQBoard MicroPython device.
// The design of the boot switch is written down in docs/micropython.md ("Migrating a board
// running the original code").
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePyLiteral, pyStr, type PyValue } from './original-snippets';
import type { DeviceState, Engine } from './types';

/** The oldest MicroPython the package runs on (asyncio as of 1.22); the original ran on 1.12. */
export const MIN_MICROPYTHON: readonly [number, number] = [1, 22];
/** The runtime kind the package reports in its status (device.py RUNTIME_KIND). */
export const PACKAGE_RUNTIME = 'mqboard-micropython';
/** The first line of the migration boot.py: how a board (and the simulator) knows it was migrated. */
export const MIGRATION_MARKER = '# MQBoard migration boot: our framework in normal mode, the original safe mode otherwise';
/** Where the original's boot files are kept, so its safe mode still runs and the switch can be undone. */
export const KEPT_ORIGINAL = { boot: '/boot_original.py', main: '/main_original.py' } as const;

/** The package's files: in the source tree, or copied beside the app's bundle (`micropython/`). */
export const DEFAULT_PACKAGE_DIR =
  [new URL('./micropython/', import.meta.url), new URL('../../../device-runtime/micropython/', import.meta.url)]
    .map((u) => fileURLToPath(u))
    .find((d) => existsSync(path.join(d, 'README.md')) && existsSync(path.join(d, 'device.py'))) ?? fileURLToPath(new URL('../../../device-runtime/micropython/', import.meta.url));

/**
 * The migration boot.py. In normal mode it must not depend on the original's files, in safe mode
 * on ours: the mode comes from RTC memory, read in both formats (our JSON, the original's 4-byte
 * magic 0xBEEFF00D at "all OK"); a normal boot leaves a non-empty JSON without the magic behind,
 * so a crash, a hang (hardware watchdog) or a failed import before our "all OK" boots the
 * original safe mode next. Safe mode runs the original's own boot.py, kept as boot_original.py,
 * in these globals: it chdirs to /safemode, whose main.py then runs, exactly as before.
 */
export const MIGRATION_BOOT = `${MIGRATION_MARKER}
# Written by \`mqboard board install\`; the original boot.py is kept as /boot_original.py.
import sys
import machine

MODE = "safe"
try:
    import json

    _m = machine.RTC().memory()
    if len(_m) >= 4 and _m[0] == 0x0D and _m[1] == 0xF0 and _m[2] == 0xEF and _m[3] == 0xBE:
        _rtc = {"magic": True}  # the original's "all OK" (its safe mode reverting)
    elif len(_m) < 4:
        _rtc = {}  # blank: a cold boot
    else:
        try:
            _rtc = json.loads(_m)
        except Exception:
            _rtc = {"mode": "unknown"}
    if not isinstance(_rtc, dict):
        _rtc = {"mode": "unknown"}
    import bootmode

    MODE = bootmode.decide(_rtc)
    if MODE == "normal":
        # Until our "all OK" sets the magic again, the next boot is a safe one.
        _rtc.pop("magic", None)
        _rtc.pop("next", None)
        _rtc["mode"] = "normal"
        machine.RTC().memory(json.dumps(_rtc).encode())
        sys.path.insert(0, "/lib")
        import device  # noqa: F401  (proves our framework imports)
except Exception as e:
    sys.print_exception(e)
    MODE = "safe"
if MODE != "normal":
    print("MQBoard migration: starting the original safe mode")
    if sys.path[:1] == ["/lib"]:
        sys.path.pop(0)  # ours, inserted above: the original's modules must not see our /lib first
    for _n in list(sys.modules):
        if _n not in ("sys", "machine", "json", "gc", "os", "uos"):
            del sys.modules[_n]
    machine.RTC().memory(b"\\0\\0\\0\\1")
    exec(open("/boot_original.py").read(), globals())
`;

// ---------- which package files go where ----------

export interface PackageFile {
  /** Path on the board. */
  board: string;
  /** The file in the package folder. */
  local: string;
}

/**
 * The files a migrated ESP32 gets, from the package README's table (its one list): the framework
 * copy for /lib, and the top-level boot files except boot.py, which the migration boot replaces.
 * No safe-mode copy of ours: on a migrated board /safemode is the original's, and stays so.
 */
export function packageFiles(dir = DEFAULT_PACKAGE_DIR): PackageFile[] {
  let readme: string;
  try {
    readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
  } catch (e) {
    throw new InstallError(`cannot read the MicroPython package in ${dir}: ${(e as Error).message}`, 'package');
  }
  const out: PackageFile[] = [];
  for (const line of readme.split('\n')) {
    const m = /^\|\s*`([\w.]+\.py)`\s*\|\s*([^|]*)\|/.exec(line);
    if (!m) continue;
    const [, name, where] = m as unknown as [string, string, string];
    const places = [...where.matchAll(/`([^`]+)`/g)].map((p) => p[1]!);
    if (places.includes('/lib')) out.push({ board: `/lib/${name}`, local: path.join(dir, name) });
    else if (places.includes(`/${name}`) && name !== 'boot.py') out.push({ board: `/${name}`, local: path.join(dir, name) });
  }
  const names = new Set(out.map((f) => f.board));
  for (const need of ['/lib/device.py', '/lib/runner.py', '/lib/board_esp32.py', '/main.py', '/bootmode.py']) {
    if (!names.has(need)) throw new InstallError(`the MicroPython package's README table does not list ${need}: cannot tell which files to send`, 'package');
  }
  return out;
}

// ---------- reading the original board's config ----------

/** What an original board's config says that our package needs (strings from the board: untrusted). */
export interface OriginalConfig extends InstallOverrides {
  prefix?: string;
  /** Which files the values came from. */
  files: string[];
}

/**
 * One eval: the config files are executed into dicts of their own (never imported: importing
 * would touch the running application's modules), searched where the original keeps them, and
 * the values we need are returned as a JSON string (the reply is its repr).
 */
export const READ_CONFIG = `def _mqb_cfg():
 import json
 r = {'files': []}
 g = {}
 for p in ('/board_config.py', '/lib/board_config.py', '/src/board_config.py', '/safemode/board_config.py'):
  try:
   src = open(p).read()
  except OSError:
   continue
  exec(src, g)
  r['files'].append(p)
  break
 for p in ('/board_secrets.py', '/safemode/board_secrets.py'):
  try:
   src = open(p).read()
  except OSError:
   continue
  s = {}
  exec(src, s)
  g.update(s)
  r['files'].append(p)
  break
 def v(x):
  if isinstance(x, bytes):
   x = x.decode()
  return x if isinstance(x, (str, int, bool)) else None
 m = g.get('mqtt_config') or {}
 for k in ('server', 'port', 'user', 'password', 'ssid', 'wifi_pw'):
  r[k] = v(m.get(k))
 r['tls'] = bool(m.get('ssl_params')) or m.get('ssl') is True
 r['wifi_ssid'] = v(g.get('wifi_ssid'))
 r['wifi_pass'] = v(g.get('wifi_pass'))
 r['prefix'] = v((g.get('mqrepl_config') or {}).get('prefix'))
 w = g.get('mqwdt_config') or g.get('watchdog_config') or {}
 r['wdt'] = v(w.get('timeout')) or v(g.get('wdt_timeout'))
 r['allok'] = v(w.get('allok'))
 return json.dumps(r)
`;

const str = (x: unknown): string | undefined => (typeof x === 'string' && x.length <= 1024 ? x : undefined);
const int = (x: unknown, lo: number, hi: number): number | undefined =>
  typeof x === 'number' && Number.isInteger(x) && x >= lo && x <= hi ? x : undefined;

/** The reply of READ_CONFIG's call; anything unexpected in it is left out, never trusted. */
export function parseOriginalConfig(reply: string): OriginalConfig {
  const lit = parsePyLiteral(reply);
  if (typeof lit !== 'string') throw new InstallError(`unexpected reply when reading the board's config: ${reply.slice(0, 120)}`, 'read-config');
  let j: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(lit);
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    j = v as Record<string, unknown>;
  } catch (e) {
    throw new InstallError(`cannot read the board's config reply: ${(e as Error).message}`, 'read-config');
  }
  const files = Array.isArray(j.files) ? j.files.filter((f): f is string => typeof f === 'string').slice(0, 4) : [];
  const c: OriginalConfig = { files };
  const set = <K extends keyof OriginalConfig>(k: K, v: OriginalConfig[K] | undefined) => {
    if (v !== undefined && v !== '') c[k] = v;
  };
  set('prefix', str(j.prefix));
  set('server', str(j.server));
  set('port', int(j.port, 1, 65535));
  if (j.tls === true) c.tls = true;
  set('user', str(j.user));
  if (typeof j.password === 'string') c.password = j.password;
  set('wifiSsid', str(j.ssid) ?? str(j.wifi_ssid));
  const wp = str(j.wifi_pw) ?? str(j.wifi_pass);
  if (wp !== undefined) c.wifiPassword = wp;
  set('watchdogTimeout', int(j.wdt, 10, 3600));
  set('allok', int(j.allok, 1, 3600));
  return c;
}

// ---------- the package's config.json ----------

/** What the user gives for what the board's config does not say (or to change it). */
export interface InstallOverrides {
  server?: string;
  port?: number;
  tls?: boolean;
  user?: string;
  password?: string;
  wifiSsid?: string;
  wifiPassword?: string;
  watchdogTimeout?: number;
  allok?: number;
}

/** One thing the new config needs and nobody said: in words, with the option that gives it. */
export interface Missing {
  what: string;
  option: string;
}

export interface PackageConfig {
  prefix: string;
  server: string;
  port: number;
  tls: boolean;
  user?: string;
  password?: string;
  wifi: { ssid: string; password: string };
  watchdog: { timeout: number; allok: number; revert: boolean };
  modules: string[];
}

/**
 * The package's config.json from the board's config and the user's overrides. The prefix is
 * the one the board answered on. The original's application modules are not carried over: they
 * are written for the original framework (start them again once ported, in `modules`).
 */
export function packageConfig(prefix: string, read: OriginalConfig, o: InstallOverrides): { config: PackageConfig } | { missing: Missing[] } {
  const server = o.server ?? read.server;
  const tls = o.tls ?? read.tls ?? false;
  const port = o.port ?? read.port ?? (tls ? 8883 : 1883);
  const ssid = o.wifiSsid ?? read.wifiSsid;
  const wifiPassword = o.wifiPassword ?? read.wifiPassword;
  const missing: Missing[] = [];
  if (!server) missing.push({ what: "the broker's address as the board reaches it", option: '--server' });
  if (!ssid) missing.push({ what: 'the Wi-Fi network name', option: '--wifi-ssid' });
  if (wifiPassword === undefined) missing.push({ what: 'the Wi-Fi password (an empty one for an open network)', option: '--wifi-password' });
  if (missing.length) return { missing };
  const config: PackageConfig = {
    prefix,
    server: server!,
    port,
    tls,
    wifi: { ssid: ssid!, password: wifiPassword! },
    watchdog: { timeout: o.watchdogTimeout ?? read.watchdogTimeout ?? 300, allok: o.allok ?? read.allok ?? 300, revert: true },
    modules: [],
  };
  const user = o.user ?? read.user;
  if (user !== undefined) {
    config.user = user;
    config.password = o.password ?? read.password ?? '';
  }
  return { config };
}

export function describeMissing(missing: Missing[]): string {
  return `the board's config does not say ${missing.map((m) => `${m.what} (give ${m.option})`).join(', ')}`;
}

// ---------- the install ----------

export type InstallStage = 'package' | 'firmware' | 'read-config' | 'missing-config' | 'not-original' | 'put' | 'verify' | 'switch' | 'reset' | 'not-back';

export class InstallError extends Error {
  constructor(
    message: string,
    readonly stage: InstallStage,
    /** After a failed come-back: whether the original framework answered (its safe mode). */
    readonly originalAnswers?: boolean,
  ) {
    super(message);
    this.name = 'InstallError';
  }
}

export type InstallStep =
  | { step: 'read-config'; files: string[] }
  | { step: 'put'; path: string; index: number; total: number }
  | { step: 'switch' }
  | { step: 'reset' }
  | { step: 'wait'; ms: number }
  | { step: 'back'; device: DeviceState };

export interface InstallOptions {
  overrides?: InstallOverrides;
  packageDir?: string;
  /** How long the board may take to come back with the package's status; default 120 s. */
  waitMs?: number;
  /** Per-command timeout; default the engine's. */
  timeoutMs?: number;
  onStep?: (s: InstallStep) => void;
  signal?: AbortSignal;
}

export interface InstallResult {
  device: DeviceState;
  config: Omit<PackageConfig, 'password' | 'wifi'> & { wifi: { ssid: string } };
  files: string[];
}

const isPackage = (d: DeviceState | undefined) => d?.presence === 'online' && d.runtime?.kind === PACKAGE_RUNTIME;

async function evalExpr(engine: Engine, prefix: string, setup: string, expr: string, timeoutMs?: number): Promise<string> {
  await engine.eval(prefix, setup, { timeoutMs });
  return engine.eval(prefix, expr, { timeoutMs });
}

/** Renames `tmp` over `dst` on FAT too (whose rename refuses an existing target), keeping the old file until the new one is in place. */
const SWAP = `def _mqb_swap(tmp, dst):
 try:
  import uos as o
 except ImportError:
  import os as o
 try:
  o.remove(dst + '.old')
 except OSError:
  pass
 try:
  o.rename(dst, dst + '.old')
  had = True
 except OSError:
  had = False
 o.rename(tmp, dst)
 if had:
  o.remove(dst + '.old')
 return True
def _mqb_exists(p):
 try:
  import uos as o
 except ImportError:
  import os as o
 try:
  o.stat(p)
  return True
 except OSError:
  return False
`;

/**
 * Puts `data` at `dst` through a temporary name, checked by a SHA-256 the board computes itself;
 * `beforeSwap` runs once the new file is verified, just before it takes the name.
 */
async function place(engine: Engine, prefix: string, dst: string, data: Uint8Array, timeoutMs?: number, beforeSwap?: () => Promise<void>): Promise<void> {
  const tmp = `${dst}.new`;
  try {
    await engine.put(prefix, tmp, data, { timeoutMs });
  } catch (e) {
    throw new InstallError(`could not put ${dst}: ${(e as Error).message}`, 'put');
  }
  const want = createHash('sha256').update(data).digest('hex');
  const got = await engine.sha256(prefix, tmp, { timeoutMs });
  if (got !== want) throw new InstallError(`${dst} arrived damaged (SHA-256 ${got.slice(0, 12)}…, sent ${want.slice(0, 12)}…): nothing was switched, run the install again`, 'verify');
  await beforeSwap?.();
  await evalExpr(engine, prefix, SWAP, `_mqb_swap(${pyStr(tmp)}, ${pyStr(dst)})`, timeoutMs);
}

async function exists(engine: Engine, prefix: string, p: string, timeoutMs?: number): Promise<boolean> {
  return parsePyLiteral(await evalExpr(engine, prefix, SWAP, `_mqb_exists(${pyStr(p)})`, timeoutMs)) === true;
}

function waitFor(engine: Engine, prefix: string, ms: number, signal?: AbortSignal): Promise<DeviceState | undefined> {
  return new Promise((resolve) => {
    const done = (d: DeviceState | undefined) => {
      clearTimeout(timer);
      off();
      signal?.removeEventListener('abort', onAbort);
      resolve(d);
    };
    const check = () => {
      const d = engine.device(prefix);
      if (isPackage(d)) done(d);
    };
    const onAbort = () => done(undefined);
    const off = engine.on('devices', check);
    signal?.addEventListener('abort', onAbort);
    const timer = setTimeout(() => done(undefined), ms);
    check();
  });
}

/**
 * Installs the package on the original board at `prefix`, switches its boot, resets it and
 * waits for its status. Throws InstallError with what to do when a stage fails; nothing on the
 * board is switched before every file has been verified.
 */
export async function installOnOriginalBoard(engine: Engine, prefix: string, opts: InstallOptions = {}): Promise<InstallResult> {
  const t = opts.timeoutMs;
  const step = opts.onStep ?? (() => undefined);
  const files = packageFiles(opts.packageDir);
  engine.addDevice(prefix);
  await engine.settle();
  // Only a device that says it is online now: a migrated board back in the original safe mode
  // still has its last status retained (offline), and is installed again.
  const before = engine.device(prefix);
  if (isPackage(before)) {
    throw new InstallError(`${prefix} already runs the MQBoard MicroPython package: nothing to install (update its files with put or sync)`, 'not-original');
  }
  if (before?.kind === 'mqboard' && before.presence === 'online') {
    throw new InstallError(`${prefix} runs an MQBoard runtime (${before.runtime?.kind ?? 'with a status'}), not the original MQBoard code: nothing to migrate`, 'not-original');
  }

  // The package needs a newer MicroPython than the original's boards were flashed with: on an
  // older one it would not import, and every boot would end in the original safe mode.
  let version: PyValue;
  try {
    version = parsePyLiteral(await engine.eval(prefix, 'tuple(sys.implementation.version)[:2]', { timeoutMs: t }));
  } catch (e) {
    throw new InstallError(`could not ask the board for its MicroPython version: ${(e as Error).message}`, 'read-config');
  }
  const [major, minor] = Array.isArray(version) ? version : [];
  if (typeof major !== 'number' || typeof minor !== 'number') throw new InstallError(`the board answered its MicroPython version with something else: ${String(version).slice(0, 40)}`, 'firmware');
  if (major < MIN_MICROPYTHON[0] || (major === MIN_MICROPYTHON[0] && minor < MIN_MICROPYTHON[1])) {
    throw new InstallError(
      `${prefix} runs MicroPython ${major}.${minor}; the package needs ${MIN_MICROPYTHON.join('.')} or newer: update its firmware first ` +
        `(an ESP32 build with app rollback, sent with \`mqboard ota\`, then a reset), then install again; nothing was changed on the board`,
      'firmware',
    );
  }

  let read: OriginalConfig;
  try {
    read = parseOriginalConfig(await evalExpr(engine, prefix, READ_CONFIG, '_mqb_cfg()', t));
  } catch (e) {
    if (e instanceof InstallError) throw e;
    throw new InstallError(`could not read the board's config through eval: ${(e as Error).message}`, 'read-config');
  }
  step({ step: 'read-config', files: read.files });
  const made = packageConfig(prefix, read, opts.overrides ?? {});
  if ('missing' in made) {
    const where = read.files.length ? `read ${read.files.join(', ')}` : 'found no board_config.py';
    throw new InstallError(`${describeMissing(made.missing)} (${where}); nothing was changed on the board`, 'missing-config');
  }

  // Files the original boot never runs first; /main.py, which it does run, last before the
  // switch, so a reset part way through meets the original's files (or its own safe mode).
  const total = files.length + 1;
  const main = files.filter((f) => f.board === '/main.py');
  const uploads: { board: string; data: () => Uint8Array }[] = [
    ...files.filter((f) => f.board !== '/main.py').map((f) => ({ board: f.board, data: () => new Uint8Array(readFileSync(f.local)) })),
    { board: '/config.json', data: () => new TextEncoder().encode(`${JSON.stringify(made.config, null, 1)}\n`) },
    ...main.map((f) => ({ board: f.board, data: () => new Uint8Array(readFileSync(f.local)) })),
  ];
  await engine.mkdir(prefix, '/lib', { parents: true, timeoutMs: t });
  let i = 0;
  for (const u of uploads) {
    step({ step: 'put', path: u.board, index: ++i, total });
    // main.py replaces the original's: that one is kept for the way back (once).
    const keepMain = async () => {
      if ((await exists(engine, prefix, '/main.py', t)) && !(await exists(engine, prefix, KEPT_ORIGINAL.main, t))) {
        await engine.mv(prefix, '/main.py', KEPT_ORIGINAL.main, { timeoutMs: t });
      }
    };
    await place(engine, prefix, u.board, u.data(), t, u.board === '/main.py' ? keepMain : undefined);
  }

  // The switch: the original boot.py is kept (once: a second install finds ours in its place),
  // and ours takes its name in one rename.
  step({ step: 'switch' });
  const boot = new TextDecoder().decode(await engine.get(prefix, '/boot.py', { timeoutMs: t }).catch(() => new Uint8Array()));
  if (!boot.startsWith(MIGRATION_MARKER)) {
    if (!boot) throw new InstallError('the board has no /boot.py: this does not look like a board running the original MQBoard code; nothing was switched', 'switch');
    await place(engine, prefix, KEPT_ORIGINAL.boot, new TextEncoder().encode(boot), t);
  } else if (!(await exists(engine, prefix, KEPT_ORIGINAL.boot, t))) {
    throw new InstallError(`the board runs the migration boot but ${KEPT_ORIGINAL.boot} is gone: its safe mode would not start; put the original boot.py there first`, 'switch');
  }
  await place(engine, prefix, '/boot.py', new TextEncoder().encode(MIGRATION_BOOT), t);

  step({ step: 'reset' });
  try {
    // The original's watchdog.reset('n'): RTC memory says "normal" and the board resets.
    await engine.reset(prefix, 'normal', { timeoutMs: t });
  } catch (e) {
    throw new InstallError(`the files are in place but the reset failed (${(e as Error).message}): reset the board by hand`, 'reset');
  }
  const waitMs = opts.waitMs ?? 120_000;
  step({ step: 'wait', ms: waitMs });
  const back = await waitFor(engine, prefix, waitMs, opts.signal);
  if (!back) {
    const secs = Math.round(waitMs / 1000);
    const original = await answersAsOriginal(engine, prefix);
    const msg = original
      ? `${prefix} did not come back as an MQBoard MicroPython device within ${secs} s and runs the original framework again (its safe mode): ` +
        `check the board's /config.json (broker address, port, Wi-Fi) with get, fix it with put, then reset it into normal mode; ` +
        `its original boot files are kept as ${KEPT_ORIGINAL.boot} and ${KEPT_ORIGINAL.main}`
      : `${prefix} did not come back within ${secs} s and does not answer: if the package cannot start, the hardware watchdog resets the board into the original safe mode ` +
        `(up to the watchdog timeout of ${made.config.watchdog.timeout} s); wait and try \`mqboard eval\` on it, then check its /config.json`;
    throw new InstallError(msg, 'not-back', original);
  }
  step({ step: 'back', device: back });
  const { password: _p, wifi, ...shown } = made.config;
  return { device: back, config: { ...shown, wifi: { ssid: wifi.ssid } }, files: [...uploads.map((u) => u.board), '/boot.py'] };
}

/** After a failed come-back: does the original framework answer (its safe mode)? */
async function answersAsOriginal(engine: Engine, prefix: string): Promise<boolean> {
  try {
    const r = await engine.eval(prefix, "getattr(sys.modules.get('__main__'), 'safemode', None)", { timeoutMs: 10_000 });
    return r === 'True' || r === 'False';
  } catch {
    return false;
  }
}

// A simulated original board that `mqboard board install` migrated to our MicroPython package:
// what its migration boot.py decides at each boot, and one boot of the package itself on the real
// MicroPython interpreter (the WebAssembly port, device-runtime/src/micropython-wasm/worker.mjs)
// with the board's root as its flash. The simulator cannot run ESP32 code, so the port stands in
// for the chip: its board module (board_wasm.py, with board_unix.py and stream_js.py) is put in
// the board's /lib as the simulator's firmware, where an ESP32 has board_esp32.py.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBoardBoot } from '../micropython-wasm/board-boot';

/** The first line of the migration boot.py the installer writes (electron/src/engine/board-install.ts). */
export const MIGRATION_MARKER = '# MQBoard migration boot: our framework in normal mode, the original safe mode otherwise';

const PACKAGE_DIR = fileURLToPath(new URL('../../micropython/', import.meta.url));
/** The WebAssembly port's own modules: the simulated chip, not part of what an ESP32 is sent. */
const PORT_FILES = ['board_wasm.py', 'board_unix.py', 'stream_js.py'];
const FLASH = '/flash';
/** How long a clean stop may take before the interpreter is ended. */
const STOP_GRACE_MS = 5_000;

export function isMigrated(root: string): boolean {
  try {
    const fd = fs.openSync(path.join(root, 'boot.py'), 'r');
    try {
      const buf = Buffer.alloc(MIGRATION_MARKER.length);
      fs.readSync(fd, buf, 0, buf.length, 0);
      return buf.toString('utf8') === MIGRATION_MARKER;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * RTC memory of a migrated board: the original's states when the original framework wrote it
 * last, the package's JSON (kept by the package in `.mqboard/rtc.json`, as board_unix.py does)
 * when the package did.
 */
export type RtcMemory = { format: 'original'; state: 'blank' | 'magic' | 'cleared' } | { format: 'json' };

const rtcFile = (root: string) => path.join(root, '.mqboard', 'rtc.json');

function readJsonRtc(root: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(rtcFile(root), 'utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { mode: 'unknown' };
  } catch {
    return { mode: 'unknown' };
  }
}

function writeJsonRtc(root: string, v: Record<string, unknown>): void {
  fs.mkdirSync(path.dirname(rtcFile(root)), { recursive: true });
  fs.writeFileSync(`${rtcFile(root)}.tmp`, JSON.stringify(v));
  fs.renameSync(`${rtcFile(root)}.tmp`, rtcFile(root));
}

/** Power loss: RTC memory is blank at the next boot. */
export function clearRtc(root: string): void {
  fs.rmSync(rtcFile(root), { force: true });
}

/**
 * The migration boot.py's rule (MIGRATION_BOOT in board-install.ts, the package's bootmode.py):
 * normal when RTC memory holds the "all OK" magic (either format), a "next: normal", or is blank;
 * safe otherwise, and when our framework is not there to import. A normal boot clears the magic,
 * so a crash or hang before the package's "all OK" leads to the original safe mode.
 */
export function decideMigratedBoot(root: string, rtc: RtcMemory): 'normal' | 'safe' {
  let v: Record<string, unknown>;
  if (rtc.format === 'json') v = readJsonRtc(root);
  else v = rtc.state === 'magic' ? { magic: true } : rtc.state === 'blank' ? {} : { mode: 'unknown' };
  const want = v.next;
  const mode = want === 'normal' || want === 'safe' ? want : v.magic || Object.keys(v).length === 0 ? 'normal' : 'safe';
  if (mode === 'safe') return 'safe';
  if (!fs.existsSync(path.join(root, 'lib', 'device.py')) || !fs.existsSync(path.join(root, 'bootmode.py'))) return 'safe';
  const { magic: _m, next: _n, ...keep } = v;
  // The worker applies bootmode.py itself: "next: normal" is what makes it choose /lib, and the
  // package's own boot replaces it with its boot record at once.
  writeJsonRtc(root, { ...keep, mode: 'normal', next: 'normal', pending: true });
  return 'normal';
}

/**
 * After a boot of the package: when it never reached its own boot record (`pending` is still
 * there: it failed to import, or hung before), the memory says what the migration boot.py left,
 * a normal boot without the magic, so the next boot is the original safe mode.
 */
export function settlePackageRtc(root: string): void {
  const v = readJsonRtc(root);
  if (v.pending) writeJsonRtc(root, { mode: 'normal' });
}

/** The package's broker address from the board's /config.json, as its main.py reads it; a reason when it cannot start. */
export function packageAddress(root: string): { server: string; port: number; prefix: string } | { error: string } {
  let cfg: unknown;
  try {
    cfg = JSON.parse(fs.readFileSync(path.join(root, 'config.json'), 'utf8'));
  } catch (e) {
    return { error: `config.json: ${(e as Error).message}` };
  }
  if (!cfg || typeof cfg !== 'object') return { error: 'config.json is not an object' };
  const c = cfg as Record<string, unknown>;
  if (typeof c.server !== 'string' || !c.server) return { error: "KeyError: 'server'" };
  if (typeof c.prefix !== 'string' || !c.prefix) return { error: "KeyError: 'prefix'" };
  if (c.tls === true) return { error: 'the simulated board has no TLS (the WebAssembly port bridges plain TCP only)' };
  const port = c.port === undefined ? 1883 : c.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return { error: `bad port ${String(c.port)}` };
  return { server: c.server, port, prefix: c.prefix };
}

export interface PackageRun {
  /** How the boot ended: the package's word (soft, normal, safe, hard, crash, watchdog), or `failed`. */
  readonly ended: Promise<string>;
  stop(): Promise<void>;
  kill(): void;
}

/**
 * One boot of the package in a fresh interpreter. The hardware watchdog is the simulated chip's:
 * `bootWdtMs` until the package arms its own (main.py's 70 s on a board), then the package's.
 */
export function runPackageBoot(opts: { root: string; server: string; port: number; prefix: string; resetCause: 'cold' | 'soft' | 'watchdog'; bootWdtMs: number; onLine?: (l: string) => void }): PackageRun {
  const lib = path.join(opts.root, 'lib');
  for (const f of PORT_FILES) fs.copyFileSync(path.join(PACKAGE_DIR, f), path.join(lib, f));
  const boot = startBoardBoot(
    {
      server: opts.server,
      port: opts.port,
      root: opts.root,
      // Used by the worker only when the board has no config.json, which packageAddress refused.
      config: { prefix: opts.prefix },
      packageDir: PACKAGE_DIR,
      // Nothing installed by the worker: the board's flash is what the installer put there.
      framework: [],
      flash: FLASH,
      resetCause: opts.resetCause,
    },
    { bootWdtMs: opts.bootWdtMs, onLine: opts.onLine },
  );
  const w = boot.worker;
  const ended = boot.ended.then((how: string | undefined) => {
    if (boot.error() !== undefined) opts.onLine?.(`micropython: ${String(boot.error())}`);
    return how ?? 'failed';
  });
  return {
    ended,
    async stop() {
      w.postMessage('stop');
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), STOP_GRACE_MS)));
      if ((await Promise.race([ended, late])) === 'late') await w.terminate();
      clearTimeout(timer);
      await ended;
    },
    kill: () => boot.kill(),
  };
}

// `mqboard board install`: migrates a board that runs the original MQBoard code to our
// MicroPython package over MQTT (electron/src/engine/board-install.ts; docs/micropython.md).
// The options after `install` are the BOARD's settings, for what its own config does not say or
// to change it; the global options before the command are the host's connection, as always.
// Progress goes to stderr, the result to stdout; the engine loads only when the command runs.
import type { Command } from 'commander';
import type { InstallOverrides, InstallStep } from '../engine/board-install';
import { brokerProfile, devicePrefix, timeoutMs, type GlobalOptions } from './global-options';
import { cell, line } from './output';
import { UsageError } from './usage-error';

interface InstallFlags {
  prefix?: string;
  server?: string;
  port?: string;
  tls?: boolean;
  user?: string;
  password?: string;
  wifiSsid?: string;
  wifiPassword?: string;
  watchdogTimeout?: string;
  allok?: string;
  wait: string;
}

function int(v: string | undefined, flag: string, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new UsageError(`${flag} must be a whole number from ${lo} to ${hi} (got ${v})`);
  return n;
}

export function overridesFrom(o: InstallFlags): InstallOverrides {
  const out: InstallOverrides = {};
  if (o.server !== undefined) out.server = o.server;
  const port = int(o.port, '--port', 1, 65535);
  if (port !== undefined) out.port = port;
  if (o.tls !== undefined) out.tls = o.tls;
  if (o.user !== undefined) out.user = o.user;
  if (o.password !== undefined) out.password = o.password;
  if (o.wifiSsid !== undefined) out.wifiSsid = o.wifiSsid;
  if (o.wifiPassword !== undefined) out.wifiPassword = o.wifiPassword;
  const wd = int(o.watchdogTimeout, '--watchdog-timeout', 2, 3600);
  if (wd !== undefined) out.watchdogTimeout = wd;
  const allok = int(o.allok, '--allok', 1, 3600);
  if (allok !== undefined) out.allok = allok;
  return out;
}

function describeStep(s: InstallStep): string {
  switch (s.step) {
    case 'read-config':
      return s.files.length ? `read the board's config from ${s.files.map(cell).join(', ')}` : "the board has no board_config.py: using the options given";
    case 'put':
      return `put ${s.path} (${s.index}/${s.total}), verified`;
    case 'switch':
      return 'switching the boot to the new framework (the original boot.py is kept as /boot_original.py)';
    case 'reset':
      return 'resetting the board';
    case 'wait':
      return `waiting up to ${Math.round(s.ms / 1000)} s for its status as an MQBoard MicroPython device`;
    case 'back':
      return 'it is back';
  }
}

export function addBoardCommand(program: Command, globals: () => GlobalOptions): Command {
  const board = program.command('board').description('operations on a board as a whole: install the MQBoard MicroPython package on a board running the original code');
  board
    .command('install')
    .description(
      'migrate a board running the original MQBoard code to the MQBoard MicroPython package over MQTT: keeps its broker, prefix, credentials and Wi-Fi, keeps the original safe mode as the way back, resets it and waits for it',
    )
    .option('-p, --prefix <prefix>', 'the board to migrate (or the global --prefix / MQBOARD_PREFIX)')
    .option('--server <host>', "the broker's address as the BOARD reaches it, when its config does not say or to change it")
    .option('--port <port>', "the broker's port for the board")
    .option('--tls', 'the board connects with TLS')
    .option('--no-tls', 'the board connects without TLS')
    .option('--user <name>', "the board's broker user name")
    .option('--password <password>', "the board's broker password")
    .option('--wifi-ssid <name>', "the board's Wi-Fi network")
    .option('--wifi-password <password>', "the board's Wi-Fi password ('' for an open network)")
    .option('--watchdog-timeout <seconds>', "the new framework's watchdog timeout (default: the board's, or 300)")
    .option('--allok <seconds>', 'good feeding before a boot counts as "all OK" (default: the board\'s, or 300)')
    .option('--wait <seconds>', 'how long the board may take to come back with the new framework', '120')
    .action(async (o: InstallFlags) => {
      const g = globals();
      const prefix = o.prefix ? o.prefix.replace(/\/+$/, '') : devicePrefix(g);
      const overrides = overridesFrom(o);
      const waitMs = int(o.wait, '--wait', 5, 3600)! * 1000;
      const { createEngine } = await import('../engine');
      const { installOnOriginalBoard, InstallError } = await import('../engine/board-install');
      const engine = createEngine({ timeoutMs: timeoutMs(g) });
      await engine.connect(brokerProfile(g, { depths: [] }));
      try {
        const r = await installOnOriginalBoard(engine, prefix, {
          overrides,
          waitMs,
          onStep: (s) => void process.stderr.write(`${describeStep(s)}\n`),
        });
        const rt = r.device.runtime;
        line(`${cell(prefix)} runs ${cell(rt?.kind ?? '?')} ${cell(rt?.version ?? '?')} (${cell(r.device.mode ?? '?')} mode)`);
        line(`broker ${cell(r.config.server)}:${r.config.port}${r.config.tls ? ' (TLS)' : ''}, Wi-Fi ${cell(r.config.wifi.ssid)}; sent ${r.files.length} files`);
        line("safe mode: the original's /safemode (reset it with `mqboard reset --safemode`)");
      } catch (e) {
        // What the board's config lacks is for the caller to give: a usage error (exit 2).
        if (e instanceof InstallError && e.stage === 'missing-config') throw new UsageError(e.message);
        throw e;
      } finally {
        await engine.disconnect();
      }
    });
  return board;
}

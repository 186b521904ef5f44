// The `mqboard` CLI: the original's commands (eval get put ls mkdir rm rmdir ota reset sync
// view) plus devices, mv, sha and broker. Failures exit non-zero with one line on stderr.
// Text from devices is shown with its control characters visible (output.ts). The engine, the
// broker and their libraries are loaded by the commands that use them, so `--help` and the
// parsing of the command line stay quick.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { ResetMode } from '../../../protocol/src';
import type { Engine } from '../engine';
import type { DeviceState, Progress } from '../engine/types';
import { addGlobalOptions, brokerProfile, devicePrefix, timeoutMs, type GlobalOptions } from './global-options';
import { colourLine } from './log-view';
import { cell, flushed, line, safeJson, shown, watchErrors, write } from './output';
import { progressBar } from './progress-bar';
import { isMissingDir, parseSyncSpec, planTarget } from './sync-spec';
import { table } from './table';
import { isUsageError, UsageError } from './usage-error';
import { readLocal } from './local-file';
import { addBoardCommand } from './board';

const loadEngine = () => import('../engine');

const program = addGlobalOptions(new Command('mqboard'))
  .description('Manage MQTT-connected boards: REPL, files, OTA and logs over one broker connection.')
  // Global options go before the command, as with the original, so `reset -s` and `mkdir -p`
  // mean the command's own flags rather than --server and --prefix.
  .enablePositionalOptions()
  .showHelpAfterError(false)
  .configureOutput({ outputError: (s, write) => write(s) })
  // Commander would exit by itself after --help or a usage error: we exit once output is out.
  .exitOverride();

const globals = (): GlobalOptions => program.opts<GlobalOptions>();
const verbose = (msg: string) => {
  if (globals().verbose) process.stderr.write(`${msg}\n`);
};

/** Connects an engine for commands to one device: no fleet-wide discovery subscriptions. */
async function withDevice<T>(fn: (engine: Engine, prefix: string) => Promise<T>): Promise<T> {
  const g = globals();
  const prefix = devicePrefix(g);
  const { createEngine, redactUrl } = await loadEngine();
  const engine = createEngine({ timeoutMs: timeoutMs(g) });
  const profile = brokerProfile(g, { depths: [] });
  verbose(`connecting to ${redactUrl(profile.url)}`);
  await engine.connect(profile);
  try {
    return await fn(engine, prefix);
  } finally {
    await engine.disconnect();
  }
}

async function transferWithBar<T>(label: string, run: (onProgress: (p: Progress) => void) => Promise<T>): Promise<T> {
  const bar = progressBar(label);
  try {
    return await run(bar.onProgress);
  } finally {
    bar.end();
  }
}

program
  .command('eval')
  .description('evaluate an expression or run statements on the board and print the result')
  .argument('<expression>')
  .option('--raw', "let the device's own SGR colours through (other control sequences are always shown as text)")
  .action((expression: string, o: { raw?: boolean }) =>
    withDevice(async (e, p) => {
      // Statements that print nothing reply with nothing: no empty line for them.
      const out = shown(await e.eval(p, expression), o.raw === true);
      if (out) write(out.endsWith('\n') ? out : `${out}\n`);
    }),
  );

program
  .command('get')
  .description('retrieve a file from the board, to stdout if no local file is given')
  .argument('<remote_file>')
  .argument('[local_file]')
  .action((remote: string, local: string | undefined) =>
    withDevice(async (e, p) => {
      const data = await transferWithBar(`get ${remote}`, (onProgress) => e.get(p, remote, { onProgress: local ? onProgress : undefined }));
      if (local) writeFileSync(local, data);
      else write(data);
    }),
  );

program
  .command('put')
  .description('put a file on the board; a remote name ending in / gets the local file name appended')
  .argument('<local>')
  .argument('[remote]')
  .option('--chunk <bytes>', 'chunk size (default: what the device advertises, 1400 otherwise)')
  .action((local: string, remote: string | undefined, o: { chunk?: string }) =>
    withDevice(async (e, p) => {
      const data = readLocal(local);
      let dst = remote ?? path.basename(path.resolve(local));
      if (dst.endsWith('/')) dst += path.basename(path.resolve(local));
      await transferWithBar(`put ${dst}`, (onProgress) => e.put(p, dst, data, { onProgress, chunk: o.chunk ? Number(o.chunk) : undefined }));
      line('OK');
    }),
  );

program
  .command('ls')
  .description('list a directory on the board (size and name, a trailing / for directories)')
  .argument('[directory]', 'directory', '.')
  .option('-r, --recursive', 'list recursively')
  .option('--json', 'print JSON')
  .action((dir: string, o: { recursive?: boolean; json?: boolean }) =>
    withDevice(async (e, p) => {
      const entries = await e.ls(p, dir, { recursive: o.recursive === true });
      if (o.json) return line(safeJson(entries));
      let out = '';
      for (const f of entries) out += `${String(f.size ?? (f.type === 'dir' ? 0 : '?')).padStart(12)} ${cell(f.name)}${f.type === 'dir' ? '/' : ''}\n`;
      write(out);
    }),
  );

program
  .command('mkdir')
  .description('create a directory on the board')
  .argument('<directory>')
  .option('-p, --path', 'create intermediate directories, implies --ignore')
  .option('-i, --ignore', 'ignore an existing directory')
  .action((dir: string, o: { path?: boolean; ignore?: boolean }) =>
    withDevice(async (e, p) => {
      if (o.ignore && !o.path) {
        try {
          await e.mkdir(p, dir);
        } catch (err) {
          const st = await e.stat(p, dir).catch(() => undefined);
          if (st?.type !== 'dir') throw err;
        }
        return;
      }
      await e.mkdir(p, dir, { parents: o.path === true });
    }),
  );

program
  .command('rm')
  .description('remove a file from the board')
  .argument('<remote_file>')
  .option('-r, --recursive', 'remove a directory and its contents')
  .action((f: string, o: { recursive?: boolean }) => withDevice((e, p) => e.rm(p, f, { recursive: o.recursive === true })));

program
  .command('rmdir')
  .description('remove an empty directory from the board')
  .argument('<remote_dir>')
  .action((d: string) => withDevice((e, p) => e.rmdir(p, d)));

program
  .command('mv')
  .description('rename a file or directory on the board')
  .argument('<from>')
  .argument('<to>')
  .action((from: string, to: string) => withDevice((e, p) => e.mv(p, from, to)));

program
  .command('sha')
  .description('print the SHA-256 of a file on the board')
  .argument('<remote_file>')
  .action((f: string) => withDevice(async (e, p) => line(`${cell(await e.sha256(p, f))}  ${f}`)));

program
  .command('ota')
  .description('send a firmware image over the air (activated by the next reset)')
  .argument('<image>')
  .action((image: string) =>
    withDevice(async (e, p) => {
      const data = readLocal(image);
      await refuseUnfit(e, p, image, data);
      const r = await transferWithBar(`ota ${path.basename(image)}`, (onProgress) =>
        e.ota(p, data, { onProgress, timeoutMs: timeoutMs(globals(), true) }),
      );
      line(`OK ${r.bytes} bytes, sha256 ${r.sha256}`);
    }),
  );

program
  .command('reset')
  .description('reset the board')
  .addOption(new Option('-n, --normal', 'full reset into normal mode (default)'))
  .addOption(new Option('-f, --safemode', 'full reset into safe mode'))
  .addOption(new Option('-s, --soft', 'soft reset'))
  .addOption(new Option('--hard', 'immediate hard reset (machine.reset()): no reply'))
  .action((o: { normal?: boolean; safemode?: boolean; soft?: boolean; hard?: boolean }) => {
    const picked = (['normal', 'safemode', 'soft', 'hard'] as const).filter((k) => o[k]);
    if (picked.length > 1) throw new UsageError(`pick one reset mode, not ${picked.join(' and ')}`);
    const mode: ResetMode = o.safemode ? 'safe' : o.soft ? 'soft' : o.hard ? 'hard' : 'normal';
    return withDevice(async (e, p) => {
      await e.reset(p, mode);
      line(`reset ${mode}: OK`);
    });
  });

program
  .command('sync')
  .description('put the files of a spec whose SHA-256 differs from the board')
  .argument('<spec_file>')
  .option('-n, --dry-run', 'print the actions without performing them')
  .action((specFile: string, o: { dryRun?: boolean }) =>
    withDevice(async (e, p) => {
      const spec = parseSyncSpec(readFileSync(specFile, 'utf8'));
      const base = process.cwd();
      const localSha = (src: string) => createHash('sha256').update(readLocal(src)).digest('hex');
      for (const t of spec) {
        line(`Target directory ${t.dir}`);
        const remote = await e.hashDir(p, t.dir).catch((err: unknown) => {
          // A missing directory is created; any other failure stops the sync.
          if (isMissingDir(err)) return undefined;
          throw err;
        });
        for (const a of planTarget(t, remote, localSha, base)) {
          if (a.kind === 'mkdir') {
            line(`  mkdir ${a.dir}`);
            if (!o.dryRun) await e.mkdir(p, a.dir, { parents: true });
          } else if (a.kind === 'ok') {
            line(`  ok   ${a.src}`);
          } else if (a.kind === 'skip') {
            line(`  skip ${a.why.padEnd(7)} ${a.src} -> ${a.dst}`);
          } else {
            line(`  put  ${a.why.padEnd(7)} ${a.src} -> ${a.dst}`);
            if (!o.dryRun) {
              const data = readLocal(a.src);
              await transferWithBar(`put ${a.dst}`, (onProgress) => e.put(p, a.dst, data, { onProgress }));
            }
          }
        }
      }
    }),
  );

program
  .command('view')
  .description("tail the board's log (all devices' logs without --prefix)")
  .option('--depth <n...>', 'prefix depths to watch without --prefix', ['1', '2', '3'])
  .option('--raw', "let the devices' own SGR colours through (other control sequences are always shown as text)")
  .action(async (o: { depth: string[]; raw?: boolean }) => {
    const g = globals();
    const single = g.prefix || g.topic ? devicePrefix(g) : undefined;
    const profile = brokerProfile(g, single ? { depths: [] } : { depths: o.depth.map(Number) });
    const { createEngine, redactUrl } = await loadEngine();
    const engine = createEngine({ timeoutMs: timeoutMs(g) });
    const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
    engine.on('logs', (entries) => {
      let out = '';
      for (const l of entries) if (!single || l.prefix === single) out += colourLine(l.line, colour, single ? undefined : l.prefix, o.raw === true) + '\n';
      if (out) write(out);
    });
    engine.on('connection', (s) => {
      // The engine's message names the broker; without one, say which broker went away.
      if (s.phase === 'reconnecting') process.stderr.write(`mqboard: ${s.error?.message ?? `connection to the broker ${redactUrl(profile.url)} lost`}; reconnecting\n`);
    });
    await engine.connect(profile);
    if (single) engine.addDevice(single);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
      // The reader went away (EPIPE): stop; the exit status says the output was cut short.
      watchErrors(process.stdout, () => resolve());
    });
    await engine.disconnect();
  });

program
  .command('devices')
  .description('list the devices found on the broker')
  .option('--json', 'print a JSON array')
  .option('--wait <ms>', 'also wait this long for devices that announce themselves only periodically', '500')
  .option('--depth <n...>', 'prefix depths to search', ['1', '2', '3'])
  .option('--pattern <filter...>', 'explicit status topic filters instead of depths, e.g. site1/+/mqb/status')
  .action(async (o: { json?: boolean; wait: string; depth: string[]; pattern?: string[] }) => {
    const g = globals();
    const wait = Number(o.wait);
    if (!Number.isFinite(wait) || wait < 0) throw new UsageError(`invalid --wait: ${o.wait}`);
    // With --prefix/--topic, that device is looked for too, whatever its depth, and asked.
    const named = g.prefix || g.topic ? devicePrefix(g) : undefined;
    const profile = brokerProfile(g, o.pattern ? { patterns: o.pattern } : { depths: o.depth.map(Number) });
    const { createEngine } = await loadEngine();
    const engine = createEngine({ timeoutMs: timeoutMs(g) });
    await engine.connect(profile);
    try {
      if (named) engine.addDevice(named);
      // Retained statuses arrive before the barrier's echo; original boards need the wait.
      await engine.settle();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const list = engine.devices().sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
      if (named) {
        const i = list.findIndex((d) => d.prefix === named);
        if (i >= 0 && list[i]!.presence !== 'online') list[i] = await answered(engine, list[i]!, Math.min(timeoutMs(g), 5000));
      }
      if (o.json) line(safeJson(list.map(deviceJson)));
      else printDevices(list);
      // A broker may drop retained statuses beyond its queue: a script must not take a short
      // list for the whole fleet.
      const found = engine.discovery();
      if (found.incomplete) process.stderr.write(`mqboard: this list is incomplete: ${found.reason ?? 'the broker dropped retained statuses'}\n`);
      if (!o.json && !named && wait < ORIGINAL_FEED_MAX_MS && process.stderr.isTTY && !list.some((d) => d.kind === 'original')) {
        process.stderr.write(
          'mqboard: original boards have no status and show up only when they feed their watchdog (every 20-75 s):\n' +
            `mqboard: use --wait ${ORIGINAL_FEED_MAX_MS}, or name one with --prefix to ask it directly\n`,
        );
      }
    } finally {
      await engine.disconnect();
    }
  });

program
  .command('crashes')
  .description("print the board's crash records (our runtime keeps them; original boards have none)")
  .option('--json', 'print JSON')
  .action((o: { json?: boolean }) =>
    withDevice(async (e, p) => {
      e.addDevice(p);
      // The records are retained at P/mqb/crash: they have arrived once the barrier returns.
      await e.settle();
      const records = e.crashes(p);
      if (o.json) return line(safeJson(records));
      if (records.length === 0) return line('no crash records');
      let out = '';
      for (const r of records) {
        const when = Number.isFinite(r.time) ? new Date(r.time).toISOString() : cell(String(r.time));
        out += `${when}  boot ${r.bootCount}  ${cell(r.mode)}  ${cell(r.reason)}: ${shown(r.message)}\n`;
        if (r.stack) out += shown(r.stack).replace(/^/gm, '    ') + '\n';
      }
      write(out);
    }),
  );

program
  .command('broker')
  .description('run the embedded MQTT broker until interrupted')
  .option('--port <port>', 'TCP port', '1883')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--ws-port <port>', 'also serve MQTT over WebSocket on this port')
  .option('--user <name>', 'clients must log in with this user name and the password')
  .option('--password-file <file>', 'file whose first line is the password (or set MQBOARD_BROKER_PASSWORD)')
  .option('--password <password>', 'the password (visible to other users in ps: prefer the file or the variable)')
  .action(async (o: { port: string; host: string; wsPort?: string; user?: string; password?: string; passwordFile?: string }) => {
    const { brokerCredentials, exposureWarning, startEmbeddedBroker } = await import('../broker/embedded');
    let auth;
    try {
      auth = brokerCredentials({ user: o.user, password: o.password, passwordFile: o.passwordFile, env: process.env });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const b = await startEmbeddedBroker({ port: Number(o.port), host: o.host, wsPort: o.wsPort ? Number(o.wsPort) : undefined, auth });
    const warning = exposureWarning(o.host, auth);
    if (warning) process.stderr.write(`\n${warning.replace(/^/gm, '*** ')}\n\n`);
    line(`broker listening on ${b.url}${b.wsPort ? ` and ws://${b.host}:${b.wsPort}` : ''}${auth ? ` (user ${auth.username})` : ''}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await b.close();
  });

addBoardCommand(program, globals);

/**
 * The fleet and rollout commands bring the fleet engine and the app's bridge schemas (zod) with
 * them, which a command for one device should not load at every start. They are added unless
 * the command line names one of the commands above: for a fleet command, `help`, no command, or
 * a typo (commander then lists them all).
 */
async function addFleetCommandsUnlessOwn(argv: string[]): Promise<void> {
  const own = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]));
  const word = commandWord(argv.slice(2));
  if (word !== undefined && own.has(word)) return;
  const [{ addFleetCommands }, { addRolloutCommand }] = await Promise.all([import('./fleet'), import('./rollout')]);
  addFleetCommands(program, globals);
  addRolloutCommand(program, globals);
}

/** The first argument that is neither a global option nor an option's value. */
function commandWord(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return args[i + 1];
    if (!a.startsWith('-') || a === '-') return a;
    if (a.includes('=')) continue;
    const opt = program.options.find((o) => o.short === a || o.long === a);
    // An option taking a value skips it; one we do not know leaves the answer to commander.
    if (!opt) return undefined;
    if (opt.required || opt.optional) i++;
  }
  return undefined;
}

function deviceJson(d: DeviceState) {
  return {
    prefix: d.prefix,
    online: d.presence === 'online',
    presence: d.presence,
    mode: d.mode ?? null,
    kind: d.kind,
    source: d.source,
    since: d.since,
    lastSeen: d.lastSeen ?? null,
    runtime: d.runtime ?? null,
    firmware: d.firmware ?? null,
    uptime: d.uptime ?? null,
    freeMem: d.freeMem ?? null,
    crashCount: d.crashCount ?? 0,
  };
}

function printDevices(list: DeviceState[]) {
  if (list.length === 0) return line('no devices found');
  const str = (v: unknown) => cell(String(v));
  const rows = list.map((d) => [
    str(d.prefix),
    str(d.presence),
    d.mode ? str(d.mode) : '-',
    str(d.kind),
    d.runtime ? str(`${d.runtime.kind} ${d.runtime.version}`) : '-',
    d.firmware ? str(d.firmware) : '-',
    typeof d.uptime === 'number' && Number.isFinite(d.uptime) ? `${Math.round(d.uptime)}s` : '-',
  ]);
  write(table(['PREFIX', 'STATE', 'MODE', 'KIND', 'RUNTIME', 'FIRMWARE', 'UPTIME'], rows));
}

/** An original board feeds its watchdog every timeout/4, at most every 75 s. */
const ORIGINAL_FEED_MAX_MS = 75_000;

/** A named device not (yet) heard from: one that answers an eval is online now. */
async function answered(engine: Engine, d: DeviceState, timeoutMs: number): Promise<DeviceState> {
  try {
    await engine.eval(d.prefix, '1', { timeoutMs });
  } catch {
    return d;
  }
  // Only our runtime publishes a status: a board that answers without one runs the original.
  return { ...(engine.device(d.prefix) ?? d), presence: 'online', kind: d.kind === 'unknown' ? 'original' : d.kind, lastSeen: Date.now() };
}

/**
 * Refuses an image the device could not take before sending any of it: our runtime boots only
 * app bundles, an original board only ESP32 firmware (the app's checks, ota-image.ts).
 */
async function refuseUnfit(e: Engine, prefix: string, file: string, image: Uint8Array): Promise<void> {
  e.addDevice(prefix);
  await e.settle();
  const dev = e.device(prefix);
  // The engine drives a device without a status as an original board: check it as one.
  const asDriven = dev && dev.kind === 'unknown' && !dev.runtime ? { ...dev, kind: 'original' as const } : dev;
  const { inspectImage } = await import('../app/ota-image');
  const info = await inspectImage('', path.basename(file), image, asDriven);
  if (info.refused) throw new UsageError(`cannot send ${file}: ${info.refused}`);
}

/** The one line a failure prints: a Python traceback ends with the exception, a JavaScript stack starts with it. */
function failureLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const lines = msg.trim().split('\n').filter((l) => l.trim());
  const one = lines[0]?.startsWith('Traceback') ? lines[lines.length - 1]! : (lines[0] ?? 'failed');
  // Error texts may come from the device: shown, not obeyed.
  return cell(one.trim());
}

async function run(): Promise<number> {
  try {
    await addFleetCommandsUnlessOwn(process.argv);
    await program.parseAsync(process.argv);
    return 0;
  } catch (e) {
    // Commander has printed its help or usage message already.
    if (e instanceof CommanderError) return e.exitCode;
    process.stderr.write(`mqboard: ${failureLine(e)}\n`);
    return isUsageError(e) ? 2 : 1;
  }
}

watchErrors(process.stdout);
watchErrors(process.stderr);
let code = await run();
try {
  await flushed(process.stdout);
} catch (e) {
  process.stderr.write(`mqboard: the output was cut short: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
  if (code === 0) code = 1;
}
await flushed(process.stderr).catch(() => undefined);
process.exit(code);

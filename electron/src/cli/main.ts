// The `mqboard` CLI: the original's commands (eval get put ls mkdir rm rmdir ota reset sync
// view) plus devices, mv, sha and broker. Failures exit non-zero with one line on stderr.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import type { ResetMode } from '../../../protocol/src';
import { startEmbeddedBroker } from '../broker/embedded';
import { createEngine, EngineError, redactUrl, type Engine } from '../engine';
import type { DeviceState, Progress } from '../engine/types';
import { addGlobalOptions, brokerProfile, devicePrefix, timeoutMs, type GlobalOptions } from './global-options';
import { colourLine } from './log-view';
import { progressBar } from './progress-bar';
import { parseSyncSpec, planTarget } from './sync-spec';

const program = addGlobalOptions(new Command('mqboard'))
  .description('Manage MQTT-connected boards: REPL, files, OTA and logs over one broker connection.')
  // Global options go before the command, as with the original, so `reset -s` and `mkdir -p`
  // mean the command's own flags rather than --server and --prefix.
  .enablePositionalOptions()
  .showHelpAfterError(false)
  .configureOutput({ outputError: (s, write) => write(s) });

const globals = (): GlobalOptions => program.opts<GlobalOptions>();
const verbose = (msg: string) => {
  if (globals().verbose) process.stderr.write(`${msg}\n`);
};

/** Connects an engine for commands to one device: no fleet-wide discovery subscriptions. */
async function withDevice<T>(fn: (engine: Engine, prefix: string) => Promise<T>): Promise<T> {
  const g = globals();
  const prefix = devicePrefix(g);
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
  .action((expression: string) =>
    withDevice(async (e, p) => {
      const out = await e.eval(p, expression);
      process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
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
      else process.stdout.write(data);
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
      console.log('OK');
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
      if (o.json) return console.log(JSON.stringify(entries, null, 2));
      for (const f of entries) console.log(`${String(f.size ?? (f.type === 'dir' ? 0 : '?')).padStart(12)} ${f.name}${f.type === 'dir' ? '/' : ''}`);
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
  .action((f: string) => withDevice(async (e, p) => console.log(`${await e.sha256(p, f)}  ${f}`)));

program
  .command('ota')
  .description('send a firmware image over the air (activated by the next reset)')
  .argument('<image>')
  .action((image: string) =>
    withDevice(async (e, p) => {
      const data = readLocal(image);
      const r = await transferWithBar(`ota ${path.basename(image)}`, (onProgress) =>
        e.ota(p, data, { onProgress, timeoutMs: timeoutMs(globals(), true) }),
      );
      console.log(`OK ${r.bytes} bytes, sha256 ${r.sha256}`);
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
    if (picked.length > 1) throw new EngineError('invalid-argument', `pick one reset mode, not ${picked.join(' and ')}`);
    const mode: ResetMode = o.safemode ? 'safe' : o.soft ? 'soft' : o.hard ? 'hard' : 'normal';
    return withDevice(async (e, p) => {
      await e.reset(p, mode);
      console.log(`reset ${mode}: OK`);
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
        console.log(`Target directory ${t.dir}`);
        const remote = await e.hashDir(p, t.dir).catch((err: unknown) => {
          // A missing directory is created; any other failure stops the sync.
          if (err instanceof EngineError && err.code === 'device-error' && /ENOENT|No such file|Errno 2\b/i.test(err.message)) return undefined;
          throw err;
        });
        for (const a of planTarget(t, remote, localSha, base)) {
          if (a.kind === 'mkdir') {
            console.log(`  mkdir ${a.dir}`);
            if (!o.dryRun) await e.mkdir(p, a.dir, { parents: true });
          } else if (a.kind === 'ok') {
            console.log(`  ok   ${a.src}`);
          } else if (a.kind === 'skip') {
            console.log(`  skip ${a.why.padEnd(7)} ${a.src} -> ${a.dst}`);
          } else {
            console.log(`  put  ${a.why.padEnd(7)} ${a.src} -> ${a.dst}`);
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
  .action(async (o: { depth: string[] }) => {
    const g = globals();
    const single = g.prefix || g.topic ? devicePrefix(g) : undefined;
    const engine = createEngine({ timeoutMs: timeoutMs(g) });
    const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
    engine.on('logs', (entries) => {
      let out = '';
      for (const l of entries) if (!single || l.prefix === single) out += colourLine(l.line, colour, single ? undefined : l.prefix) + '\n';
      if (out) process.stdout.write(out);
    });
    engine.on('connection', (s) => {
      if (s.phase === 'reconnecting') process.stderr.write(`mqboard: ${s.error?.message ?? 'connection lost'}; reconnecting\n`);
    });
    await engine.connect(brokerProfile(g, single ? { depths: [] } : { depths: o.depth.map(Number) }));
    if (single) engine.addDevice(single);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
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
    const engine = createEngine();
    const g = globals();
    await engine.connect(brokerProfile(g, o.pattern ? { patterns: o.pattern } : { depths: o.depth.map(Number) }));
    try {
      // Retained statuses arrive before the barrier's echo; original boards need the wait.
      await engine.settle();
      const wait = Number(o.wait);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const list = engine.devices().sort((a, b) => a.prefix.localeCompare(b.prefix));
      if (o.json) console.log(JSON.stringify(list.map(deviceJson), null, 2));
      else printDevices(list);
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
      if (o.json) return console.log(JSON.stringify(records, null, 2));
      if (records.length === 0) return console.log('no crash records');
      for (const r of records) {
        console.log(`${new Date(r.time).toISOString()}  boot ${r.bootCount}  ${r.mode}  ${r.reason}: ${r.message}`);
        if (r.stack) console.log(r.stack.replace(/^/gm, '    '));
      }
    }),
  );

program
  .command('broker')
  .description('run the embedded MQTT broker until interrupted')
  .option('--port <port>', 'TCP port', '1883')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--ws-port <port>', 'also serve MQTT over WebSocket on this port')
  .action(async (o: { port: string; host: string; wsPort?: string }) => {
    const b = await startEmbeddedBroker({ port: Number(o.port), host: o.host, wsPort: o.wsPort ? Number(o.wsPort) : undefined });
    console.log(`broker listening on ${b.url}${b.wsPort ? ` and ws://${b.host}:${b.wsPort}` : ''}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await b.close();
  });

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
  if (list.length === 0) return console.log('no devices found');
  const rows = list.map((d) => [d.prefix, d.presence, d.mode ?? '-', d.kind, d.runtime ? `${d.runtime.kind} ${d.runtime.version}` : '-', d.firmware ?? '-', d.uptime !== undefined ? `${Math.round(d.uptime)}s` : '-']);
  const head = ['PREFIX', 'STATE', 'MODE', 'KIND', 'RUNTIME', 'FIRMWARE', 'UPTIME'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

function readLocal(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new EngineError('invalid-argument', `cannot read ${file}: ${(e as Error).message}`);
  }
}

try {
  await program.parseAsync(process.argv);
  process.exit(0);
} catch (e) {
  const msg = e instanceof Error ? e.message : String(e);
  // One line: a Python traceback ends with the exception, a JavaScript stack starts with it.
  const lines = msg.trim().split('\n').filter((l) => l.trim());
  const one = lines[0]?.startsWith('Traceback') ? lines[lines.length - 1]! : (lines[0] ?? 'failed');
  process.stderr.write(`mqboard: ${one.trim()}\n`);
  process.exit(e instanceof EngineError && e.code === 'invalid-argument' ? 2 : 1);
}

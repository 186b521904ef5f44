// `mqboard fleet …`: the same command on every device a selector picks (docs/fleet.md):
//   mqboard fleet eval --select 'tag:greenhouse fw<2.5.0 online' 'machine.freq()'
// prints a results table and the identical outputs grouped, or `--json` / `--csv`; the exit
// status is 1 when any device failed. The engine is loaded only when a command runs.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Option, type Command } from 'commander';
import type { ResetMode } from '../../../protocol/src';
import type { Engine } from '../engine';
import { enginePresence, fleetAction, groupResults, resultsCsv, resultsJson, runMany, summarizeGroups, type DeviceAction, type DeviceResult } from '../engine/fleet/run-many';
import type { FleetDevice } from '../../../protocol/src/fleet/selector';
import { parseSelect, pickDevices } from './select-devices';
import { brokerProfile, timeoutMs, type GlobalOptions } from './global-options';
import { cell, safeJson, write } from './output';
import { isMissingDir, parseSyncSpec, planTarget } from './sync-spec';
import { table } from './table';
import { UsageError } from './usage-error';
import { readLocal } from './local-file';

export interface FleetIo {
  out(text: string): void;
  err(text: string): void;
  /** Asks a yes/no question; default: on the terminal, and no when there is none. */
  confirm?(question: string): Promise<boolean>;
}

const processIo: FleetIo = { out: write, err: (t) => void process.stderr.write(t) };

interface SelectOptions {
  select: string;
  latest?: string;
  concurrency: string;
  wait: string;
  depth: string[];
  pattern?: string[];
  json?: boolean;
  csv?: boolean;
}

const FLEET_TIMEOUT_MS = 30_000;

function withSelectOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--select <selector>', "which devices, e.g. 'tag:greenhouse fw<2.5.0 online' ('**' for all; see docs/fleet.md)")
    .option('--latest <version>', 'the firmware `outdated` compares with (default: the newest in the fleet)')
    .option('--concurrency <n>', 'devices worked on at once', '16')
    .option('--wait <ms>', 'also wait this long for devices that announce themselves only periodically', '500')
    .option('--depth <n...>', 'prefix depths to search', ['1', '2', '3'])
    .option('--pattern <filter...>', 'explicit status topic filters instead of depths, e.g. site1/+/mqb/status')
    .addOption(new Option('--json', 'print a JSON array of {prefix, ok, status, output|error, ms}').conflicts('csv'))
    .option('--csv', 'print CSV (prefix,status,output,error,ms)');
}

function number(text: string, what: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`invalid ${what}: ${text}`);
  return n;
}


/** The rows of the results table: device text shown, never obeyed, on one line. */
function resultsTable(results: readonly DeviceResult[]): string {
  const oneLine = (s: string) => {
    const t = cell(s.replace(/\r?\n/g, ' ⏎ ').trim());
    return t.length > 100 ? `${t.slice(0, 99)}…` : t;
  };
  const rows = results.map((r) => [cell(r.prefix), r.status, `${r.ms}`, oneLine(r.status === 'ok' ? (r.output ?? '') : (r.error ?? ''))]);
  return table(['DEVICE', 'RESULT', 'MS', 'OUTPUT'], rows);
}

async function askOnTerminal(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/**
 * Adds `fleet list|eval|put|sync|reset` to the program. `globals` gives the program's global
 * options (broker, credentials, -T as the per-device timeout).
 */
export function addFleetCommands(program: Command, globals: () => GlobalOptions, io: FleetIo = processIo): Command {
  const fleet = program.command('fleet').description('act on every device a selector picks (docs/fleet.md)');

  /** Connects with discovery, lists, picks the devices, runs `make(engine)` on them, prints. */
  async function onSelection(o: SelectOptions, make: ((engine: Engine) => DeviceAction) | undefined, before?: (picked: FleetDevice[]) => Promise<void>): Promise<void> {
    const g = globals();
    const sel = parseSelect(o.select);
    const concurrency = number(o.concurrency, '--concurrency', 1, 1000);
    const wait = number(o.wait, '--wait', 0, 3_600_000);
    const perDevice = g.timeout === undefined ? FLEET_TIMEOUT_MS : timeoutMs(g);
    const profile = brokerProfile(g, o.pattern ? { patterns: o.pattern } : { depths: o.depth.map((d) => number(d, '--depth', 1, 32)) });
    const { createEngine } = await import('../engine');
    const engine = createEngine({ timeoutMs: perDevice });
    await engine.connect(profile);
    try {
      const picked = await pickDevices(engine, sel, { select: o.select, latest: o.latest, waitMs: wait });
      if (!make) {
        if (o.json) return io.out(`${safeJson(picked.map((d) => ({ prefix: d.prefix, presence: d.presence, kind: d.kind, firmware: d.firmware ?? null, mode: d.mode ?? null })))}\n`);
        const rows = picked.map((d) => [cell(d.prefix), d.presence, d.kind, d.firmware ? cell(d.firmware) : '-', d.mode ?? '-']);
        return io.out(table(['DEVICE', 'STATE', 'KIND', 'FIRMWARE', 'MODE'], rows));
      }
      await before?.(picked);
      const verbose = g.verbose === true;
      const results = await runMany(
        picked.map((d) => d.prefix),
        make(engine),
        {
          concurrency,
          timeoutMs: perDevice,
          presence: enginePresence(engine),
          onResult: verbose ? (r) => io.err(`${cell(r.prefix)}: ${r.status} (${r.ms} ms)\n`) : undefined,
        },
      );
      if (o.json) io.out(`${safeJson(resultsJson(results))}\n`);
      else if (o.csv) io.out(resultsCsv(results));
      else {
        io.out(resultsTable(results));
        io.out(`\n${summarizeGroups(groupResults(results), cell).join('\n')}\n`);
      }
      const failed = results.filter((r) => r.status !== 'ok').length;
      if (failed > 0) throw new Error(`${failed} of ${results.length} device${results.length === 1 ? '' : 's'} failed`);
    } finally {
      await engine.disconnect();
    }
  }

  withSelectOptions(fleet.command('list').description('list the devices a selector picks')).action((o: SelectOptions) => onSelection(o, undefined));

  withSelectOptions(fleet.command('eval').description('evaluate an expression or run statements on every selected device'))
    .argument('<expression>')
    .action((expression: string, o: SelectOptions) => onSelection(o, (e) => fleetAction(e, { kind: 'eval', code: expression })));

  withSelectOptions(fleet.command('put').description('put a file on every selected device, verified; a remote name ending in / gets the local name appended'))
    .argument('<local>')
    .argument('[remote]')
    .action((local: string, remote: string | undefined, o: SelectOptions) => {
      const data = readLocal(local);
      let dst = remote ?? path.basename(path.resolve(local));
      if (dst.endsWith('/')) dst += path.basename(path.resolve(local));
      return onSelection(o, (e) => fleetAction(e, { kind: 'put', files: [{ path: dst, data }] }));
    });

  withSelectOptions(fleet.command('sync').description('put the files of a sync spec whose SHA-256 differs, on every selected device'))
    .argument('<spec_file>')
    .action((specFile: string, o: SelectOptions) => {
      let spec;
      try {
        spec = parseSyncSpec(readFileSync(specFile, 'utf8'));
      } catch (e) {
        throw new UsageError(`${specFile}: ${(e as Error).message}`);
      }
      const base = process.cwd();
      // Each local file is read and hashed once for the whole fleet.
      const cache = new Map<string, { data: Uint8Array; sha: string }>();
      const local = (src: string) => {
        let f = cache.get(src);
        if (!f) {
          const data = readLocal(path.resolve(base, src));
          cache.set(src, (f = { data, sha: createHash('sha256').update(data).digest('hex') }));
        }
        return f;
      };
      const targets = spec;
      return onSelection(o, (e) => async (prefix, signal) => {
        let put = 0;
        let ok = 0;
        let skipped = 0;
        for (const t of targets) {
          const remote = await e.hashDir(prefix, t.dir, { signal }).catch((err: unknown) => {
            if (isMissingDir(err)) return undefined;
            throw err;
          });
          for (const a of planTarget(t, remote, (src) => local(src).sha, base)) {
            if (a.kind === 'mkdir') await e.mkdir(prefix, a.dir, { parents: true, signal });
            else if (a.kind === 'ok') ok++;
            else if (a.kind === 'skip') skipped++;
            else {
              await e.put(prefix, a.dst, local(a.src).data, { signal });
              put++;
            }
          }
        }
        return `${put} put, ${ok} unchanged${skipped ? `, ${skipped} skipped` : ''}`;
      });
    });

  withSelectOptions(fleet.command('reset').description('reset every selected device, after confirmation'))
    .addOption(new Option('-n, --normal', 'full reset into normal mode (default)'))
    .addOption(new Option('-f, --safemode', 'full reset into safe mode'))
    .addOption(new Option('-s, --soft', 'soft reset'))
    .option('-y, --yes', 'do not ask for confirmation')
    .action((o: SelectOptions & { normal?: boolean; safemode?: boolean; soft?: boolean; yes?: boolean }) => {
      const picked = (['normal', 'safemode', 'soft'] as const).filter((k) => o[k]);
      if (picked.length > 1) throw new UsageError(`pick one reset mode, not ${picked.join(' and ')}`);
      const mode: ResetMode = o.safemode ? 'safe' : o.soft ? 'soft' : 'normal';
      return onSelection(
        o,
        (e) => fleetAction(e, { kind: 'reset', mode }),
        async (devices) => {
          if (o.yes) return;
          const ask = io.confirm ?? askOnTerminal;
          const shownList = devices.slice(0, 10).map((d) => cell(d.prefix)).join(', ') + (devices.length > 10 ? `, … (${devices.length - 10} more)` : '');
          const yes = await ask(`reset (${mode}) ${devices.length} device${devices.length === 1 ? '' : 's'}: ${shownList}? [y/N] `);
          if (!yes) throw new UsageError(`not confirmed: nothing was reset (pass --yes to reset without asking)`);
        },
      );
    });

  return fleet;
}

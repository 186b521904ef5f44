// `mqboard rollout IMAGE --select … --waves 1,25%,100%`: the engine's rollout (waves, the
// health gate, rollback of a failing device, a pause when too many fail) run from the terminal,
// one line per device event (JSON lines with --json). Exit status 1 when the rollout paused or
// a device failed; 2 for a usage mistake. The rollout's state is kept in a temporary folder for
// the run only: a rollout that must survive restarts belongs to the app.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { RolloutDevice, RolloutSummary } from '../../../protocol/src/bridge-rollouts';
import { parseSelect, pickDevices } from './select-devices';
import type { RolloutEvent } from '../engine/fleet/rollout';
import { brokerProfile, type GlobalOptions } from './global-options';
import { readLocal } from './local-file';
import { cell, safeJson, write } from './output';
import { UsageError } from './usage-error';

export interface RolloutIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: RolloutIo = { out: write, err: (t) => void process.stderr.write(t) };

interface RolloutOptions {
  select: string;
  waves: string;
  concurrency: string;
  maxFailures?: string;
  maxFailurePercent: string;
  canaryMaxFailures: string;
  soak: string;
  onlineWithin: string;
  all?: boolean;
  waitOffline?: boolean;
  version?: string;
  latest?: string;
  wait: string;
  depth: string[];
  pattern?: string[];
  json?: boolean;
}

function int(text: string, what: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`invalid ${what}: ${text} (a whole number from ${min} to ${max})`);
  return n;
}

/** One JSON object on one line, with the terminal-unsafe characters escaped as safeJson does. */
const jsonLine = (v: unknown) => `${safeJson(v).replace(/\n\s*/g, '')}\n`;

const clock = (t: number) => new Date(t).toISOString().slice(11, 19);

/** One device event as a line: device text shown, never obeyed. */
function deviceLine(d: RolloutDevice, waves: number): string {
  const what =
    d.state === 'updated'
      ? `updated to ${d.now ?? '?'}`
      : d.state === 'failed' || d.state === 'rolled-back' || d.state === 'skipped' || d.state === 'cancelled'
        ? `${d.state}: ${d.reason ?? ''}`
        : d.state === 'verifying'
          ? `verifying (${d.checks.filter((c) => c.state === 'passed').map((c) => `${c.name}: ${c.detail ?? 'ok'}`).join(', ')})`
          : d.state;
  return `${clock(Date.now())} ${cell(d.prefix)} [wave ${d.wave + 1}/${waves}] ${cell(what)}\n`;
}

const summaryLine = (s: RolloutSummary) =>
  `rollout ${s.state}${s.pausedReason ? `: ${s.pausedReason}` : ''} (${Object.entries(s.counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ')})\n`;

/** Adds `rollout IMAGE` to the program; `globals` gives the broker options. */
export function addRolloutCommand(program: Command, globals: () => GlobalOptions, io: RolloutIo = processIo): Command {
  return program
    .command('rollout')
    .description('update the devices a selector picks in waves, each held to a health gate; stops itself when too many fail (docs/fleet.md)')
    .argument('<image>', 'an app bundle (our runtime) to roll out')
    .requiredOption('--select <selector>', "which devices, e.g. 'tag:greenhouse fw<2.5.0' ('**' for all; see docs/fleet.md)")
    .option('--waves <waves>', 'cumulative wave targets: counts and percentages of the selection', '1,10%,50%,100%')
    .option('--concurrency <n>', 'devices updated at once within a wave', '10')
    .option('--max-failures <n>', 'pause once more than this many devices failed (instead of --max-failure-percent)')
    .option('--max-failure-percent <p>', 'after the canary wave, pause once more than this share of the finished devices failed', '10')
    .option('--canary-max-failures <n>', 'failures the first wave may have before the rollout pauses', '0')
    .option('--soak <seconds>', 'seconds a device must run without a crash or reboot after confirming', '30')
    .option('--online-within <seconds>', 'seconds a device may take to come back after its reset', '120')
    .option('--all', 'also devices that already report the version (default: only outdated ones)')
    .option('--wait-offline', 'wait for devices that are offline when their turn comes (default: skip them)')
    .option('--version <version>', 'the version devices will report (checked against the bundle manifest)')
    .option('--latest <version>', 'the firmware `outdated` in --select compares with')
    .option('--wait <ms>', 'also wait this long for devices that announce themselves only periodically', '500')
    .option('--depth <n...>', 'prefix depths to search', ['1', '2', '3'])
    .option('--pattern <filter...>', 'explicit status topic filters instead of depths')
    .addOption(new Option('--json', 'one JSON object per line: {"event":"device",...} and {"event":"rollout",...}'))
    .action(async (file: string, o: RolloutOptions) => {
      const g = globals();
      const sel = parseSelect(o.select);
      // The schemas (zod) load only when a rollout runs: `mqboard --help` lists this command too.
      const { RolloutInput } = await import('../../../protocol/src/bridge-rollouts');
      const parsed = RolloutInput.safeParse({
        image: { from: 'stage', stage: 'cli' },
        prefixes: ['placeholder'],
        waves: o.waves,
        concurrency: int(o.concurrency, '--concurrency', 1, 256),
        onlyOutdated: !o.all,
        offline: o.waitOffline ? 'wait' : 'skip',
        canaryMaxFailures: int(o.canaryMaxFailures, '--canary-max-failures', 0, 10_000),
        maxFailurePercent: Number(o.maxFailurePercent),
        ...(o.maxFailures !== undefined ? { maxFailures: int(o.maxFailures, '--max-failures', 0, 10_000) } : {}),
        onlineWithinS: int(o.onlineWithin, '--online-within', 5, 3600),
        soakS: int(o.soak, '--soak', 0, 86_400),
        ...(o.version ? { version: o.version } : {}),
        selector: o.select,
      });
      if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; '));
      const wait = int(o.wait, '--wait', 0, 3_600_000);
      const image = readLocal(file);
      const { describeRolloutImage } = await import('../engine/fleet/rollout-image');
      let info;
      try {
        info = await describeRolloutImage(path.basename(file), image, o.version);
      } catch (e) {
        if (e instanceof RangeError) throw new UsageError(e.message);
        throw e;
      }

      const profile = brokerProfile(g, o.pattern ? { patterns: o.pattern } : { depths: o.depth.map((d) => int(d, '--depth', 1, 32)) });
      const { createEngine } = await import('../engine');
      const { createRolloutManager, createRolloutStore, RolloutError } = await import('../engine/fleet/rollout');
      const engine = createEngine();
      const dir = mkdtempSync(path.join(os.tmpdir(), 'mqboard-rollout-'));
      await engine.connect(profile);
      let stop: (() => void) | undefined;
      try {
        const picked = await pickDevices(engine, sel, { select: o.select, latest: o.latest, waitMs: wait });

        const printed = new Map<string, string>();
        let waves = 0;
        const onEvent = (e: RolloutEvent) => {
          waves = e.rollout.waves.length;
          for (const d of e.devices) {
            // One line per state a device enters (progress ticks are not events here).
            const key = `${d.state}|${d.reason ?? ''}`;
            if (printed.get(d.prefix) === key) continue;
            printed.set(d.prefix, key);
            if (o.json) io.out(jsonLine({ event: 'device', time: Date.now(), ...d }));
            else io.out(deviceLine(d, waves));
          }
        };
        const manager = createRolloutManager({ engine, store: createRolloutStore(dir), profile: () => 'cli', onEvent, eventMs: 0 });
        const input = { ...parsed.data, prefixes: picked.map((d) => d.prefix) };
        let started: RolloutSummary;
        try {
          const plan = manager.plan(input, info);
          if (!o.json) {
            io.err(`${cell(info.name)}: ${info.kind} ${cell(info.version ?? '')}, ${info.size} bytes; ${plan.waves.map((w) => `wave ${w.index + 1} (${w.label}): ${w.prefixes.length}`).join(', ')}${plan.skipped.length ? `; ${plan.skipped.length} skipped` : ''}\n`);
          }
          started = await manager.start({ input, image, info });
        } catch (e) {
          if (e instanceof RolloutError && e.code === 'invalid-argument') throw new UsageError(e.message);
          throw e;
        }
        // Ctrl-C aborts: devices not yet updated stay as they are.
        const onInt = () => void manager.abort(started.id).catch(() => undefined);
        process.once('SIGINT', onInt);
        stop = () => process.off('SIGINT', onInt);
        const end = await manager.settled(started.id);
        await manager.close();
        if (o.json) io.out(jsonLine({ event: 'rollout', ...end }));
        else io.out(summaryLine(end));
        const failed = (end.counts.failed ?? 0) + (end.counts['rolled-back'] ?? 0);
        if (end.state === 'paused') throw new Error(`the rollout paused: ${end.pausedReason ?? ''}`);
        if (end.state === 'aborted') throw new Error('the rollout was aborted');
        if (failed > 0) throw new Error(`${failed} device${failed === 1 ? '' : 's'} failed the rollout`);
      } finally {
        stop?.();
        await engine.disconnect();
        rmSync(dir, { recursive: true, force: true });
      }
    });
}

// Commands queued for devices that are offline or asleep: kept in a JSON file (per broker
// profile and device prefix) so they survive a restart, and run as soon as the engine hears the
// device online again: its status, or for an original board its first watchdog feed or log
// line. A device that drops off mid-command keeps the command for its next appearance, up to
// a number of attempts; one that answers (even with an error) has had its turn.
import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Engine } from '../types';
import { putAction, runMany, type DeviceAction, type DeviceResult, type FleetAction } from './run-many';

/** Largest file a queued put may carry (the queue file holds it, base64). */
export const MAX_QUEUED_PUT_BYTES = 4 * 1024 * 1024;
const MAX_ITEMS = 10_000;
/** How long removals of commands that ran, and attempt counts, wait to share one write. */
export const SAVE_DELAY_MS = 200;
/**
 * All queued files together (as bytes): the file is rewritten whole on every change, and a put
 * queued for many devices carries its bytes once per device.
 */
export const MAX_QUEUED_TOTAL_BYTES = 64 * 1024 * 1024;

export const QueuedAction = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('eval'), code: z.string().max(256 * 1024) }),
  z.object({
    kind: z.literal('put'),
    path: z.string().min(1).max(4096),
    /** The file, base64. */
    data: z.string().max(Math.ceil(MAX_QUEUED_PUT_BYTES / 3) * 4),
    /** Like `sync`: left alone when the device already holds it byte for byte. Absent in older queue files. */
    onlyChanged: z.boolean().optional(),
  }),
  z.object({ kind: z.literal('reset'), mode: z.enum(['normal', 'safe', 'soft', 'hard']) }),
]);
export type QueuedAction = z.infer<typeof QueuedAction>;

const QueuedItem = z.object({
  id: z.string().min(1).max(64),
  /** Which broker profile the device belongs to (the same prefix on another broker is another device). */
  profile: z.string().max(1024),
  prefix: z.string().min(1).max(1024),
  action: QueuedAction,
  /** ms since the epoch. */
  queuedAt: z.number(),
  /** Runs that ended with the device gone or silent. */
  attempts: z.number().int().nonnegative(),
  /** The app's job whose table shows the result, when it came from one. */
  job: z.string().max(64).optional(),
  /** Per run, when the command was queued with its own (a job's per-device timeout). */
  timeoutMs: z.number().int().min(1).max(3_600_000).optional(),
});
export type QueuedItem = z.infer<typeof QueuedItem>;

/** What a command may carry besides its action. */
const QueueOptions = QueuedItem.pick({ job: true, timeoutMs: true }).strict();
export type QueueOptions = z.infer<typeof QueueOptions>;

const QueueFile = z.object({ version: z.literal(1), items: z.array(z.unknown()).max(MAX_ITEMS) });

export interface CommandQueue {
  readonly file: string;
  /** What went wrong reading the file, if anything (the unreadable file is kept beside it). */
  readonly problem?: string;
  /** Items in the order queued, optionally for one profile and/or device. */
  list(filter?: { profile?: string; prefix?: string }): QueuedItem[];
  add(profile: string, prefix: string, action: QueuedAction, opts?: QueueOptions): QueuedItem;
  /** The actions for each prefix, in order, written once: all are queued or none. */
  addMany(profile: string, prefixes: readonly string[], actions: readonly QueuedAction[], opts?: QueueOptions): QueuedItem[];
  /** Removes a command at the user's word: on disk before this returns. */
  remove(id: string): boolean;
  /**
   * Removes a command that has run. Written with the other changes of the next moment (see
   * SAVE_DELAY_MS), not one file write each: a thousand devices waking would otherwise block the
   * host for seconds of disk syncs. A crash in that moment runs the command once more.
   */
  ran(id: string): void;
  /** Writes changes still waiting (`ran`, `failedAttempt`) now. */
  flush(): void;
  /** Records a run that ended with the device gone; returns the attempts so far. */
  failedAttempt(id: string): number;
}

/** Writes the whole file beside itself and renames it over: a crash leaves the old or the new file, never half of one. */
export function writeAtomic(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  chmodSync(file, 0o600);
}

export function openCommandQueue(file: string): CommandQueue {
  let items: QueuedItem[] = [];
  let problem: string | undefined;
  if (existsSync(file)) {
    // Nothing queued is ever lost silently: a file we cannot read whole is kept for the user.
    const keep = (why: string) => {
      const aside = `${file}.unreadable-${Date.now()}`;
      renameSync(file, aside);
      problem = `${why}; the file was kept as ${aside}`;
    };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      keep(`the command queue ${file} is not JSON (${(e as Error).message})`);
    }
    if (!problem) {
      const f = QueueFile.safeParse(parsed);
      if (!f.success) keep(`the command queue ${file} is not a queue file`);
      else {
        const good = f.data.items.map((x) => QueuedItem.safeParse(x));
        items = good.flatMap((g) => (g.success ? [g.data] : []));
        const bad = good.length - items.length;
        if (bad > 0) {
          const aside = `${file}.unreadable-${Date.now()}`;
          writeAtomic(aside, JSON.stringify(parsed));
          problem = `${bad} queued command${bad === 1 ? '' : 's'} in ${file} could not be read; the file as it was is kept as ${aside}`;
        }
      }
    }
  }
  let later: ReturnType<typeof setTimeout> | undefined;
  const save = () => {
    if (later) clearTimeout(later);
    later = undefined;
    writeAtomic(file, JSON.stringify({ version: 1, items }));
  };
  const saveSoon = () => {
    later ??= setTimeout(() => {
      later = undefined;
      try {
        save();
      } catch (e) {
        // The disk refused: the next change or flush tries again; the commands are still in memory.
        console.warn(`mqboard: could not write the command queue ${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }, SAVE_DELAY_MS);
  };
  const queuedBytes = () => items.reduce((n, i) => n + putBytes(i.action), 0);
  function addMany(profile: string, prefixes: readonly string[], actions: readonly QueuedAction[], opts: QueueOptions = {}): QueuedItem[] {
    const parsed = actions.map((a) => QueuedAction.parse(a));
    const count = prefixes.length * parsed.length;
    if (items.length + count > MAX_ITEMS) throw new RangeError(`the command queue is full (at most ${MAX_ITEMS} commands; ${items.length} are queued)`);
    const bytes = prefixes.length * parsed.reduce((n, a) => n + putBytes(a), 0);
    if (bytes > 0 && queuedBytes() + bytes > MAX_QUEUED_TOTAL_BYTES) {
      throw new RangeError(`queued files would take more than ${MAX_QUEUED_TOTAL_BYTES / 1024 / 1024} MiB; queue them for fewer devices or send them when the devices are online`);
    }
    const queuedAt = Date.now();
    const extra = QueueOptions.parse(opts);
    const added = prefixes.flatMap((prefix) =>
      parsed.map((action): QueuedItem => ({ id: randomUUID(), profile, prefix, action, queuedAt, attempts: 0, ...extra })),
    );
    items = [...items, ...added];
    save();
    return added;
  }
  return {
    file,
    get problem() {
      return problem;
    },
    list: (filter) => items.filter((i) => (filter?.profile === undefined || i.profile === filter.profile) && (filter?.prefix === undefined || i.prefix === filter.prefix)),
    add(profile, prefix, action, opts) {
      return addMany(profile, [prefix], [action], opts)[0]!;
    },
    addMany,
    remove(id) {
      const before = items.length;
      items = items.filter((i) => i.id !== id);
      if (items.length === before) return false;
      save();
      return true;
    },
    ran(id) {
      const before = items.length;
      items = items.filter((i) => i.id !== id);
      if (items.length !== before) saveSoon();
    },
    flush() {
      if (later) save();
    },
    failedAttempt(id) {
      let n = 0;
      items = items.map((i) => (i.id === id ? { ...i, attempts: (n = i.attempts + 1) } : i));
      saveSoon();
      return n;
    },
  };
}

/** The bytes a queued put carries (from its base64 length). */
const putBytes = (a: QueuedAction): number => (a.kind === 'put' ? Math.floor((a.data.length * 3) / 4) : 0);

/** A put for the queue: the file travels in the queue file, so it is bounded. */
export function queuedPut(remotePath: string, data: Uint8Array, onlyChanged = false): QueuedAction {
  if (data.length > MAX_QUEUED_PUT_BYTES) throw new RangeError(`a queued put carries at most ${MAX_QUEUED_PUT_BYTES} bytes: ${remotePath} has ${data.length}`);
  return { kind: 'put', path: remotePath, data: Buffer.from(data).toString('base64'), ...(onlyChanged ? { onlyChanged } : {}) };
}

/** A FleetAction as queued commands: a put becomes one command per file, each bounded like queuedPut. */
export function queuedActions(a: FleetAction): QueuedAction[] {
  switch (a.kind) {
    case 'eval':
      return [{ kind: 'eval', code: a.code }];
    case 'reset':
      return [{ kind: 'reset', mode: a.mode }];
    case 'put':
      return a.files.map((f) => queuedPut(f.path, f.data, a.onlyChanged));
  }
}

/** One line for a queued command: the code, the path or the reset mode. */
export function queuedTitle(a: QueuedAction, width = 200): string {
  const text = a.kind === 'eval' ? a.code.replace(/\s*\n\s*/g, ' ⏎ ').trim() : a.kind === 'put' ? a.path : `reset ${a.mode}`;
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** The engine call a queued action stands for; its output is what the results table shows. */
export function queuedDeviceAction(engine: Engine, a: QueuedAction, timeoutMs?: number): DeviceAction {
  switch (a.kind) {
    case 'eval':
      return (prefix, signal) => engine.eval(prefix, a.code, { signal, timeoutMs });
    case 'put':
      // The very put the device would have had online: verified, and skipped when `onlyChanged`
      // finds the file already there byte for byte.
      return putAction(engine, a.path, new Uint8Array(Buffer.from(a.data, 'base64')), timeoutMs, a.onlyChanged === true);
    case 'reset':
      return async (prefix, signal) => {
        await engine.reset(prefix, a.mode, { signal, timeoutMs });
        return `reset ${a.mode}`;
      };
  }
}

export interface QueueRunnerOptions {
  engine: Engine;
  queue: CommandQueue;
  /** The broker profile the engine is connected with: only its items run. */
  profile: string;
  /** Per command; default 30 s. */
  timeoutMs?: number;
  /** Runs that end with the device gone before a command is dropped (and reported); default 3. */
  maxAttempts?: number;
  onStart?: (item: QueuedItem) => void;
  /** The device went away before answering: the command stays queued for its next appearance. */
  onMissed?: (item: QueuedItem, attempts: number) => void;
  /** A command ran (ok or error), or was given up: it has left the queue. */
  onResult?: (item: QueuedItem, result: DeviceResult) => void;
}

export interface QueueRunner {
  /** Runs the device's queued commands now if it is online (call after queueing for it). */
  poke(prefix: string): void;
  /** Resolves once no device is being worked on, with what ran written to the queue file. */
  idle(): Promise<void>;
  /** Stops watching; commands already running finish. */
  stop(): Promise<void>;
}

/** Watches the engine's device list and runs each device's queued commands, in order, when it is online. */
export function startQueueRunner(o: QueueRunnerOptions): QueueRunner {
  const maxAttempts = o.maxAttempts ?? 3;
  const running = new Map<string, Promise<void>>();
  let stopped = false;
  const online = (prefix: string) => o.engine.device(prefix)?.presence === 'online';
  const report = (item: QueuedItem, r: DeviceResult) => {
    try {
      o.onResult?.(item, r);
    } catch {
      // A listener's bug must not stop the queue.
    }
  };

  const drain = async (prefix: string) => {
    for (;;) {
      if (stopped || !online(prefix)) return;
      const item = o.queue.list({ profile: o.profile, prefix })[0];
      if (!item) return;
      const timeoutMs = item.timeoutMs ?? o.timeoutMs;
      const [r] = await runMany([prefix], queuedDeviceAction(o.engine, item.action, timeoutMs), {
        timeoutMs,
        onStart: () => o.onStart?.(item),
      });
      // Gone or silent: it did not get to answer, so it keeps the command for its next appearance.
      const missed = r!.status === 'timeout' || !online(prefix);
      if (missed && r!.status !== 'ok') {
        const attempts = o.queue.failedAttempt(item.id);
        if (attempts < maxAttempts) {
          try {
            o.onMissed?.(item, attempts);
          } catch {
            // A listener's bug must not stop the queue.
          }
          return;
        }
        o.queue.ran(item.id);
        report(item, { ...r!, error: `${r!.error ?? r!.status} (given up after ${attempts} attempts)` });
        continue;
      }
      o.queue.ran(item.id);
      report(item, r!);
    }
  };
  const kick = (prefix: string) => {
    if (stopped || running.has(prefix) || !online(prefix)) return;
    if (o.queue.list({ profile: o.profile, prefix }).length === 0) return;
    const p = drain(prefix)
      .catch(() => undefined)
      .finally(() => {
        running.delete(prefix);
        // Something may have been queued for it, or it came back, while we were busy.
        if (o.queue.list({ profile: o.profile, prefix }).some((i) => i.attempts === 0)) kick(prefix);
      });
    running.set(prefix, p);
  };
  const off = o.engine.on('devices', (changed) => {
    // One pass over the queue per batch, not one per device: a connect lists thousands at once.
    const waiting = new Set(o.queue.list({ profile: o.profile }).map((i) => i.prefix));
    if (waiting.size === 0) return;
    for (const d of changed) if (d.presence === 'online' && waiting.has(d.prefix)) kick(d.prefix);
  });
  for (const item of o.queue.list({ profile: o.profile })) kick(item.prefix);

  /** Also puts what ran on disk, so a queue opened after this sees it gone. */
  const idle = async () => {
    while (running.size > 0) await Promise.all(running.values());
    o.queue.flush();
  };
  return {
    poke: kick,
    idle,
    async stop() {
      stopped = true;
      off();
      await idle();
    },
  };
}

// The host engine: one broker connection, device discovery and state, batched events, and
// commands. Plain Node (the CLI, Electron's main process and web mode all run it).
import { randomBytes } from 'node:crypto';
import {
  commandTopic,
  encodeFrame,
  encodeJson,
  isPublishableTopicPart,
  makeCommandId,
  statusTopic,
  utf8,
  type CrashRecord,
  type FileEntry,
  type ResetMode,
} from '../../../protocol/src';
import { createBatcher } from './batcher';
import { createSessionRegistry } from './command-session';
import { backoffDelay, openConnection, type Connection, type IncomingMessage } from './connection';
import { profileOf, type CommandContext, type DeviceProfile } from './device-profile';
import { classifyTopic, createDeviceRegistry, describeChange, deviceFilters, discoveryFilters, type StatusChange } from './discovery';
import { classifyConnectError, EngineError } from './errors';
import * as files from './file-ops';
import { PROBE_CODE, readProbe } from './original-probe';
import { resetSnippet } from './original-snippets';
import { createTerminals } from './terminal';
import * as transfer from './transfer';
import type { BrokerProfile, CommandOptions, ConnectOptions, ConnectionState, DiscoveryState, Engine, EngineErrorCode, EngineEvents, PutOptions } from './types';

/** Connection failures that may pass by themselves (the broker comes up, the network returns). */
const MAY_PASS: ReadonlySet<EngineErrorCode> = new Set(['refused', 'network', 'dns', 'timeout', 'disconnected']);

export interface EngineOptions {
  /** Event batching interval; default 50 ms. */
  batchMs?: number;
  /** Inactivity timeout for commands; default 60 s like the original CLI. */
  timeoutMs?: number;
  /** Inactivity timeout for ota; default 10 min like the original CLI. */
  otaTimeoutMs?: number;
  /**
   * An original board (no Last Will) counts as online until its feeds or logs stop for this
   * long; default 5 min (the original feeds every timeout/4, at most 75 s).
   */
  originalStaleMs?: number;
  /**
   * Ask an original board whose build the host has not heard (it booted before the host was
   * listening, so its greeting went by) what it runs: one probe per board and connection, a few
   * at a time, when its first feed arrives. The app turns this on; the CLI does not need it.
   */
  probeOriginals?: boolean;
}

/** Probes of original boards in flight at once: each is one eval the board answers in milliseconds. */
const PROBES_AT_ONCE = 4;

/**
 * Discovery, status and log subscriptions use QoS 0. A stock Mosquitto queues at most 1000 QoS 1
 * messages per client (max_queued_messages) and silently drops the rest, retained messages on a
 * fresh subscription included: at QoS 1 a 10,000-device fleet shows up as ~1,020 devices. QoS 0
 * messages to a connected client bypass that queue. Command replies stay QoS 1: their windows
 * keep them far below the limit.
 */
const DISCOVERY_QOS = 0;

type Listeners = { [E in keyof EngineEvents]: Set<EngineEvents[E]> };

/** "connection to the broker … lost", naming the broker once, with the cause when known. */
export function lostMessage(s: ConnectionState): string {
  // A 'disconnected' error is that very sentence already; the others name the broker themselves.
  if (s.error?.code === 'disconnected') return s.error.message;
  if (s.error) return `connection to the broker lost: ${s.error.message}`;
  return `connection to the broker${s.url ? ` ${s.url}` : ''} lost`;
}

/**
 * A device we hear from (its log) but do not know to be online: under load a broker drops
 * QoS 0 messages, its retained status among them, and the device would stay listed as unknown
 * or offline until its next status. Its log proves it is connected, so we ask the broker for
 * its retained status (a QoS 1 subscription to that one topic, dropped again once read). A
 * device whose kind we do not know yet is asked once (an original board has no status); one of
 * ours at most every RECHECK_MS.
 */
const RECHECK_MS = 30_000;
/**
 * A burst of fewer retained messages than this cannot have lost any on a stock Mosquitto (it
 * drops only with 1000 packets queued for us), so it is not read again.
 */
const VERIFY_FROM = 1_000;
const MAX_LIST_PASSES = 3;
/** How long a Last Will waits for the device to resume before its commands fail as offline. */
const LOST_GRACE_MS = 2_000;
const RECHECK_BATCH_MS = 200;

export function createEngine(options: EngineOptions = {}): Engine {
  const batchMs = options.batchMs ?? 50;
  const defaultTimeout = options.timeoutMs ?? 60_000;
  const otaTimeout = options.otaTimeoutMs ?? 600_000;
  const listeners: Listeners = { connection: new Set(), devices: new Set(), logs: new Set(), crashes: new Set(), discovery: new Set() };
  const emit = <E extends keyof EngineEvents>(event: E, ...args: Parameters<EngineEvents[E]>) => {
    for (const fn of listeners[event]) {
      try {
        (fn as (...a: Parameters<EngineEvents[E]>) => void)(...args);
      } catch {
        // A listener's bug must not stop the engine or the other listeners.
      }
    }
  };

  const batcher = createBatcher(batchMs, {
    devices: (c, r) => emit('devices', c, r),
    logs: (l) => emit('logs', l),
    crashes: (p, recs) => emit('crashes', p, recs),
  });
  const registry = createDeviceRegistry(batcher);
  const sessions = createSessionRegistry();
  let conn: Connection | undefined;
  let connState: ConnectionState = { phase: 'idle', since: Date.now() };
  let discoveryState: DiscoveryState = { phase: 'idle', incomplete: false, since: Date.now() };
  const setDiscovery = (s: Omit<DiscoveryState, 'since'>) => {
    discoveryState = { ...s, since: Date.now() };
    emit('discovery', discoveryState);
  };
  /** Per device: its reply subscription (and status) is in place. */
  let ready = new Map<string, Promise<void>>();
  const manual = new Set<string>();
  const staleMs = options.originalStaleMs ?? 300_000;
  /** Original boards asked (or queued) on this connection, the queue, and probes in flight. */
  const probed = new Set<string>();
  const probeQueue: string[] = [];
  let probing = 0;
  const considerProbe = (prefix: string) => {
    const d = registry.get(prefix);
    if (d?.kind !== 'original' || d.firmware !== undefined || probed.has(prefix)) return;
    probed.add(prefix);
    probeQueue.push(prefix);
    pumpProbes();
  };
  const pumpProbes = () => {
    while (probing < PROBES_AT_ONCE && probeQueue.length > 0) {
      const prefix = probeQueue.shift()!;
      probing++;
      // A board that does not answer stays as it was: its next boot greeting names its build.
      void engine
        .probeOriginal(prefix, { timeoutMs: 10_000 })
        .catch(() => undefined)
        .finally(() => {
          probing--;
          pumpProbes();
        });
    }
  };
  let staleTimer: NodeJS.Timeout | undefined;

  /** Retained messages received so far (the discovery listing counts its bursts with it). */
  let retainedSeen = 0;
  const onMessage = (msg: IncomingMessage) => {
    if (msg.retain) retainedSeen++;
    // Every message passes here (20,000 log lines/s): skip the terminal regex when none is open.
    if (terminals.size() > 0 && terminals.onMessage(msg.topic, msg.payload)) return;
    const c = classifyTopic(msg.topic);
    switch (c.kind) {
      case 'reply':
        sessions.dispatch(c.prefix, c.reply, c.id, msg.payload);
        return;
      case 'status': {
        const change = registry.onStatus(c.prefix, msg.payload);
        if (change) deviceGone.onChange(c.prefix, change);
        return;
      }
      case 'crash':
        registry.onCrash(c.prefix, msg.payload);
        return;
      case 'watchdog':
        registry.onWatchdog(c.prefix);
        if (options.probeOriginals) considerProbe(c.prefix);
        return;
      case 'log':
        registry.onLog(c.prefix, msg.payload, listeners.logs.size > 0);
        statusCheck.heard(c.prefix);
        return;
      case 'other':
        return;
    }
  };
  /**
   * Commands in flight to a device whose status says its run ended (shutdown, reset, a new
   * boot) fail now, not after their full timeout: their replies will not come. A Last Will only
   * says the connection dropped: a device that resumes its session within LOST_GRACE_MS (same
   * run) still answers, and one that comes back rebooted (say, its watchdog reset it after an
   * eval blocked it) is reported as reset; otherwise its commands fail as gone offline.
   */
  const deviceGone = (() => {
    const waiting = new Map<string, NodeJS.Timeout>();
    const settle = (prefix: string) => {
      const t = waiting.get(prefix);
      if (t) clearTimeout(t);
      waiting.delete(prefix);
    };
    const fail = (prefix: string, change: StatusChange) => {
      settle(prefix);
      sessions.failDevice(prefix, (what) => new EngineError('device-error', `${what}: ${describeChange(change)}`));
    };
    return {
      onChange(prefix: string, change: StatusChange) {
        if (change.kind === 'back') return settle(prefix);
        // A sleeper saying goodbye as a command reaches it stays awake and says online again:
        // like a lost connection, its offline status may be followed by the reply.
        if (change.kind === 'offline' && (change.reason === 'lost' || change.reason === 'sleep')) {
          if (!waiting.has(prefix)) waiting.set(prefix, setTimeout(() => fail(prefix, change), LOST_GRACE_MS));
          return;
        }
        fail(prefix, change);
      },
      stop() {
        for (const t of waiting.values()) clearTimeout(t);
        waiting.clear();
      },
    };
  })();

  const statusCheck = (() => {
    const asked = new Map<string, number>();
    let pending = new Set<string>();
    let timer: NodeJS.Timeout | undefined;
    const run = async () => {
      timer = undefined;
      const batch = [...pending];
      pending = new Set();
      const c = conn;
      if (!c || connState.phase !== 'connected' || batch.length === 0) return;
      const topics = batch.map(statusTopic);
      try {
        await c.subscribe(topics, 1);
        await c.barrier();
      } finally {
        // A device opened for commands keeps its own subscription to the same topic.
        const drop = topics.filter((_, i) => !ready.has(batch[i]!));
        if (conn === c) await c.unsubscribe(drop).catch(() => undefined);
      }
    };
    return {
      heard(prefix: string) {
        const d = registry.get(prefix);
        if (!d || d.presence === 'online' || d.kind === 'original') return;
        const t = Date.now();
        const last = asked.get(prefix);
        if (last !== undefined && (d.kind === 'unknown' || t - last < RECHECK_MS)) return;
        asked.set(prefix, t);
        pending.add(prefix);
        timer ??= setTimeout(() => void run().catch(() => undefined), RECHECK_BATCH_MS);
      },
      forget(prefix: string) {
        asked.delete(prefix);
      },
      stop() {
        if (timer) clearTimeout(timer);
        timer = undefined;
        pending = new Set();
      },
    };
  })();

  const onState = (s: ConnectionState) => {
    const wasUp = connState.phase === 'connected';
    connState = s;
    if (wasUp && s.phase !== 'connected') {
      // Replies sent while we are away are lost (clean session): fail what is running now.
      const lost = lostMessage(s);
      sessions.failAll(new EngineError('disconnected', lost));
      terminals.onDisconnected(lost);
      registry.markAllUnknown();
      probed.clear();
      probeQueue.length = 0;
    }
    emit('connection', s);
  };

  const live = (): Connection => {
    if (!conn || connState.phase === 'closed' || connState.phase === 'idle') throw new EngineError('not-connected', 'not connected to a broker');
    return conn;
  };
  const ctx = (): CommandContext => ({ conn: live(), sessions });

  function checkPrefix(prefix: string) {
    if (typeof prefix !== 'string' || !prefix || prefix.length > 1024 || !isPublishableTopicPart(prefix) || prefix.startsWith('/') || prefix.endsWith('/')) {
      throw new EngineError('invalid-argument', `not a device prefix: ${JSON.stringify(prefix)}`);
    }
  }

  async function device(prefix: string): Promise<DeviceProfile> {
    checkPrefix(prefix);
    const c = live();
    let p = ready.get(prefix);
    if (!p) {
      p = (async () => {
        // One subscription per device for all its replies, so a command costs no subscribe
        // round trip; its status tells whether it is our runtime and what it can do.
        await c.subscribe([`${prefix}/mqb/reply/#`, statusTopic(prefix)]);
        // A retained status follows the SUBACK; the barrier makes sure we have read it.
        if (!registry.status(prefix)) await c.barrier();
      })();
      ready.set(prefix, p);
      p.catch(() => ready.delete(prefix));
    }
    await p;
    return profileOf(prefix, registry.status(prefix));
  }

  const timeouts = (o: CommandOptions | undefined, dflt = defaultTimeout) => ({ timeoutMs: o?.timeoutMs ?? dflt, signal: o?.signal });
  const checkPath = (path: string, what = 'path') => {
    if (typeof path !== 'string' || path.length === 0 || path.length > 4096 || !isPublishableTopicPart(path)) {
      throw new EngineError('invalid-argument', `invalid ${what}: ${JSON.stringify(path)} (empty, too long, or contains + # or NUL)`);
    }
  };

  const terminals = createTerminals({
    conn: live,
    capable: async (prefix) => {
      await device(prefix);
      return registry.status(prefix)?.capabilities.terminal === true;
    },
  });

  // Retries of a first connection that failed (connect with keepTrying). Every connect and
  // disconnect starts a new generation: an attempt begun in an older one never takes over, and
  // its state changes are not reported.
  let generation = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  const stopRetrying = () => {
    generation++;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = undefined;
  };

  /**
   * Subscribes the discovery filters. Those that bring retained messages (statuses, crash
   * records) go one at a time, each read to the end (barrier) before the next: the broker then
   * queues one burst for us at a time, not the sum of all depths at once. A broker drops QoS 0
   * messages to a client that falls behind (a host starved of CPU, say), so a burst big enough
   * for that to happen is read again, until a re-read finds nobody new; the list says it is
   * incomplete when the last allowed re-read still did.
   */
  async function list(c: Connection, filters: string[], current: () => boolean): Promise<void> {
    const retained = filters.filter((f) => f.endsWith('/mqb/status') || f.endsWith('/mqb/crash'));
    const live = filters.filter((f) => !retained.includes(f));
    const fullBefore = c.readAheadFull();
    setDiscovery({ phase: 'listing', incomplete: false });
    let refused: string | undefined;
    const subscribe = (fs: string[]) =>
      c.subscribe(fs, DISCOVERY_QOS).catch((e: unknown) => {
        // One refused filter (an ACL) must not cost the others; the list says it is partial.
        if (e instanceof EngineError && e.code === 'auth') refused = e.message;
        else throw e;
      });
    let stillFinding: string | undefined;
    for (const f of retained) {
      for (let pass = 1; current(); pass++) {
        const seenBefore = retainedSeen;
        const knownBefore = registry.all().length;
        // Subscribing again makes the broker send every retained message again.
        await subscribe([f]);
        await c.retainedSettled();
        const got = retainedSeen - seenBefore;
        const found = registry.all().length - knownBefore;
        if (got < VERIFY_FROM || (pass > 1 && found === 0)) break;
        if (pass === MAX_LIST_PASSES) {
          stillFinding = `a re-read of ${f} still found ${found} more device(s): the broker drops messages to this host`;
          break;
        }
      }
    }
    await subscribe(live);
    if (!current()) return;
    batcher.flush();
    const behind = c.readAheadFull() > fullBefore;
    const reason = refused ?? stillFinding ?? (behind ? 'the host fell behind the broker while reading the retained statuses; the broker may have dropped some' : undefined);
    setDiscovery({ phase: 'listed', incomplete: reason !== undefined, ...(reason ? { reason } : {}), listed: registry.all().length });
  }

  async function open(profile: BrokerProfile, keepTrying: boolean, attempt: number): Promise<void> {
    const gen = generation;
    const current = () => gen === generation;
    ready = new Map();
    let c: Connection | undefined;
    try {
      // 'connected' is reported once the engine uses the connection (below), not before: a
      // listener may send commands the moment it hears it. A failure that will be retried is
      // reported as 'reconnecting' (below), not first as 'closed'.
      const reported = (s: ConnectionState) =>
        c !== undefined || (s.phase !== 'connected' && !(keepTrying && s.phase === 'closed' && s.error && MAY_PASS.has(s.error.code)));
      c = await openConnection(profile, {
        onMessage: (m) => current() && onMessage(m),
        onState: (s) => current() && reported(s) && onState(s),
      });
    } catch (e) {
      const err = e instanceof EngineError ? e : classifyConnectError(e, profile.url);
      if (!current()) throw err;
      const error = { code: err.code, message: err.message };
      if (keepTrying && MAY_PASS.has(err.code)) {
        const delay = backoffDelay(attempt);
        onState({ phase: 'reconnecting', since: Date.now(), error, retryAt: Date.now() + delay });
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          if (current()) open(profile, true, attempt + 1).catch(() => undefined);
        }, delay);
        retryTimer.unref();
      } else if (connState.phase !== 'closed') onState({ phase: 'closed', since: Date.now(), error });
      throw err;
    }
    if (!current()) {
      await c.close();
      throw new EngineError('cancelled', 'connection attempt replaced by a newer one');
    }
    conn = c;
    if (c.state().phase === 'connected') onState(c.state());
    const filters = [...discoveryFilters(profile.discovery)];
    for (const p of manual) filters.push(...deviceFilters(p));
    await list(conn, filters, current);
    staleTimer ??= setInterval(() => registry.expireSilent(staleMs), Math.max(100, Math.min(30_000, staleMs / 4)));
    staleTimer.unref();
  }

  const engine: Engine = {
    terminals,
    async connect(profile: BrokerProfile, opts?: ConnectOptions) {
      stopRetrying();
      if (conn) await engine.disconnect();
      await open(profile, opts?.keepTrying === true, 0);
    },
    async disconnect() {
      stopRetrying();
      const c = conn;
      conn = undefined;
      ready = new Map();
      if (staleTimer) clearInterval(staleTimer);
      staleTimer = undefined;
      statusCheck.stop();
      deviceGone.stop();
      if (discoveryState.phase !== 'idle') setDiscovery({ phase: 'idle', incomplete: false });
      if (!c) {
        // An attempt in flight or a retry pending: it no longer reports, so say where we are.
        if (connState.phase === 'reconnecting' || connState.phase === 'connecting') onState({ phase: 'closed', since: Date.now() });
        return;
      }
      sessions.failAll(new EngineError('disconnected', 'disconnected from the broker'));
      terminals.onDisconnected('disconnected from the broker');
      await c.close();
      // The connection's own 'closed' belongs to a generation that no longer reports.
      if (connState.phase !== 'closed') onState({ phase: 'closed', url: connState.url, since: Date.now() });
      batcher.flush();
    },
    connection: () => connState,
    discovery: () => discoveryState,
    async settle() {
      await live().retainedSettled();
      batcher.flush();
    },
    on(event, fn) {
      const set = listeners[event] as Set<typeof fn>;
      set.add(fn);
      return () => {
        set.delete(fn);
      };
    },

    devices: () => registry.all(),
    device: (prefix) => registry.get(prefix),
    addDevice(prefix) {
      checkPrefix(prefix);
      const d = registry.addManual(prefix);
      if (!manual.has(prefix)) {
        manual.add(prefix);
        conn?.subscribe(deviceFilters(prefix), DISCOVERY_QOS).catch(() => undefined);
      }
      return d;
    },
    forgetDevice(prefix) {
      registry.forget(prefix);
      statusCheck.forget(prefix);
      if (manual.delete(prefix)) conn?.unsubscribe(deviceFilters(prefix)).catch(() => undefined);
      if (ready.delete(prefix)) conn?.unsubscribe([`${prefix}/mqb/reply/#`]).catch(() => undefined);
    },
    crashes: (prefix): CrashRecord[] => registry.crashes(prefix),

    async eval(prefix, code, opts) {
      const dev = await device(prefix);
      return transfer.evalText(ctx(), dev.prefix, code, timeouts(opts));
    },
    async probeOriginal(prefix, opts) {
      const dev = await device(prefix);
      const sentAt = Date.now();
      const out = await transfer.evalText(ctx(), dev.prefix, PROBE_CODE, timeouts(opts));
      const facts = readProbe(out, sentAt, Date.now());
      registry.onProbe(dev.prefix, facts);
      return facts;
    },
    async get(prefix, path, opts?: PutOptions) {
      checkPath(path);
      const dev = await device(prefix);
      // One stat round trip gives progress its total and lets the reply land in one buffer.
      let size: number | undefined;
      if (dev.native && dev.commands.has('stat')) {
        size = (await files.stat(ctx(), dev, path, timeouts(opts))).size;
      }
      return transfer.get(ctx(), dev, path, { ...timeouts(opts), chunk: opts?.chunk, onProgress: opts?.onProgress, size });
    },
    async put(prefix, path, data, opts?: PutOptions) {
      checkPath(path);
      const dev = await device(prefix);
      let want: string;
      try {
        want = await transfer.put(ctx(), dev, path, data, { ...timeouts(opts), chunk: opts?.chunk, onProgress: opts?.onProgress, expectSha256: opts?.expectSha256 });
      } catch (e) {
        if (!(e instanceof EngineError) || e.code !== 'timeout' || !dev.native) throw e;
        // Our runtime renames only after checking size and hash, so a put whose final reply
        // was lost may well have been committed: the file's hash tells, not the silence.
        const sent = opts?.expectSha256?.toLowerCase() ?? transfer.sha256Of(data);
        const got = await files.sha256(ctx(), dev, path, timeouts(opts)).catch(() => undefined);
        if (got === sent) return;
        throw e;
      }
      if (!dev.native) {
        // The original board writes in place and checks nothing: read the hash back (SHA-256
        // snippet) so a broken upload is reported, not discovered later. Our runtime already
        // verified size and hash before renaming, and its OK says so.
        const got = await files.sha256(ctx(), dev, path, timeouts(opts));
        if (got !== want) throw new EngineError('verify-failed', `put ${path} on ${prefix}: the board has sha256 ${got}, sent ${want}`);
      }
    },
    async ota(prefix, image, opts?: PutOptions) {
      const dev = await device(prefix);
      return transfer.ota(ctx(), dev, image, { ...timeouts(opts, otaTimeout), chunk: opts?.chunk, onProgress: opts?.onProgress, expectSha256: opts?.expectSha256 });
    },
    async ls(prefix, path, opts): Promise<FileEntry[]> {
      const dev = await device(prefix);
      return files.ls(ctx(), dev, path, opts?.recursive === true, timeouts(opts));
    },
    async stat(prefix, path, opts) {
      checkPath(path);
      return files.stat(ctx(), await device(prefix), path, timeouts(opts));
    },
    async sha256(prefix, path, opts) {
      checkPath(path);
      return files.sha256(ctx(), await device(prefix), path, timeouts(opts));
    },
    async hashDir(prefix, dir, opts) {
      const m = await files.hashDir(ctx(), await device(prefix), dir || '.', timeouts(opts));
      return Object.fromEntries(m);
    },
    async rm(prefix, path, opts) {
      checkPath(path);
      await files.rm(ctx(), await device(prefix), path, opts?.recursive === true, timeouts(opts));
    },
    async mkdir(prefix, path, opts) {
      checkPath(path);
      await files.mkdir(ctx(), await device(prefix), path, opts?.parents === true, timeouts(opts));
    },
    async rmdir(prefix, path, opts) {
      checkPath(path);
      await files.rmdir(ctx(), await device(prefix), path, opts?.recursive === true, timeouts(opts));
    },
    async mv(prefix, from, to, opts) {
      checkPath(from, 'source path');
      checkPath(to, 'destination path');
      await files.mv(ctx(), await device(prefix), from, to, timeouts(opts));
    },
    async reset(prefix, mode: ResetMode, opts) {
      const dev = await device(prefix);
      const c = ctx();
      if (mode === 'hard') {
        // A hard reset never replies (the board is gone before it could): done once the broker has it.
        const id = makeCommandId((n) => randomBytes(n));
        if (dev.native && dev.commands.has('reset')) {
          await c.conn.publish(commandTopic(prefix, 'reset', id), encodeFrame(0, true, encodeJson({ mode })));
        } else {
          await c.conn.publish(commandTopic(prefix, 'eval', id), encodeFrame(0, true, utf8(resetSnippet(mode))));
        }
        return;
      }
      if (dev.native && dev.commands.has('reset')) {
        await transfer.simpleCommand(c, prefix, 'reset', '', encodeJson({ mode }), timeouts(opts));
      } else {
        await transfer.evalText(c, prefix, resetSnippet(mode), timeouts(opts));
      }
    },
  };
  return engine;
}


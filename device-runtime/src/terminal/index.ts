// The device's terminal server (docs/protocol.md, "Terminal sessions"): interactive REPL
// sessions on `P/mqb/term/<sid>/in|out|ctl|evt`, one handler per control op behind one switch.
// Handlers never await their own publishes: they run inside mqtt.js's message pipeline, whose
// PUBACKs they would be waiting for (see dispatch.ts).
import type vm from 'node:vm';
import {
  decodeFrame,
  DEFAULT_TERM_WINDOW,
  encodeJson,
  parseTermTopic,
  decodeTermControl,
  type TermControl,
  termSeqVerdict,
  nextTermSeq,
  termTopic,
  type TermEvent,
} from '../../../protocol/src';
import { errorMessage } from '../errors';
import type { Logger } from '../log';
import { createGuard, startInterruptWorker, type Guard, type InterruptWorker } from './interrupt';
import { createFlowOutput, type FlowOutput } from './output';
import { openRepl, type ReplSession } from './session';

export interface TerminalServerOptions {
  prefix: string;
  /** The device's eval context: the REPL shares its globals with the `eval` command. */
  context: vm.Context;
  /** For the interrupt helper's own connection (same broker and credentials as the device). */
  broker: { url: string; username?: string; password?: string; ca?: string; clientId: string };
  maxChunk: number;
  /** Publishes at QoS 1 without waiting for the PUBACK. */
  send(topic: string, payload: Uint8Array): void;
  log: Logger;
  maxSessions?: number;
  /** Idle sessions (no input or control at all) are closed after this long; default 1 h. */
  idleMs?: number;
  /**
   * Backstop for one synchronous evaluation, the same limit the `eval` command has. Ctrl-C is
   * the way to stop a loop; the limit covers what Ctrl-C cannot reach: a device in the same
   * process as its broker (the app's demo fleet), where a busy loop also stops the broker that
   * would carry the interrupt, and Windows, which has no signals.
   */
  evalTimeoutMs?: number;
  /**
   * Pushes published messages onto the wire now. mqtt-packet corks the socket until the next
   * tick, and a busy evaluation holds that tick back: without this, the echo of the line and
   * what it prints would only leave once it ends.
   */
  flushNow?: () => void;
}

export interface TerminalServer {
  /** Filters the device subscribes to, next to its command subscription. */
  readonly subscriptions: string[];
  handles(topic: string): boolean;
  onMessage(topic: string, payload: Uint8Array): void;
  closeAll(reason: string): Promise<void>;
  /** Open sessions (tests). */
  size(): number;
}

interface Live {
  sid: string;
  slot: number;
  repl: ReplSession;
  out: FlowOutput;
  expectIn: number;
  idle: NodeJS.Timeout;
  /** Last input or control message (ms since the epoch). */
  active: number;
}

/** Output frames stay well under a board's chunk size; latency matters more than overhead here. */
const OUT_CHUNK = 16 * 1024;
/** How much output may queue beyond the window before it is dropped (see output.ts). */
const OUT_CAP = 1024 * 1024;

export function createTerminalServer(o: TerminalServerOptions): TerminalServer {
  const sessions = new Map<string, Live>();
  const guard: Guard = createGuard();
  let worker: InterruptWorker | undefined;
  /** Whether interrupts arrive through the worker; if it could not start, through our own client. */
  let workerOk = false;
  let nextSlot = 1;
  const maxSessions = o.maxSessions ?? 4;
  const idleMs = o.idleMs ?? 3_600_000;
  const told = new Set<string>();

  const evt = (sid: string, e: TermEvent) => o.send(termTopic(o.prefix, sid, 'evt'), encodeJson(e));

  const ensureWorker = async (): Promise<void> => {
    if (worker) return worker.ready.catch(() => undefined);
    worker = startInterruptWorker({
      ...o.broker,
      clientId: `${o.broker.clientId}/term`.slice(0, 64),
      filter: `${o.prefix}/mqb/term/+/ctl`,
      state: guard.state,
      onInterrupt: (sid) => sessions.get(sid)?.repl.interrupt(),
      onError: (m) => o.log.warn(`terminal interrupt helper: ${m}`),
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([worker.ready, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no broker connection within 10 s')), 10_000)))]);
      workerOk = true;
    } catch (e) {
      workerOk = false;
      o.log.warn(`terminal: no interrupt helper (${errorMessage(e)}); Ctrl-C cannot stop a busy loop`);
    } finally {
      clearTimeout(timer);
    }
  };

  const end = (s: Live, reason: string) => {
    if (sessions.get(s.sid) !== s) return;
    sessions.delete(s.sid);
    clearTimeout(s.idle);
    worker?.remove(s.sid);
    s.repl.close();
    // After the output already queued for this turn (the REPL's last words), not before it.
    setImmediate(() => {
      s.out.dispose();
      evt(s.sid, { op: 'closed', reason });
    });
    o.log.info(`terminal ${s.sid} closed: ${reason}`);
    if (sessions.size === 0 && worker) {
      const w = worker;
      worker = undefined;
      workerOk = false;
      void w.stop();
    }
  };

  const touch = (s: Live) => {
    s.active = Date.now();
    clearTimeout(s.idle);
    s.idle = setTimeout(() => end(s, 'idle'), idleMs);
    s.idle.unref();
  };

  const open = async (sid: string, c: Extract<TermControl, { op: 'open' }>) => {
    const window = c.window ?? DEFAULT_TERM_WINDOW;
    if (sessions.has(sid)) return evt(sid, { op: 'opened', window }); // a redelivered open
    if (sessions.size >= maxSessions) {
      // A host that went away (a closed window, a reload) never says goodbye: rather than
      // refusing the newcomer, the session quiet for longest makes room.
      const oldest = [...sessions.values()].sort((a, b) => a.active - b.active)[0]!;
      end(oldest, 'replaced by a newer session');
    }
    await ensureWorker();
    const slot = nextSlot;
    nextSlot = nextSlot >= 0x1fffffff ? 1 : nextSlot + 1;
    const out = createFlowOutput({ window, chunk: Math.min(OUT_CHUNK, o.maxChunk), cap: OUT_CAP, publish: (f) => o.send(termTopic(o.prefix, sid, 'out'), f) });
    // eslint-disable-next-line prefer-const -- the REPL's exit callback needs the session it belongs to
    let live: Live;
    const r = openRepl({
      context: o.context,
      guard,
      slot,
      cols: c.cols,
      rows: c.rows,
      timeoutMs: o.evalTimeoutMs ?? 30_000,
      write: (d) => out.write(d),
      flush: () => {
        out.flush();
        o.flushNow?.();
      },
      onExit: () => end(live, 'exit'),
    });
    live = { sid, slot, repl: r, out, expectIn: 0, idle: setTimeout(() => undefined, 0), active: Date.now() };
    sessions.set(sid, live);
    worker?.add(sid, slot);
    touch(live);
    o.log.info(`terminal ${sid} opened (${c.cols}x${c.rows})`);
    evt(sid, { op: 'opened', window });
  };

  const control = (sid: string, payload: Uint8Array) => {
    const parsed = decodeTermControl(payload);
    if (!parsed.ok) return evt(sid, { op: 'error', message: `bad control message: ${parsed.error}` });
    const c = parsed.value;
    if (c.op === 'open') {
      open(sid, c).catch((e: unknown) => {
        o.log.error(`terminal ${sid}: ${errorMessage(e)}`);
        evt(sid, { op: 'error', message: errorMessage(e) });
        evt(sid, { op: 'closed', reason: 'open failed' });
      });
      return;
    }
    const s = sessions.get(sid);
    if (!s) return unknown(sid);
    touch(s);
    switch (c.op) {
      case 'resize':
        return s.repl.resize(c.cols, c.rows);
      case 'interrupt':
        // The worker reads the same message on its own connection and delivers it even while
        // this thread is busy; only without it is ours the one to act on.
        if (!workerOk) s.repl.interrupt();
        return;
      case 'ack':
        return s.out.ack(c.bytes);
      case 'close':
        return end(s, 'closed by host');
    }
  };

  /** Input or control for a session this boot never opened (e.g. the device restarted): say so once. */
  const unknown = (sid: string) => {
    if (told.has(sid)) return;
    told.add(sid);
    if (told.size > 256) told.delete(told.values().next().value!);
    evt(sid, { op: 'closed', reason: 'no such session (the device may have restarted)' });
  };

  const input = (sid: string, payload: Uint8Array) => {
    const s = sessions.get(sid);
    if (!s) return unknown(sid);
    const f = decodeFrame(payload);
    if (!f.ok) return;
    const v = termSeqVerdict(s.expectIn, f.value.seq);
    if (v === 'duplicate') return;
    if (v === 'gap') {
      evt(sid, { op: 'error', message: `input message missing (expected seq ${s.expectIn}, got ${f.value.seq})` });
      return end(s, 'input lost');
    }
    s.expectIn = nextTermSeq(s.expectIn);
    touch(s);
    s.repl.input(f.value.body);
  };

  return {
    subscriptions: [termTopic(o.prefix, '+', 'in'), termTopic(o.prefix, '+', 'ctl')],
    handles: (topic) => {
      const t = parseTermTopic(o.prefix, topic);
      return t !== undefined && (t.dir === 'in' || t.dir === 'ctl');
    },
    onMessage(topic, payload) {
      const t = parseTermTopic(o.prefix, topic);
      if (!t) return;
      try {
        if (t.dir === 'ctl') control(t.sid, payload);
        else if (t.dir === 'in') input(t.sid, payload);
      } catch (e) {
        // A terminal fault is the session's problem, never the device's.
        o.log.error(`terminal ${t.sid}: ${errorMessage(e)}`);
      }
    },
    async closeAll(reason) {
      for (const s of [...sessions.values()]) end(s, reason);
      const w = worker;
      worker = undefined;
      await w?.stop();
    },
    size: () => sessions.size,
  };
}

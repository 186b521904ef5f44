// Interactive terminal sessions on devices with the `terminal` capability (docs/protocol.md,
// "Terminal sessions"): open, keystrokes, resize, interrupt, close, and output delivered to one
// listener per session with acknowledgements. The caller acks what it has *consumed* (the
// renderer: what xterm has written), and the ack goes to the device as is, so a flood is held
// back at the device by the window, end to end, and piles up neither here nor in the UI.
// Original boards have no terminal: the UI runs a line-mode REPL over `eval` instead.
import { randomBytes } from 'node:crypto';
import { TextDecoder } from 'node:util';
import {
  decodeFrame,
  DEFAULT_TERM_WINDOW,
  encodeFrame,
  encodeJson,
  nextTermSeq,
  decodeTermEvent,
  neutraliseControls,
  termSeqVerdict,
  termTopic,
  type TermControl,
} from '../../../protocol/src';
import type { Connection } from './connection';
import { EngineError } from './errors';

export interface TerminalListener {
  /** Output as text (UTF-8 decoded across frames) and how many device bytes it stands for. */
  onData(data: string, bytes: number): void;
  /** The session is over: the REPL exited, the host closed it, the device or broker went away. */
  onEnd(reason: string): void;
}

export interface TerminalOpenOptions {
  cols: number;
  rows: number;
  /** Output bytes the device may send ahead of our acks; default DEFAULT_TERM_WINDOW. */
  window?: number;
  /** How long to wait for the device to open the session; default 15 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface TerminalInfo {
  id: string;
  prefix: string;
  window: number;
}

export interface Terminals {
  open(prefix: string, opts: TerminalOpenOptions, listener: TerminalListener): Promise<TerminalInfo>;
  /** Keystrokes (or pasted text), in order. */
  write(id: string, data: string): Promise<void>;
  resize(id: string, cols: number, rows: number): Promise<void>;
  /** Ctrl-C: stops the running evaluation, even a busy loop, without a device reset. */
  interrupt(id: string): Promise<void>;
  /** The total number of output bytes consumed so far. */
  ack(id: string, total: number): Promise<void>;
  close(id: string): Promise<void>;
  /** Routes an incoming message; false when it is not for a session of ours. */
  onMessage(topic: string, payload: Uint8Array): boolean;
  /** The broker connection dropped: the sessions' messages are lost with it, so they end. */
  onDisconnected(reason: string): void;
  size(): number;
}

export interface TerminalDeps {
  /** The live broker connection (throws when not connected). */
  conn(): Connection;
  /** Resolves once the device's status is known; false if it serves no terminal sessions. */
  capable(prefix: string): Promise<boolean>;
}

interface Live {
  id: string;
  prefix: string;
  listener: TerminalListener;
  expectOut: number;
  seqIn: number;
  delivered: number;
  decoder: TextDecoder;
  /** Publishes in order, one after the other. */
  chain: Promise<void>;
  opened?: (window: number) => void;
  failed?: (e: EngineError) => void;
}

/** Keystroke frames; a paste larger than this is split. */
const IN_CHUNK = 4096;
const TAIL = /\/mqb\/term\/([A-Za-z0-9_-]{1,32})\/(out|evt)$/;

export function createTerminals(deps: TerminalDeps): Terminals {
  const sessions = new Map<string, Live>();

  const filters = (s: { prefix: string; id: string }) => [termTopic(s.prefix, s.id, 'out'), termTopic(s.prefix, s.id, 'evt')];

  const finish = (s: Live, reason: string, err?: EngineError) => {
    if (sessions.get(s.id) !== s) return;
    sessions.delete(s.id);
    const rest = s.decoder.decode();
    if (rest) s.listener.onData(rest, 0);
    if (s.failed && err) s.failed(err);
    else s.failed?.(new EngineError('device-error', `terminal on ${s.prefix}: ${reason}`));
    try {
      deps.conn().unsubscribe(filters(s)).catch(() => undefined);
    } catch {
      // Not connected: the subscription went with the connection.
    }
    s.listener.onEnd(reason);
  };

  const get = (id: string): Live => {
    const s = sessions.get(id);
    if (!s) throw new EngineError('invalid-argument', `no terminal session ${id}`);
    return s;
  };

  const send = (s: Live, dir: 'in' | 'ctl', payload: Uint8Array): Promise<void> => {
    const conn = deps.conn();
    const p = s.chain.then(() => conn.publish(termTopic(s.prefix, s.id, dir), payload));
    s.chain = p.catch(() => undefined);
    return p;
  };
  const control = (s: Live, c: TermControl) => send(s, 'ctl', encodeJson(c));

  const onOut = (s: Live, payload: Uint8Array) => {
    const f = decodeFrame(payload);
    if (!f.ok) return finish(s, `bad output frame: ${f.error}`);
    const v = termSeqVerdict(s.expectOut, f.value.seq);
    if (v === 'duplicate') return;
    if (v === 'gap') {
      void control(s, { op: 'close' }).catch(() => undefined);
      return finish(s, `output message missing (expected seq ${s.expectOut}, got ${f.value.seq})`);
    }
    s.expectOut = nextTermSeq(s.expectOut);
    const body = f.value.body;
    s.delivered += body.length;
    s.listener.onData(s.decoder.decode(body, { stream: true }), body.length);
  };

  const onEvt = (s: Live, payload: Uint8Array) => {
    // Capped before parsing; an event that does not decode is dropped like any stray message.
    const e = decodeTermEvent(payload);
    if (!e.ok) return;
    switch (e.value.op) {
      case 'opened':
        s.opened?.(e.value.window);
        return;
      case 'error':
        // The device's words inside our colours: its own escape sequences are shown, not obeyed.
        s.listener.onData(`\r\n\x1b[31m${neutraliseControls(e.value.message, { multiline: false })}\x1b[0m\r\n`, 0);
        return;
      case 'closed':
        return finish(s, e.value.reason);
    }
  };

  return {
    async open(prefix, opts, listener) {
      if (!(await deps.capable(prefix))) throw new EngineError('not-supported', `${prefix} has no terminal (use eval)`);
      const conn = deps.conn();
      let id = randomBytes(9).toString('base64url');
      while (sessions.has(id)) id = randomBytes(9).toString('base64url');
      const s: Live = { id, prefix, listener, expectOut: 0, seqIn: 0, delivered: 0, decoder: new TextDecoder('utf-8'), chain: Promise.resolve() };
      const window = opts.window ?? DEFAULT_TERM_WINDOW;
      const timeoutMs = opts.timeoutMs ?? 15_000;
      // Listening before asking: the prompt may come before `opened` (different topics).
      await conn.subscribe(filters(s));
      sessions.set(id, s);
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => s.failed?.(new EngineError('cancelled', `terminal on ${prefix}: cancelled`));
      try {
        const got = await new Promise<number>((resolve, reject) => {
          s.opened = resolve;
          s.failed = reject;
          timer = setTimeout(() => reject(new EngineError('timeout', `terminal on ${prefix}: no answer for ${timeoutMs / 1000} s`)), timeoutMs);
          opts.signal?.addEventListener('abort', onAbort, { once: true });
          control(s, { op: 'open', cols: opts.cols, rows: opts.rows, window }).catch((e: unknown) => reject(e));
        });
        return { id, prefix, window: got };
      } catch (e) {
        if (sessions.get(id) === s) {
          void control(s, { op: 'close' }).catch(() => undefined);
          sessions.delete(id);
          conn.unsubscribe(filters(s)).catch(() => undefined);
        }
        throw e;
      } finally {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        s.opened = undefined;
        s.failed = undefined;
      }
    },
    async write(id, data) {
      const s = get(id);
      const bytes = Buffer.from(data, 'utf8');
      let last: Promise<void> = Promise.resolve();
      for (let i = 0; i < bytes.length; i += IN_CHUNK) {
        last = send(s, 'in', encodeFrame(s.seqIn, false, bytes.subarray(i, i + IN_CHUNK)));
        s.seqIn = nextTermSeq(s.seqIn);
      }
      await last;
    },
    resize: (id, cols, rows) => control(get(id), { op: 'resize', cols, rows }),
    // Not behind the session's chain: a device busy in a loop may never acknowledge what went
    // just before (a MicroPython board cannot while Python runs), and the interrupt is what ends that.
    interrupt: (id) => {
      const s = get(id);
      return deps.conn().publish(termTopic(s.prefix, s.id, 'ctl'), encodeJson({ op: 'interrupt' } satisfies TermControl));
    },
    async ack(id, total) {
      const s = get(id);
      // The device ignores an ack beyond what it sent; clamp so a confused caller cannot stall it.
      await control(s, { op: 'ack', bytes: Math.min(total, s.delivered) });
    },
    async close(id) {
      const s = sessions.get(id);
      if (!s) return;
      try {
        await control(s, { op: 'close' });
      } finally {
        finish(s, 'closed');
      }
    },
    onMessage(topic, payload) {
      const m = TAIL.exec(topic);
      if (!m) return false;
      const s = sessions.get(m[1]!);
      if (!s || topic !== termTopic(s.prefix, s.id, m[2] as 'out' | 'evt')) return false;
      if (m[2] === 'out') onOut(s, payload);
      else onEvt(s, payload);
      return true;
    },
    onDisconnected(reason) {
      for (const s of [...sessions.values()]) finish(s, reason, new EngineError('disconnected', reason));
    },
    size: () => sessions.size,
  };
}

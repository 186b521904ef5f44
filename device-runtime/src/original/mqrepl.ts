// The original board's MQTT REPL (tve/mqboard mqrepl/mqrepl.py), reproduced message for message:
// the topic split, the dup rule after start, the Dispatch log, the four commands and the exact
// error texts. Replies go out without awaiting (the original uses loop.create_task), except the
// get stream, which awaits each PUBACK before reading the next chunk.
import fs from 'node:fs';
import { replyErrTopic, replyOutTopic, utf8, type Level } from '../../../protocol/src';
import { InterpreterGone, type PythonHost } from './python-host';
import { EspError, OtaSession, ProtocolError, type Partitions } from './ota';

/** Data bytes per streamed `get` chunk (the original's BUFLEN = 2 * PKTLEN). */
export const BUFLEN = 2800;
const ERR_SINGLEMSG = 'only single message supported';
const SINGLE = new Uint8Array([0xff, 0xff]);

export interface ReplDeps {
  prefix: string;
  python: PythonHost;
  partitions: Partitions;
  /** QoS 1 publish; resolves on PUBACK. */
  publish(topic: string, payload: Uint8Array): Promise<void>;
  log(level: Level, name: string, text: string): void;
}

/** A non-ValueError exception on the board: traceback text on reply/err. */
class BoardException extends Error {
  constructor(readonly short: string, readonly traceback: string) {
    super(short);
  }
}

type Reply = Uint8Array | string | null | { stream: number };

const NODE_ERRNO: Record<string, number> = { ENOENT: 2, EIO: 5, EBADF: 9, EACCES: 13, EEXIST: 17, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENOSPC: 28 };

/** A Node fs error as the board would print it: `OSError: [Errno 2] ENOENT`. */
function osError(e: unknown): BoardException {
  const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : 'EIO';
  const short = `[Errno ${NODE_ERRNO[code] ?? 5}] ${code in NODE_ERRNO ? code : 'EIO'}`;
  return new BoardException(short, `Traceback (most recent call last):\nOSError: ${short}\n`);
}

/** Python's `s.split('/', 2)`: at most three parts, the last keeps its slashes. */
function split2(s: string): string[] {
  const a = s.indexOf('/');
  if (a < 0) return [s];
  const b = s.indexOf('/', a + 1);
  return b < 0 ? [s.slice(0, a), s.slice(a + 1)] : [s.slice(0, a), s.slice(a + 1, b), s.slice(b + 1)];
}

export class MQRepl {
  private readonly topic: string;
  /** Set by the first non-dup command: until then redelivered (dup) commands are skipped. */
  private ndup = false;
  private putFd: number | null = null;
  private putSeq: number | null = null;
  private ota: OtaSession | null = null;

  constructor(private readonly d: ReplDeps) {
    this.topic = `${d.prefix}/mqb/`;
  }

  /** Handles one incoming message; resolves when the board would ack it (handler returned). */
  async onMessage(topic: string, msg: Uint8Array, dup: boolean): Promise<void> {
    const lt = this.topic.length;
    if (!topic.startsWith(this.topic) || topic.slice(lt, lt + 4) !== 'cmd/' || msg.length < 2) return;
    // A command that crashed the board is redelivered as a dup after the restart: skip those.
    if (dup && !this.ndup) return;
    this.ndup = true;
    const parts = split2(topic.slice(lt + 4));
    if (parts.length < 2) return;
    const [cmd, ident, name] = parts as [string, string, string | undefined];
    const rtopic = replyOutTopic(this.d.prefix, ident);
    const errtopic = replyErrTopic(this.d.prefix, ident);
    if (!['eval', 'get', 'put', 'ota'].includes(cmd)) {
      this.fire(errtopic, utf8(`Command '${cmd}' not supported`));
      return;
    }
    const seq = ((msg[0]! & 0x7f) << 8) | msg[1]!;
    const last = (msg[0]! & 0x80) !== 0;
    const body = msg.subarray(2);
    // The original logs only some dispatches so streamed transfers do not flood the log.
    if (seq < 4 || last || (seq & 0xf) === 0) {
      this.d.log('I', 'mqrepl', `Dispatch ${cmd}, msglen=${body.length} seq=${seq} last=${last ? 'True' : 'False'} id=${ident} dup=${dup ? 1 : 0}`);
    }
    try {
      const resp = await this.dispatch(cmd, name, body, seq, last);
      if (resp === null) return;
      if (typeof resp === 'object' && 'stream' in resp) {
        void this.sendStream(rtopic, resp.stream);
        return;
      }
      const bytes = typeof resp === 'string' ? utf8(resp) : resp;
      const out = new Uint8Array(2 + bytes.length);
      out.set(SINGLE);
      out.set(bytes, 2);
      this.fire(rtopic, out);
    } catch (e) {
      if (e instanceof InterpreterGone) return; // the board reset mid-command: no reply, ever
      if (e instanceof ProtocolError) {
        this.fire(errtopic, utf8(`MQRepl protocol error ${cmd}: ${e.message}`));
        return;
      }
      const be =
        e instanceof BoardException
          ? e
          : e instanceof EspError
            ? new BoardException(e.message, `Traceback (most recent call last):\nOSError: ${e.message}\n`)
            : new BoardException(String(e), `Traceback (most recent call last):\n${e instanceof TypeError ? 'TypeError' : 'Exception'}: ${e instanceof Error ? e.message : String(e)}\n`);
      this.d.log('W', 'mqrepl', `Exception in ${cmd}: ${be.short}`);
      this.fire(errtopic, utf8(be.traceback));
    }
  }

  /** The board is going down: drop transfer state (RAM) but leave files as they are on flash. */
  close(): void {
    if (this.putFd !== null) fs.closeSync(this.putFd);
    this.putFd = null;
    this.ota?.abort();
    this.ota = null;
  }

  private fire(topic: string, payload: Uint8Array): void {
    this.d.publish(topic, payload).catch(() => undefined);
  }

  private dispatch(cmd: string, name: string | undefined, body: Uint8Array, seq: number, last: boolean): Promise<Reply> | Reply {
    switch (cmd) {
      case 'eval':
        return this.doEval(body, seq, last);
      case 'get':
        return this.doGet(name, seq, last);
      case 'put':
        return this.doPut(name, body, seq, last);
      default:
        return this.doOta(name, body, seq, last);
    }
  }

  private async doEval(body: Uint8Array, seq: number, last: boolean): Promise<Reply> {
    if (seq !== 0 || !last) throw new ProtocolError(ERR_SINGLEMSG);
    const r = await this.d.python.eval(Buffer.from(body).toString('utf8'));
    if (r.ok) return r.out;
    if (r.kind === 'value') throw new ProtocolError(r.msg);
    throw new BoardException(r.short, r.text);
  }

  /** Maps a board path into the root through the interpreter (one confinement rule, one cwd). */
  private async hostPath(name: string | undefined): Promise<string> {
    if (name === undefined) throw new BoardException("can't convert NoneType to str", "Traceback (most recent call last):\nTypeError: can't convert NoneType to str\n");
    const r = await this.d.python.hostPath(name);
    if (r.ok) return r.host;
    if (r.kind === 'value') throw new ProtocolError(r.msg);
    throw new BoardException(r.short, r.text);
  }

  private async doGet(name: string | undefined, seq: number, last: boolean): Promise<Reply> {
    if (seq !== 0 || !last) throw new ProtocolError(ERR_SINGLEMSG);
    const host = await this.hostPath(name);
    let fd: number;
    try {
      fd = fs.openSync(host, 'r');
    } catch (e) {
      throw osError(e);
    }
    // Linux opens directories for reading; the board's filesystem refuses them.
    if (fs.fstatSync(fd).isDirectory()) {
      fs.closeSync(fd);
      throw osError({ code: 'EISDIR' });
    }
    return { stream: fd };
  }

  // In place, no hash, no acks: exactly the original's weakness (a broken transfer leaves a
  // truncated file under the real name).
  private async doPut(name: string | undefined, body: Uint8Array, seq: number, last: boolean): Promise<Reply> {
    if (seq === 0) {
      const host = await this.hostPath(name);
      if (this.putFd !== null) fs.closeSync(this.putFd);
      this.putFd = null;
      try {
        this.putFd = fs.openSync(host, 'w');
      } catch (e) {
        throw osError(e);
      }
      this.putSeq = 1;
    } else if (this.putSeq === null || this.putFd === null) {
      throw new ProtocolError('missing first message');
    } else if (seq < this.putSeq) {
      return null; // duplicate
    } else if (seq > this.putSeq) {
      throw new ProtocolError(`message missing: ${seq} vs. ${this.putSeq}`);
    } else {
      this.putSeq++;
    }
    try {
      fs.writeSync(this.putFd, body);
    } catch (e) {
      throw osError(e);
    }
    if (!last) return null;
    fs.closeSync(this.putFd);
    this.putFd = null;
    this.putSeq = null;
    return 'OK';
  }

  private doOta(sha: string | undefined, body: Uint8Array, seq: number, last: boolean): Reply {
    if (seq === 0) {
      this.ota?.abort();
      this.ota = new OtaSession(this.d.partitions, (t) => this.d.log('W', 'mqrepl', t));
    }
    if (this.ota === null) return null; // no session and not seq 0: the original ignores it
    const ret = this.ota.handle(sha, body, seq, last);
    // Only reached without an exception, like the original: a failed finish keeps the dead session.
    if (last) this.ota = null;
    return ret;
  }

  /** The original's _send_stream: 2800-byte chunks, each PUBACK awaited, then an empty last. */
  private async sendStream(topic: string, fd: number): Promise<void> {
    const buf = Buffer.alloc(2 + BUFLEN);
    let seq = 0;
    try {
      for (;;) {
        const n = fs.readSync(fd, buf, 2, BUFLEN, null);
        const last = n === 0;
        buf.writeUInt16BE(((last ? 1 : 0) << 15) | (seq & 0x7fff), 0);
        // Copy: mqtt.js may hold the payload while it waits for the connection.
        await this.d.publish(topic, Uint8Array.prototype.slice.call(buf, 0, 2 + n));
        if (last) return;
        seq++;
      }
    } catch {
      // connection or board gone mid-stream: the host times out, as with a real board
    } finally {
      fs.closeSync(fd);
    }
  }
}

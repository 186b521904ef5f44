// The bridge contract's terminal part: operations on a device's
// terminal session and the batched `terminal` event stream that carries its output. Hooked into
// bridge.ts's `operations` and `BridgeEvent`; kept here so the REPL's contract reads in one place.
//
// Flow control crosses the bridge unchanged: the renderer acks the device bytes xterm has
// consumed (write callbacks), the host forwards the total to the device, and the device never
// runs more than its window ahead. The host therefore never buffers more than one window per
// session, and a batch can never grow past it either.
import { z } from 'zod';

const Prefix = z.string().min(1).max(256).regex(/^[^#+\s]+$/, 'a topic prefix without wildcards or spaces');
/** The session id the engine picked (`<sid>` of `P/mqb/term/<sid>/…`). */
export const TermId = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'a terminal session id');
const Cols = z.number().int().min(1).max(1000);

const Empty = z.object({}).strict();
const op = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R, timeoutMs: number) => ({ args, result, timeoutMs }) as const;

export const terminalOperations = {
  /** Opens a REPL session on a device with the `terminal` capability. */
  termOpen: op(z.object({ prefix: Prefix, cols: Cols, rows: Cols }).strict(), z.object({ term: TermId, window: z.number().int().positive() }), 20_000),
  /** Keystrokes or pasted text; Ctrl-C goes as `termInterrupt`, not as a byte. */
  termInput: op(z.object({ term: TermId, data: z.string().min(1).max(256 * 1024) }).strict(), Empty, 10_000),
  termResize: op(z.object({ term: TermId, cols: Cols, rows: Cols }).strict(), Empty, 10_000),
  /** Stops the running evaluation (even a busy loop) without resetting the device. */
  termInterrupt: op(z.object({ term: TermId }).strict(), Empty, 10_000),
  /** Total device bytes of this session's output the renderer has consumed. */
  termAck: op(z.object({ term: TermId, bytes: z.number().int().nonnegative() }).strict(), Empty, 10_000),
  termClose: op(z.object({ term: TermId }).strict(), Empty, 10_000),
  /**
   * One line or block for the line-mode REPL of boards without a terminal (the original's
   * `eval`): the reply text; a device error (traceback) fails the call with `device-error`.
   */
  replEval: op(z.object({ prefix: Prefix, code: z.string().min(1).max(64 * 1024) }).strict(), z.object({ text: z.string() }), 60_000),
} as const;

export const TerminalOutput = z.object({
  term: TermId,
  /** Decoded text; `bytes` is how many device bytes it stands for (what to ack). */
  data: z.string(),
  bytes: z.number().int().nonnegative(),
});
export type TerminalOutput = z.infer<typeof TerminalOutput>;

export const TerminalEnded = z.object({ term: TermId, reason: z.string().max(1024) });
export type TerminalEnded = z.infer<typeof TerminalEnded>;

/** One batch: output per session (in order, merged per session) and sessions that ended. */
export const TerminalEvent = z.object({
  stream: z.literal('terminal'),
  output: z.array(TerminalOutput),
  ended: z.array(TerminalEnded),
});
export type TerminalEvent = z.infer<typeof TerminalEvent>;

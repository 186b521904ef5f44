// Everything the CLI prints goes through here, so that it never exits before its output has
// left: process.exit drops whatever a pipe has not taken yet (a slow reader takes 64 KiB at a
// time), and it never exits 0 when the output was cut short (the reader went away).
import { neutraliseControls } from '../../../protocol/src/control-chars';

type Out = NodeJS.WritableStream & { errored?: Error | null; writableLength?: number };

const failures = new WeakMap<Out, Error>();

/** Records the stream's first error (EPIPE when the reader closes) instead of crashing on it. */
export function watchErrors(stream: Out, onError?: (e: Error) => void): void {
  stream.on('error', (e: Error) => {
    if (!failures.has(stream)) failures.set(stream, e);
    onError?.(e);
  });
}

/** Resolves once everything written so far has been handed to the OS; rejects if it could not be. */
export function flushed(stream: Out): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = failures.get(stream) ?? stream.errored;
    if (failed) return reject(failed);
    // Writes complete in order: this callback runs after every earlier chunk was written.
    stream.write('', (e?: Error | null) => {
      const err = e ?? failures.get(stream);
      if (err) reject(err);
      else resolve();
    });
  });
}

export const write = (data: string | Uint8Array): void => void process.stdout.write(data);
export const line = (text = ''): void => write(`${text}\n`);

/** JSON for the terminal: JSON.stringify leaves C1 controls and bidi overrides raw; escaped, the data is the same. */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Device text for a table cell or other one-line field. */
export const cell = (s: string): string => neutraliseControls(s, { multiline: false, maxChars: 4096 });
/** Device text of several lines (log lines, REPL output, stacks); `keepSgr` lets its colours through. */
export const shown = (s: string, keepSgr = false): string => neutraliseControls(s, { keepSgr });

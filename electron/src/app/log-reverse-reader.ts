// Reads a device's JSON-lines segments (the store before the database) backwards, newest record
// first, a chunk at a time: the import (log-legacy.ts) learns a device's newest id from its last
// chunk, so new ids start above the old ones before the import has read anything else.
import { open, type FileHandle } from 'node:fs/promises';

export interface StoredLine {
  /** The record's JSON text, one line of a segment. */
  json: string;
  /** Its store-wide id, read from the line's head without parsing the rest. */
  id: number;
}

const CHUNK = 64 * 1024;
const ID_HEAD = /^\{"i":(\d+),/;

export class ReverseLineReader {
  private handle: FileHandle | undefined;
  private pos = -1;
  private carry = '';
  private ready: string[] = [];
  private segment: number;

  /** `segments`: the device's segment files, oldest first. */
  constructor(private readonly segments: string[]) {
    this.segment = segments.length - 1;
  }

  /** The next older line, or undefined when every segment is read. */
  async next(): Promise<StoredLine | undefined> {
    for (;;) {
      const json = this.ready.pop();
      if (json !== undefined) {
        const m = ID_HEAD.exec(json);
        if (m) return { json, id: Number(m[1]) };
        continue; // a torn line from a crash mid-write: skip it
      }
      if (!(await this.fill())) return undefined;
    }
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }

  /** Reads the previous chunk into `ready`; false when nothing is left. */
  private async fill(): Promise<boolean> {
    for (;;) {
      if (!this.handle) {
        if (this.segment < 0) return false;
        try {
          this.handle = await open(this.segments[this.segment]!, 'r');
        } catch {
          // Rotated away between listing and reading: continue with the next older segment.
          this.segment--;
          continue;
        }
        this.pos = (await this.handle.stat()).size;
        this.carry = '';
      }
      if (this.pos <= 0) {
        if (this.carry) this.ready.push(Buffer.from(this.carry, 'latin1').toString('utf8'));
        this.carry = '';
        await this.handle.close();
        this.handle = undefined;
        this.segment--;
        if (this.ready.length) return true;
        continue;
      }
      const len = Math.min(CHUNK, this.pos);
      this.pos -= len;
      const buf = Buffer.alloc(len);
      await this.handle.read(buf, 0, len, this.pos);
      // Lines are UTF-8 and split at '\n' bytes, so a chunk boundary inside a character only
      // lands in `carry`, which is joined with the rest of its line before decoding matters.
      const parts = (buf.toString('latin1') + this.carry).split('\n');
      this.carry = parts.shift() ?? '';
      for (const p of parts) if (p) this.ready.push(Buffer.from(p, 'latin1').toString('utf8'));
      if (this.ready.length) return true;
    }
  }
}

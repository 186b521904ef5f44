// Reads a device's JSON-lines segments (the store before the database) forwards, oldest record
// first, a chunk at a time, for the one-time import (log-legacy.ts). It holds no file open
// between chunks, so however many devices the old store had, descriptors stay few.
import { open } from 'node:fs/promises';
import type { StoredLine } from './log-reverse-reader';

const CHUNK = 256 * 1024;
const ID_HEAD = /^\{"i":(\d+),/;

export class ForwardLineReader {
  private segment = 0;
  private pos = 0;
  private carry = '';
  private ready: string[] = [];
  private at = 0;

  /** `segments`: the device's segment files, oldest first. */
  constructor(private readonly segments: string[]) {}

  async next(): Promise<StoredLine | undefined> {
    for (;;) {
      while (this.at < this.ready.length) {
        const json = this.ready[this.at++]!;
        const m = ID_HEAD.exec(json);
        if (m) return { json, id: Number(m[1]) };
      }
      if (!(await this.fill())) return undefined;
    }
  }

  private async fill(): Promise<boolean> {
    this.ready = [];
    this.at = 0;
    while (this.segment < this.segments.length) {
      let buf: Buffer;
      let n: number;
      try {
        const h = await open(this.segments[this.segment]!, 'r');
        try {
          buf = Buffer.alloc(CHUNK);
          n = (await h.read(buf, 0, CHUNK, this.pos)).bytesRead;
        } finally {
          await h.close();
        }
      } catch {
        n = 0; // rotated away meanwhile: its lines are gone, go on with the next segment
        buf = Buffer.alloc(0);
      }
      if (n === 0) {
        if (this.carry) this.ready.push(Buffer.from(this.carry, 'latin1').toString('utf8'));
        this.carry = '';
        this.segment++;
        this.pos = 0;
        if (this.ready.length) return true;
        continue;
      }
      this.pos += n;
      const parts = (this.carry + buf.toString('latin1', 0, n)).split('\n');
      this.carry = parts.pop() ?? '';
      for (const p of parts) if (p) this.ready.push(Buffer.from(p, 'latin1').toString('utf8'));
      if (this.ready.length) return true;
    }
    return false;
  }
}

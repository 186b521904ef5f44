// Staging buffers for bytes that come from the page (drag-and-drop, the File API) or from a file
// the host read for it: the page declares a size, sends chunks in order (raw bytes, or base64), and an upload or OTA then takes the complete
// buffer by id (protocol/src/bridge-files.ts). Bounded in count and in total bytes, so a page
// cannot make the host allocate without limit; a stage left untouched expires.
import { randomBytes } from 'node:crypto';
import { MAX_STAGE_BYTES } from '../../../protocol/src';
import { HostError } from './errors';

/** All stages together; a dropped folder of board files is far below this. */
export const MAX_STAGED_TOTAL = 256 * 1024 * 1024;
const MAX_STAGES = 4096;
/** A stage nobody used for this long is dropped (a page that went away mid-drop). */
const STAGE_IDLE_MS = 10 * 60_000;

interface Stage {
  name: string;
  data: Uint8Array;
  received: number;
  touched: number;
}

export interface StagedFile {
  name: string;
  data: Uint8Array;
}

export interface TransferStages {
  create(size: number, name: string): string;
  /** Appends a chunk (bytes, or base64 text) at `offset`, which must be exactly the bytes received so far. */
  append(stage: string, offset: number, chunk: Uint8Array | string): number;
  /** Removes a complete stage and hands over its bytes. */
  take(stage: string): StagedFile;
  /** A complete stage's bytes without removing it (OTA inspects before it sends). */
  peek(stage: string): StagedFile;
  drop(stage: string): void;
  /** Bytes currently reserved (tests). */
  reserved(): number;
}

export function createTransferStages(now: () => number = Date.now): TransferStages {
  const stages = new Map<string, Stage>();
  let reserved = 0;

  const expire = () => {
    const t = now();
    for (const [id, s] of stages) if (t - s.touched > STAGE_IDLE_MS) remove(id);
  };
  const remove = (id: string) => {
    const s = stages.get(id);
    if (!s) return;
    reserved -= s.data.length;
    stages.delete(id);
  };
  const get = (id: string): Stage => {
    const s = stages.get(id);
    if (!s) throw new HostError('not-found', `no staged upload ${id} (it expired or was used)`);
    s.touched = now();
    return s;
  };
  const complete = (id: string): Stage => {
    const s = get(id);
    if (s.received !== s.data.length) throw new HostError('bad-request', `${s.name}: only ${s.received} of ${s.data.length} bytes arrived`);
    return s;
  };

  return {
    create(size, name) {
      expire();
      if (size > MAX_STAGE_BYTES) throw new HostError('invalid-argument', `${name}: ${size} bytes is more than the ${MAX_STAGE_BYTES} a single upload may have`);
      if (stages.size >= MAX_STAGES) throw new HostError('invalid-argument', 'too many staged uploads at once');
      if (reserved + size > MAX_STAGED_TOTAL) throw new HostError('invalid-argument', `staging ${name} would hold more than ${MAX_STAGED_TOTAL} bytes in the host; upload fewer files at once`);
      const id = randomBytes(12).toString('base64url');
      stages.set(id, { name, data: new Uint8Array(size), received: 0, touched: now() });
      reserved += size;
      return id;
    },
    append(id, offset, chunk) {
      const s = get(id);
      // In order only: a chunk that overlaps, skips ahead or overruns is a broken client.
      if (offset !== s.received) throw new HostError('bad-request', `${s.name}: chunk at ${offset}, expected ${s.received}`);
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'base64') : chunk;
      if (bytes.length === 0 && s.data.length > 0) throw new HostError('bad-request', `${s.name}: empty chunk`);
      if (offset + bytes.length > s.data.length) throw new HostError('bad-request', `${s.name}: chunk runs past the declared ${s.data.length} bytes`);
      s.data.set(bytes, offset);
      s.received += bytes.length;
      return s.received;
    },
    take(id) {
      const s = complete(id);
      remove(id);
      return { name: s.name, data: s.data };
    },
    peek(id) {
      const s = complete(id);
      return { name: s.name, data: s.data };
    },
    drop: remove,
    reserved: () => reserved,
  };
}

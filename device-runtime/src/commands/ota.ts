// `ota`: a stream of chunks with the image's hex SHA-256 as tail, written to the inactive slot
// (ota-slots.ts), checked at the end, then marked for the next boot. A wrong SHA or a broken
// transfer leaves the active slot and any earlier pending marker as they were.
import fs from 'node:fs/promises';
import { isSha256Hex, type Frame } from '../../../protocol/src';
import { createAtomicWriter } from '../atomic-file';
import { DeviceError, ProtocolError } from '../errors';
import type { InboundResult, Uploads } from '../inbound';
import { otherSlot, type OtaState, type OtaStore } from '../ota-slots';

export interface OtaEnv {
  uploads: Uploads;
  store: OtaStore;
  tmpDir: string;
  maxImage: number;
  /**
   * Checks and unpacks the verified image for `slot` beside the slot (throwing DeviceError when
   * it is not acceptable); `commit` then puts it in the slot's place.
   */
  unpack: (image: string, slot: 'a' | 'b') => Promise<{ version: string; commit(): Promise<void> }>;
  /** Told about the new state once the image is in place and marked pending. */
  onWritten?: (slot: string, version: string, state: OtaState) => void;
}

export async function handleOta(env: OtaEnv, id: string, tail: string, frame: Frame): Promise<InboundResult> {
  return env.uploads.handle(id, tail, frame, async () => {
    const sha = tail.toLowerCase();
    if (!isSha256Hex(sha)) throw new ProtocolError('the topic tail must be the image SHA-256 in hex');
    const writer = await createAtomicWriter(env.tmpDir, `ota-${id}`);
    return {
      target: 'ota',
      async write(data) {
        if (writer.size() + data.length > env.maxImage) {
          throw new DeviceError(`image larger than ${env.maxImage} bytes`);
        }
        await writer.write(data);
      },
      async finish() {
        try {
          const calc = writer.digest();
          // Worded as the original board words it.
          if (calc !== sha) throw new ProtocolError(`SHA mismatch calc:${calc} check=${sha}`);
          const state = await env.store.load();
          const slot = otherSlot(state.active);
          await writer.flush();
          const unpacked = await env.unpack(writer.tempPath, slot);
          // The slot may hold an older image: mark it gone before replacing it, so a crash from
          // here on leaves a state that names no half-replaced slot.
          if (state.slots[slot] || state.pending === slot) {
            await env.store.save({ ...state, pending: state.pending === slot ? null : state.pending, slots: { ...state.slots, [slot]: null } });
          }
          await unpacked.commit();
          const version = unpacked.version;
          await fs.mkdir(env.store.dir, { recursive: true });
          await writer.commit(env.store.slotPath(slot));
          const size = writer.size();
          const next: OtaState = {
            ...(await env.store.load()),
            pending: slot,
          };
          next.slots = { ...next.slots, [slot]: { sha256: sha, size, version, written: Date.now() } };
          await env.store.save(next);
          env.onWritten?.(slot, version, next);
          return 'OK';
        } finally {
          await writer.discard();
        }
      },
      abort: () => writer.discard(),
    };
  });
}

// OTA as the original mqrepl does it on an ESP32 with two app partitions, simulated with two slot
// files in a sibling folder `<root>.ota/` (outside the board's filesystem, like flash partitions).
//
// Faithful quirk, on purpose: the original's OTA sequence check is inverted compared to `put`.
// A message with a HIGHER seq than expected (a gap) is logged as "Duplicate OTA message" and
// ignored, and a LOWER one (a real duplicate) fails with "message missing". Hosts must cope.
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const BLOCKLEN = 4096;
export const SLOTS = ['ota_0', 'ota_1'] as const;
type Slot = (typeof SLOTS)[number];

/** The original raises ValueError for these: they become `MQRepl protocol error ota: ...`. */
export class ProtocolError extends Error {}

import { ESP_IMAGE_MAGIC, readAppDescription, simulatedPanic } from './firmware-image';

export { ESP_IMAGE_MAGIC };

/**
 * An ESP-IDF error as MicroPython's esp32 port raises it (check_esp_err, MicroPython 1.13 on):
 * `OSError: (-5379, 'ESP_ERR_OTA_VALIDATE_FAILED')`.
 */
export class EspError extends Error {
  constructor(
    readonly code: number,
    readonly idfName: string,
  ) {
    super(`(${-code}, '${idfName}')`);
  }
}
const ESP_ERR_OTA_VALIDATE_FAILED = 0x1503;

interface SlotState {
  running: Slot;
  /** What the bootloader starts next (esp_ota_set_boot_partition). */
  boot: Slot;
  /** A freshly booted image not yet marked valid rolls back at the next reset. */
  pendingVerify: boolean;
}

const other = (s: Slot): Slot => (s === 'ota_0' ? 'ota_1' : 'ota_0');

export class Partitions {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(path.dirname(path.resolve(root)), `${path.basename(path.resolve(root))}.ota`);
    fs.mkdirSync(this.dir, { recursive: true });
  }

  private get file(): string {
    return path.join(this.dir, 'state.json');
  }

  read(): SlotState {
    try {
      const v: unknown = JSON.parse(fs.readFileSync(this.file, 'utf8'));
      if (typeof v === 'object' && v !== null) {
        const r = v as Record<string, unknown>;
        const slot = (x: unknown): Slot => (x === 'ota_1' ? 'ota_1' : 'ota_0');
        return { running: slot(r.running), boot: slot(r.boot), pendingVerify: r.pendingVerify === true };
      }
    } catch {
      // first boot: factory state below
    }
    return { running: 'ota_0', boot: 'ota_0', pendingVerify: false };
  }

  private write(s: SlotState): void {
    fs.writeFileSync(this.file, JSON.stringify(s));
  }

  /** The bootloader's choice at reset; returns the running slot and whether it rolled back. */
  bootSelect(): { running: Slot; rolledBack: boolean } {
    const s = this.read();
    if (s.boot !== s.running) {
      this.write({ running: s.boot, boot: s.boot, pendingVerify: true });
      return { running: s.boot, rolledBack: false };
    }
    if (s.pendingVerify) {
      // New image never confirmed: the bootloader goes back to the previous one.
      const prev = other(s.running);
      this.write({ running: prev, boot: prev, pendingVerify: false });
      return { running: prev, rolledBack: true };
    }
    return { running: s.running, rolledBack: false };
  }

  markValid(): void {
    const s = this.read();
    if (s.pendingVerify) this.write({ ...s, pendingVerify: false });
  }

  nextUpdate(): Slot {
    return other(this.read().running);
  }

  setBoot(slot: Slot): void {
    this.write({ ...this.read(), boot: slot });
  }

  slotPath(slot: Slot): string {
    return path.join(this.dir, `${slot}.bin`);
  }
}

export interface BootedFirmware {
  /** The build, as `os.uname().version` and the boot greeting start with it. */
  version: string;
  /** MicroPython's release (`sys.implementation.version`), read from the build when it has one. */
  release: string;
  panics: boolean;
}

/** What the image in a slot says it is; a slot never written holds the factory firmware. */
export function readFirmware(file: string, factory: string): BootedFirmware {
  let image: Buffer | undefined;
  try {
    image = fs.readFileSync(file);
  } catch {
    // never written by an OTA: the factory image
  }
  const desc = image ? readAppDescription(image) : undefined;
  const version = desc?.version ?? factory;
  const m = /^v?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?/.exec(version);
  const release = m ? `${m[1]}.${m[2]}.${m[3] ?? 0}` : '1.12.0';
  return { version, release, panics: image !== undefined && simulatedPanic(image) };
}

/** One OTA transfer, mirroring the original's OTA class (4096-byte blocks, 0xFF padding). */
export class OtaSession {
  private seq: number | null = 0;
  private readonly sha: Hash = createHash('sha256');
  private readonly buf = Buffer.alloc(BLOCKLEN);
  private buflen = 0;
  private readonly fd: number;
  private readonly slot: Slot;

  constructor(
    private readonly parts: Partitions,
    private readonly warn: (text: string) => void,
  ) {
    this.slot = parts.nextUpdate();
    this.fd = fs.openSync(parts.slotPath(this.slot), 'w');
  }

  /** Returns the reply text, or null for no reply. Throws ProtocolError like the original's ValueError. */
  handle(sha: string | undefined, msg: Uint8Array, seq: number, last: boolean): string | null {
    if (this.seq === null) throw new ProtocolError('missing first message');
    if (this.seq < seq) {
      this.warn(`Duplicate OTA message seq=${seq}`);
      return null;
    }
    if (this.seq > seq) throw new ProtocolError('message missing');
    this.seq++;
    this.sha.update(msg);
    let msglen = msg.length;
    // Mirrors the original exactly, including its quirk: when the last message crosses a block
    // boundary its tail stays in the buffer and is never written (the SHA still covers it).
    if (this.buflen + msglen >= BLOCKLEN) {
      const cpylen = BLOCKLEN - this.buflen;
      this.buf.set(msg.subarray(0, cpylen), this.buflen);
      fs.writeSync(this.fd, this.buf);
      msglen -= cpylen;
      if (msglen > 0) this.buf.set(msg.subarray(cpylen), 0);
      this.buflen = msglen;
    } else {
      this.buf.set(msg, this.buflen);
      this.buflen += msglen;
      if (last && this.buflen > 0) {
        this.buf.fill(0xff, this.buflen); // erased flash reads 0xFF
        fs.writeSync(this.fd, this.buf);
      }
    }
    if (last) return this.finish(sha);
    if ((seq & 7) === 0) return `SEQ ${seq}`;
    return null;
  }

  private finish(check: string | undefined): string {
    this.seq = null;
    fs.closeSync(this.fd);
    if (check === undefined) {
      // The original calls check_sha.encode() on None here.
      throw new TypeError("'NoneType' object has no attribute 'encode'");
    }
    const calc = this.sha.digest('hex');
    if (calc !== check) {
      // The original formats two bytes objects, hence the b'...'.
      throw new ProtocolError(`SHA mismatch calc:b'${calc}' check=b'${check}'`);
    }
    // Partition.set_boot() is esp_ota_set_boot_partition, which verifies the image first: one
    // without the magic byte is refused and the boot partition stays as it was. (MicroPython
    // 1.12 dropped that error and answered OK; every later release raises it.)
    const first = Buffer.alloc(1);
    const fd = fs.openSync(this.parts.slotPath(this.slot), 'r');
    let n: number;
    try {
      n = fs.readSync(fd, first, 0, 1, 0);
    } finally {
      fs.closeSync(fd);
    }
    if (n === 0 || first[0] !== ESP_IMAGE_MAGIC) throw new EspError(ESP_ERR_OTA_VALIDATE_FAILED, 'ESP_ERR_OTA_VALIDATE_FAILED');
    this.parts.setBoot(this.slot);
    return 'OK';
  }

  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed by finish()
    }
  }
}

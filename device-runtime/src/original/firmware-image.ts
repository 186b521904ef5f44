// ESP32 app images as far as a host and the simulated board need them: the version an image says
// it is, and (for tests and the demo fleet) small images that say one.
//
// ESP-IDF places the app description (esp_app_desc_t) at the start of the image's first segment:
// after the 24-byte image header and the 8-byte segment header, so at offset 0x20. It begins
// with the magic word 0xABCD5432 (little endian), and `version` is a NUL-padded 32-byte field at
// +16 (`project_name` follows at +48). A MicroPython build sets `version` from `git describe`,
// the same text its `os.uname().version` and boot greeting start with.

/** The first byte of every ESP32 app image (esp_image_header_t.magic). */
export const ESP_IMAGE_MAGIC = 0xe9;
export const APP_DESC_OFFSET = 0x20;
export const APP_DESC_MAGIC = 0xabcd5432;
const VERSION_AT = APP_DESC_OFFSET + 16;
const PROJECT_AT = APP_DESC_OFFSET + 48;
const FIELD = 32;
/** esp_app_desc_t is 256 bytes. */
const APP_DESC_SIZE = 256;

/**
 * Marks an image for the simulated board only: a board cannot run Xtensa code in CPython, so the
 * simulated firmware's behaviour comes from the image. One carrying this text panics shortly after
 * it connected, before its watchdog's all-OK, like firmware with a bad driver.
 */
export const SIM_PANIC_MARK = 'MQBOARD-SIM:PANIC-BEFORE-ALLOK';

export interface AppDescription {
  version: string;
  projectName: string;
}

/** A NUL-padded text field, or undefined when it is not plain printable ASCII. */
function field(image: Uint8Array, at: number): string | undefined {
  let end = at;
  while (end < at + FIELD && image[end] !== 0) end++;
  const bytes = image.subarray(at, end);
  if (!bytes.every((b) => b >= 0x20 && b < 0x7f)) return undefined;
  return String.fromCharCode(...bytes);
}

/** The app description of an ESP32 image, or undefined when it has none this can read. */
export function readAppDescription(image: Uint8Array): AppDescription | undefined {
  if (image.length < APP_DESC_OFFSET + APP_DESC_SIZE || image[0] !== ESP_IMAGE_MAGIC || image[1] === 0) return undefined;
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (view.getUint32(APP_DESC_OFFSET, true) !== APP_DESC_MAGIC) return undefined;
  const version = field(image, VERSION_AT);
  const projectName = field(image, PROJECT_AT);
  if (!version || projectName === undefined) return undefined;
  return { version, projectName };
}

/** Whether an image asks the simulated board to panic before its all-OK (see SIM_PANIC_MARK). */
export function simulatedPanic(image: Uint8Array): boolean {
  return Buffer.from(image.buffer, image.byteOffset, image.byteLength).includes(SIM_PANIC_MARK, 0, 'latin1');
}

export interface FirmwareSpec {
  version: string;
  projectName?: string;
  /** Total size in bytes (the rest is filler); default 64 KiB. */
  size?: number;
  /** Make the simulated board panic before its all-OK. */
  panic?: boolean;
}

/**
 * A well-formed ESP32 app image header with one DROM segment holding the app description: what
 * a host reads from real firmware. The code it carries is filler; only the simulator boots it.
 */
export function buildFirmwareImage(spec: FirmwareSpec): Uint8Array {
  const enc = new TextEncoder();
  const version = enc.encode(spec.version);
  const project = enc.encode(spec.projectName ?? 'micropython');
  if (version.length === 0 || version.length >= FIELD) throw new RangeError('firmware version: 1 to 31 bytes');
  if (project.length >= FIELD) throw new RangeError('firmware project name: at most 31 bytes');
  const size = Math.max(spec.size ?? 64 * 1024, APP_DESC_OFFSET + APP_DESC_SIZE + 64);
  const img = new Uint8Array(size);
  const view = new DataView(img.buffer);
  img[0] = ESP_IMAGE_MAGIC;
  img[1] = 1; // segment count
  img[2] = 2; // SPI mode DIO
  img[3] = 0x20; // 4 MB flash, 40 MHz
  view.setUint32(4, 0x400d0000 + 0x18, true); // entry point
  img[12] = 0; // chip id: ESP32
  // Segment 0: the DROM data segment that starts with the app description.
  view.setUint32(24, 0x3f400020, true);
  view.setUint32(28, size - APP_DESC_OFFSET, true);
  view.setUint32(APP_DESC_OFFSET, APP_DESC_MAGIC, true);
  img.set(version, VERSION_AT);
  img.set(project, PROJECT_AT);
  img.set(enc.encode('v4.0'), APP_DESC_OFFSET + 112); // idf_ver
  for (let i = APP_DESC_OFFSET + APP_DESC_SIZE; i < size; i++) img[i] = (i * 31) & 0xff;
  if (spec.panic) img.set(enc.encode(SIM_PANIC_MARK), APP_DESC_OFFSET + APP_DESC_SIZE);
  return img;
}

// The demo's example MicroPython firmware for original MQBoard boards, the counterpart of the app
// bundles in demo/bundles/ for our runtime: a good build and one that panics before its watchdog's
// all-OK, so a rollout to the demo's original board can be tried either way. The simulated board
// runs the image it booted (firmware-image.ts): its boot greeting names the new build, and the
// panicking one reboots on trial, so the board's own bootloader takes it back to the build before.
import { buildFirmwareImage } from './firmware-image';
import { FACTORY_FIRMWARE } from './life';

export interface DemoFirmware {
  /** The example's name, unique among the demo's examples, e.g. `micropython-v1.13-mqboard`. */
  name: string;
  description: string;
  /** The build the image says it is (its app description), which the board reports once it runs it. */
  version: string;
  /** The ESP32 app image, as an original board's `ota` takes it. */
  bytes: Uint8Array;
}

const GOOD = 'v1.13-mqboard';
const PANICS = 'v1.14-mqboard';

/** Both examples, built afresh (each caller may keep or change its bytes), sorted by name. */
export function demoFirmwareImages(): DemoFirmware[] {
  return [
    {
      name: `micropython-${GOOD}`,
      description: `MicroPython firmware for original MQBoard boards (they run ${FACTORY_FIRMWARE}): a good update that boots, greets with ${GOOD} and confirms at its watchdog's all-OK.`,
      version: GOOD,
      bytes: buildFirmwareImage({ version: GOOD }),
    },
    {
      name: `micropython-${PANICS}-panics`,
      description: `MicroPython firmware for original MQBoard boards whose driver panics right after it connects, before its watchdog's all-OK: the board's bootloader rolls it back, so a rollout of it stops at the canary.`,
      version: PANICS,
      bytes: buildFirmwareImage({ version: PANICS, panic: true }),
    },
  ];
}

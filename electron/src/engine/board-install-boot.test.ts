// The migration boot.py that `mqboard board install` writes, run on the real MicroPython
// interpreter (the WebAssembly port) with the package's bootmode.py: which framework each state
// of RTC memory starts. The port has no `machine` module: the harness gives it RTC memory as a
// plain bytes value (what survives a reset on an ESP32), and the board's files in its filesystem.
// A file of its own: the port keeps its state in globals, one interpreter at a time.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMicroPython } from '@micropython/micropython-webassembly-pyscript';
import { DEFAULT_PACKAGE_DIR, MIGRATION_BOOT } from './board-install';

const MACHINE = `class RTC:
    mem = b""
    def memory(self, v=None):
        if v is None:
            return RTC.mem
        RTC.mem = bytes(v)
`;
// Stands for the original's boot.py: records that it ran, and what RTC memory held when it did.
const ORIGINAL_BOOT = `import machine
ORIGINAL_RAN = True
ORIGINAL_SAW = machine.RTC().memory()
`;

interface Outcome {
  mode: string;
  originalRan: boolean;
  originalSaw: string | null;
  rtc: string;
  libFirst: boolean;
}

async function boot(rtc: Uint8Array | string, device = '# our framework\n'): Promise<Outcome> {
  const mp = await loadMicroPython({ stdout: () => undefined, stderr: () => undefined });
  mp.FS.mkdir('/lib');
  mp.FS.writeFile('/machine.py', MACHINE);
  mp.FS.writeFile('/bootmode.py', readFileSync(path.join(DEFAULT_PACKAGE_DIR, 'bootmode.py')));
  mp.FS.writeFile('/lib/device.py', device);
  mp.FS.writeFile('/boot_original.py', ORIGINAL_BOOT);
  mp.FS.writeFile('/boot.py', MIGRATION_BOOT);
  const mem = typeof rtc === 'string' ? new TextEncoder().encode(rtc) : rtc;
  mp.runPython(`import sys\nsys.path.insert(0, "/")\nimport machine\nmachine.RTC.mem = bytes(${JSON.stringify([...mem])})`);
  mp.runPython('exec(open("/boot.py").read())');
  mp.runPython(
    'import json\n_out = json.dumps({"mode": MODE, "originalRan": globals().get("ORIGINAL_RAN", False), ' +
      '"originalSaw": None if "ORIGINAL_SAW" not in globals() else ORIGINAL_SAW.hex(), "rtc": machine.RTC.mem.hex(), "libFirst": sys.path[0] == "/lib"})',
  );
  return JSON.parse(String(mp.globals.get('_out'))) as Outcome;
}

const hex = (s: string) => Buffer.from(s).toString('hex');
const MAGIC = new Uint8Array([0x0d, 0xf0, 0xef, 0xbe]);

describe('the migration boot.py on MicroPython', () => {
  it('starts our framework after a cold boot (blank memory), and clears the way so a crash before "all OK" leads to safe mode', async () => {
    const o = await boot(new Uint8Array());
    expect(o).toMatchObject({ mode: 'normal', originalRan: false, libFirst: true });
    expect(o.rtc).toBe(hex('{"mode": "normal"}'));
  });

  it("starts our framework on the original's all-OK magic (its safe mode reverting to normal)", async () => {
    expect(await boot(MAGIC)).toMatchObject({ mode: 'normal', originalRan: false });
  });

  it('starts our framework on our own magic and on an explicit reset into normal mode, keeping the OTA entries', async () => {
    const o = await boot('{"magic": true, "bootCount": 4, "otaTrial": "ota_1"}');
    expect(o).toMatchObject({ mode: 'normal', originalRan: false });
    expect(JSON.parse(Buffer.from(o.rtc, 'hex').toString())).toEqual({ mode: 'normal', bootCount: 4, otaTrial: 'ota_1' });
    expect(await boot('{"next": "normal", "reason": "command"}')).toMatchObject({ mode: 'normal', originalRan: false });
  });

  it('runs the original safe mode after our boot crashed or hung before "all OK", with memory the original reads as safe', async () => {
    const o = await boot('{"mode": "normal", "bootCount": 2, "reason": "watchdog"}');
    expect(o).toMatchObject({ mode: 'safe', originalRan: true, libFirst: false });
    // Four bytes that are not the magic: the original's boot.py chooses its safe mode.
    expect(o.originalSaw).toBe('00000001');
  });

  it('runs the original safe mode on a reset into safe mode, and on memory it cannot read', async () => {
    expect(await boot('{"next": "safe", "magic": true}')).toMatchObject({ mode: 'safe', originalRan: true });
    expect(await boot(new Uint8Array([1, 2, 3, 4, 5]))).toMatchObject({ mode: 'safe', originalRan: true });
  });

  it('runs the original safe mode when our framework does not import', async () => {
    expect(await boot(new Uint8Array(), 'raise ImportError("no module named \'wire\'")\n')).toMatchObject({ mode: 'safe', originalRan: true, libFirst: false });
  });
});

// The board's entry points that cannot run here (ESP32 files; the unix port, which has no
// binary on the build machines) still meet the real MicroPython compiler, and unix.py's option
// parsing runs on it. A file of its own: the WebAssembly port keeps its state in globals, so
// one process runs one interpreter at a time.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMicroPython } from '@micropython/micropython-webassembly-pyscript';

describe('the board-only entry points', () => {
  const here = path.dirname(new URL(import.meta.url).pathname);

  it('compile on MicroPython (boot.py, main.py and board_esp32.py import ESP32 modules, so they are only compiled)', async () => {
    const mp = await loadMicroPython();
    for (const f of readdirSync(here).filter((n) => n.endsWith('.py'))) {
      mp.FS.writeFile(`/${f}`, readFileSync(path.join(here, f)));
      mp.runPython(`_ok = compile(open("/${f}").read(), "${f}", "exec") is not None`);
      expect(mp.globals.get('_ok'), f).toBe(true);
    }
  });

  it('unix.py takes the options of mqboard-device', async () => {
    const mp = await loadMicroPython();
    mp.FS.writeFile('/unix.py', readFileSync(path.join(here, 'unix.py')));
    mp.runPython('import sys\nsys.path.insert(0, "/")\nimport unix');
    mp.runPython('import json\n_o = json.dumps(unix.parse(["--server", "b.example", "--prefix", "site/dev1", "--root", "/data/", "--user", "u", "--password", "pw"]))');
    expect(JSON.parse(String(mp.globals.get('_o')))).toMatchObject({ server: 'b.example', port: 1883, prefix: 'site/dev1', root: '/data', user: 'u', password: 'pw', tls: false });
    expect(() => mp.runPython('unix.parse(["--server", "b", "--prefix", "p"])')).toThrow(/--root is required/);
    expect(() => mp.runPython('unix.parse(["--server", "b", "--prefix", "p", "--root", "/r", "--port", "99999"])')).toThrow(/--port must be/);
  });
});

// One boot of a board running the MicroPython package (device.ts), in a worker thread of its own: the
// WebAssembly port keeps its state in JS globals, and a callback of an earlier interpreter
// (a read ending on a closed socket, its asyncio timer) corrupts a later one in the same
// thread. A reset ends the worker; the next boot is a new worker with a fresh interpreter, as a
// board's RAM is fresh after a reset while its flash (the host folder) stays.
//
// The board's socket is `mqb_net`, a JS module registered into the interpreter that owns a real
// TCP connection (read by stream_js.py, bytes as hex strings); its hardware watchdog and reset
// cause are `mqb_hw` (board_wasm.py), the watchdog itself running on the parent thread; its
// flash is the port's in-memory filesystem, loaded from the host folder at boot and written
// through to it as the board changes it.
import { readdirSync, readFileSync, readSync, mkdirSync, renameSync, writeFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { loadMicroPython } from '@micropython/micropython-webassembly-pyscript';

const { server, port, username, password, root, config, packageDir, framework, flash, resetCause } = workerData;

function load(mp, host, dir) {
  for (const name of readdirSync(host)) {
    const h = path.join(host, name);
    const d = `${dir}/${name}`;
    if (statSync(h).isDirectory()) {
      mp.FS.mkdir(d);
      load(mp, h, d);
    } else mp.FS.writeFile(d, readFileSync(h));
  }
}

/**
 * Flash is written through to the host folder as the board changes it (a file when it is
 * closed, a rename, a removal, a new directory), so what a boot wrote survives a power loss
 * or a watchdog reset, as on a board's flash: the port's filesystem lives in memory, and the
 * interpreter's file calls all go through these Emscripten FS functions.
 */
function writeThrough(mp, dir, host) {
  const FS = mp.FS;
  const onHost = (p) => {
    const n = path.posix.normalize(p);
    if (n !== dir && !n.startsWith(dir + '/')) return undefined;
    return path.join(host, n.slice(dir.length));
  };
  const wrap = (name, after) => {
    const orig = FS[name];
    FS[name] = function (...args) {
      const r = orig.apply(this, args);
      try {
        after(...args);
      } catch (e) {
        parentPort.postMessage({ kind: 'line', line: `flash: ${name} not written through: ${e}` });
      }
      return r;
    };
  };
  wrap('close', (stream) => {
    const h = stream?.path && onHost(stream.path);
    if (h && (stream.flags & 3) !== 0 && FS.analyzePath(stream.path).exists) writeFileSync(h, FS.readFile(stream.path));
  });
  wrap('rename', (from, to) => {
    const a = onHost(from);
    const b = onHost(to);
    if (a && b) renameSync(a, b);
  });
  wrap('unlink', (p) => {
    const h = onHost(p);
    if (h) rmSync(h, { force: true });
  });
  wrap('rmdir', (p) => {
    const h = onHost(p);
    if (h) rmSync(h, { recursive: true, force: true });
  });
  wrap('mkdir', (p) => {
    const h = onHost(p);
    if (h) mkdirSync(h, { recursive: true });
  });
}

const conns = new Map();
let next = 1;

/** `mqb_net`: the board's TCP stack. */
const mqbNet = {
  connect(host, port) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port });
      sock.setNoDelay(true);
      const id = next++;
      const c = { sock, chunks: [], ended: false, wake: undefined };
      const wake = () => {
        const w = c.wake;
        c.wake = undefined;
        w?.();
      };
      sock.on('data', (d) => {
        c.chunks.push(d);
        wake();
      });
      sock.on('close', () => {
        c.ended = true;
        wake();
      });
      sock.on('error', (e) => {
        if (!conns.has(id)) reject(e);
      });
      sock.once('connect', () => {
        conns.set(id, c);
        resolve(id);
      });
    });
  },
  /** Up to `n` buffered bytes now: hex, '' when none has arrived yet, null at end of stream. */
  poll(id, n) {
    const c = conns.get(id);
    if (!c) return null;
    if (c.chunks.length === 0) return c.ended ? null : '';
    const out = [];
    let left = n;
    while (left > 0 && c.chunks.length > 0) {
      const first = c.chunks[0];
      if (first.length <= left) {
        out.push(first);
        c.chunks.shift();
        left -= first.length;
      } else {
        out.push(first.subarray(0, left));
        c.chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    return Buffer.concat(out).toString('hex');
  },
  /**
   * `poll` for when the thread's event loop cannot turn (an evaluation holds it): bytes that the
   * kernel holds for the socket are read at once, with a non-blocking read of its descriptor, as
   * a board's timer reads its socket. libuv reads the same descriptor only when the loop turns,
   * and then finds what is left, so the order of the bytes is kept.
   */
  peek(id, n) {
    const c = conns.get(id);
    if (!c) return null;
    const fd = c.sock._handle?.fd;
    if (c.chunks.length === 0 && !c.ended && typeof fd === 'number' && fd >= 0) {
      const buf = Buffer.alloc(n);
      try {
        const got = readSync(fd, buf, 0, n, null);
        if (got > 0) c.chunks.push(buf.subarray(0, got));
      } catch {
        // EAGAIN: nothing has arrived; anything else is for libuv to report when the loop turns.
      }
    }
    return mqbNet.poll(id, n);
  },
  /** Resolves once there is something to poll (data, or the end of the stream). */
  wait(id) {
    const c = conns.get(id);
    if (!c || c.chunks.length > 0 || c.ended) return Promise.resolve();
    return new Promise((resolve) => {
      c.wake = resolve;
    });
  },
  write(id, hex) {
    conns.get(id)?.sock.write(Buffer.from(hex, 'hex'));
  },
  drain(id) {
    const c = conns.get(id);
    if (!c || !c.sock.writableNeedDrain) return null;
    return new Promise((resolve) => {
      c.sock.once('drain', resolve);
      c.sock.once('close', resolve);
    });
  },
  close(id) {
    const c = conns.get(id);
    conns.delete(id);
    if (!c) return;
    c.sock.end();
    c.ended = true;
    c.chunks = [];
    c.wake?.();
  },
};

/** `mqb_hw`: the chip's reset cause register and its hardware watchdog (run by the parent thread). */
const mqbHw = {
  reset_cause: () => resetCause,
  wdt: (timeoutMs) => parentPort.postMessage({ kind: 'wdt', timeoutMs }),
  feed: () => parentPort.postMessage({ kind: 'feed' }),
  // What os.dupterm_notify() calls on an ESP32 when it reads Ctrl-C: raised as soon as the VM resumes.
  interrupt: () => mp._module._mp_sched_keyboard_interrupt(),
};

const say = (line) => parentPort.postMessage({ kind: 'line', line });
const mp = await loadMicroPython({ linebuffer: true, stdout: say, stderr: say });
mp.registerJsModule('mqb_net', mqbNet);
mp.registerJsModule('mqb_hw', mqbHw);
mp.FS.mkdir(flash);
load(mp, root, flash);
writeThrough(mp, flash, root);
// First boot of this flash: install the framework as mpremote would, plus its safe copy.
for (const dir of ['lib', 'safemode']) {
  const d = `${flash}/${dir}`;
  if (!mp.FS.analyzePath(d).exists) mp.FS.mkdir(d);
  for (const f of framework) {
    if (!mp.FS.analyzePath(`${d}/${f}`).exists) mp.FS.writeFile(`${d}/${f}`, readFileSync(path.join(packageDir, f)));
  }
}
if (!mp.FS.analyzePath(`${flash}/bootmode.py`).exists) mp.FS.writeFile(`${flash}/bootmode.py`, readFileSync(path.join(packageDir, 'bootmode.py')));
// Written at the first boot only: afterwards it is the device's file, as on a board.
if (!mp.FS.analyzePath(`${flash}/config.json`).exists) mp.FS.writeFile(`${flash}/config.json`, JSON.stringify(config));

parentPort.on('message', (m) => {
  if (m === 'stop') mp.runPython('import runner\nrunner.stop()');
});

const q = JSON.stringify;
// The broker credentials are the launcher's, as unix.py's --user/--password: never in flash.
const credentials = username === undefined ? '' : `_cfg["user"] = ${q(username)}\n_cfg["password"] = ${q(password ?? '')}`;
// What boot.py does on a board: pick the framework copy from RTC memory, then run it.
await mp.runPythonAsync(`
import sys, json
sys.path.insert(0, ${q(flash)})
import bootmode
try:
    with open(${q(flash + '/.mqboard/rtc.json')}) as f:
        _rtc = json.load(f)
except Exception:
    _rtc = {}
_mode = bootmode.decide(_rtc)
sys.path.insert(0, bootmode.framework_dir(${q(flash)}, _mode))
sys.path.append(${q(flash + '/lib')})
import runner, stream_js
_cfg = runner.load_config(${q(flash)})
_cfg["root"] = ${q(flash)}
_cfg["mode"] = _mode
${credentials}
_how = await runner.start(_cfg, "wasm", stream_js.opener(${q(server)}, ${Number(port)}), print)
`);
// A top-level await statement has no value: the result is read from the global it set.
const how = String(mp.globals.get('_how'));
for (const c of conns.values()) c.sock.destroy();
parentPort.postMessage({ kind: 'done', how });

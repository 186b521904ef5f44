// The runtime proper, as the supervisor's child process: one device, reporting heartbeats,
// watchdog feeds, log lines and fatal errors to the supervisor over IPC (ipc.ts).
import util from 'node:util';
import { startDevice, type DeviceHandle } from './device';
import { errorMessage } from './errors';
import { tuneGcForStreams } from './gc-tuning';
import { FromChild, ToChild } from './ipc';
import { createDeviceLog, type Logger } from './log';

// Before anything allocates much; see gc-tuning.ts.
tuneGcForStreams();

const send = (m: FromChild, cb?: () => void) => {
  if (process.send && process.connected) process.send(m, undefined, {}, () => cb?.());
  else cb?.();
};

/** Exit once the supervisor has the message (or cannot get it). */
const sendAndExit = (m: FromChild, code: number) => {
  const t = setTimeout(() => process.exit(code), 1000);
  send(m, () => {
    clearTimeout(t);
    process.exit(code);
  });
};

const stackOf = (e: unknown) =>
  typeof e === 'object' && e !== null && typeof (e as { stack?: unknown }).stack === 'string' ? (e as { stack: string }).stack : undefined;

process.on('uncaughtException', (e) => {
  const stack = stackOf(e);
  sendAndExit({ t: 'fatal', reason: 'exception', message: errorMessage(e).slice(0, 4096), ...(stack ? { stack: stack.slice(0, 65536) } : {}) }, 70);
});
process.on('unhandledRejection', (e) => {
  const stack = stackOf(e);
  sendAndExit({ t: 'fatal', reason: 'rejection', message: errorMessage(e).slice(0, 4096), ...(stack ? { stack: stack.slice(0, 65536) } : {}) }, 70);
});
// An orphaned runtime must not live on without its supervisor, including one whose supervisor
// died while this module was still loading (the event has passed by then).
process.on('disconnect', () => process.exit(0));
if (!process.connected) process.exit(0);

/** Application code's console output goes into the device log. */
function captureConsole(log: Logger): void {
  const fmt = (args: unknown[]) => util.formatWithOptions({ depth: 4, colors: false }, ...args);
  console.log = (...a: unknown[]) => log.info(fmt(a));
  console.info = (...a: unknown[]) => log.info(fmt(a));
  console.debug = (...a: unknown[]) => log.debug(fmt(a));
  console.warn = (...a: unknown[]) => log.warn(fmt(a));
  console.error = (...a: unknown[]) => log.error(fmt(a));
}

let handle: DeviceHandle | undefined;

process.on('message', (raw: unknown) => {
  const m = ToChild.safeParse(raw);
  if (!m.success) return;
  if (m.data.t === 'stop') {
    void (handle ? handle.stop() : Promise.resolve()).then(() => process.exit(0));
    return;
  }
  if (handle) return;
  const { heartbeatMs, ...options } = m.data.options;
  // The first beat at once: from here on the supervisor watches for a blocked loop (the code
  // is loaded; before this, slow loading on a busy machine is not a hang).
  send({ t: 'beat' });
  setInterval(() => send({ t: 'beat' }), heartbeatMs);
  const log = createDeviceLog({ echo: (line) => send({ t: 'log', line: line.slice(0, 2048) }) });
  captureConsole(log.logger('console'));
  void startDevice({
    ...options,
    log,
    coldStart: false,
    waitConnected: false,
    hardwareWatchdog: {
      arm: (ms) => send({ t: 'arm', ms }),
      feed: () => send({ t: 'feed' }),
      stop: () => send({ t: 'disarm' }),
    },
    onReset: (mode) => sendAndExit({ t: 'reset', mode }, 0),
    onCommand: (id) => send({ t: 'cmd', id: id.slice(0, 64) }),
  }).then(
    (h) => {
      handle = h;
      const s = h.status();
      send({ t: 'booted', mode: s.mode, bootCount: s.bootCount ?? 0 });
    },
    (e: unknown) => {
      const stack = stackOf(e);
      sendAndExit({ t: 'fatal', reason: 'exception', message: `boot failed: ${errorMessage(e)}`, ...(stack ? { stack } : {}) }, 70);
    },
  );
});

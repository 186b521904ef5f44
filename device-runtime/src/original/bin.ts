// Runs one simulated original board:
//   node bin/run-ts.mjs device-runtime/src/original/bin.ts --server H --port N --prefix P --root DIR
// Log lines are echoed on stdout as they would appear on P/log. Ctrl-C stops it.
import { parseArgs } from 'node:util';
import { startOriginalBoard } from './index';

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: process.env.MQBOARD_SERVER ?? 'localhost' },
    port: { type: 'string', default: process.env.MQBOARD_PORT ?? '1883' },
    user: { type: 'string' },
    password: { type: 'string' },
    prefix: { type: 'string' },
    root: { type: 'string' },
    'watchdog-ms': { type: 'string' },
    firmware: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});

const usage = 'usage: bin.ts --prefix P --root DIR [--server HOST] [--port N] [--user U] [--password PW] [--watchdog-ms MS] [--firmware BUILD]';
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (!values.prefix || !values.root) {
  console.error(usage);
  process.exit(2);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`bad --port: ${values.port}`);
  process.exit(2);
}

const board = await startOriginalBoard({
  url: `mqtt://${values.server}:${port}`,
  username: values.user,
  password: values.password,
  prefix: values.prefix,
  root: values.root,
  watchdogIntervalMs: values['watchdog-ms'] ? Number(values['watchdog-ms']) : undefined,
  firmware: values.firmware,
  onLog: (line) => console.log(line),
});

const quit = () => {
  board.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', quit);
process.once('SIGTERM', quit);

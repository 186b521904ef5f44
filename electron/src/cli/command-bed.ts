// Test support for the CLI's fleet commands: a real broker (aedes), the devices a test file
// starts on it, an engine watching them, and the command run in this process as the CLI
// registers it, with its output captured. A test file makes one at its top and hands `start`
// and `stop` to beforeAll and afterAll.
import { Command } from 'commander';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { connectedEngine, tempDir } from '../engine/test-support';
import type { Engine } from '../engine/types';
import type { FleetIo } from './fleet';
import { addGlobalOptions, type GlobalOptions } from './global-options';

export interface Ran {
  out: string;
  err: string;
  /** What the command threw (the CLI prints it and exits non-zero), if anything. */
  failure?: Error;
}

/** Adds the command under test to the program, writing through `io`. */
export type AddCommand = (program: Command, globals: () => GlobalOptions, io: FleetIo) => unknown;

export interface CommandBed {
  broker: EmbeddedBroker;
  /** An engine on the same broker, to see what the command did to the devices. */
  watcher: Engine;
  /** Where the devices' roots go. */
  roots: { dir: string };
  /** The folder the command runs in: its local files go here. */
  work: { dir: string };
  /** `mqboard -s 127.0.0.1 --port <broker> ARGS`, with `confirm` answering any question it asks. */
  run: (args: string[], confirm?: (question: string) => Promise<boolean>) => Promise<Ran>;
  /** Stops `x` with the bed (a device or fleet the test file starts); returns it. */
  keep: <T extends Stoppable>(x: T) => T;
  /** Broker, watcher, then the test file's devices. */
  start: () => Promise<void>;
  /** Everything `start` started, and the temporary folders. */
  stop: () => Promise<void>;
}

interface Stoppable {
  stop(): Promise<void>;
}

export function commandBed(o: {
  /** Names the temporary folders. */
  name: string;
  /** Topic depths the watcher discovers devices at. */
  depths: number[];
  add: AddCommand;
  /** Starts the test file's devices once the broker and watcher are up (each handed to `bed.keep`). */
  devices(bed: CommandBed): Promise<void>;
}): CommandBed {
  const roots = tempDir(o.name);
  const work = tempDir(`${o.name}-work`);
  let broker: EmbeddedBroker | undefined;
  let watcher: Engine | undefined;
  const started: Stoppable[] = [];
  const up = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('the command bed is not started (beforeAll(bed.start))');
    return x;
  };
  const bed: CommandBed = {
    get broker() {
      return up(broker);
    },
    get watcher() {
      return up(watcher);
    },
    roots,
    work,
    run: async (args, confirm) => {
      const program = addGlobalOptions(new Command('mqboard')).enablePositionalOptions().exitOverride();
      const ran: Ran = { out: '', err: '' };
      o.add(program, () => program.opts<GlobalOptions>(), { out: (t) => (ran.out += t), err: (t) => (ran.err += t), ...(confirm ? { confirm } : {}) });
      const cwd = process.cwd();
      process.chdir(work.dir);
      try {
        await program.parseAsync(['-s', '127.0.0.1', '--port', String(up(broker).port), ...args], { from: 'user' });
      } catch (e) {
        ran.failure = e as Error;
      } finally {
        process.chdir(cwd);
      }
      return ran;
    },
    keep: (x) => {
      started.push(x);
      return x;
    },
    start: async () => {
      broker = await startEmbeddedBroker();
      watcher = await connectedEngine(broker.url, { depths: o.depths });
      await o.devices(bed);
    },
    stop: async () => {
      await watcher?.disconnect();
      for (const d of started) await d.stop();
      await broker?.close();
      roots.remove();
      work.remove();
    },
  };
  return bed;
}

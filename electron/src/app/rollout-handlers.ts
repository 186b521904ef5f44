// The bridge's rollout operations: the image comes from a staged upload or a demo example, the
// engine's rollout manager (engine/fleet/rollout.ts) runs it and keeps it on disk under
// `<settingsDir>/rollouts`, and every change goes out on the `rollouts` stream. Rollouts belong
// to the broker profile they were started on: the list shows the current profile's only.
import type { BridgeEvent, RolloutImage, RolloutImageKind, RolloutInput } from '../../../protocol/src';
import { createRolloutManager, createRolloutStore, RolloutError, type RolloutManager } from '../engine/fleet/rollout';
import { describeRolloutImage } from '../engine/fleet/rollout-image';
import type { Engine } from '../engine/types';
import { HostError } from './errors';
import type { RolloutHandlers } from './handlers';
import type { TransferStages } from './transfer-stages';

export interface RolloutExampleImage {
  name: string;
  /** Which devices can take it: `bundle` our runtime's, `firmware` original boards. */
  kind: RolloutImageKind;
  description: string;
  version: string;
  bytes: Uint8Array;
}

export interface RolloutHandlerDeps {
  engine: Engine;
  /** Where rollouts are kept: `<settingsDir>/rollouts`. */
  dir: string;
  /** The current broker profile's id (`demo` for the demo), null when not connected to one. */
  profile(): string | null;
  /** Images the page staged (bridge-files.ts `xferStage`). */
  stages: TransferStages;
  /** The demo's example images (app bundles and firmware); empty where there are none. */
  examples(): Promise<RolloutExampleImage[]>;
  publish(e: BridgeEvent): void;
}

export interface RolloutService {
  handlers: RolloutHandlers;
  /** Call after the connection switched to another broker profile: its running rollouts continue. */
  profileChanged(): void;
  /** Stops the runs as the host stops; they continue from disk at the next start. */
  close(): Promise<void>;
  /** Resolves once the rollouts on disk are loaded (tests). */
  ready: Promise<void>;
}

const text = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Engine and image errors as the bridge's codes. */
async function bridged<T>(f: () => Promise<T> | T): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof RolloutError) throw new HostError(e.code, e.message);
    if (e instanceof RangeError) throw new HostError('invalid-argument', e.message);
    throw e;
  }
}

export function createRolloutHandlers(d: RolloutHandlerDeps): RolloutService {
  const manager: RolloutManager = createRolloutManager({
    engine: d.engine,
    store: createRolloutStore(d.dir),
    profile: d.profile,
    onEvent: (e) => d.publish({ stream: 'rollouts', rollout: e.rollout, devices: e.devices }),
    warn: (m) => console.warn(`mqboard: rollouts: ${m}`),
  });
  const ready = manager.restore().catch((e: unknown) => console.warn(`mqboard: rollouts not restored: ${text(e)}`));

  const connected = () => {
    if (d.profile() === null) throw new HostError('not-connected', 'connect to a broker first: rollouts are kept per broker');
  };

  /** The image's bytes and description; a staged upload is only read here (start takes it once started). */
  async function image(input: RolloutInput): Promise<{ bytes: Uint8Array; info: RolloutImage }> {
    let name: string;
    let bytes: Uint8Array;
    if (input.image.from === 'stage') {
      const staged = d.stages.peek(input.image.stage);
      name = staged.name;
      bytes = staged.data;
    } else {
      const want = input.image.name;
      const found = (await d.examples()).find((x) => x.name === want);
      if (!found) throw new HostError('not-found', `there is no example image named ${JSON.stringify(want)}`);
      name = found.name;
      bytes = found.bytes;
    }
    return { bytes, info: await describeRolloutImage(name, bytes, input.version) };
  }

  const handlers: RolloutHandlers = {
    rolloutPlan: (input) =>
      bridged(async () => {
        connected();
        await ready;
        const { info } = await image(input);
        return { plan: manager.plan(input, info) };
      }),
    rolloutStart: (input) =>
      bridged(async () => {
        connected();
        await ready;
        const { bytes, info } = await image(input);
        const rollout = await manager.start({ input, image: bytes, info });
        // The rollout keeps its own copy on disk; a plan or start that failed leaves the stage for another try.
        if (input.image.from === 'stage') d.stages.drop(input.image.stage);
        return { rollout };
      }),
    rolloutPause: ({ id }) => bridged(async () => ({ rollout: await manager.pause(id) })),
    rolloutResume: ({ id }) => bridged(async () => ({ rollout: await manager.resume(id) })),
    rolloutAbort: ({ id }) => bridged(async () => ({ rollout: await manager.abort(id) })),
    rolloutRetry: ({ id }) => bridged(async () => ({ rollout: await manager.retry(id) })),
    rolloutList: () =>
      bridged(async () => {
        await ready;
        return { rollouts: manager.list() };
      }),
    rolloutGet: ({ id }) =>
      bridged(async () => {
        await ready;
        return manager.get(id);
      }),
    rolloutForget: ({ id }) =>
      bridged(async () => {
        await manager.forget(id);
        return {};
      }),
    rolloutExamples: async () => ({
      examples: (await d.examples()).map((x) => ({ name: x.name, kind: x.kind, description: x.description, version: x.version, size: x.bytes.length })),
    }),
  };

  return {
    handlers,
    profileChanged: () => manager.continueRunning(),
    close: () => manager.close(),
    ready,
  };
}

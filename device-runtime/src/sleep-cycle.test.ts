// A device that sleeps like a battery board (--sleep-cycle): online, asleep with the time it
// will be back, online again in the same boot; commands sent while it sleeps run when it wakes
// and keep it awake until they are done; its watchdog does not bite in its sleep.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStatus, logTopic, statusTopic, text, type Status } from '../../protocol/src';
import { startDevice, startFleet, type DeviceHandle } from './index';
import { startSleepCycle } from './sleep-cycle';
import { BROKERS, type TestBroker } from './test-support/brokers';
import { connectHost, type TestHost } from './test-support/host';
import { tmpRoot } from './test-support/tmp-root';
import { waitForMessage } from './test-support/wait';

/** Every status and reply seen, in arrival order, and a way to wait for the next one that matches. */
function recorder(host: TestHost, prefix: string) {
  type Seen = { kind: 'status'; status: Status } | { kind: 'reply'; text: string };
  const seen: Seen[] = [];
  const waiters: Array<{ from: number; pred: (s: Seen) => boolean; resolve: (i: number) => void }> = [];
  const push = (s: Seen) => {
    seen.push(s);
    for (const w of [...waiters]) {
      const i = seen.findIndex((x, j) => j >= w.from && w.pred(x));
      if (i >= 0) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(i);
      }
    }
  };
  host.client.on('message', (topic, payload) => {
    if (topic !== statusTopic(prefix)) return;
    const s = decodeStatus(payload);
    if (s.ok) push({ kind: 'status', status: s.value });
  });
  return {
    seen,
    reply: (t: string) => push({ kind: 'reply', text: t }),
    start: () => host.client.subscribeAsync(statusTopic(prefix), { qos: 1 }),
    /** Index of the first entry at or after `from` that satisfies `pred`, once there is one. */
    next: (from: number, pred: (s: Seen) => boolean) =>
      new Promise<number>((resolve) => {
        const i = seen.findIndex((x, j) => j >= from && pred(x));
        if (i >= 0) resolve(i);
        else waiters.push({ from, pred, resolve });
      }),
  };
}

const isOnline = (s: { kind: string; status?: Status }) => s.kind === 'status' && s.status!.online;
const isAsleep = (s: { kind: string; status?: Status }) => s.kind === 'status' && !s.status!.online && s.status!.reason === 'sleep';
const statusAt = (r: ReturnType<typeof recorder>, i: number) => (r.seen[i] as { status: Status }).status;

describe('the sleep cycle', () => {
  /** A cycle whose device side writes down what it is asked to do. */
  const run = (o: { busyFor?: number; stayFirst?: boolean }) => {
    const events: string[] = [];
    let busyChecks = 0;
    let sleeps = 0;
    let resolveWoke!: () => void;
    const woke = new Promise<void>((r) => (resolveWoke = r));
    const cycle = startSleepCycle({
      sleepMs: 5,
      awakeMs: 5,
      busy: () => {
        busyChecks++;
        const b = busyChecks <= (o.busyFor ?? 0);
        if (b) events.push('busy');
        return b;
      },
      sleep: async (wakeAt) => {
        sleeps++;
        events.push(`sleep ${typeof wakeAt}`);
        return o.stayFirst && sleeps === 1 ? 'stayed' : 'asleep';
      },
      wake: () => {
        events.push(`wake (${cycle.state()})`);
        resolveWoke();
      },
      onError: (e) => events.push(`error ${String(e)}`),
    });
    return { cycle, events, woke };
  };

  it('stays awake while there is work, then sleeps and wakes', async () => {
    const { cycle, events, woke } = run({ busyFor: 3 });
    await woke;
    cycle.stop();
    expect(events).toEqual(['busy', 'busy', 'busy', 'sleep number', 'wake (awake)']);
  });

  it('carries on awake when work arrived while it said goodbye, and sleeps at its next idle time', async () => {
    const { cycle, events, woke } = run({ stayFirst: true });
    await woke;
    cycle.stop();
    expect(events).toEqual(['sleep number', 'sleep number', 'wake (awake)']);
  });

  it('neither sleeps nor wakes once stopped', async () => {
    const { cycle, events } = run({});
    cycle.stop();
    expect(cycle.state()).toBe('stopped');
    // Longer than a whole cycle: nothing may happen in it.
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual([]);
  });
});

for (const kind of BROKERS) {
  // Side by side: each device has a prefix of its own, and each test waits on its own cycles.
  describe.skipIf(kind.skip !== undefined)(`a sleeping device over ${kind.name}`, { concurrent: true }, () => { // the Mosquitto kind is skipped without Mosquitto: apt-get install mosquitto (CI installs it)
    let broker: TestBroker;
    let host: TestHost;
    const roots: Array<ReturnType<typeof tmpRoot>> = [];
    const devices: DeviceHandle[] = [];
    const root = () => {
      const r = tmpRoot('sleep');
      roots.push(r);
      return r.dir;
    };
    beforeAll(async () => {
      broker = await kind.start();
      host = await connectHost(broker.url);
    });
    afterAll(async () => {
      for (const d of devices) await d.stop();
      await host?.close();
      await broker?.stop();
      roots.forEach((r) => r.cleanup());
    });

    it('sleeps after its idle window, saying when it will wake, and wakes into the same boot', async () => {
      const P = 'sleep/cycle';
      const rec = recorder(host, P);
      await rec.start();
      devices.push(await startDevice({ url: broker.url, prefix: P, root: root(), sleepCycleMs: 1000, awakeMs: 200 }));
      const up = await rec.next(0, isOnline);
      const asleep = await rec.next(up, isAsleep);
      const back = await rec.next(asleep, isOnline);
      const again = await rec.next(back, isAsleep);

      const s = statusAt(rec, asleep);
      expect(s).toMatchObject({ online: false, reason: 'sleep' });
      // Back one cycle after it decided to sleep, which is at most a moment before it said so.
      const ahead = !s.online ? s.wake! - s.time! : NaN;
      expect(ahead).toBeGreaterThan(0);
      expect(ahead).toBeLessThanOrEqual(1000);
      // The same boot, not a reboot: boot count and reason stay, uptime goes on.
      const [first, woke] = [statusAt(rec, up), statusAt(rec, back)];
      expect(woke).toMatchObject({ online: true, bootCount: first.online ? first.bootCount : -1, bootReason: 'cold' });
      expect(statusAt(rec, again)).toMatchObject({ online: false, reason: 'sleep' });
    });

    it('runs a command sent while it sleeps when it wakes, and stays awake until the command is done', async () => {
      const P = 'sleep/work';
      const rec = recorder(host, P);
      await rec.start();
      devices.push(await startDevice({ url: broker.url, prefix: P, root: root(), sleepCycleMs: 1000, awakeMs: 200 }));
      const asleep = await rec.next(0, isAsleep);
      // Runs far longer than the idle window: a device that slept through it would never answer.
      const r = await host.eval(P, 'new Promise((r) => setTimeout(() => r("measured " + device.uptime().toFixed(0)), 1500))');
      expect(r.ok && text(r.data)).toMatch(/^'measured \d+'$/);
      rec.reply(r.ok ? text(r.data) : r.error);
      const woke = await rec.next(asleep, isOnline);
      const replied = await rec.next(woke, (x) => x.kind === 'reply');
      // After the wake it answered before it went back to sleep, and only then slept.
      expect(rec.seen.slice(woke, replied).filter(isAsleep)).toEqual([]);
      await rec.next(replied, isAsleep);
    });

    it('stopped in its sleep, it says it shut down, so nobody waits for its wake', async () => {
      const P = 'sleep/stopped';
      const rec = recorder(host, P);
      await rec.start();
      const d = await startDevice({ url: broker.url, prefix: P, root: root(), sleepCycleMs: 60_000, awakeMs: 200 });
      const asleep = await rec.next(0, isAsleep);
      await d.stop();
      const gone = await rec.next(asleep, (x) => x.kind === 'status' && !x.status.online && x.status.reason === 'shutdown');
      // Nothing said it was online in between, and the shutdown is the last word, retained.
      expect(rec.seen.slice(asleep, gone).filter(isOnline)).toEqual([]);
      expect(await host.status(P, () => true)).toMatchObject({ online: false, reason: 'shutdown' });
    });

    it('sleeps every member of a fleet, each on its own topic', async () => {
      const members = ['sleep/fleet/001', 'sleep/fleet/002', 'sleep/fleet/003'];
      const asleep = Promise.all(members.map((p) => host.status(p, (s) => !s.online && s.reason === 'sleep', 20_000)));
      const fleet = await startFleet({ url: broker.url, prefix: 'sleep/fleet', root: root(), count: 3, sleepCycleMs: 1000, awakeMs: 200 });
      try {
        expect((await asleep).map((s) => !s.online && s.wake !== undefined)).toEqual([true, true, true]);
      } finally {
        await fleet.stop();
      }
    });

    it('is not reset by its watchdog while asleep, and reaches all-OK over its wakes', async () => {
      const P = 'sleep/watchdog';
      const dir = root();
      // A watchdog far shorter than the sleep, and all-OK only after several cycles.
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ watchdog: { timeoutS: 2, initialS: 2, allokS: 3 } }));
      const rec = recorder(host, P);
      await rec.start();
      const allOk = waitForMessage(host.client, logTopic(P), (line) => line.includes('all OK after'), 30_000);
      const d = await startDevice({ url: broker.url, prefix: P, root: dir, sleepCycleMs: 2500, awakeMs: 200 });
      devices.push(d);
      let i = await rec.next(0, isAsleep);
      for (let wakes = 0; wakes < 2; wakes++) i = await rec.next(await rec.next(i, isOnline), isAsleep);
      await allOk;
      const online = rec.seen.filter(isOnline).map((x) => (x as { status: Status }).status);
      // Every status is of the first boot: no watchdog reset, in all those sleeps.
      expect(new Set(online.map((s) => s.online && s.bootCount))).toEqual(new Set([1]));
      expect(d.log.recent().join('\n')).not.toMatch(/watchdog expired/);
    });
  });
}

// Boot modes, application modules, OTA rollback and log buffering, with in-process devices on
// aedes (the supervised, real-process versions are in supervisor.test.ts).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrashList, decodeLogLine, logTopic, Status, text, utf8 } from '../../protocol/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../testing/brokers';
import { createBundle, installDemo, startDevice, type DeviceHandle } from './index';
import { chunked, connectHost, sha256, type TestHost } from './test-support/host';
import { startProxy } from './test-support/proxy';
import { tmpRoot } from './test-support/tmp-root';
import { waitForMessage } from './test-support/wait';

const FAST_WATCHDOG = { timeoutS: 0.4, initialS: 2, allokS: 0.3 };
const isStatus = (pred: (s: Status) => boolean) => (payload: string) => {
  const s = Status.safeParse(JSON.parse(payload));
  return s.success && pred(s.data);
};

describe('boot modes and application modules (in-process)', () => {
  let broker: EmbeddedBroker;
  let host: TestHost;
  const roots: Array<ReturnType<typeof tmpRoot>> = [];
  const devices: DeviceHandle[] = [];
  const newRoot = () => {
    const r = tmpRoot('modes');
    roots.push(r);
    return r.dir;
  };
  const start = async (prefix: string, root: string) => {
    const d = await startDevice({ url: broker.url, prefix, root, moduleRetryMs: 20 });
    devices.push(d);
    return d;
  };

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    host = await connectHost(broker.url);
  });
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.stop()));
    await host?.close();
    await broker?.close();
    roots.forEach((r) => r.cleanup());
  });

  it('runs the demo blinky module: heartbeat out, period in', async () => {
    const root = newRoot();
    await installDemo(root, 0.05);
    await start('modes/blinky', root);
    const beat = JSON.parse(await waitForMessage(host.client, 'modes/blinky/blinky/state', () => true)) as { period: number };
    expect(beat.period).toBe(0.05);
    await host.client.publishAsync('modes/blinky/blinky/period', '0.07', { qos: 1 });
    await waitForMessage(host.client, 'modes/blinky/blinky/state', (p) => (JSON.parse(p) as { period: number }).period === 0.07);
  });

  it('comes up in safe mode after maxFailedBoots boots whose module throws at start, then recovers after a fix', async () => {
    const root = newRoot();
    fs.mkdirSync(path.join(root, 'lib'));
    fs.writeFileSync(path.join(root, 'lib', 'app.mjs'), 'export function start() { throw new Error("broken app"); }\n');
    fs.writeFileSync(path.join(root, 'config.json'), JSON.stringify({ modules: ['app'], maxFailedBoots: 2, watchdog: FAST_WATCHDOG }));
    const safe = waitForMessage(host.client, 'modes/fail/mqb/status', isStatus((s) => s.online && s.mode === 'safe'));
    const dev = await start('modes/fail', root);
    const s = Status.parse(JSON.parse(await safe));
    expect(s).toMatchObject({ online: true, mode: 'safe', bootReason: 'crash', bootCount: 3 });
    // Still reachable: eval and file commands work in safe mode.
    const r = await host.eval('modes/fail', 'device.mode');
    expect(r.ok && text(r.data)).toBe("'safe'");
    const crashes = await host.json('modes/fail', 'ls', '/crash');
    expect(crashes.ok && (crashes.value as { entries: unknown[] }).entries).toHaveLength(2);
    const record = await host.get('modes/fail', `/crash/${(crashes.ok && (crashes.value as { entries: Array<{ name: string }> }).entries[0]!.name) || ''}`);
    expect(record.ok && JSON.parse(text(record.data))).toMatchObject({ reason: 'boot-failure', message: 'app: broken app', mode: 'normal' });
    // Fix the module with put and reset into normal mode.
    const fixed = await host.put('modes/fail', '/lib/app.mjs', utf8('export function start(mqtt) { mqtt.onInit(() => mqtt.publish(mqtt.prefix + "/app", "fixed")); }\n'));
    expect(fixed.ok).toBe(true);
    const normal = waitForMessage(host.client, 'modes/fail/app', (p) => p === 'fixed');
    await host.json('modes/fail', 'reset', '', { mode: 'normal' });
    await normal;
    expect(dev.status()).toMatchObject({ mode: 'normal', bootReason: 'command' });
  });

  it('publishes a boot-failure crash record at once, while the boot is still connected', async () => {
    const root = newRoot();
    fs.mkdirSync(path.join(root, 'lib'));
    fs.writeFileSync(path.join(root, 'lib', 'app.mjs'), 'export function start() { throw new Error("broken now"); }\n');
    fs.writeFileSync(path.join(root, 'config.json'), JSON.stringify({ modules: ['app'] }));
    const record = waitForMessage(host.client, 'modes/now/mqb/crash', (p) => p.includes('broken now'));
    // The reboot after the failure is far off: the record must not wait for the next connection.
    const dev = await startDevice({ url: broker.url, prefix: 'modes/now', root, moduleRetryMs: 600_000 });
    devices.push(dev);
    const list = CrashList.parse(JSON.parse(await record));
    expect(list.crashes.at(-1)).toMatchObject({ reason: 'boot-failure', message: 'app: broken now', bootCount: dev.status().bootCount });
    await waitForMessage(host.client, 'modes/now/mqb/status', isStatus((s) => s.online && s.crashes === 1));
  });

  it('rolls back an OTA bundle that fails on start, says so in status, and keeps the crash record', async () => {
    const root = newRoot();
    fs.writeFileSync(path.join(root, 'config.json'), JSON.stringify({ watchdog: FAST_WATCHDOG }));
    const dev = await start('modes/ota', root);
    const image = await createBundle({ name: 'bad', version: '9.9.9', modules: ['crashy'] }, { 'crashy.mjs': 'export function start() { throw new Error("crashy start"); }\n' });
    const r = await host.command('modes/ota', 'ota', sha256(image), chunked(image, 1400), { window: 16 });
    expect(r.ok && text(r.data)).toBe('OK');
    const rolledBack = waitForMessage(host.client, 'modes/ota/mqb/status', isStatus((s) => s.online && s.bootReason === 'rollback'));
    await host.json('modes/ota', 'reset', '', { mode: 'soft' });
    const s = Status.parse(JSON.parse(await rolledBack));
    expect(s.online && s.ota).toEqual({ active: 'a', confirmed: true, slots: [{ name: 'a', version: null }, { name: 'b', version: '9.9.9' }] });
    const list = CrashList.parse(JSON.parse(await waitForMessage(host.client, 'modes/ota/mqb/crash', () => true)));
    expect(list.crashes.at(-1)).toMatchObject({ reason: 'boot-failure', message: 'crashy: crashy start' });
    expect(dev.status().mode).toBe('normal');
  });

  it('does not reboot again for a failed module start once a reset has rebooted it first', async () => {
    // A rollout resets a trial boot whose app failed before that boot's own retry: the retry of
    // the ended boot must not reboot the device a second time (into a second session beside the
    // running one, rolling a new boot's trial slot back).
    const root = newRoot();
    fs.mkdirSync(path.join(root, 'lib'));
    fs.writeFileSync(path.join(root, 'lib', 'app.mjs'), 'export function start() { throw new Error("broken until fixed"); }\n');
    // All-OK 2 s into a boot: later than the 1 s retry of the failed boot before it.
    fs.writeFileSync(path.join(root, 'config.json'), JSON.stringify({ modules: ['app'], maxFailedBoots: 5, watchdog: { timeoutS: 4, initialS: 10, allokS: 2 } }));
    const lines: string[] = [];
    let allOk!: () => void;
    const reachedAllOk = new Promise<void>((resolve) => (allOk = resolve));
    const record = waitForMessage(host.client, 'modes/late/mqb/crash', (p) => p.includes('broken until fixed'));
    const dev = await startDevice({
      url: broker.url,
      prefix: 'modes/late',
      root,
      moduleRetryMs: 1000,
      echo: (line) => {
        lines.push(line);
        if (line.includes('all OK after')) allOk();
      },
    });
    devices.push(dev);
    await record;
    fs.writeFileSync(path.join(root, 'lib', 'app.mjs'), 'export function start() {}\n');
    await host.json('modes/late', 'reset', '', { mode: 'soft' });
    await reachedAllOk;
    const before = Status.parse(JSON.parse(await waitForMessage(host.client, 'modes/late/mqb/status', isStatus((s) => s.online && s.bootReason === 'soft'))));
    const last = waitForMessage(host.client, 'modes/late/mqb/status', isStatus((s) => s.online && s.bootReason === 'soft' && (s.bootCount ?? 0) > (before.online ? (before.bootCount ?? 0) : 0)));
    await host.json('modes/late', 'reset', '', { mode: 'soft' });
    const s = Status.parse(JSON.parse(await last));
    const boots = lines.map((l) => / boot #\d+: (\w+)/.exec(l)?.[1]).filter((r) => r !== undefined);
    // Booted once per reset from the first reset on (on a slow machine the failed boot's retry
    // may come before it), and one session runs: its count is every boot there was.
    expect(boots.slice(boots.indexOf('soft'))).toEqual(['soft', 'soft']);
    expect(s.online && s.bootCount).toBe(boots.length);
  });

  it('confirms a good OTA slot after all-OK of the broker-fed watchdog', async () => {
    const root = newRoot();
    fs.writeFileSync(path.join(root, 'config.json'), JSON.stringify({ watchdog: FAST_WATCHDOG }));
    await start('modes/good', root);
    const image = await createBundle({ name: 'good', version: '1.0.1', modules: ['hello'] }, { 'hello.mjs': 'export function start(mqtt) { mqtt.onInit(() => mqtt.publish(mqtt.prefix + "/hello", "hi")); }\n' });
    expect((await host.command('modes/good', 'ota', sha256(image), chunked(image, 1400))).ok).toBe(true);
    const hello = waitForMessage(host.client, 'modes/good/hello', (p) => p === 'hi');
    const confirmed = waitForMessage(host.client, 'modes/good/mqb/status', isStatus((s) => s.online && s.firmware === '1.0.1' && s.ota?.confirmed === true));
    await host.json('modes/good', 'reset', '', { mode: 'soft' });
    await hello;
    const s = Status.parse(JSON.parse(await confirmed));
    expect(s.online && s.ota?.active).toBe('b');
  });

  it('reports the tags of its config.json in safe mode too, unless safemode/config.json has its own', async () => {
    const root = newRoot();
    fs.mkdirSync(path.join(root, 'safemode'));
    fs.writeFileSync(path.join(root, 'config.json'), JSON.stringify({ tags: ['workshop', 'actuator'] }));
    fs.writeFileSync(path.join(root, 'safemode', 'config.json'), JSON.stringify({ watchdog: { revert: false } }));
    const safe = await startDevice({ url: broker.url, prefix: 'modes/tags', root, mode: 'safe' });
    devices.push(safe);
    expect(safe.status()).toMatchObject({ mode: 'safe', tags: ['workshop', 'actuator'] });
    await safe.stop();
    fs.writeFileSync(path.join(root, 'safemode', 'config.json'), JSON.stringify({ tags: ['rescue'] }));
    const own = await startDevice({ url: broker.url, prefix: 'modes/tags', root, mode: 'safe' });
    devices.push(own);
    expect(own.status()).toMatchObject({ mode: 'safe', tags: ['rescue'] });
  });

  it('runs the modules an OTA bundle ships, not the ones config.json lists, and says which started', async () => {
    const root = newRoot();
    fs.mkdirSync(path.join(root, 'lib'));
    fs.writeFileSync(path.join(root, 'lib', 'old.mjs'), 'export function start(mqtt) { mqtt.log.info("old code running"); }\n');
    fs.writeFileSync(path.join(root, 'config.json'), JSON.stringify({ modules: ['old'], tags: ['garden', 'v2'], fresh: { greeting: 'hello from 2.5.0' } }));
    const dev = await start('modes/update', root);
    // Published now, not a minute later: the status names what the boot started.
    expect(dev.status()).toMatchObject({ modules: ['old'], tags: ['garden', 'v2'] });
    const image = await createBundle({ name: 'app', version: '2.5.0', modules: ['fresh'] }, {
      'fresh.mjs': 'export function start(mqtt, config) { mqtt.onInit(() => mqtt.publish(mqtt.prefix + "/fresh", config.greeting)); }\n',
    });
    expect((await host.command('modes/update', 'ota', sha256(image), chunked(image, 1400))).ok).toBe(true);
    const greeting = waitForMessage(host.client, 'modes/update/fresh', () => true);
    const updated = waitForMessage(host.client, 'modes/update/mqb/status', (p) => {
      const s = JSON.parse(p) as { firmware?: string; modules?: string[] };
      return s.firmware === '2.5.0' && s.modules?.length === 1;
    });
    await host.json('modes/update', 'reset', '', { mode: 'soft' });
    // The new module got its config by name from config.json, and the old one did not start.
    expect(await greeting).toBe('hello from 2.5.0');
    expect(JSON.parse(await updated)).toMatchObject({ firmware: '2.5.0', modules: ['fresh'], tags: ['garden', 'v2'] });
    const lines = dev.log.recent();
    expect(lines.some((l) => l.includes('config.json modules old not started: app bundle app 2.5.0 ships fresh'))).toBe(true);
    expect(lines.filter((l) => l.includes('old code running'))).toHaveLength(1);
  });

  it('reports the free memory of the board it simulates, not its host’s', async () => {
    const dev = await startDevice({ url: broker.url, prefix: 'modes/ram', root: newRoot(), simulatedRamBytes: 320 * 1024 });
    devices.push(dev);
    const free = dev.status().freeMem;
    expect(free).toBeGreaterThan(0);
    expect(free).toBeLessThan(320 * 1024);
  });

  it('reverts from safe mode to normal after all-OK when safemode/config.json says revert', async () => {
    const root = newRoot();
    fs.mkdirSync(path.join(root, 'safemode'));
    fs.writeFileSync(path.join(root, 'safemode', 'config.json'), JSON.stringify({ watchdog: { ...FAST_WATCHDOG, revert: true } }));
    await start('modes/revert', root);
    const safe = waitForMessage(host.client, 'modes/revert/mqb/status', isStatus((s) => s.online && s.mode === 'safe'));
    const back = waitForMessage(host.client, 'modes/revert/mqb/status', isStatus((s) => s.online && s.mode === 'normal' && (s.bootCount ?? 0) >= 3));
    await host.json('modes/revert', 'reset', '', { mode: 'safe' });
    await safe;
    await back;
  });

  it('loses no WARNING-or-above line while the broker is unreachable, within the budget', async () => {
    const proxy = await startProxy(broker.port);
    const dev = await startDevice({ url: proxy.url, prefix: 'modes/logs', root: newRoot(), reconnectPeriodMs: 50 });
    try {
      const lines: string[] = [];
      const flushed = new Promise<void>((resolve) =>
        host.client.on('message', (topic, payload) => {
          if (topic !== logTopic('modes/logs')) return;
          const l = decodeLogLine(payload);
          if (!l.ok) return;
          lines.push(`${l.value.level} ${l.value.text}`);
          if (l.value.text === 'warning 19') resolve();
        }),
      );
      await host.client.subscribeAsync(logTopic('modes/logs'), { qos: 1 });
      const offline = waitForMessage(host.client, 'modes/logs/mqb/status', isStatus((s) => !s.online));
      proxy.cut();
      await offline;
      const log = dev.log.logger('test');
      for (let i = 0; i < 20; i++) {
        log.warn(`warning ${i}`);
        // ~40 KB of info per warning: far over the 16 KB budget, so the buffer must choose.
        for (let j = 0; j < 20; j++) log.info(`info ${i}.${j} ${'x'.repeat(100)}`);
      }
      proxy.restore();
      await flushed;
      expect(lines.filter((l) => l.startsWith('W warning'))).toEqual(Array.from({ length: 20 }, (_, i) => `W warning ${i}`));
      expect(lines.some((l) => /^W \d+ log line\(s\) dropped while offline$/.test(l))).toBe(true);
    } finally {
      await dev.stop();
      await proxy.close();
    }
  });
});

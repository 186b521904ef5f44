// What `mqboard` prints: all of it, even to a slow reader, and device text with its control
// sequences shown rather than obeyed. Real bin, aedes, our device runtime; the hostile device is
// a plain MQTT client publishing what a compromised board could.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevice, type DeviceHandle } from '../../../device-runtime/src';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../testing/brokers';
import { sha256, tempDir } from '../engine/test-support';
import { runCli, runCliPiped, spawnCli, type CliEnv } from './test-support';

const P = 'out/dev';
const EVIL = 'evil/dev';
const ESC = '\x1b';
/** What a compromised board sends: clipboard, title, fake link, clear, overwrite, DCS query, C1 CSI. */
const ATTACKS = [
  `${ESC}]52;c;cm0gLXJmIH4vKg==\x07`,
  `${ESC}]0;owned${ESC}\\`,
  `${ESC}]8;;http://evil.example/${ESC}\\click${ESC}]8;;${ESC}\\`,
  `${ESC}[2J${ESC}[H`,
  `${ESC}[1A${ESC}[2K`,
  `${ESC}P$q"p${ESC}\\`,
  '\x9b6n',
];

let broker: EmbeddedBroker;
let device: DeviceHandle;
let evil: MqttClient;
const work = tempDir('cli-out');
const root = tempDir('cli-out-root');
let env: CliEnv;

/** No control character but newlines (the CLI adds no colours: its stdout is not a terminal). */
const inert = (s: string) => ![...s].some((c) => c !== '\n' && (c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f)));

beforeAll(async () => {
  broker = await startEmbeddedBroker();
  device = await startDevice({ url: broker.url, prefix: P, root: root.dir });
  env = { cwd: work.dir, port: broker.port, prefix: P };
  evil = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
  // The real device's status, as a compromised board would send it, with its own firmware text.
  const status = await new Promise<Record<string, unknown>>((resolve) => {
    evil.on('message', (topic, payload) => {
      if (topic === `${P}/mqb/status`) resolve(JSON.parse(payload.toString()) as Record<string, unknown>);
    });
    void evil.subscribeAsync(`${P}/mqb/status`);
  });
  await evil.publishAsync(`${EVIL}/mqb/status`, JSON.stringify({ ...status, firmware: `1.0${ATTACKS[0]}` }), { retain: true, qos: 1 });
  // Records enough for a JSON text of well over one pipe buffer (64 KiB).
  const crashes = Array.from({ length: 24 }, (_, i) => ({
    id: `c${i}`,
    time: 1_700_000_000_000 + i,
    bootCount: i + 1,
    mode: 'normal',
    reason: 'exception',
    message: `boom ${i} ${ATTACKS[i % ATTACKS.length]}`,
    stack: `Error: boom\n${'    at somewhere (app/main.js:1:1)\n'.repeat(100)}${ATTACKS[3]}`,
    log: [`E 1000     main: ${ATTACKS[1]}`],
  }));
  await evil.publishAsync(`${EVIL}/mqb/crash`, JSON.stringify({ crashes }), { retain: true, qos: 1 });
});
afterAll(async () => {
  await evil?.endAsync();
  await device?.stop();
  await broker?.close();
  work.remove();
  root.remove();
});

// Side by side: each mostly waits for its reader, and each reads a file of its own.
describe('mqboard output to a pipe', { concurrent: true }, () => {
  it('delivers all of a `get` to a reader that starts late, and exits 0 only then', { timeout: 60_000 }, async () => {
    const data = randomBytes(3_000_000);
    writeFileSync(path.join(root.dir, 'big.bin'), data);
    const r = await runCliPiped(env, ['get', '/big.bin'], { holdMs: 8000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.received.length).toBe(data.length);
    expect(sha256(r.received)).toBe(sha256(data));
  });

  it('delivers `crashes --json` whole to a late reader: it parses', { timeout: 60_000 }, async () => {
    const r = await runCliPiped({ ...env, prefix: EVIL }, ['crashes', '--json'], { holdMs: 8000 });
    expect(r.code).toBe(0);
    expect(r.received.length).toBeGreaterThan(64 * 1024);
    const records = JSON.parse(r.received.toString('utf8')) as Array<{ message: string }>;
    expect(records).toHaveLength(24);
    // JSON keeps the device's text exactly, escaped: `\u001b`, never a raw ESC.
    expect(records[0]!.message).toBe(`boom 0 ${ATTACKS[0]}`);
    expect(inert(r.received.toString('utf8'))).toBe(true);
  });

  it('exits non-zero, saying so, when the reader goes away before the output is out', async () => {
    const data = randomBytes(1_000_000);
    writeFileSync(path.join(root.dir, 'cut.bin'), data);
    const r = await runCliPiped(env, ['get', '/cut.bin'], { holdMs: 500, maxBytes: 1000 });
    expect(r.received.length).toBe(1000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mqboard: the output was cut short: EPIPE\n$/);
  });
});

describe('device text in mqboard output', () => {
  it('`devices` shows a hostile firmware field as text in its one cell', async () => {
    const r = await runCli(env, ['devices', '--wait', '0']);
    expect(r.code).toBe(0);
    expect(inert(r.stdout)).toBe(true);
    const row = r.stdout.split('\n').find((l) => l.startsWith(EVIL));
    expect(row).toContain('1.0\\e]52;c;cm0gLXJmIH4vKg==\\a');
    const json = await runCli(env, ['devices', '--json', '--wait', '0']);
    expect(inert(json.stdout)).toBe(true);
    const list = JSON.parse(json.stdout) as Array<{ prefix: string; firmware: string }>;
    expect(list.find((d) => d.prefix === EVIL)?.firmware).toBe(`1.0${ATTACKS[0]}`);
  });

  it('`crashes` shows every escape sequence as text', async () => {
    const r = await runCli({ ...env, prefix: EVIL }, ['crashes']);
    expect(r.code).toBe(0);
    expect(inert(r.stdout)).toBe(true);
    for (const shown of ['\\e]52;c;cm0gLXJmIH4vKg==\\a', '\\e]0;owned\\e\\', '\\e]8;;http://evil.example/\\e\\click', '\\e[2J\\e[H', '\\e[1A\\e[2K', '\\eP$q"p\\e\\', '\\x9b6n']) {
      expect(r.stdout).toContain(shown);
    }
  });

  it('`view` shows escape sequences in log lines as text; --raw lets only SGR colours through', async () => {
    const viewUntil = async (args: string[], marker: string, text: string) => {
      const child = spawnCli({ ...env, prefix: EVIL }, ['view', ...args]);
      let out = '';
      const seen = new Promise<void>((resolve) =>
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          if (out.includes(marker)) resolve();
        }),
      );
      // Published now and then until `view` (once subscribed) has shown one.
      const poke = setInterval(() => void evil.publishAsync(`${EVIL}/log`, `W 1234     evil: ${text} ${marker}`), 100);
      try {
        await seen;
      } finally {
        clearInterval(poke);
      }
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      return out.split('\n').find((l) => l.includes(marker))!;
    };
    const plain = await viewUntil([], 'marker-plain', `${ESC}[31mred${ESC}[0m ${ATTACKS.join(' ')}`);
    expect(inert(plain)).toBe(true);
    expect(plain).toContain('\\e[31mred\\e[0m \\e]52;c;cm0gLXJmIH4vKg==\\a \\e]0;owned\\e\\');
    const raw = await viewUntil(['--raw'], 'marker-raw', `${ESC}[31mred${ESC}[0m ${ATTACKS[0]}`);
    expect(raw).toContain(`${ESC}[31mred${ESC}[0m \\e]52;c;cm0gLXJmIH4vKg==\\a`);
  });

  it('`eval` shows control characters in what the device replies as text', async () => {
    const r = await runCli(env, ['eval', `console.log("a${'\\x1b'}]0;title${'\\x07'}b")`]);
    expect(r.code).toBe(0);
    // The printed line, then the value of the expression (console.log's undefined).
    expect(r.stdout).toBe('a\\e]0;title\\ab\nundefined\n');
  });
});

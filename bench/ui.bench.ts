// `npm run bench:ui`: the latency a person feels, measured in the browser against web mode,
// launched the way e2e/harness does (the host process plus Debian's Chromium) on an embedded
// broker with a `mqboard-device` process, so the CLI can reach the same device.
//  1. keystroke → echo in a live REPL: 60 characters typed into the terminal; each one timed from
//     its keydown in the page to the moment xterm's rows show it (p50/p99). xterm updates its
//     rows in an animation-frame callback, the frame that paints them, so that moment is when
//     the echo reaches the screen (give or take the compositor). The split: keydown → the
//     termInput call handed to the WebSocket, → the echo's frame arriving, → the rows; and, as
//     the floor for the last part, how long this browser takes to start a frame from an idle
//     moment. The same keystrokes then go through the host's bridge from Node (no browser) and
//     through the engine alone (no host);
//  2. drop → "Done" of a 16 MB file dropped on a folder of the file browser, against `mqboard
//     put` of the same file to the same device (the built CLI process's wall time, and the put alone
//     through the engine, which is what the CLI runs).
// Prints a table and writes bench/ui-results.json.
/// <reference lib="dom" />
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { startEmbeddedBroker, startMosquitto } from '../testing/brokers';
import { startDeviceProcess } from '../e2e/harness/devices';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/harness/paths';
import { spawnProc, type Proc } from '../e2e/harness/processes';
import { createEngine } from '../electron/src/engine';
import { buildRenderer } from '../electron/src/web/renderer-build';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const KEYS = 60;
const SIZE = 16 * 1024 * 1024;
const RUNS = Number(process.env.MQB_BENCH_RUNS ?? 3);
/** A device process running our runtime (live REPL, verified put). */
const PREFIX = 'bench/ui';
/** Between keystrokes: a fast typist, well under a person's ~100 ms. */
const KEY_GAP_MS = 40;

const step = (what: string) => process.stderr.write(`bench:ui: ${what}\n`);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const median = (xs: number[]) => pct(xs, 50);
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function openDevice(page: Page, tab: 'repl' | 'files') {
  await page.locator(`[data-testid="device-row"][data-prefix="${PREFIX}"][data-presence="online"]`).click({ timeout: 30_000 });
  await page.getByTestId(`tab-${tab}`).click();
}

/** One keystroke's way through the page, each stamp relative to its keydown (ms). */
interface EchoTimes {
  /** The REPL's termInput call handed to the WebSocket. */
  send: number;
  /** The terminal frame carrying the echo arrived at the page (first listener on the socket). */
  frame: number;
  /** xterm's rows show the echo: the DOM that the frame being drawn paints. */
  total: number;
}

/** Keystroke → echo, in the page: keydown (capture) to the MutationObserver seeing the text. */
async function replEcho(page: Page): Promise<EchoTimes[]> {
  await openDevice(page, 'repl');
  await page.locator('[data-testid="repl-tab"][data-mode="live"][data-state="open"]').waitFor({ timeout: 30_000 });
  const screen = page.getByTestId('repl-terminal');
  await screen.locator('.xterm-rows', { hasText: '›' }).waitFor();
  await screen.click();
  await page.evaluate(() => {
    const w = window as unknown as { mqbEcho: (expected: string) => Promise<EchoTimes>; mqbFrameAt: number; mqbSendAt: number };
    w.mqbEcho = (expected) =>
      new Promise<EchoTimes>((resolve) => {
        const rows = document.querySelector('[data-testid="repl-terminal"] .xterm-rows')!;
        let t0: number | undefined;
        document.addEventListener('keydown', () => (t0 = performance.now()), { capture: true, once: true });
        const mo = new MutationObserver(() => {
          if (t0 !== undefined && (rows.textContent ?? '').replace(/\u00a0/g, ' ').includes(expected)) {
            mo.disconnect();
            resolve({ total: performance.now() - t0, frame: w.mqbFrameAt - t0, send: w.mqbSendAt - t0 });
          }
        });
        mo.observe(rows, { subtree: true, childList: true, characterData: true });
      });
  });
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let typed = 'q';
  await page.keyboard.press('q');
  await screen.locator('.xterm-rows', { hasText: '› q' }).waitFor();
  const times: EchoTimes[] = [];
  for (let i = 0; i < KEYS; i++) {
    const ch = alphabet[i % alphabet.length]!;
    typed += ch;
    await page.evaluate((e) => {
      const w = window as unknown as { mqbEcho: (expected: string) => Promise<unknown>; mqbPending?: Promise<unknown> };
      w.mqbPending = w.mqbEcho(e);
    }, `› ${typed}`);
    await page.keyboard.press(ch);
    times.push(await page.evaluate(() => (window as unknown as { mqbPending: Promise<EchoTimes> }).mqbPending));
    await sleep(KEY_GAP_MS);
  }
  await page.keyboard.press('Control+C');
  return times;
}

/**
 * How long this browser takes to start its next frame from an idle moment: the floor for any
 * change to reach the screen, however fast the data arrives (a display shows nothing between
 * frames).
 */
async function nextFrameDelay(page: Page): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < KEYS; i++) {
    out.push(
      await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            const t0 = performance.now();
            requestAnimationFrame(() => resolve(performance.now() - t0));
          }),
      ),
    );
    await sleep(KEY_GAP_MS + Math.random() * 17);
  }
  return out;
}

/** The same keystrokes straight through the engine (no bridge, no browser): what the device and broker cost. */
async function engineEcho(url: string): Promise<number[]> {
  const engine = createEngine({ timeoutMs: 30_000 });
  await engine.connect({ url, discovery: { depths: [] } });
  engine.addDevice(PREFIX);
  let text = '';
  let onText = () => {};
  const opened: { id?: string } = {};
  let received = 0;
  const term = await engine.terminals.open(PREFIX, { cols: 120, rows: 30 }, {
    onData: (d, bytes) => {
      text += d;
      received += bytes;
      // Acked like the renderer does, so the device's output window never closes.
      if (opened.id) void engine.terminals.ack(opened.id, received).catch(() => undefined);
      onText();
    },
    onEnd: () => {},
  });
  opened.id = term.id;
  if (received) await engine.terminals.ack(term.id, received);
  const times: number[] = [];
  try {
    while (!text.includes('›')) await new Promise<void>((r) => (onText = r));
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    await engine.terminals.write(term.id, 'q');
    for (let i = 0; i < KEYS; i++) {
      const ch = alphabet[i % alphabet.length]!;
      const seen = text.length;
      const t0 = performance.now();
      await engine.terminals.write(term.id, ch);
      while (!text.slice(seen).includes(ch)) await new Promise<void>((r) => (onText = r));
      times.push(performance.now() - t0);
      await sleep(KEY_GAP_MS);
    }
  } finally {
    await engine.terminals.close(term.id).catch(() => undefined);
    await engine.disconnect();
  }
  return times;
}

/** The same keystrokes through the web host's bridge from Node: the host without the browser. */
async function bridgeEcho(pageUrl: string): Promise<number[]> {
  const u = new URL(pageUrl);
  const token = new URLSearchParams(u.hash.slice(1)).get('token') ?? '';
  const ws = new WebSocket(`ws://${u.host}/bridge?token=${token}`, { origin: u.origin });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let seq = 0;
  const replies = new Map<string, (r: unknown) => void>();
  let text = '';
  let received = 0;
  let term = '';
  let onText = () => {};
  const call = (op: string, args: unknown) =>
    new Promise<unknown>((resolve) => {
      const id = `b${++seq}`;
      replies.set(id, resolve);
      ws.send(JSON.stringify({ t: 'call', op, call: { id, args } }));
    });
  ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as { t: string; id?: string; reply?: { ok: boolean; result?: unknown }; batch?: { stream: string; output?: { term: string; data: string; bytes: number }[] }[] };
    if (m.t === 'reply') {
      replies.get(m.id!)?.(m.reply);
      replies.delete(m.id!);
      return;
    }
    for (const e of m.batch ?? []) {
      for (const o of e.output ?? []) {
        text += o.data;
        received += o.bytes;
      }
    }
    if (term) void call('termAck', { term, bytes: received });
    onText();
  });
  await call('subscribe', { streams: ['terminal'] });
  const opened = (await call('termOpen', { prefix: PREFIX, cols: 120, rows: 30 })) as { ok: boolean; result?: { term: string } };
  if (!opened.ok || !opened.result) throw new Error(`termOpen: ${JSON.stringify(opened)}`);
  term = opened.result.term;
  const times: number[] = [];
  try {
    while (!text.includes('›')) await new Promise<void>((r) => (onText = r));
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    for (let i = 0; i < KEYS; i++) {
      const ch = alphabet[i % alphabet.length]!;
      const seen = text.length;
      const t0 = performance.now();
      void call('termInput', { term, data: ch });
      while (!text.slice(seen).includes(ch)) await new Promise<void>((r) => (onText = r));
      times.push(performance.now() - t0);
      await sleep(KEY_GAP_MS);
    }
    await call('termClose', { term });
  } finally {
    ws.close();
  }
  return times;
}

/** A File from disk in the page (a file input the app does not own), then dropped on a folder. */
async function dropToDone(page: Page, file: string, remote: string): Promise<{ ms: number; queuedMs: number; progress: string }> {
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.id = 'mqb-bench-file';
    input.hidden = true;
    document.body.append(input);
  });
  await page.setInputFiles('#mqb-bench-file', file);
  const name = remote.split('/').pop()!;
  const r = await page.evaluate(
    ({ remote, name }) =>
      new Promise<{ ms: number; queuedMs: number; progress: string }>((resolve, reject) => {
        const input = document.getElementById('mqb-bench-file') as HTMLInputElement;
        const f = input.files![0]!;
        input.remove();
        const dt = new DataTransfer();
        dt.items.add(new File([f], name));
        const target = document.querySelector('[data-testid="file-row"][data-path="/bench"]')!;
        const sel = `[data-testid="transfer-row"][data-path="${remote}"]`;
        let queuedMs = -1;
        const mo = new MutationObserver(() => {
          const row = document.querySelector(sel);
          // The row appears once the bytes are staged in the host and the upload is queued.
          if (row && queuedMs < 0) queuedMs = performance.now() - t0;
          const state = row?.getAttribute('data-state');
          if (state === 'done') {
            mo.disconnect();
            resolve({ ms: performance.now() - t0, queuedMs, progress: row!.querySelector('[data-testid="transfer-progress"]')?.textContent ?? '' });
          } else if (state === 'failed') {
            mo.disconnect();
            reject(new Error(row!.textContent ?? 'failed'));
          }
        });
        mo.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
        const t0 = performance.now();
        for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      }),
    { remote, name },
  );
  return r;
}

async function main() {
  step('building the renderer');
  await buildRenderer();
  const settingsDir = mkdtempSync(path.join(os.tmpdir(), 'mqb-bench-ui-'));
  const work = mkdtempSync(path.join(os.tmpdir(), 'mqb-bench-ui-files-'));
  // MQB_BENCH_BROKER=mosquitto: a broker in its own process, as a user's is, instead of aedes in
  // this process (which also drives the browser, so Playwright's work delays the broker's).
  const brokerKind = process.env.MQB_BENCH_BROKER === 'mosquitto' ? 'mosquitto' : 'aedes in the bench process';
  const broker = brokerKind === 'mosquitto' ? await startMosquitto().then((m) => ({ url: m.url, close: () => m.stop() })) : await startEmbeddedBroker({ port: 0 });
  step(`broker: ${brokerKind}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const device = startDeviceProcess({ url: broker.url, prefix: PREFIX });
  // The app's settings point at that broker, as the e2e harness seeds them.
  const profile = { id: 'bench', name: 'Bench broker', url: broker.url };
  writeFileSync(path.join(settingsDir, 'settings.json'), JSON.stringify({ version: 1, secrets: 'file-0600', active: profile.id, profiles: [profile] }), { mode: 0o600 });
  let host: Proc | undefined;
  let browser: Browser | undefined;
  let pageRef: Page | undefined;
  let shot = async (_name: string) => {};
  try {
    host = spawnProc('web host', process.execPath, [path.join(repo, 'bin/run-ts.mjs'), path.join(repo, 'electron/src/web/main.ts'), '--port', '0'], {
      cwd: repo,
      env: { MQBOARD_SETTINGS_DIR: settingsDir },
    });
    const [, url] = await host.waitFor(/MQBoard web mode: (http:\/\/\S+)/);
    shot = async (name) => {
      await pageRef?.screenshot({ path: path.join(os.tmpdir(), `mqb-bench-ui-${name}.png`) });
    };
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    pageRef = page;
    // Timestamps each terminal frame as it arrives (this listener is the socket's first), so the
    // echo splits into keystroke → frame in the page (host and device) and frame → on screen.
    await page.addInitScript(() => {
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          this.addEventListener('message', (ev: MessageEvent) => {
            if (typeof ev.data === 'string' && ev.data.includes('"stream":"terminal"')) (window as unknown as { mqbFrameAt: number }).mqbFrameAt = performance.now();
          });
        }
        override send(data: string | ArrayBufferLike | Blob | ArrayBufferView) {
          if (typeof data === 'string' && data.includes('"op":"termInput"')) (window as unknown as { mqbSendAt: number }).mqbSendAt = performance.now();
          super.send(data);
        }
      };
    });
    await page.goto(url!);
    await page.locator('[data-testid="connection-state"][data-phase="connected"]').waitFor({ timeout: 30_000 });

    step(`REPL echo: ${KEYS} keystrokes on ${PREFIX}`);
    const echo = await replEcho(page);

    const total = echo.map((e) => e.total);
    const frame = echo.map((e) => e.frame);
    const sent = echo.map((e) => e.send);
    const paint = echo.map((e) => e.total - e.frame);
    const idleFrame = await nextFrameDelay(page);
    step(`REPL echo p50 ${round(pct(total, 50))} ms, p99 ${round(pct(total, 99))} ms`);
    step(`  keydown → termInput sent p50 ${round(pct(sent, 50))} ms, p99 ${round(pct(sent, 99))} ms`);
    step(`  keydown → echo frame in page p50 ${round(pct(frame, 50))} ms, p99 ${round(pct(frame, 99))} ms`);
    step(`  echo frame → xterm rows show it p50 ${round(pct(paint, 50))} ms, p99 ${round(pct(paint, 99))} ms`);
    step(`  idle page → its next animation frame p50 ${round(pct(idleFrame, 50))} ms, p99 ${round(pct(idleFrame, 99))} ms`);
    step(`the same keystrokes through the engine alone`);
    const direct = await engineEcho(broker.url);
    step(`engine alone p50 ${round(pct(direct, 50))} ms, p99 ${round(pct(direct, 99))} ms`);
    const viaBridge = await bridgeEcho(url!);
    step(`host bridge from Node (no browser) p50 ${round(pct(viaBridge, 50))} ms, p99 ${round(pct(viaBridge, 99))} ms`);
    // MQB_BENCH_UI=echo measures the REPL only (a quick before/after on a busy machine).
    if (process.env.MQB_BENCH_UI === 'echo') return;
    step(`upload: ${SIZE / 1024 / 1024} MB dropped on /bench, ${RUNS} runs, against mqboard put`);
    const file = path.join(work, 'ui-16m.bin');
    writeFileSync(file, randomBytes(SIZE));
    // The CLI as built (bin/build-cli.mjs): bin/mqboard.mjs would run the TypeScript sources
    // through tsx whenever one was edited after the last build.
    const built = spawnSync(process.execPath, [path.join(repo, 'bin/build-cli.mjs')], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`CLI build failed: ${built.stderr}`);
    // Asynchronous: the broker runs in this process and must keep answering while the CLI runs.
    const cli = (args: string[]) =>
      new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        const child = spawn(process.execPath, [path.join(repo, 'out/cli/mqboard.mjs'), '-s', broker.url, '-p', PREFIX, ...args], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.once('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`mqboard ${args.join(' ')}: ${err}`))));
      });
    await cli(['mkdir', '-p', '/bench']);
    await openDevice(page, 'files');
    await page.getByTestId('files-refresh').click();
    await page.locator('[data-testid="file-row"][data-path="/bench"]').waitFor();

    const engine = createEngine({ timeoutMs: 30_000 });
    await engine.connect({ url: broker.url, discovery: { depths: [] } });
    engine.addDevice(PREFIX);
    const data = new Uint8Array(await import('node:fs/promises').then((fs) => fs.readFile(file)));
    const drops: number[] = [];
    const progress: string[] = [];
    const cliWall: number[] = [];
    const enginePut: number[] = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        const d = await dropToDone(page, file, `/bench/drop-${i}.bin`);
        drops.push(d.ms);
        progress.push(d.progress);
        step(`  drop ${i + 1}: queued after ${round(d.queuedMs)} ms, done after ${round(d.ms)} ms (${d.progress})`);
        cliWall.push(await cli(['put', file, `/bench/cli-${i}.bin`]));
        const t0 = performance.now();
        await engine.put(PREFIX, `/bench/engine-${i}.bin`, data);
        enginePut.push(performance.now() - t0);
      }
    } finally {
      await engine.disconnect();
    }
    const cliLs: number[] = [];
    for (let i = 0; i < 3; i++) cliLs.push(await cli(['ls', '/bench']));
    const cliStart = median(cliLs);

    const results = {
      broker: brokerKind,
      loadAverage: os.loadavg().map((l) => round(l)),
      replEcho: {
        keys: echo.length,
        p50Ms: round(pct(total, 50)),
        p99Ms: round(pct(total, 99)),
        maxMs: round(Math.max(...total)),
        sentP50Ms: round(pct(sent, 50)),
        sentP99Ms: round(pct(sent, 99)),
        frameToRowsP50Ms: round(pct(paint, 50)),
        frameToRowsP99Ms: round(pct(paint, 99)),
        idleNextFrameP50Ms: round(pct(idleFrame, 50)),
        idleNextFrameP99Ms: round(pct(idleFrame, 99)),
        frameInPageP50Ms: round(pct(frame, 50)),
        frameInPageP99Ms: round(pct(frame, 99)),
        engineOnlyP50Ms: round(pct(direct, 50)),
        engineOnlyP99Ms: round(pct(direct, 99)),
        hostBridgeNoBrowserP50Ms: round(pct(viaBridge, 50)),
        hostBridgeNoBrowserP99Ms: round(pct(viaBridge, 99)),
      },
      upload: {
        bytes: SIZE,
        runs: RUNS,
        dropToDoneMs: round(median(drops)),
        cliPutWallMs: round(median(cliWall)),
        cliStartupMs: round(cliStart),
        enginePutMs: round(median(enginePut)),
        ratioToEnginePut: round(median(drops) / median(enginePut), 2),
        ratioToCliWall: round(median(drops) / median(cliWall), 2),
        progressShown: progress,
      },
    };
    console.table({
      'REPL echo p50 (ms)': results.replEcho.p50Ms,
      'REPL echo p99 (ms)': results.replEcho.p99Ms,
      'keydown → termInput sent p50 (ms)': results.replEcho.sentP50Ms,
      'keystroke → terminal frame in page p50 (ms)': results.replEcho.frameInPageP50Ms,
      'keystroke → terminal frame in page p99 (ms)': results.replEcho.frameInPageP99Ms,
      'terminal frame → xterm rows show it p50 (ms)': results.replEcho.frameToRowsP50Ms,
      'idle page → its next animation frame p50 (ms)': results.replEcho.idleNextFrameP50Ms,
      'echo through the engine alone p50 (ms)': results.replEcho.engineOnlyP50Ms,
      'echo through the engine alone p99 (ms)': results.replEcho.engineOnlyP99Ms,
      'echo through the host bridge, no browser p50 (ms)': results.replEcho.hostBridgeNoBrowserP50Ms,
      'echo through the host bridge, no browser p99 (ms)': results.replEcho.hostBridgeNoBrowserP99Ms,
      '16 MB drop → Done (ms, median)': results.upload.dropToDoneMs,
      'mqboard put, process wall (ms)': results.upload.cliPutWallMs,
      'mqboard ls, process wall (ms)': results.upload.cliStartupMs,
      'engine put, as the CLI runs it (ms)': results.upload.enginePutMs,
      'drop / engine put': results.upload.ratioToEnginePut,
      'drop / CLI put wall': results.upload.ratioToCliWall,
    });
    console.log(`progress shown at Done: ${progress.join(' | ')}`);
    writeFileSync(path.join(here, 'ui-results.json'), JSON.stringify(results, null, 2));
  } catch (e) {
    await shot('failure').catch(() => undefined);
    process.stderr.write(`${host?.output().slice(-3000) ?? ''}\n`);
    throw e;
  } finally {
    await browser?.close();
    await host?.kill();
    await device.kill();
    await broker.close();
    rmSync(settingsDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

await main();

// The deployment docs/protocol.md recommends ("Deploying with Mosquitto"): every board confined
// to its own subtree, a host user that reads everything and writes only command and terminal
// topics (and its private sync topic). The runtime and the engine must work through exactly that.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { mosquittoMissingReason, startMosquitto, type Mosquitto } from '../../../testing/brokers';
import { killProcess, sha256, spawnDevice, tempDir, waitForDevices } from './test-support';
import { createEngine } from './engine';
import type { Engine } from './types';
import type { ChildProcess } from 'node:child_process';

/** The ACL of docs/protocol.md, verbatim. */
export const MQBOARD_ACL = `# Boards: user name = prefix; a board reads and writes only its own subtree.
pattern readwrite %u/#

# The host (app, CLI): reads everything, writes commands, terminal input and its sync topic.
user mqboard-host
topic read #
topic write +/mqb/cmd/#
topic write +/+/mqb/cmd/#
topic write +/+/+/mqb/cmd/#
topic write +/mqb/term/+/in
topic write +/+/mqb/term/+/in
topic write +/+/+/mqb/term/+/in
topic write +/mqb/term/+/ctl
topic write +/+/mqb/term/+/ctl
topic write +/+/+/mqb/term/+/ctl
topic readwrite mqboard-host/#
`;

const P = 'site/acl/dev1';

describe.skipIf(mosquittoMissingReason)('through a Mosquitto with the documented ACL', () => { // skipped without Mosquitto: apt-get install mosquitto (CI installs it)
  let m: Mosquitto;
  let device: ChildProcess;
  let engine: Engine;
  const root = tempDir('acl');

  beforeAll(async () => {
    m = await startMosquitto({ users: { 'mqboard-host': 'host-pw', [P]: 'dev-pw', 'site/acl/other': 'other-pw' }, acl: MQBOARD_ACL });
    device = spawnDevice(m.port, P, root.dir, { flags: ['--user', P, '--password', 'dev-pw'] });
    engine = createEngine();
    await engine.connect({ url: m.url, username: 'mqboard-host', password: 'host-pw', discovery: { depths: [1, 2, 3] } });
  });
  afterAll(async () => {
    await engine?.disconnect();
    if (device) await killProcess(device, 'SIGTERM');
    await m?.stop();
    root.remove();
  });

  it('discovers the device, and lists completely', async () => {
    await waitForDevices(engine, () => engine.device(P)?.presence === 'online');
    expect(engine.discovery()).toMatchObject({ phase: 'listed', incomplete: false });
  });

  it('evals, puts and gets', async () => {
    expect(await engine.eval(P, '6 * 7')).toBe('42');
    const data = randomBytes(200_000);
    await engine.put(P, '/acl.bin', data);
    expect(sha256(await engine.get(P, '/acl.bin'))).toBe(sha256(data));
  });

  it('keeps a board out of other boards\' subtrees', async () => {
    const other = await mqtt.connectAsync(m.url, { protocolVersion: 4, username: 'site/acl/other', password: 'other-pw' });
    try {
      // Mosquitto accepts the publish (3.1.1 has no way to refuse one) and drops it.
      await other.publishAsync(`${P}/mqb/status`, '{"online":false,"reason":"lost"}', { qos: 1, retain: true });
      await engine.settle();
      expect(engine.device(P)?.presence).toBe('online');
    } finally {
      await other.endAsync();
    }
  });
});


// Connection profiles: the list of brokers on the left, the editor on the right. Test
// connection reports the engine's precise failure (DNS, refused, TLS, auth); "Connect" switches
// the app's one connection without a restart. Secrets are write-only from here: the host only
// says whether one is stored.
import { useRef, useState } from 'react';
import { DEMO_PROFILE_ID, type ProfileInput, type ProfileSummary, type TestResult } from '../../../protocol/src';
import { BridgeCallError } from '../bridge/client';
import { useApp, useAppStore, useBridge } from './context';
import { Icon } from './icons';
import { Modal } from './Modal';

interface Form {
  id?: string;
  name: string;
  url: string;
  username: string;
  /** undefined = keep what is stored. */
  password?: string;
  ca: string;
  cert: string;
  key?: string;
  clientId: string;
  keepalive: string;
  discoveryMode: 'depths' | 'patterns';
  depths: string;
  patterns: string;
}

const blank: Form = { name: '', url: 'mqtt://', username: '', ca: '', cert: '', clientId: '', keepalive: '30', discoveryMode: 'depths', depths: '1, 2, 3', patterns: '' };

function toForm(p: ProfileSummary): Form {
  return {
    id: p.id,
    name: p.name,
    url: p.url,
    username: p.username ?? '',
    ca: p.ca ?? '',
    cert: p.cert ?? '',
    clientId: p.clientId ?? '',
    keepalive: String(p.keepalive ?? 30),
    discoveryMode: p.discovery?.patterns?.length ? 'patterns' : 'depths',
    depths: (p.discovery?.depths ?? [1, 2, 3]).join(', '),
    patterns: (p.discovery?.patterns ?? []).join('\n'),
  };
}

function toInput(f: Form): ProfileInput {
  const depths = f.depths.split(/[\s,]+/).filter(Boolean).map(Number);
  const patterns = f.patterns.split('\n').map((s) => s.trim()).filter(Boolean);
  return {
    id: f.id,
    name: f.name.trim(),
    url: f.url.trim(),
    username: f.username || undefined,
    password: f.password,
    ca: f.ca || undefined,
    cert: f.cert || undefined,
    key: f.key,
    clientId: f.clientId || undefined,
    keepalive: f.keepalive ? Number(f.keepalive) : undefined,
    discovery: f.discoveryMode === 'patterns' ? { patterns } : { depths },
  };
}

const ERROR_TITLES: Record<string, string> = {
  dns: 'Host name not found',
  refused: 'Connection refused',
  tls: 'TLS handshake failed',
  auth: 'Not authorized',
  network: 'Network error',
  timeout: 'Timed out',
  'bad-request': 'Check the form',
};

export function ProfilesDialog({ editId }: { editId: string | undefined }) {
  const store = useAppStore();
  const bridge = useBridge();
  const state = useApp((s) => s.profiles);
  const demo = useApp((s) => s.app?.demo ?? null);
  const settings = useApp((s) => s.app?.settings);
  const initial = state.profiles.find((p) => p.id === editId);
  const [form, setForm] = useState<Form>(initial ? toForm(initial) : blank);
  const [selected, setSelected] = useState<string | null>(initial?.id ?? (editId === DEMO_PROFILE_ID ? DEMO_PROFILE_ID : null));
  const [test, setTest] = useState<TestResult | 'running' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const close = () => store.getState().setDialog(null);
  const stored = state.profiles.find((p) => p.id === form.id);
  const set = <K extends keyof Form>(k: K, v: Form[K]) => {
    setForm((f) => ({ ...f, [k]: v }));
    setTest(null);
  };

  const pick = (id: string | null) => {
    setSelected(id);
    setTest(null);
    setError(null);
    const p = state.profiles.find((x) => x.id === id);
    setForm(p ? toForm(p) : blank);
  };

  const guard = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e instanceof BridgeCallError && e.issues ? `${e.message}: ${e.issues.join('; ')}` : e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const save = () =>
    guard(async () => {
      const saved = await bridge.call('saveProfile', toInput(form));
      setForm(toForm(saved));
      setSelected(saved.id);
      store.getState().toast('success', `Saved ${saved.name}`);
    });

  /**
   * Switches to a profile. The host keeps the choice even when the first attempt fails (it goes
   * on retrying), so whatever happened the top bar, the list and the settings are read back from
   * the host: never left showing the previous broker.
   */
  const use = async (id: string) => {
    try {
      store.setState({ profiles: await bridge.call('useProfile', { id }) });
    } catch (e) {
      // The demo banner reads the app info, which the switch changes as well.
      const [profiles, app] = await Promise.all([bridge.call('listProfiles', {}).catch(() => null), bridge.call('getAppInfo', {}).catch(() => null)]);
      store.setState({ ...(profiles ? { profiles } : {}), ...(app ? { app } : {}) });
      throw e;
    }
  };

  const connect = (id: string) =>
    guard(async () => {
      await use(id);
      close();
    });

  const saveAndConnect = () =>
    guard(async () => {
      const saved = await bridge.call('saveProfile', toInput(form));
      setForm(toForm(saved));
      setSelected(saved.id);
      await use(saved.id);
      close();
    });

  const testAbort = useRef<AbortController | null>(null);
  const runTest = () => {
    // A second click cancels the running test (a silent host can take the whole timeout).
    if (testAbort.current) {
      testAbort.current.abort();
      return;
    }
    const ac = new AbortController();
    testAbort.current = ac;
    setTest('running');
    bridge
      .call('testProfile', { profile: toInput(form) }, { signal: ac.signal })
      .then(setTest)
      .catch((e: unknown) => {
        if (e instanceof BridgeCallError && e.code === 'cancelled') return setTest(null);
        setTest({ ok: false, error: e instanceof BridgeCallError ? { code: e.code, message: e.issues ? e.issues.join('; ') : e.message } : { code: 'internal', message: String(e) } });
      })
      .finally(() => {
        testAbort.current = null;
      });
  };

  const remove = () =>
    guard(async () => {
      if (!form.id) return;
      await bridge.call('deleteProfile', { id: form.id });
      pick(null);
    });

  const exportProfiles = (includeSecrets: boolean) =>
    guard(async () => {
      const { json } = await bridge.call('exportProfiles', { includeSecrets });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
      a.download = includeSecrets ? 'mqboard-profiles-with-secrets.json' : 'mqboard-profiles.json';
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    });

  const importProfiles = (file: File) =>
    guard(async () => {
      const { imported } = await bridge.call('importProfiles', { json: await file.text() });
      store.getState().toast('success', `Imported ${imported} profile${imported === 1 ? '' : 's'}`);
    });

  const readInto = (k: 'ca' | 'cert' | 'key') => async (file: File | undefined) => {
    if (file) set(k, await file.text());
  };

  return (
    <Modal title="Connections" onClose={close} wide testId="profiles-dialog">
      <div className="profiles">
        <aside className="profiles-list">
          <button className={`profile-item${selected === DEMO_PROFILE_ID ? ' on' : ''}`} onClick={() => pick(DEMO_PROFILE_ID)} data-testid="profile-item-demo">
            <Icon name="flask" />
            <span className="profile-item-name">Demo broker</span>
            {state.active === DEMO_PROFILE_ID ? <span className="pill pill-ok small">in use</span> : null}
          </button>
          {state.profiles.map((p) => (
            <button key={p.id} className={`profile-item${selected === p.id ? ' on' : ''}`} onClick={() => pick(p.id)} data-testid="profile-item" data-name={p.name}>
              <Icon name="server" />
              <span className="profile-item-name">
                {p.name}
                <small>{p.url}</small>
              </span>
              {state.active === p.id ? <span className="pill pill-ok small">in use</span> : null}
            </button>
          ))}
          <button className={`profile-item add${selected === null ? ' on' : ''}`} onClick={() => pick(null)} data-testid="profile-new">
            <Icon name="plus" /> New connection
          </button>
          <div className="profiles-io">
            <button className="btn btn-small btn-ghost" onClick={() => void exportProfiles(false)} title="Export profiles without passwords and keys" data-testid="profiles-export">
              <Icon name="download" /> Export profiles
            </button>
            <button className="btn btn-small btn-ghost" onClick={() => void exportProfiles(true)} title="Includes passwords and keys in plain text">
              <Icon name="download" /> Export with secrets
            </button>
            <label className="btn btn-small btn-ghost">
              <Icon name="upload" /> Import profiles…
              <input type="file" accept="application/json,.json" hidden onChange={(e) => e.target.files?.[0] && void importProfiles(e.target.files[0])} />
            </label>
          </div>
        </aside>

        {selected === DEMO_PROFILE_ID ? (
          <div className="profile-editor">
            <h3>Demo broker</h3>
            <p>An embedded MQTT broker on this computer with a simulated fleet from the bundled device runtime: devices in normal and safe mode, one with a crash record, one that drops off and comes back.</p>
            {demo ? <p className="muted">Running at <code>{demo.url}</code> with {demo.devices} devices.</p> : null}
            <div className="editor-actions">
              <button className="btn btn-primary" disabled={busy || state.active === DEMO_PROFILE_ID} onClick={() => void connect(DEMO_PROFILE_ID)} data-testid="profile-connect-demo">
                {state.active === DEMO_PROFILE_ID ? 'In use' : 'Use the demo broker'}
              </button>
            </div>
          </div>
        ) : (
          <form
            className="profile-editor"
            data-testid="profile-form"
            onSubmit={(e) => {
              e.preventDefault();
              void saveAndConnect();
            }}
          >
            <div className="grid2">
              <Field label="Name">
                <input value={form.name} onChange={(e) => set('name', e.target.value)} placeholder="Workshop broker" data-testid="profile-name" required />
              </Field>
              <Field label="Broker URL" hint="mqtt://, mqtts://, ws:// or wss://">
                <input value={form.url} onChange={(e) => set('url', e.target.value)} placeholder="mqtts://broker.example.com:8883" data-testid="profile-url" spellCheck={false} required />
              </Field>
              <Field label="User name">
                <input value={form.username} onChange={(e) => set('username', e.target.value)} autoComplete="off" data-testid="profile-username" />
              </Field>
              <Field label="Password" hint={stored?.hasPassword && form.password === undefined ? 'stored; type to replace' : undefined}>
                <input type="password" value={form.password ?? ''} placeholder={stored?.hasPassword ? '••••••••' : ''} onChange={(e) => set('password', e.target.value)} autoComplete="new-password" data-testid="profile-password" />
              </Field>
            </div>
            <details className="advanced">
              <summary>TLS certificates, client id, keepalive, discovery</summary>
              <div className="grid2">
                <PemField label="CA certificate (PEM)" value={form.ca} onChange={(v) => set('ca', v)} onFile={readInto('ca')} testId="profile-ca" />
                <PemField label="Client certificate (PEM)" value={form.cert} onChange={(v) => set('cert', v)} onFile={readInto('cert')} testId="profile-cert" />
                <PemField
                  label="Client key (PEM)"
                  value={form.key ?? ''}
                  placeholder={stored?.hasKey ? 'stored; paste to replace' : ''}
                  onChange={(v) => set('key', v)}
                  onFile={readInto('key')}
                  testId="profile-key"
                />
                <div>
                  <Field label="Client id" hint="empty: a random id">
                    <input value={form.clientId} onChange={(e) => set('clientId', e.target.value)} spellCheck={false} />
                  </Field>
                  <Field label="Keepalive (seconds)">
                    <input type="number" min={5} max={3600} value={form.keepalive} onChange={(e) => set('keepalive', e.target.value)} />
                  </Field>
                </div>
              </div>
              <fieldset className="discovery">
                <legend>Discovery</legend>
                <label className="radio">
                  <input type="radio" checked={form.discoveryMode === 'depths'} onChange={() => set('discoveryMode', 'depths')} /> Prefix depths
                  <input className="inline" value={form.depths} disabled={form.discoveryMode !== 'depths'} onChange={(e) => set('depths', e.target.value)} />
                </label>
                <label className="radio">
                  <input type="radio" checked={form.discoveryMode === 'patterns'} onChange={() => set('discoveryMode', 'patterns')} /> Explicit patterns, one per line
                </label>
                <textarea rows={2} value={form.patterns} disabled={form.discoveryMode !== 'patterns'} placeholder="site1/+/mqb/status" onChange={(e) => set('patterns', e.target.value)} spellCheck={false} />
              </fieldset>
            </details>

            <TestOutcome test={test} />
            {error ? (
              <p className="form-error" data-testid="profile-error">
                {error}
              </p>
            ) : null}

            <div className="editor-actions">
              <button type="button" className="btn" disabled={busy} onClick={runTest} data-testid="profile-test">
                {test === 'running' ? 'Cancel test' : 'Test connection'}
              </button>
              {form.id ? (
                <button type="button" className="btn btn-ghost danger-text" disabled={busy} onClick={() => void remove()} data-testid="profile-delete">
                  Delete
                </button>
              ) : null}
              <div className="topbar-spacer" />
              <button type="button" className="btn" disabled={busy} onClick={() => void save()} data-testid="profile-save">
                Save
              </button>
              <button type="submit" className="btn btn-primary" disabled={busy} data-testid="profile-connect">
                {form.id && state.active === form.id ? 'Save and reconnect' : 'Save and connect'}
              </button>
            </div>
            {settings ? (
              <p className="muted small-print">
                {settings.secrets === 'safeStorage'
                  ? 'Passwords and keys are encrypted with the system keychain.'
                  : `Web mode: passwords and keys are stored unencrypted in ${settings.path}, readable only by you (mode 0600).`}
              </p>
            ) : null}
          </form>
        )}
      </div>
    </Modal>
  );
}

function Field({ label, hint, children }: { label: string; hint?: string; children: React.ReactNode }) {
  return (
    <label className="field">
      <span>
        {label}
        {hint ? <em> · {hint}</em> : null}
      </span>
      {children}
    </label>
  );
}

function PemField(p: { label: string; value: string; placeholder?: string; onChange: (v: string) => void; onFile: (f: File | undefined) => void; testId: string }) {
  return (
    <label className="field">
      <span>
        {p.label}
        <span className="file-pick">
          load file…
          <input type="file" hidden onChange={(e) => p.onFile(e.target.files?.[0])} />
        </span>
      </span>
      <textarea rows={3} className="mono" value={p.value} placeholder={p.placeholder ?? '-----BEGIN CERTIFICATE-----'} onChange={(e) => p.onChange(e.target.value)} spellCheck={false} data-testid={p.testId} />
    </label>
  );
}

function TestOutcome({ test }: { test: TestResult | 'running' | null }) {
  if (test === null || test === 'running') return null;
  if (test.ok) {
    return (
      <div className="callout callout-ok" data-testid="profile-test-result" data-ok="true">
        <Icon name="check" /> Connected in {test.ms} ms.
      </div>
    );
  }
  return (
    <div className="callout callout-bad" data-testid="profile-test-result" data-ok="false" data-code={test.error.code}>
      <Icon name="alert" />
      <div>
        <strong>{ERROR_TITLES[test.error.code] ?? 'Failed'}.</strong> {test.error.message}
      </div>
    </div>
  );
}

// Plan → review: the image (a local file or one of the demo's examples: app bundles for our
// runtime's devices, MicroPython firmware for original boards, each saying how many of the chosen
// devices can take it), the devices (the
// list's selection or a selector), waves and the gate's limits; "Review" asks the host for the
// wave plan (rolloutPlan) and shows who goes in which wave and who is skipped and why; "Start"
// starts it and shows its live progress.
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import type { DeviceState, RolloutExample, RolloutImageSource, RolloutInput, RolloutPlan } from '../../../protocol/src';
import { parseSelector, selectDevices, SelectorError } from '../../../protocol/src/fleet/selector';
import type { BridgeClient } from '../bridge/client';
import { useApp, useAppStore, useBridge } from '../ui/context';
import { bytes } from '../ui/format';
import { Icon } from '../ui/icons';
import { stageBlob } from '../workspace/files/staging';
import { DropZone } from '../fleet/DropZone';
import { applyRolloutEvent } from './rollouts-feed';
import { draftInput, IMAGE_KIND, kindFit, kindFitText, planFitText, type Draft } from './rollout-view';
import { rollouts, setDraft, setImage, showRolloutPage, useRollouts } from './rollouts-state';

/** Devices listed per wave in the review before "and N more". */
const WAVE_LIST_LIMIT = 60;

export function Planner() {
  const bridge = useBridge();
  const app = useAppStore();
  const draft = useRollouts((s) => s.draft);
  const image = useRollouts((s) => s.image);
  const seed = useRollouts((s) => s.seed);
  const devices = useApp((s) => s.devices);
  const selected = useApp((s) => s.selected);
  const [examples, setExamples] = useState<RolloutExample[] | null>(null);
  const userTags = useApp((s) => s.userTags);
  // A plan belongs to the seed it was made for: a new "Roll out…" starts over.
  const [planned, setPlan] = useState<{ plan: RolloutPlan; input: RolloutInput; seq: number | undefined } | null>(null);
  const plan = planned && planned.seq === seed?.seq ? planned : null;
  const [busy, setBusy] = useState<'review' | 'start' | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    bridge
      .call('rolloutExamples', {})
      .then((r) => {
        if (!live) return;
        setExamples(r.examples);
        // The demo's examples are the quickest way to try a rollout: preselect the first.
        if (!rollouts.getState().image && r.examples[0]) setImage({ from: 'example', name: r.examples[0].name });
      })
      .catch(() => live && setExamples([]));
    return () => {
      live = false;
    };
  }, [bridge]);

  const chosen = useMemo(() => (seed ? seed.prefixes : [...selected]), [seed, selected]);
  // In selector mode this runs the selector over the fleet again when a device changes, so the
  // count stays true; with a selection it only copies the list.
  const target = useMemo(() => resolveTarget(draft, chosen, devices, userTags), [draft, chosen, devices, userTags]);

  // A new "Roll out…" (or the examples arriving) on devices that take only the other kind of
  // image than the example chosen: choose the first example they can take instead.
  const targetPrefixes = 'prefixes' in target ? target.prefixes : undefined;
  // A board found by its log is of unknown kind until the host has seen what it is.
  const kindsKnown = targetPrefixes?.filter((p) => devices.get(p)?.kind !== 'unknown').length;
  useEffect(() => {
    const img = rollouts.getState().image;
    if (!examples || !targetPrefixes || (img !== null && img.from !== 'example')) return;
    const kindOf = (p: string) => devices.get(p)?.kind;
    const current = examples.find((x) => img !== null && x.name === img.name);
    if (current && kindFit(current.kind, targetPrefixes, kindOf).fit > 0) return;
    const better = examples.find((x) => kindFit(x.kind, targetPrefixes, kindOf).fit > 0);
    if (better && better !== current) setImage({ from: 'example', name: better.name });
    // Only when the seed, the examples or what is known of the devices change: a choice the user
    // makes afterwards stands.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [examples, seed?.seq, kindsKnown]);

  const edit = (patch: Partial<Draft>) => {
    setDraft(patch);
    setPlan(null);
    setError(null);
  };

  const review = async () => {
    setError(null);
    setPlan(null);
    if ('error' in target) return setError(target.error);
    if (!image) return setError('Choose an image: a file, or one of the examples.');
    setBusy('review');
    try {
      await withImage(bridge, image, async (src) => {
        const checked = draftInput(draft, src, target.prefixes);
        if ('error' in checked) throw new Error(checked.error);
        const r = await bridge.call('rolloutPlan', checked.input);
        setPlan({ plan: r.plan, input: checked.input, seq: seed?.seq });
      });
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(null);
    }
  };

  const start = async () => {
    if (!plan || !image) return;
    setBusy('start');
    setError(null);
    try {
      // The image is sent again: the plan only looked at it, the rollout keeps it.
      const { rollout } = await withImage(bridge, image, (src) => bridge.call('rolloutStart', { ...plan.input, image: src }), true);
      applyRolloutEvent(rollout, []);
      setPlan(null);
      showRolloutPage({ kind: 'rollout', id: rollout.id });
      app.getState().toast('success', `Rollout “${rollout.name}” started`);
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="planner" data-testid="rollout-planner">
      <Section title="Image">
        <ImagePicker examples={examples} target={'prefixes' in target ? target.prefixes : []} onChange={() => edit({})} />
        <label className="field">
          <span>
            Version <em>the devices report once updated; read from the image, needed only for firmware without an app description</em>
          </span>
          <input value={draft.version} onChange={(e) => edit({ version: e.target.value })} placeholder={exampleVersion(examples, image) ?? 'from the image'} data-testid="rollout-version" />
        </label>
      </Section>

      <Section title="Devices">
        <div className="segmented planner-target" role="radiogroup" aria-label="Devices">
          <button role="radio" aria-checked={draft.target === 'selection'} className={draft.target === 'selection' ? 'on' : ''} onClick={() => edit({ target: 'selection' })} data-testid="rollout-target-selection">
            Selected in the list ({chosen.length.toLocaleString()})
          </button>
          <button role="radio" aria-checked={draft.target === 'selector'} className={draft.target === 'selector' ? 'on' : ''} onClick={() => edit({ target: 'selector' })} data-testid="rollout-target-selector">
            Selector
          </button>
        </div>
        {draft.target === 'selector' ? (
          <input className="planner-selector mono" value={draft.selector} onChange={(e) => edit({ selector: e.target.value })} placeholder="tag:greenhouse fw<2.5.0 online" spellCheck={false} data-testid="rollout-selector" aria-label="Selector" />
        ) : null}
        <div className={`planner-count${'error' in target && target.mistake ? ' tone-bad' : ''}`} data-testid="rollout-target-count">
          {'error' in target ? target.error : `${target.prefixes.length.toLocaleString()} device${target.prefixes.length === 1 ? '' : 's'}${target.preview ? `: ${target.preview}` : ''}`}
        </div>
        {seed && draft.target === 'selection' && !sameSet(seed.prefixes, selected) && selected.size > 0 ? (
          <button className="linkish small" onClick={() => rollouts.setState({ seed: { prefixes: [...selected], seq: seed.seq + 1 } })}>
            Use the list’s selection now ({selected.size.toLocaleString()})
          </button>
        ) : null}
      </Section>

      <Section title="Waves and the health gate">
        <div className="planner-grid">
          <Field label="Waves" hint="counts and shares, e.g. 1,10%,100%">
            <input value={draft.waves} onChange={(e) => edit({ waves: e.target.value })} data-testid="rollout-waves" />
          </Field>
          <Field label="At once" hint="devices per wave">
            <input value={draft.concurrency} onChange={(e) => edit({ concurrency: e.target.value })} inputMode="numeric" data-testid="rollout-concurrency" />
          </Field>
          <Field label="Offline devices">
            <select value={draft.offline} onChange={(e) => edit({ offline: e.target.value === 'wait' ? 'wait' : 'skip' })} data-testid="rollout-offline">
              <option value="skip">Skip them</option>
              <option value="wait">Wait for them</option>
            </select>
          </Field>
          <Field label="Back online within" hint="seconds">
            <input value={draft.onlineWithinS} onChange={(e) => edit({ onlineWithinS: e.target.value })} inputMode="numeric" data-testid="rollout-online-within" />
          </Field>
          <Field label="Soak" hint="seconds without a crash">
            <input value={draft.soakS} onChange={(e) => edit({ soakS: e.target.value })} inputMode="numeric" data-testid="rollout-soak" />
          </Field>
          <Field label="Canary failures allowed">
            <input value={draft.canaryMaxFailures} onChange={(e) => edit({ canaryMaxFailures: e.target.value })} inputMode="numeric" data-testid="rollout-canary-max" />
          </Field>
          <Field label="Pause above" hint="% failed in later waves">
            <input value={draft.maxFailurePercent} onChange={(e) => edit({ maxFailurePercent: e.target.value })} inputMode="decimal" data-testid="rollout-max-percent" />
          </Field>
          <Field label="Or above" hint="failed in all (empty: no cap)">
            <input value={draft.maxFailures} onChange={(e) => edit({ maxFailures: e.target.value })} inputMode="numeric" data-testid="rollout-max-failures" />
          </Field>
        </div>
        <label className="toggle planner-toggle">
          <input type="checkbox" checked={draft.onlyOutdated} onChange={(e) => edit({ onlyOutdated: e.target.checked })} data-testid="rollout-only-outdated" />
          Only devices not already on this version
        </label>
        <label className="field planner-name">
          <span>
            Name <em>optional</em>
          </span>
          <input value={draft.name} onChange={(e) => edit({ name: e.target.value })} maxLength={128} data-testid="rollout-name" />
        </label>
      </Section>

      {error ? (
        <div className="callout callout-bad" role="alert" data-testid="rollout-plan-error">
          <Icon name="alert" />
          <div>{error}</div>
        </div>
      ) : null}

      <div className="planner-actions">
        <button className="btn btn-primary" onClick={() => void review()} disabled={busy !== null} data-testid="rollout-review">
          {busy === 'review' ? 'Planning…' : plan ? 'Review again' : 'Review'}
        </button>
      </div>

      {plan ? <PlanReview plan={plan.plan} prefixes={plan.input.prefixes} /> : null}

      {plan ? (
        <div className="planner-actions">
          <button className="btn" onClick={() => setPlan(null)} disabled={busy !== null}>
            Change
          </button>
          <button className="btn btn-primary" onClick={() => void start()} disabled={busy !== null || plan.plan.waves.every((w) => w.prefixes.length === 0)} data-testid="rollout-start">
            <Icon name="upload" size={14} /> {busy === 'start' ? 'Starting…' : `Start: ${countIn(plan.plan).toLocaleString()} device${countIn(plan.plan) === 1 ? '' : 's'}`}
          </button>
        </div>
      ) : null}
    </div>
  );
}

/** The image: one of the examples (grouped by the devices that take them), or a file dropped on the zone or chosen. */
function ImagePicker({ examples, target, onChange }: { examples: RolloutExample[] | null; target: readonly string[]; onChange: () => void }) {
  const image = useRollouts((s) => s.image);
  const devices = useApp((s) => s.devices);
  const pick = (img: typeof image) => {
    setImage(img);
    onChange();
  };
  const kindOf = (p: string) => devices.get(p)?.kind;
  return (
    <div className="planner-image">
      {(['bundle', 'firmware'] as const).map((kind) => {
        const group = examples?.filter((x) => x.kind === kind) ?? [];
        if (group.length === 0) return null;
        const fit = target.length > 0 ? kindFit(kind, target, kindOf) : undefined;
        return (
          <div key={kind} className="planner-example-group" data-testid="rollout-example-group" data-kind={kind}>
            <div className="planner-example-kind">
              <strong>{IMAGE_KIND[kind].what}</strong>
              <span className={fit && fit.fit === 0 ? 'tone-warn' : 'muted'} data-testid="rollout-example-fit">
                {kindFitText(kind, fit)}
              </span>
            </div>
            <div className="planner-examples" role="radiogroup" aria-label={`Example ${IMAGE_KIND[kind].what.toLowerCase()} images`}>
              {group.map((x) => {
                const on = image?.from === 'example' && image.name === x.name;
                return (
                  <button
                    key={x.name}
                    role="radio"
                    aria-checked={on}
                    className={`panel planner-example${on ? ' on' : ''}${fit && fit.fit === 0 ? ' unfit' : ''}`}
                    onClick={() => pick({ from: 'example', name: x.name })}
                    data-testid="rollout-example"
                    data-name={x.name}
                    data-kind={x.kind}
                  >
                    <strong>{x.name}</strong>
                    <span className="mono">{x.version}</span>
                    <span className="muted small">{x.description}</span>
                  </button>
                );
              })}
            </div>
          </div>
        );
      })}
      <DropZone onFiles={(files) => pick({ from: 'file', file: files[0]! })} filled={image?.from === 'file'} choose={image?.from === 'file' ? 'Change…' : 'Choose a file…'} testId="rollout-dropzone" inputTestId="rollout-file" chooseTestId="rollout-choose">
        <Icon name="chip" size={20} />
        {image?.from === 'file' ? (
          <span>
            <strong>{image.file.name}</strong> <span className="muted">{bytes(image.file.size)}</span>
          </span>
        ) : (
          <span className="muted">Drop an app bundle (for the MQBoard runtime) or MicroPython firmware (for original boards) here</span>
        )}
      </DropZone>
    </div>
  );
}

function PlanReview({ plan, prefixes }: { plan: RolloutPlan; prefixes: readonly string[] }) {
  const img = plan.image;
  const devices = useApp((s) => s.devices);
  const fit = kindFit(img.kind, prefixes, (p) => devices.get(p)?.kind);
  return (
    <div className="panel raised plan-review" data-testid="rollout-plan">
      <div className="plan-image">
        <Icon name="chip" />
        <strong>{img.name}</strong>
        <span className="pill pill-muted" data-testid="plan-kind" data-kind={img.kind}>
          {IMAGE_KIND[img.kind].what}
        </span>
        {img.version ? <span className="mono">→ {img.version}</span> : null}
        <span className="muted">{bytes(img.size)}</span>
        <span className="muted mono" title={img.sha256}>
          sha256 {img.sha256.slice(0, 12)}…
        </span>
      </div>
      <div className={`plan-fit${fit.fit < fit.total ? ' tone-warn' : ''}`} data-testid="plan-fit" data-fit={fit.fit} data-total={fit.total}>
        {planFitText(img.kind, fit)}
      </div>
      <ol className="plan-waves">
        {plan.waves.map((w) => (
          <li key={w.index} className="plan-wave" data-testid="plan-wave" data-count={w.prefixes.length}>
            <div className="plan-wave-head">
              <strong>
                Wave {w.index + 1}
                {w.index === 0 ? ' (canary)' : ''}
              </strong>
              <span className="muted">{w.label}</span>
              <span className="count">{w.prefixes.length.toLocaleString()}</span>
            </div>
            <DeviceNames prefixes={w.prefixes} />
          </li>
        ))}
      </ol>
      {plan.skipped.length > 0 ? (
        <details className="plan-skipped" data-testid="plan-skipped" open={plan.skipped.length <= 12}>
          <summary>
            {plan.skipped.length.toLocaleString()} skipped
          </summary>
          <ul>
            {plan.skipped.slice(0, WAVE_LIST_LIMIT * 4).map((s) => (
              <li key={s.prefix} data-testid="plan-skipped-device" data-prefix={s.prefix}>
                <span className="mono">{s.prefix}</span> <span className="muted">{s.reason}</span>
              </li>
            ))}
          </ul>
          {plan.skipped.length > WAVE_LIST_LIMIT * 4 ? <div className="muted small">and {(plan.skipped.length - WAVE_LIST_LIMIT * 4).toLocaleString()} more</div> : null}
        </details>
      ) : null}
    </div>
  );
}

function DeviceNames({ prefixes }: { prefixes: readonly string[] }) {
  if (prefixes.length === 0) return <div className="muted small">no devices</div>;
  return (
    <div className="plan-devices">
      {prefixes.slice(0, WAVE_LIST_LIMIT).map((p) => (
        <span key={p} className="chip mono" data-testid="plan-device" data-prefix={p}>
          {p}
        </span>
      ))}
      {prefixes.length > WAVE_LIST_LIMIT ? <span className="muted small">and {(prefixes.length - WAVE_LIST_LIMIT).toLocaleString()} more</span> : null}
    </div>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="planner-section">
      <h3 className="section-label">{title}</h3>
      {children}
    </section>
  );
}

function Field({ label, hint, children }: { label: string; hint?: string; children: ReactNode }) {
  return (
    <label className="field">
      <span>
        {label} {hint ? <em>{hint}</em> : null}
      </span>
      {children}
    </label>
  );
}

/** `mistake`: something typed is wrong (shown in red), not just nothing chosen yet. */
type Target = { prefixes: string[]; preview: string } | { error: string; mistake?: boolean };

/** The devices the draft names: the selection given, or what its selector matches now. */
function resolveTarget(draft: Draft, chosen: readonly string[], devices: ReadonlyMap<string, DeviceState>, userTags: Readonly<Record<string, readonly string[]>>): Target {
  let prefixes: string[];
  if (draft.target === 'selection') {
    prefixes = [...chosen];
    if (prefixes.length === 0) return { error: 'No devices selected in the list: select some, or use a selector.' };
  } else {
    if (!draft.selector.trim()) return { error: 'Type a selector, e.g. tag:greenhouse fw<2.5.0 online' };
    try {
      prefixes = selectDevices(parseSelector(draft.selector), [...devices.values()], { userTags }).map((d) => d.prefix);
    } catch (e) {
      return { error: e instanceof SelectorError ? e.message : message(e), mistake: true };
    }
    if (prefixes.length === 0) return { error: 'The selector matches no device.' };
  }
  const preview = prefixes.slice(0, 3).join(', ') + (prefixes.length > 3 ? ', …' : '');
  return { prefixes, preview };
}

/** Runs `run` with the image as the host takes it: a file is staged first, and unstaged after unless `consumed`. */
async function withImage<T>(bridge: BridgeClient, image: NonNullable<ReturnType<typeof rollouts.getState>['image']>, run: (src: RolloutImageSource) => Promise<T>, consumed = false): Promise<T> {
  if (image.from === 'example') return run({ from: 'example', name: image.name });
  const stage = await stageBlob(bridge, image.file, image.file.name);
  try {
    const r = await run({ from: 'stage', stage });
    if (!consumed) await bridge.call('xferUnstage', { stage }).catch(() => undefined);
    return r;
  } catch (e) {
    await bridge.call('xferUnstage', { stage }).catch(() => undefined);
    throw e;
  }
}

function exampleVersion(examples: RolloutExample[] | null, image: ReturnType<typeof rollouts.getState>['image']): string | undefined {
  if (image?.from !== 'example') return undefined;
  return examples?.find((x) => x.name === image.name)?.version;
}

const countIn = (plan: RolloutPlan) => plan.waves.reduce((n, w) => n + w.prefixes.length, 0);

function sameSet(a: readonly string[], b: ReadonlySet<string>): boolean {
  return a.length === b.size && a.every((p) => b.has(p));
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

'use client';
/**
 * What is sampled: start/stop, profile type (CPU, off-CPU, wall) and off-CPU filters, rate,
 * target. Shared by every viewer (the server restarts
 * sampling on change), so the shown values follow `profile:status`; each control keeps
 * its own error, from local validation (lib/schema/view.ts, the schemas the server checks with) or from
 * the server's reply.
 */
import { useEffect, useId, useState } from 'react';
import type { Ack, BlockState, ProfileSettings, ProfileStatus, ProfileTarget, ProfileType } from '../../lib/protocol.ts';
import { BLOCK_STATES, DEFAULT_OFFCPU_SETTINGS, MAX_BLOCK_US, MAX_HZ, MIN_HZ, MAX_COMM_LEN, PROFILE_TYPES } from '../../lib/protocol.ts';
import { check } from '../../lib/schema/core.ts';
import { HzSchema, OffCpuSettingsSchema, profileCombinationProblem, ProfileTargetSchema } from '../../lib/schema/view.ts';
import { PROFILE_TYPE_LABELS } from '../../lib/profile-units.ts';
import { TEST_IDS } from '../../lib/test-ids.ts';
import { buttonClass, Field, inputClass } from './Field.tsx';

type Configure = (change: Partial<ProfileSettings>) => Promise<Ack<ProfileSettings>>;

export function SamplingControls({
  status,
  canControl,
  connected,
  configure,
}: {
  status: ProfileStatus | null;
  canControl: boolean;
  connected: boolean;
  configure: Configure;
}) {
  const settings = status?.settings ?? null;
  const disabled = !connected || !canControl || !settings;
  const ids = useId();

  // start / stop
  const [runningError, setRunningError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const toggleRunning = async () => {
    if (!settings) return;
    setBusy(true);
    const reply = await configure({ running: !settings.running });
    setBusy(false);
    setRunningError(reply.ok ? null : reply.error);
  };

  // sample rate
  const [hzText, setHzText] = useState('');
  const [hzError, setHzError] = useState<string | null>(null);
  const [hzDirty, setHzDirty] = useState(false);
  useEffect(() => {
    if (settings && !hzDirty) setHzText(String(settings.hz));
  }, [settings, hzDirty]);
  const applyHz = async () => {
    const parsed = hzText.trim() === '' ? NaN : Number(hzText);
    const checked = check(HzSchema, parsed, { root: 'sample rate' });
    if (!checked.ok) {
      setHzError(checked.error);
      return;
    }
    const reply = await configure({ hz: checked.value });
    setHzError(reply.ok ? null : reply.error);
    if (reply.ok) setHzDirty(false);
  };

  // target
  const [kind, setKind] = useState<ProfileTarget['kind']>('all');
  const [pidText, setPidText] = useState('');
  const [commText, setCommText] = useState('');
  const [targetDirty, setTargetDirty] = useState(false);
  const [targetError, setTargetError] = useState<string | null>(null);
  useEffect(() => {
    if (!settings || targetDirty) return;
    const t = settings.target;
    setKind(t.kind);
    if (t.kind === 'pid') setPidText(String(t.pid));
    if (t.kind === 'comm') setCommText(t.comm);
  }, [settings, targetDirty]);
  const applyTarget = async () => {
    const candidate =
      kind === 'all'
        ? { kind }
        : kind === 'pid'
          ? { kind, pid: pidText.trim() === '' ? NaN : Number(pidText) }
          : { kind, comm: commText };
    const checked = check(ProfileTargetSchema, candidate, { root: 'target' });
    if (!checked.ok) {
      setTargetError(checked.error);
      return;
    }
    const problem = profileCombinationProblem({ type: settings?.type, target: checked.value });
    if (problem) {
      setTargetError(problem);
      return;
    }
    const reply = await configure({ target: checked.value });
    setTargetError(reply.ok ? null : reply.error);
    if (reply.ok) setTargetDirty(false);
  };

  // profile type: applied on selection (as the server would judge it: wall needs a target)
  const type: ProfileType = settings?.type ?? 'cpu';
  const [typeError, setTypeError] = useState<string | null>(null);
  const [typeBusy, setTypeBusy] = useState(false);
  const applyType = async (next: ProfileType) => {
    if (!settings || next === type) return;
    const problem = profileCombinationProblem({ type: next, target: settings.target });
    if (problem) {
      setTypeError(problem);
      return;
    }
    setTypeBusy(true);
    const reply = await configure({ type: next });
    setTypeBusy(false);
    setTypeError(reply.ok ? null : reply.error);
  };

  // off-CPU filters (types offcpu and wall): checked with lib/schema/view.ts OffCpuSettingsSchema, as the server does
  const [wakers, setWakers] = useState(DEFAULT_OFFCPU_SETTINGS.wakers);
  const [minText, setMinText] = useState(String(DEFAULT_OFFCPU_SETTINGS.minBlockUs));
  const [maxText, setMaxText] = useState('');
  const [blockState, setBlockState] = useState<BlockState>(DEFAULT_OFFCPU_SETTINGS.state);
  const [offcpuDirty, setOffcpuDirty] = useState(false);
  const [offcpuError, setOffcpuError] = useState<string | null>(null);
  useEffect(() => {
    if (!settings || offcpuDirty) return;
    const o = settings.offcpu ?? DEFAULT_OFFCPU_SETTINGS;
    setWakers(o.wakers);
    setMinText(String(o.minBlockUs));
    setMaxText(o.maxBlockUs === null ? '' : String(o.maxBlockUs));
    setBlockState(o.state);
  }, [settings, offcpuDirty]);
  const editOffcpu = () => {
    setOffcpuDirty(true);
    setOffcpuError(null);
  };
  const applyOffcpu = async () => {
    // Empty min: 0; empty max: no limit. Anything else must be a number the validator accepts.
    const number = (text: string) => (text.trim() === '' ? NaN : Number(text));
    const candidate = {
      wakers,
      minBlockUs: minText.trim() === '' ? 0 : number(minText),
      maxBlockUs: maxText.trim() === '' ? null : number(maxText),
      state: blockState,
    };
    const checked = check(OffCpuSettingsSchema, candidate, { root: 'offcpu' });
    if (!checked.ok) {
      setOffcpuError(checked.error);
      return;
    }
    const reply = await configure({ offcpu: checked.value });
    setOffcpuError(reply.ok ? null : reply.error);
    if (reply.ok) setOffcpuDirty(false);
  };

  const running = settings?.running ?? false;
  return (
    <section aria-label="Sampling" className="flex flex-col gap-3">
      <h2 className="text-xs font-semibold uppercase tracking-wider text-slate-300">Sampling</h2>
      {!canControl && connected && (
        <p data-testid={TEST_IDS.readOnlyHint} className="text-xs text-amber-300">
          Read-only: only an operator changes what is sampled.
        </p>
      )}
      <Field label="Profiler" error={runningError} errorTestId={TEST_IDS.runningError}>
        <button
          type="button"
          data-testid={TEST_IDS.startStop}
          data-running={running ? 'true' : 'false'}
          disabled={disabled || busy}
          onClick={toggleRunning}
          className={
            buttonClass +
            (running ? ' border-rose-500/60 text-rose-200' : ' border-emerald-500/60 text-emerald-200')
          }
        >
          {running ? '■ Stop' : '▶ Start'}
        </button>
      </Field>

      <Field label="Profile type" htmlFor={`${ids}-type`} error={typeError} errorTestId={TEST_IDS.profileTypeError} hint={type === 'wall' ? 'on- and off-CPU time of the target' : type === 'offcpu' ? 'time threads spend blocked' : undefined}>
        <select
          id={`${ids}-type`}
          data-testid={TEST_IDS.profileType}
          value={type}
          disabled={disabled || typeBusy}
          aria-invalid={typeError ? true : undefined}
          onChange={(e) => void applyType(e.target.value as ProfileType)}
          className={inputClass}
        >
          {PROFILE_TYPES.map((t) => (
            <option key={t} value={t}>
              {PROFILE_TYPE_LABELS[t]}
            </option>
          ))}
        </select>
      </Field>

      {type !== 'cpu' && (
        <Field label="Off-CPU filters" htmlFor={`${ids}-min`} error={offcpuError} errorTestId={TEST_IDS.offcpuError}>
          <form
            noValidate
            className="flex flex-col gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              void applyOffcpu();
            }}
          >
            <label className="flex items-center gap-2 text-sm text-slate-200">
              <input
                type="checkbox"
                data-testid={TEST_IDS.offcpuWakers}
                checked={wakers}
                disabled={disabled}
                onChange={(e) => {
                  setWakers(e.target.checked);
                  editOffcpu();
                }}
              />
              Wakers (join each blocked stack to its waker's)
            </label>
            <div className="flex gap-2">
              <input
                id={`${ids}-min`}
                data-testid={TEST_IDS.offcpuMinBlock}
                aria-label="minimum block time, µs"
                type="number"
                inputMode="numeric"
                min={0}
                max={MAX_BLOCK_US}
                step={1}
                placeholder="min µs"
                value={minText}
                disabled={disabled}
                aria-invalid={offcpuError && /minBlockUs/.test(offcpuError) ? true : undefined}
                onChange={(e) => {
                  setMinText(e.target.value);
                  editOffcpu();
                }}
                className={inputClass}
              />
              <input
                data-testid={TEST_IDS.offcpuMaxBlock}
                aria-label="maximum block time, µs (empty: no limit)"
                type="number"
                inputMode="numeric"
                min={0}
                max={MAX_BLOCK_US}
                step={1}
                placeholder="max µs (none)"
                value={maxText}
                disabled={disabled}
                aria-invalid={offcpuError && /maxBlockUs/.test(offcpuError) ? true : undefined}
                onChange={(e) => {
                  setMaxText(e.target.value);
                  editOffcpu();
                }}
                className={inputClass}
              />
            </div>
            <select
              data-testid={TEST_IDS.offcpuState}
              aria-label="task state"
              value={blockState}
              disabled={disabled}
              onChange={(e) => {
                setBlockState(e.target.value as BlockState);
                editOffcpu();
              }}
              className={inputClass}
            >
              {BLOCK_STATES.map((state) => (
                <option key={state} value={state}>
                  {state === 'all' ? 'Any state (incl. preempted)' : state === 'uninterruptible' ? 'Uninterruptible (D: I/O)' : 'Interruptible (S: sleeps, waits)'}
                </option>
              ))}
            </select>
            <button type="submit" data-testid={TEST_IDS.offcpuApply} disabled={disabled || !offcpuDirty} className={buttonClass}>
              Apply filters
            </button>
          </form>
        </Field>
      )}

      <Field label="Sample rate (Hz per CPU)" htmlFor={`${ids}-hz`} error={hzError} errorTestId={TEST_IDS.hzError}>
        <form
          noValidate
          className="flex gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            void applyHz();
          }}
        >
          <input
            id={`${ids}-hz`}
            data-testid={TEST_IDS.hzInput}
            type="number"
            inputMode="numeric"
            min={MIN_HZ}
            max={MAX_HZ}
            step={1}
            value={hzText}
            disabled={disabled}
            aria-invalid={hzError ? true : undefined}
            onChange={(e) => {
              setHzText(e.target.value);
              setHzDirty(true);
              setHzError(null);
            }}
            className={inputClass}
          />
          <button type="submit" data-testid={TEST_IDS.hzApply} disabled={disabled || !hzDirty} className={buttonClass}>
            Set
          </button>
        </form>
      </Field>

      <Field label="Target" htmlFor={`${ids}-target`} error={targetError} errorTestId={TEST_IDS.targetError}>
        <form
          noValidate
          className="flex flex-col gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            void applyTarget();
          }}
        >
          <select
            id={`${ids}-target`}
            data-testid={TEST_IDS.targetKind}
            value={kind}
            disabled={disabled}
            onChange={(e) => {
              setKind(e.target.value as ProfileTarget['kind']);
              setTargetDirty(true);
              setTargetError(null);
            }}
            className={inputClass}
          >
            <option value="all">All processes</option>
            <option value="pid">One process (pid)</option>
            <option value="comm">Command name</option>
          </select>
          {kind === 'pid' && (
            <input
              data-testid={TEST_IDS.targetPid}
              aria-label="pid"
              type="number"
              inputMode="numeric"
              min={1}
              placeholder="pid, e.g. 1234"
              value={pidText}
              disabled={disabled}
              aria-invalid={targetError ? true : undefined}
              onChange={(e) => {
                setPidText(e.target.value);
                setTargetDirty(true);
                setTargetError(null);
              }}
              className={inputClass}
            />
          )}
          {kind === 'comm' && (
            <input
              data-testid={TEST_IDS.targetComm}
              aria-label="command name"
              type="text"
              maxLength={64}
              placeholder={`command, ≤ ${MAX_COMM_LEN} bytes, e.g. node`}
              value={commText}
              disabled={disabled}
              aria-invalid={targetError ? true : undefined}
              onChange={(e) => {
                setCommText(e.target.value);
                setTargetDirty(true);
                setTargetError(null);
              }}
              className={inputClass}
            />
          )}
          <button type="submit" data-testid={TEST_IDS.targetApply} disabled={disabled || !targetDirty} className={buttonClass}>
            Apply target
          </button>
        </form>
      </Field>
    </section>
  );
}

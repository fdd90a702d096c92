'use client';
/**
 * What is sampled: start/stop, rate, target. Shared by every viewer (the server restarts
 * sampling on change), so the shown values follow `profile:status`; each control keeps
 * its own error, from local validation (lib/validate.ts, the server's own rules) or from
 * the server's reply.
 */
import { useEffect, useId, useState } from 'react';
import type { Ack, ProfileSettings, ProfileStatus, ProfileTarget } from '../../lib/protocol.ts';
import { MAX_HZ, MIN_HZ, MAX_COMM_LEN } from '../../lib/protocol.ts';
import { checkHz, checkTarget } from '../../lib/validate.ts';
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
    const checked = checkHz(parsed);
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
    const checked = checkTarget(candidate);
    if (!checked.ok) {
      setTargetError(checked.error);
      return;
    }
    const reply = await configure({ target: checked.value });
    setTargetError(reply.ok ? null : reply.error);
    if (reply.ok) setTargetDirty(false);
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

'use client';
/** This viewer's view of the shared profile: time window, stack mode, idle. */
import { useId } from 'react';
import type { StackMode, TimeWindow, ViewSettings } from '../../lib/protocol.ts';
import { TEST_IDS } from '../../lib/test-ids.ts';
import { Field, inputClass } from './Field.tsx';

const WINDOW_LABELS: Record<TimeWindow, string> = { '10s': 'Last 10 s', '60s': 'Last 60 s', all: 'Since start' };
const MODE_LABELS: Record<StackMode, string> = { all: 'User + kernel', user: 'User only', kernel: 'Kernel only' };

export function ViewControls({
  view,
  onChange,
  error,
  disabled,
}: {
  view: ViewSettings;
  onChange(view: ViewSettings): void;
  error: string | null;
  disabled: boolean;
}) {
  const ids = useId();
  return (
    <section aria-label="View" className="flex flex-col gap-3">
      <h2 className="text-xs font-semibold uppercase tracking-wider text-slate-300">View</h2>
      <Field label="Time window" htmlFor={`${ids}-window`}>
        <select
          id={`${ids}-window`}
          data-testid={TEST_IDS.timeWindow}
          value={view.window}
          disabled={disabled}
          onChange={(e) => onChange({ ...view, window: e.target.value as TimeWindow })}
          className={inputClass}
        >
          {(Object.keys(WINDOW_LABELS) as TimeWindow[]).map((w) => (
            <option key={w} value={w}>
              {WINDOW_LABELS[w]}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Stacks" htmlFor={`${ids}-mode`}>
        <select
          id={`${ids}-mode`}
          data-testid={TEST_IDS.stackMode}
          value={view.stackMode}
          disabled={disabled}
          onChange={(e) => onChange({ ...view, stackMode: e.target.value as StackMode })}
          className={inputClass}
        >
          {(Object.keys(MODE_LABELS) as StackMode[]).map((m) => (
            <option key={m} value={m}>
              {MODE_LABELS[m]}
            </option>
          ))}
        </select>
      </Field>
      <label className="flex items-center gap-2 text-sm text-slate-200">
        <input
          type="checkbox"
          data-testid={TEST_IDS.hideIdle}
          checked={view.hideIdle}
          disabled={disabled}
          onChange={(e) => onChange({ ...view, hideIdle: e.target.checked })}
          className="h-4 w-4 accent-sky-500"
        />
        Hide idle (swapper)
      </label>
      <label className="flex items-center gap-2 text-sm text-slate-200" title="Root each stack at its thread (comm-tid) instead of its name: threads with the same name are drawn apart">
        <input
          type="checkbox"
          data-testid={TEST_IDS.perThread}
          checked={view.perThread === true}
          disabled={disabled}
          onChange={(e) => onChange({ ...view, perThread: e.target.checked })}
          className="h-4 w-4 accent-sky-500"
        />
        Per thread (comm-tid)
      </label>
      {error && (
        <p role="alert" data-testid={TEST_IDS.viewError} className="text-xs text-rose-400">
          {error}
        </p>
      )}
    </section>
  );
}

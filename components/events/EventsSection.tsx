'use client';
/**
 * The dashboard's events section: the probe picker (search tracepoints, processes, binaries,
 * USDT probes and functions; it fills the spec field), the spec and pid fields (checked as you
 * type with the grammar the server uses; the server's refusal shows under the field), the
 * events-per-second chart of every probe, and one live panel per shared event probe.
 */
import { useState, type FormEvent } from 'react';
import { parseEventSpec } from '../../lib/event-spec.ts';
import { EVENTS_TEST_IDS, SESSION_TEST_IDS } from '../../lib/test-ids.ts';
import { buttonClass, Field, inputClass } from '../controls/Field.tsx';
import { ProbePicker } from '../picker/ProbePicker.tsx';
import type { ProfileSession } from '../session/useProfileSession.ts';
import { EventsPanel } from './EventsPanel.tsx';
import { RateChart, SERIES_COLORS } from './RateChart.tsx';
import { useEventProbes } from './useEventProbes.ts';

export function EventsSection({
  session,
  connected,
  canControl = true,
}: {
  session: Pick<ProfileSession, 'subscribe' | 'send'>;
  connected: boolean;
  /** False for a read-only viewer link: probes are shown, not started or stopped (no picker either). */
  canControl?: boolean;
}) {
  const { list, live, version, add, remove } = useEventProbes(session);
  const [spec, setSpec] = useState('');
  const [pid, setPid] = useState('');
  const [refusal, setRefusal] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [showPicker, setShowPicker] = useState(true);
  const probes = list?.probes ?? [];
  const running = probes.filter((p) => p.state === 'running').length;

  const parsed = spec.trim() === '' ? null : parseEventSpec(spec);
  const specError = parsed && !parsed.ok ? `${parsed.error.message} (at character ${parsed.error.position + 1})` : null;
  const pidError = pid !== '' && !/^[1-9]\d*$/.test(pid) ? 'pid must be a positive whole number' : null;
  const error = specError ?? pidError ?? refusal;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!parsed) return setRefusal('pick a probe or type a spec first');
    if (!parsed.ok || pidError) return;
    setBusy(true);
    try {
      const submitted = spec;
      const reply = await add(spec.trim(), pid ? Number(pid) : undefined);
      setRefusal(reply);
      // Clear the field only if it still holds what was added (the user may have typed on).
      if (reply === null) setSpec((current) => (current === submitted ? '' : current));
    } finally {
      setBusy(false);
    }
  }

  const now = Date.now();
  const series = probes.map((p) => ({ id: p.id, label: p.spec.length > 60 ? `…${p.spec.slice(-57)}` : p.spec, points: live.get(p.id)?.history ?? [] }));

  return (
    <section aria-label="Event streams" data-testid={EVENTS_TEST_IDS.section} className="flex flex-col gap-4 rounded-lg border border-slate-700 bg-slate-900/40 p-4">
      <div className="flex items-baseline gap-3">
        <h2 className="text-sm font-semibold text-slate-100">Events</h2>
        <span data-testid={EVENTS_TEST_IDS.probeCount} data-count={running} className="text-xs text-slate-500">
          {list ? `${running} of ${list.max} probes live · shared with every viewer` : 'probes shared with every viewer'}
        </span>
        {canControl && (
          <button type="button" className="ml-auto text-xs text-sky-300 hover:underline" onClick={() => setShowPicker((s) => !s)}>
            {showPicker ? 'hide picker' : 'show picker'}
          </button>
        )}
      </div>
      {!canControl && (
        <p data-testid={SESSION_TEST_IDS.readOnly} className="text-xs text-slate-400">
          Read-only viewer link: the operator starts and stops event probes.
        </p>
      )}
      {canControl && showPicker && (
        <ProbePicker
          send={session.send}
          disabled={!connected}
          onPick={(picked, pickedPid) => {
            setSpec(picked);
            setPid(pickedPid === undefined ? '' : String(pickedPid));
            setRefusal(null);
          }}
        />
      )}
      {canControl && (
      <form noValidate onSubmit={submit} className="flex flex-wrap items-end gap-2">
        <div className="min-w-[22rem] flex-1">
          <Field
            label="Event probe"
            htmlFor="events-spec"
            error={error}
            errorTestId={EVENTS_TEST_IDS.specError}
            hint="exec · tracepoint:sched:sched_switch(prev_comm,next_comm) · uprobe:c:open(arg0:str) · usdt:/path/bin:provider:name(arg0:str)"
          >
            <input
              id="events-spec"
              data-testid={EVENTS_TEST_IDS.specInput}
              className={inputClass + ' font-mono'}
              placeholder="pick above, or type e.g. exec"
              value={spec}
              aria-invalid={error ? true : undefined}
              disabled={!connected}
              onChange={(e) => {
                setSpec(e.target.value);
                setRefusal(null);
              }}
            />
          </Field>
        </div>
        <div className="w-28">
          <Field label="pid (optional)" htmlFor="events-pid">
            <input
              id="events-pid"
              data-testid={EVENTS_TEST_IDS.pidInput}
              className={inputClass}
              inputMode="numeric"
              placeholder="all"
              value={pid}
              disabled={!connected}
              onChange={(e) => setPid(e.target.value.trim())}
            />
          </Field>
        </div>
        <button type="submit" data-testid={EVENTS_TEST_IDS.specAdd} className={buttonClass} disabled={!connected || busy}>
          {busy ? 'Starting…' : 'Start'}
        </button>
      </form>
      )}
      {probes.length === 0 ? (
        <p data-testid={EVENTS_TEST_IDS.empty} className="text-xs text-slate-500">
          No event probes yet.{' '}
          {canControl && (
            <>
              Pick one above, or start <code className="text-slate-300">exec</code> to see every process start.
            </>
          )}
        </p>
      ) : (
        <>
          <RateChart series={series} now={now} />
          {probes.map((info, i) => (
            <EventsPanel key={info.id} info={info} live={live.get(info.id)} version={version} color={SERIES_COLORS[i % SERIES_COLORS.length]} onRemove={canControl ? remove : undefined} />
          ))}
        </>
      )}
    </section>
  );
}

'use client';
/**
 * One event probe: spec, state, counts (events/s, total, lost in the kernel, dropped in the
 * server, rows this viewer was not sent because it was behind), pause, filters by column, the
 * live virtualised table, and remove.
 */
import { useMemo, useState } from 'react';
import { EVENTS_BATCH_INTERVAL_MS, EVENTS_BATCH_ROWS, type EventProbeInfo } from '../../lib/protocol-events.ts';
import { EVENTS_TEST_IDS } from '../../lib/test-ids.ts';
import { buttonClass, inputClass } from '../controls/Field.tsx';
import { EventTable } from './EventTable.tsx';
import { rowPredicate, type RowFilter, type ShownRow } from './rows.ts';
import type { ProbeLive } from './useEventProbes.ts';

const fmt = (n: number) => n.toLocaleString('en-US');

export function EventsPanel({
  info,
  live,
  version,
  color,
  onRemove,
}: {
  info: EventProbeInfo;
  live: ProbeLive | undefined;
  /** Changes whenever `live` was updated. */
  version: number;
  color: string;
  /** Absent for a read-only viewer link: no Remove button. */
  onRemove?: (id: string) => Promise<string | null>;
}) {
  const [filter, setFilter] = useState<RowFilter>({ comm: '', pid: '', text: '' });
  const [frozen, setFrozen] = useState<ShownRow[] | null>(null);
  const [pushedAtPause, setPushedAtPause] = useState(0);
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<string | null>(null);
  const paused = frozen !== null;

  const rows = useMemo(() => {
    const keep = rowPredicate(filter);
    if (frozen) return keep ? frozen.filter(keep) : frozen;
    return live ? live.ring.newestFirst(keep ?? undefined) : [];
    // `version` tells when the ring (mutated in place) changed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [filter, frozen, live, version]);

  const received = live?.ring.pushed ?? 0;
  const newSincePause = paused ? received - pushedAtPause : 0;

  const togglePause = () => {
    setPushedAtPause(received);
    setFrozen(paused ? null : live ? live.ring.newestFirst() : []);
  };

  const remove = async () => {
    setRemoving(true);
    const error = onRemove ? await onRemove(info.id) : null;
    setRemoving(false);
    setRemoveError(error);
  };

  return (
    <article
      data-testid={EVENTS_TEST_IDS.panel}
      data-focus-panel={info.id}
      data-id={info.id}
      data-spec={info.spec}
      data-received={received}
      className="flex flex-col gap-2 rounded-lg border border-slate-700 bg-slate-950/40 p-3"
    >
      <header className="flex flex-wrap items-center gap-2">
        <span className="inline-block h-2.5 w-2.5 rounded-full" style={{ background: color }} />
        <code className="break-all text-sm text-slate-100">{info.spec}</code>
        {info.pid !== null && <span className="text-xs text-slate-400">pid {info.pid}</span>}
        <span
          data-testid={EVENTS_TEST_IDS.state}
          data-state={info.state}
          className={
            'rounded border px-1.5 text-[11px] ' + (info.state === 'running' ? 'border-emerald-500/50 text-emerald-300' : 'border-slate-500 text-slate-400')
          }
        >
          {info.state}
        </span>
        <div className="ml-auto flex items-center gap-2">
          <button type="button" data-testid={EVENTS_TEST_IDS.pause} aria-pressed={paused} className={buttonClass} onClick={togglePause}>
            {paused ? 'Resume' : 'Pause'}
          </button>
          {onRemove && (
            <button type="button" data-testid={EVENTS_TEST_IDS.remove} className={buttonClass} disabled={removing} onClick={() => void remove()}>
              Remove
            </button>
          )}
        </div>
      </header>
      {info.error && (
        <p data-testid={EVENTS_TEST_IDS.probeError} className="text-xs text-amber-300">
          {info.error}
        </p>
      )}
      {removeError && <p className="text-xs text-rose-400">{removeError}</p>}
      <div className="flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-400">
        <span data-testid={EVENTS_TEST_IDS.perSecond} data-value={live?.perSecond ?? 0}>
          <b className="text-slate-100">{fmt(live?.perSecond ?? 0)}</b> events/s
        </span>
        <span>
          {fmt(live?.total ?? info.total)} events since added · {fmt(received)} received here · {fmt(rows.length)} shown
        </span>
        <span data-testid={EVENTS_TEST_IDS.lost} data-lost={live?.lost ?? info.lost} data-dropped={live?.dropped ?? info.dropped}>
          lost in kernel <b className={(live?.lost ?? info.lost) > 0 ? 'text-amber-300' : 'text-slate-200'}>{fmt(live?.lost ?? info.lost)}</b> · dropped in
          server <b className={(live?.dropped ?? info.dropped) > 0 ? 'text-amber-300' : 'text-slate-200'}>{fmt(live?.dropped ?? info.dropped)}</b>
        </span>
        <span data-testid={EVENTS_TEST_IDS.skipped} data-value={live?.skipped ?? 0} className={(live?.skipped ?? 0) > 0 ? 'text-amber-300' : ''}>
          {(live?.skipped ?? 0) > 0
            ? `${fmt(live!.skipped)} rows not sent to this page: it was behind (the server sends at most the newest ${fmt(EVENTS_BATCH_ROWS)} rows every ${EVENTS_BATCH_INTERVAL_MS} ms)`
            : 'no rows skipped'}
        </span>
        {paused && <span className="text-sky-300">paused · {fmt(Math.max(0, newSincePause))} new rows waiting</span>}
      </div>
      <div className="flex flex-wrap gap-2">
        <div className="w-36">
        <input
          data-testid={EVENTS_TEST_IDS.filterComm}
          aria-label="filter by comm"
          className={inputClass}
          placeholder="comm"
          value={filter.comm}
          onChange={(e) => setFilter({ ...filter, comm: e.target.value })}
        />
        </div>
        <div className="w-28">
        <input
          data-testid={EVENTS_TEST_IDS.filterPid}
          aria-label="filter by pid or tid"
          className={inputClass}
          placeholder="pid / tid"
          inputMode="numeric"
          value={filter.pid}
          onChange={(e) => setFilter({ ...filter, pid: e.target.value.replace(/\D/g, '') })}
        />
        </div>
        <div className="min-w-48 flex-1">
        <input
          data-testid={EVENTS_TEST_IDS.filterText}
          aria-label="filter by field text"
          className={inputClass}
          placeholder="field text, e.g. arg0=42 or /usr/bin"
          value={filter.text}
          onChange={(e) => setFilter({ ...filter, text: e.target.value })}
        />
        </div>
      </div>
      <EventTable rows={rows} />
    </article>
  );
}

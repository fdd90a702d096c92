'use client';
/**
 * One latency probe: spec, state (running/stale/ended), remove button, unit switch (ns/µs/ms),
 * percentiles, histogram (newest interval or since added) and heatmap; stale, ended and miss
 * notices. Plain props: the session hook that subscribes to the hub passes a LatencyProbeFrame
 * and the probe's entry of the shared list.
 */
import { useState } from 'react';
import { TIME_UNITS, type TimeUnit } from '../../lib/histogram.ts';
import type { LatencyProbeFrame } from '../../lib/latency-view.ts';
import type { LatencyProbeInfo } from '../../lib/protocol-latency.ts';
import { buttonClass } from '../controls/Field.tsx';
import { LatencyHeatmap } from './LatencyHeatmap.tsx';
import { LatencyHistogram } from './LatencyHistogram.tsx';
import { LatencyPercentiles } from './LatencyPercentiles.tsx';
import { LatencySeries } from './LatencySeries.tsx';
import { LATENCY_TEST_IDS, RECORDING_TEST_IDS } from '../../lib/test-ids.ts';
import { LatencyExport } from './LatencyExport.tsx';
import { PinButton } from '../snapshots/PinButton.tsx';
import type { ProfileSession } from '../session/useProfileSession.ts';

const STATE_CLASS: Record<LatencyProbeInfo['state'], string> = {
  running: 'border-emerald-500/50 text-emerald-300',
  stale: 'border-amber-500/50 text-amber-300',
  ended: 'border-slate-500 text-slate-400',
};

export function LatencyPanel({
  frame,
  info,
  onRemove,
  sessionId,
  send,
  canPin = false,
}: {
  frame: LatencyProbeFrame;
  /** The probe's entry in the shared list (state, filters); absent for a bare frame. */
  info?: LatencyProbeInfo;
  /** Resolves to the server's refusal, or null once removed; absent: no Remove button (read-only). */
  onRemove?: (id: string) => Promise<string | null> | void;
  /** The session (its export route); absent: no exports (e.g. a snapshot shown on its own). */
  sessionId?: string;
  send?: ProfileSession['send'];
  /** Operators: "Pin" saves this histogram as a snapshot (`snapshot:pin {kind:'histogram', probe}`). */
  canPin?: boolean;
}) {
  const [unit, setUnit] = useState<TimeUnit>('us');
  const [scope, setScope] = useState<'interval' | 'total'>('total');
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<string | null>(null);
  const histogram = scope === 'interval' ? frame.interval : frame.total;
  const sinceAdded = info && frame.sampledAtMs > info.addedAtMs ? (frame.sampledAtMs - info.addedAtMs) / 1000 : 0;
  const totalSeconds = sinceAdded || frame.columns.reduce((a, c) => a + c.durationMs, 0) / 1000 || 1;
  const seconds = scope === 'interval' ? (frame.columns.at(-1)?.durationMs ?? 1000) / 1000 : totalSeconds;
  const missed = frame.misses.noEntry + frame.misses.startFull + frame.misses.histFull;
  const state = info?.state ?? (frame.stale ? 'stale' : 'running');

  async function remove() {
    setRemoving(true);
    setRemoveError(null);
    try {
      const refusal = await onRemove?.(frame.id);
      if (refusal) setRemoveError(refusal);
    } finally {
      setRemoving(false);
    }
  }

  return (
    <section aria-label={`Latency of ${frame.spec}`} data-focus-panel={frame.id} data-testid={LATENCY_TEST_IDS.panel} data-spec={frame.spec} data-id={frame.id} data-state={state} className="flex min-w-0 flex-col gap-3 rounded-lg border border-slate-700 bg-slate-900/60 p-4">
      <div className="flex flex-wrap items-center gap-2">
        <h2 className="mr-1 break-all font-mono text-sm font-semibold text-slate-100">{frame.spec}</h2>
        {info && (info.pid !== null || info.comm !== null) && (
          <span className="text-xs text-slate-400">
            {info.pid !== null && `pid ${info.pid}`} {info.comm !== null && `comm ${info.comm}`}
          </span>
        )}
        <span data-testid={LATENCY_TEST_IDS.state} data-state={state} className={'rounded border px-1.5 py-0.5 text-[10px] uppercase tracking-wide ' + STATE_CLASS[state]}>
          {state}
        </span>
        <div role="group" aria-label="Unit" data-testid={LATENCY_TEST_IDS.unit} className="flex overflow-hidden rounded-md border border-slate-600 text-xs">
          {TIME_UNITS.map((u) => (
            <button key={u} type="button" aria-pressed={unit === u} onClick={() => setUnit(u)} className={'px-2 py-0.5 ' + (unit === u ? 'bg-sky-600 text-white' : 'text-slate-300 hover:bg-slate-800')}>
              {u === 'us' ? 'µs' : u}
            </button>
          ))}
        </div>
        <select aria-label="Histogram scope" value={scope} onChange={(e) => setScope(e.target.value as 'interval' | 'total')} className="rounded-md border border-slate-600 bg-slate-900 px-1 py-0.5 text-xs text-slate-200">
          <option value="total">since added</option>
          <option value="interval">last interval</option>
        </select>
        <div className="ml-auto flex items-center gap-2">
          {sessionId !== undefined && <LatencyExport sessionId={sessionId} probe={frame.id} />}
          {canPin && send && (
            <PinButton
              send={send}
              request={{ kind: 'histogram', probe: frame.id }}
              defaultName={() => `${frame.spec} ${new Date().toLocaleTimeString()}`}
              testId={RECORDING_TEST_IDS.latencyPin}
            />
          )}
        {onRemove && (
          <button type="button" data-testid={LATENCY_TEST_IDS.remove} onClick={() => void remove()} disabled={removing} className={buttonClass}>
            {removing ? 'Removing…' : 'Remove'}
          </button>
        )}
        </div>
      </div>
      {removeError && (
        <p role="alert" className="text-xs text-rose-400">
          {removeError}
        </p>
      )}
      {state === 'ended' && (
        <p role="status" data-testid={LATENCY_TEST_IDS.probeError} className="rounded border border-slate-500/60 bg-slate-800/60 px-2 py-1 text-xs text-slate-300">
          Ended: {info?.error ?? 'the probe was detached'}
        </p>
      )}
      {frame.hint && (
        <p role="status" data-testid={LATENCY_TEST_IDS.hint} className="rounded border border-sky-500/50 bg-sky-500/10 px-2 py-1 text-xs text-sky-200">
          {frame.hint}
        </p>
      )}
      {frame.stale && (
        <p role="status" data-testid={LATENCY_TEST_IDS.stale} className="rounded border border-amber-500/50 bg-amber-500/10 px-2 py-1 text-xs text-amber-200">
          Stale: {frame.stale}
        </p>
      )}
      <LatencyPercentiles histogram={histogram} seconds={seconds} unit={unit} />
      <div className="grid gap-3 lg:grid-cols-2">
        <LatencyHistogram histogram={histogram} unit={unit} />
        <LatencyHeatmap columns={frame.columns} unit={unit} />
      </div>
      <LatencySeries series={frame.series} seconds={totalSeconds} unit={unit} />
      <p data-testid={LATENCY_TEST_IDS.misses} data-count={missed} className={'text-[11px] ' + (missed > 0 ? 'text-amber-300/80' : 'text-slate-500')}>
        {missed > 0
          ? `Missed: ${frame.misses.noEntry} returns without an entry, ${frame.misses.startFull} entries (map full), ${frame.misses.histFull} durations (map full).`
          : 'Missed: none.'}
      </p>
    </section>
  );
}

'use client';
/**
 * One live latency probe: spec, remove button, unit switch (ns/µs/ms), percentiles, histogram
 * (newest interval or since added) and heatmap; stale and miss notices. Plain props: the
 * session hook that subscribes to the hub passes a LatencyProbeFrame.
 */
import { useState } from 'react';
import { TIME_UNITS, type TimeUnit } from '../../lib/histogram.ts';
import type { LatencyProbeFrame } from '../../lib/latency-view.ts';
import { buttonClass } from '../controls/Field.tsx';
import { LatencyHeatmap } from './LatencyHeatmap.tsx';
import { LatencyHistogram } from './LatencyHistogram.tsx';
import { LatencyPercentiles } from './LatencyPercentiles.tsx';
import { LATENCY_TEST_IDS } from './test-ids.ts';

export function LatencyPanel({ frame, onRemove }: { frame: LatencyProbeFrame; onRemove: (id: string) => void }) {
  const [unit, setUnit] = useState<TimeUnit>('us');
  const [scope, setScope] = useState<'interval' | 'total'>('total');
  const histogram = scope === 'interval' ? frame.interval : frame.total;
  const seconds = scope === 'interval' ? (frame.columns.at(-1)?.durationMs ?? 1000) / 1000 : frame.columns.reduce((a, c) => a + c.durationMs, 0) / 1000 || 1;
  const missed = frame.misses.noEntry + frame.misses.startFull + frame.misses.histFull;

  return (
    <section aria-label={`Latency of ${frame.spec}`} data-testid={LATENCY_TEST_IDS.panel} data-spec={frame.spec} className="flex min-w-0 flex-col gap-3 rounded-lg border border-slate-700 bg-slate-900/60 p-4">
      <div className="flex flex-wrap items-center gap-2">
        <h2 className="mr-2 font-mono text-sm font-semibold text-slate-100">{frame.spec}</h2>
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
        <button type="button" data-testid={LATENCY_TEST_IDS.remove} onClick={() => onRemove(frame.id)} className={buttonClass + ' ml-auto'}>
          Remove
        </button>
      </div>
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
      {missed > 0 && (
        <p data-testid={LATENCY_TEST_IDS.misses} className="text-[11px] text-slate-500">
          Missed: {frame.misses.noEntry} returns without an entry, {frame.misses.startFull} entries (map full), {frame.misses.histFull} durations (map full).
        </p>
      )}
    </section>
  );
}

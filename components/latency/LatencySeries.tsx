'use client';
/** Per-key totals of a keyed probe (glob functions, syscall:*, disks, pids, comms): busiest first. */
import { formatCount } from '../../lib/format.ts';
import { summarize, type TimeUnit } from '../../lib/histogram.ts';
import { formatIn, type LatencyProbeFrame } from '../../lib/latency-view.ts';
import { LATENCY_TEST_IDS } from '../../lib/test-ids.ts';

/** Rows shown; the rest are counted in a last line. */
const MAX_ROWS = 12;

export function LatencySeries({ series, seconds, unit }: { series: LatencyProbeFrame['series']; seconds: number; unit: TimeUnit }) {
  if (series.length === 0) return null;
  const rows = series
    .map((s) => ({ label: s.label, summary: summarize(s.total, seconds) }))
    .sort((a, b) => b.summary.count - a.summary.count || a.label.localeCompare(b.label));
  const shown = rows.slice(0, MAX_ROWS);
  return (
    <table className="w-full border-collapse font-mono text-[11px] text-slate-300" data-testid={LATENCY_TEST_IDS.series} data-keys={series.length}>
      <thead>
        <tr className="text-left text-slate-500">
          <th className="pr-2 font-normal">key</th>
          {['count', 'rate', 'avg', 'p50', 'p99'].map((h) => (
            <th key={h} className="pr-2 text-right font-normal">
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {shown.map(({ label, summary: s }) => (
          <tr key={label}>
            <td className="max-w-[16rem] truncate pr-2" title={label}>
              {label}
            </td>
            <td className="pr-2 text-right tabular-nums">{formatCount(s.count)}</td>
            <td className="pr-2 text-right tabular-nums">{`${s.rate >= 100 ? Math.round(s.rate) : Number(s.rate.toPrecision(3))}/s`}</td>
            <td className="pr-2 text-right tabular-nums">{s.count ? formatIn(s.avg, unit) : '–'}</td>
            <td className="pr-2 text-right tabular-nums">{s.count ? formatIn(s.p50, unit) : '–'}</td>
            <td className="pr-2 text-right tabular-nums">{s.count ? formatIn(s.p99, unit) : '–'}</td>
          </tr>
        ))}
        {rows.length > MAX_ROWS && (
          <tr>
            <td colSpan={6} className="pt-1 text-slate-500">
              … and {rows.length - MAX_ROWS} more keys
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

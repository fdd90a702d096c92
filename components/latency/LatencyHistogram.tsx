'use client';
/** A log2 latency histogram as horizontal bars (bcc's layout), bounds shown in the chosen unit. */
import { formatCount } from '../../lib/format.ts';
import type { Log2Histogram, TimeUnit } from '../../lib/histogram.ts';
import { histogramRows } from '../../lib/latency-view.ts';
import { LATENCY_TEST_IDS } from '../../lib/test-ids.ts';

export function LatencyHistogram({ histogram, unit }: { histogram: Log2Histogram; unit: TimeUnit }) {
  const rows = histogramRows(histogram, unit);
  if (rows.length === 0) {
    return <p className="text-xs text-slate-500" data-testid={LATENCY_TEST_IDS.histogram} data-count={0}>No calls yet.</p>;
  }
  const label = unit === 'us' ? 'µs' : unit;
  return (
    <table className="w-full border-collapse font-mono text-[11px] text-slate-300" data-testid={LATENCY_TEST_IDS.histogram} data-count={histogram.count}>
      <thead>
        <tr className="text-slate-500">
          <th className="pr-2 text-right font-normal">{label}</th>
          <th className="pr-2 text-right font-normal">count</th>
          <th className="w-full text-left font-normal">distribution</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.bucket} data-testid={LATENCY_TEST_IDS.histogramRow} data-low={r.lowNs} data-high={r.highNs} data-count={r.count}>
            <td className="whitespace-nowrap pr-2 text-right">
              {r.low} – {r.high}
            </td>
            <td className="pr-2 text-right tabular-nums">{formatCount(r.count)}</td>
            <td>
              <div className="h-3 rounded-sm bg-sky-500/80" style={{ width: `${(r.fraction * 100).toFixed(1)}%`, minWidth: r.count > 0 ? 2 : 0 }} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

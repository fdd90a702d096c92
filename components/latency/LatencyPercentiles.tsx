'use client';
/**
 * Count, rate, average, p50/p90/p99 estimates (interpolated within the sub-buckets and clamped
 * to [min, max]: see lib/histogram.ts), their error bound, and min/max when known.
 */
import { formatCount } from '../../lib/format.ts';
import { relativeErrorBound, summarize, type Log2Histogram, type TimeUnit } from '../../lib/histogram.ts';
import { formatIn } from '../../lib/latency-view.ts';
import { LATENCY_TEST_IDS } from '../../lib/test-ids.ts';

export function LatencyPercentiles({ histogram, seconds, unit }: { histogram: Log2Histogram; seconds: number; unit: TimeUnit }) {
  const s = summarize(histogram, seconds);
  const bound = relativeErrorBound(histogram);
  const known = (v: number | undefined) => (s.count && v !== undefined ? formatIn(v, unit) : '–');
  const items: [string, string][] = [
    ['count', formatCount(s.count)],
    ['rate', `${s.rate >= 100 ? Math.round(s.rate) : Number(s.rate.toPrecision(3))}/s`],
    ['avg', s.count ? formatIn(s.avg, unit) : '–'],
    ['p50', s.count ? formatIn(s.p50, unit) : '–'],
    ['p90', s.count ? formatIn(s.p90, unit) : '–'],
    ['p99', s.count ? formatIn(s.p99, unit) : '–'],
    ['min', known(histogram.min)],
    ['max', known(histogram.max)],
  ];
  return (
    <dl
      className="grid grid-cols-4 gap-2 text-xs sm:grid-cols-8"
      data-testid={LATENCY_TEST_IDS.percentiles}
      data-count={s.count}
      data-p50={Math.round(s.p50)}
      data-p99={Math.round(s.p99)}
      data-error-bound={bound}
      title={bound < 1 ? `percentiles within ±${Number((bound * 100).toPrecision(3))}% of the true value, never outside min–max` : 'percentiles within a factor of 2 (log2 buckets)'}
    >
      {items.map(([k, v]) => (
        <div key={k} className="rounded bg-slate-800/60 px-2 py-1">
          <dt className="text-[10px] uppercase tracking-wide text-slate-500">{k}</dt>
          <dd className="tabular-nums text-slate-100">{v}</dd>
        </div>
      ))}
    </dl>
  );
}

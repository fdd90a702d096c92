'use client';
/** Count, rate, average and p50/p90/p99 estimates (interpolated within log2 buckets: see lib/histogram.ts). */
import { formatCount } from '../../lib/format.ts';
import { summarize, type Log2Histogram, type TimeUnit } from '../../lib/histogram.ts';
import { formatIn } from '../../lib/latency-view.ts';
import { LATENCY_TEST_IDS } from '../../lib/test-ids.ts';

export function LatencyPercentiles({ histogram, seconds, unit }: { histogram: Log2Histogram; seconds: number; unit: TimeUnit }) {
  const s = summarize(histogram, seconds);
  const items: [string, string][] = [
    ['count', formatCount(s.count)],
    ['rate', `${s.rate >= 100 ? Math.round(s.rate) : Number(s.rate.toPrecision(3))}/s`],
    ['avg', s.count ? formatIn(s.avg, unit) : '–'],
    ['p50', s.count ? formatIn(s.p50, unit) : '–'],
    ['p90', s.count ? formatIn(s.p90, unit) : '–'],
    ['p99', s.count ? formatIn(s.p99, unit) : '–'],
  ];
  return (
    <dl className="grid grid-cols-6 gap-2 text-xs" data-testid={LATENCY_TEST_IDS.percentiles} data-count={s.count} data-p50={Math.round(s.p50)} data-p99={Math.round(s.p99)}>
      {items.map(([k, v]) => (
        <div key={k} className="rounded bg-slate-800/60 px-2 py-1">
          <dt className="text-[10px] uppercase tracking-wide text-slate-500">{k}</dt>
          <dd className="tabular-nums text-slate-100">{v}</dd>
        </div>
      ))}
    </dl>
  );
}

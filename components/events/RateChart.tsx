'use client';
/** Events per second of each event probe (kind) over the last minute: one line each, plain SVG. */
import { EVENTS_TEST_IDS } from '../../lib/test-ids.ts';
import { RATE_HISTORY_S } from './useEventProbes.ts';

export const SERIES_COLORS = ['#38bdf8', '#f97316', '#a3e635', '#f472b6', '#facc15', '#c084fc', '#2dd4bf', '#f87171'];

export interface RateSeries {
  id: string;
  label: string;
  points: { t: number; v: number }[];
}

function shortNumber(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return String(Math.round(v));
}

export function RateChart({ series, now }: { series: RateSeries[]; now: number }) {
  const width = 640;
  const height = 110;
  const pad = { l: 40, r: 8, t: 8, b: 18 };
  const max = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.v)));
  const x = (t: number) => pad.l + ((t - (now - RATE_HISTORY_S * 1000)) / (RATE_HISTORY_S * 1000)) * (width - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - v / max) * (height - pad.t - pad.b);
  return (
    <figure className="flex flex-col gap-1">
      <svg
        data-testid={EVENTS_TEST_IDS.rateChart}
        data-series={series.length}
        viewBox={`0 0 ${width} ${height}`}
        className="h-28 w-full max-w-3xl"
        role="img"
        aria-label="events per second per probe, last minute"
      >
        <line x1={pad.l} x2={width - pad.r} y1={y(0)} y2={y(0)} stroke="#475569" />
        <line x1={pad.l} x2={width - pad.r} y1={y(max)} y2={y(max)} stroke="#334155" strokeDasharray="3 3" />
        <text x={pad.l - 4} y={y(max) + 4} textAnchor="end" fontSize="10" fill="#94a3b8">
          {shortNumber(max)}/s
        </text>
        <text x={pad.l - 4} y={y(0) + 4} textAnchor="end" fontSize="10" fill="#94a3b8">
          0
        </text>
        <text x={width - pad.r} y={height - 4} textAnchor="end" fontSize="10" fill="#94a3b8">
          now
        </text>
        <text x={pad.l} y={height - 4} fontSize="10" fill="#94a3b8">
          −{RATE_HISTORY_S} s
        </text>
        {series.map((s, i) => (
          <polyline
            key={s.id}
            fill="none"
            stroke={SERIES_COLORS[i % SERIES_COLORS.length]}
            strokeWidth={1.5}
            points={s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')}
          />
        ))}
      </svg>
      <figcaption className="flex flex-wrap gap-3 text-[11px] text-slate-400">
        {series.map((s, i) => (
          <span key={s.id} className="flex items-center gap-1">
            <span className="inline-block h-2 w-2 rounded-full" style={{ background: SERIES_COLORS[i % SERIES_COLORS.length] }} />
            <span className="font-mono">{s.label}</span>
            <span>{shortNumber(s.points.at(-1)?.v ?? 0)}/s</span>
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

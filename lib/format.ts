/**
 * Number and time formatting for the dashboard and exports. Isomorphic, locale-independent
 * (a fixed `en-US` grouping) so that screenshots and tests read the same everywhere.
 */

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A count of samples or frames: `12,345`. */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? intFormat.format(n) : '–';
}

/** `part` as a percentage of `total`: `12.3%`, `0.04%`, `<0.01%`; `–` when total is 0. */
export function formatPercent(part: number, total: number): string {
  if (!(total > 0) || !Number.isFinite(part)) return '–';
  const pct = (100 * part) / total;
  if (pct === 0) return '0%';
  if (pct < 0.01) return '<0.01%';
  if (pct < 1) return `${pct.toFixed(2)}%`;
  if (pct >= 99.95 && part < total) return '99.9%';
  return `${pct.toFixed(1)}%`;
}

/** A rate in events per second: `1,234/s`, `9.5/s`. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '–';
  return perSecond >= 100 ? `${intFormat.format(perSecond)}/s` : `${perSecond.toFixed(1)}/s`;
}

/** Wall-clock time of day, local, `HH:MM:SS`. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  const pad = (v: number) => String(v).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A duration in ms as `850 ms`, `12.3 s`, `4 min 5 s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const min = Math.floor(ms / 60_000);
  return `${min} min ${Math.round((ms - min * 60_000) / 1000)} s`;
}

/** A file-name-safe UTC timestamp: `2026-11-26T04-05-09Z`. */
export function fileTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
}

/**
 * What the dashboard shows for one latency probe, and the pure helpers to build it: the
 * heatmap (one column per interval, one row per log2 bucket, colour = count), histogram rows
 * in a chosen unit, and the percentile summary. Isomorphic, no I/O, clock passed in.
 *
 * Proposed payload for the hub (`latency:frame`), to be wired by whoever owns lib/protocol.ts:
 * LatencyProbeFrame below. All durations are ns.
 */
import {
  addHistograms,
  bucketHigh,
  bucketLow,
  emptyHistogram,
  formatBound,
  percentile,
  summarize,
  type HistogramSummary,
  type Log2Histogram,
  type TimeUnit,
} from './histogram.ts';

/** One heatmap column: the durations that completed in one interval. */
export interface HeatmapColumn {
  /** Wall-clock ms since the epoch at the end of the interval. */
  endMs: number;
  /** Interval length, ms. */
  durationMs: number;
  /** Log2 bucket counts (index = bucket, see lib/histogram.ts). */
  buckets: number[];
}

/** Counters of durations lost in the kernel, cumulative since the probe was added. */
export interface LatencyMissCounts {
  noEntry: number;
  startFull: number;
  histFull: number;
}

/** Everything the UI needs to draw one probe. */
export interface LatencyProbeFrame {
  /** Server-assigned id of the probe (stable while it lives). */
  id: string;
  /** Canonical spec text. */
  spec: string;
  /** Newest interval, all keys merged. */
  interval: Log2Histogram;
  /** Since the probe was added. */
  total: Log2Histogram;
  /** Oldest first, at most the heatmap width. */
  columns: HeatmapColumn[];
  /** Per key (glob functions, syscalls, disks, pids), totals since added; empty when the probe has one key. */
  series: { label: string; total: Log2Histogram }[];
  misses: LatencyMissCounts;
  /** Set when the traced binary was deleted or replaced. */
  stale: string | null;
  /** True once the `--pid` process no longer exists (nothing more will be measured). */
  targetExited: boolean;
  /** Wall-clock ms of the newest read. */
  sampledAtMs: number;
}

/** Columns kept for the heatmap (1 s each: two minutes). */
export const HEATMAP_COLUMNS = 120;

/** What a probe shows before its first read: empty histograms, no columns, no misses. */
export function emptyProbeFrame(id: string, spec: string): LatencyProbeFrame {
  return {
    id,
    spec,
    interval: emptyHistogram(),
    total: emptyHistogram(),
    columns: [],
    series: [],
    misses: { noEntry: 0, startFull: 0, histFull: 0 },
    stale: null,
    targetExited: false,
    sampledAtMs: 0,
  };
}

/** Appends a column, dropping the oldest beyond `max`. Returns a new array. */
export function pushColumn(columns: readonly HeatmapColumn[], column: HeatmapColumn, max = HEATMAP_COLUMNS): HeatmapColumn[] {
  const next = [...columns, column];
  return next.length > max ? next.slice(next.length - max) : next;
}

/** The bucket range [lo, hi] with data in any column (so the heatmap's rows fit the data), or null. */
export function heatmapRowRange(columns: readonly HeatmapColumn[]): { lo: number; hi: number } | null {
  let lo = Infinity;
  let hi = -1;
  for (const c of columns) {
    c.buckets.forEach((n, i) => {
      if (n > 0) {
        if (i < lo) lo = i;
        if (i > hi) hi = i;
      }
    });
  }
  return hi < 0 ? null : { lo, hi };
}

/** Largest count of any cell (for the colour scale). */
export function heatmapMax(columns: readonly HeatmapColumn[]): number {
  let max = 0;
  for (const c of columns) for (const n of c.buckets) if (n > max) max = n;
  return max;
}

/** One histogram row for display. */
export interface HistogramRow {
  bucket: number;
  /** Inclusive bounds in ns. */
  lowNs: number;
  highNs: number;
  /** Bounds formatted in the chosen unit. */
  low: string;
  high: string;
  count: number;
  /** count / largest count, 0..1, for the bar length. */
  fraction: number;
}

/** Rows from the first to the last non-empty bucket (empty ones in between kept, as bcc does). */
export function histogramRows(h: Log2Histogram, unit: TimeUnit): HistogramRow[] {
  let first = -1;
  let last = -1;
  let max = 0;
  h.buckets.forEach((c, i) => {
    if (c > 0) {
      if (first < 0) first = i;
      last = i;
      max = Math.max(max, c);
    }
  });
  const rows: HistogramRow[] = [];
  for (let i = first; first >= 0 && i <= last; i++) {
    const count = h.buckets[i] ?? 0;
    rows.push({
      bucket: i,
      lowNs: bucketLow(i),
      highNs: bucketHigh(i),
      low: formatBound(bucketLow(i), unit),
      high: formatBound(bucketHigh(i), unit),
      count,
      fraction: max > 0 ? count / max : 0,
    });
  }
  return rows;
}

/** A duration (ns) in `unit` with up to 3 significant digits and the unit suffix. */
export function formatIn(ns: number, unit: TimeUnit): string {
  const div = unit === 'ns' ? 1 : unit === 'us' ? 1e3 : 1e6;
  const v = ns / div;
  const text = v >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
  return `${text} ${unit === 'us' ? 'µs' : unit}`;
}

/** Summary over the heatmap's window (its columns merged), rate per second over their span. */
export function windowSummary(columns: readonly HeatmapColumn[]): HistogramSummary {
  let h = emptyHistogram();
  let ms = 0;
  for (const c of columns) {
    h = addHistograms(h, { count: c.buckets.reduce((a, b) => a + b, 0), sum: 0, buckets: c.buckets });
    ms += c.durationMs;
  }
  const s = summarize(h, ms / 1000);
  // the columns carry no sums: the mean is not known from them
  return { ...s, sum: NaN, avg: NaN };
}

export { percentile };

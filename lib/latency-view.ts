/**
 * What the dashboard shows for one latency probe, and the pure helpers to build it: the
 * heatmap (one column per interval, one row per log-linear bucket — or per log2 bucket when
 * the data spans too many — colour = count), histogram rows in a chosen unit, and the
 * percentile summary. Isomorphic, no I/O, clock passed in.
 *
 * Proposed payload for the hub (`latency:frame`), to be wired by whoever owns lib/protocol.ts:
 * LatencyProbeFrame below. All durations are ns.
 */
import {
  addHistograms,
  bucketHigh,
  bucketLow,
  emptyHistogram,
  fineHigh,
  fineLow,
  type FineBuckets,
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
  /** The same counts in log-linear buckets, when the probe counts them so. */
  fine?: FineBuckets;
  /** Bounds of the column's durations (lib/histogram.ts Log2Histogram.min/max), when known. */
  min?: number;
  max?: number;
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
  /**
   * syscall probes: why the newest interval may show nothing, e.g. `0 calls to nanosleep; this
   * process called clock_nanosleep 300 times (…) — try syscall:clock_nanosleep`; else null.
   */
  hint: string | null;
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
    hint: null,
    sampledAtMs: 0,
  };
}

/** Appends a column, dropping the oldest beyond `max`. Returns a new array. */
export function pushColumn(columns: readonly HeatmapColumn[], column: HeatmapColumn, max = HEATMAP_COLUMNS): HeatmapColumn[] {
  const next = [...columns, column];
  return next.length > max ? next.slice(next.length - max) : next;
}

/** Most log-linear rows a heatmap draws; data spanning more is drawn in log2 rows. */
export const MAX_FINE_HEATMAP_ROWS = 96;

/**
 * The heatmap's rows: fine (log-linear) buckets when every column with data has them with the
 * same parts and they span at most MAX_FINE_HEATMAP_ROWS, else log2 buckets. Rows run from the
 * first to the last bucket with data, leaving out parts too narrow to hold an integer ns.
 */
export interface HeatmapRows {
  /** Parts per log2 bucket of the rows, or null for log2 rows. */
  parts: number | null;
  /** Row ids (bucket numbers), ascending: short latencies first. */
  rows: number[];
  /** Inclusive ns bounds of a row. */
  low(row: number): number;
  high(row: number): number;
  /** Count of a column in a row. */
  count(column: HeatmapColumn, row: number): number;
}

export function heatmapRows(columns: readonly HeatmapColumn[]): HeatmapRows | null {
  const withData = columns.filter((c) => c.buckets.some((n) => n > 0));
  if (withData.length === 0) return null;
  const parts = withData[0].fine?.parts;
  if (parts !== undefined && withData.every((c) => c.fine?.parts === parts)) {
    let lo = Infinity;
    let hi = -1;
    for (const c of withData) {
      c.fine!.counts.forEach((n, j) => {
        if (n > 0) {
          lo = Math.min(lo, c.fine!.start + j);
          hi = Math.max(hi, c.fine!.start + j);
        }
      });
    }
    if (hi >= lo && hi - lo + 1 <= MAX_FINE_HEATMAP_ROWS) {
      const rows: number[] = [];
      for (let f = lo; f <= hi; f++) if (fineHigh(f, parts) >= fineLow(f, parts)) rows.push(f);
      return {
        parts,
        rows,
        low: (f) => fineLow(f, parts),
        high: (f) => fineHigh(f, parts),
        count: (c, f) => (c.fine ? (c.fine.counts[f - c.fine.start] ?? 0) : 0),
      };
    }
  }
  const range = heatmapRowRange(columns)!;
  const rows: number[] = [];
  for (let i = range.lo; i <= range.hi; i++) rows.push(i);
  return { parts: null, rows, low: bucketLow, high: bucketHigh, count: (c, i) => c.buckets[i] ?? 0 };
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

/** Largest count of any cell (for the colour scale) with the given rows (default: log2 rows). */
export function heatmapMax(columns: readonly HeatmapColumn[], rows?: HeatmapRows | null): number {
  let max = 0;
  if (rows) {
    for (const c of columns) for (const r of rows.rows) max = Math.max(max, rows.count(c, r));
    return max;
  }
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
    const column: Log2Histogram = { count: c.buckets.reduce((a, b) => a + b, 0), sum: 0, buckets: c.buckets };
    if (c.fine) column.fine = c.fine;
    if (c.min !== undefined) column.min = c.min;
    if (c.max !== undefined) column.max = c.max;
    h = addHistograms(h, column);
    ms += c.durationMs;
  }
  const s = summarize(h, ms / 1000);
  // the columns carry no sums: the mean is not known from them
  return { ...s, sum: NaN, avg: NaN };
}

export { percentile };

/**
 * Latency histograms: bucket math, percentile estimates, summaries, the bcc-style text table
 * and the JSON object form of `probeboard latency`. Pure, isomorphic.
 *
 * Two resolutions of the same counts:
 * - log2 buckets (bcc / bpftrace convention): bucket 0 holds the value 0; bucket i >= 1 holds
 *   [2^(i-1), 2^i - 1] nanoseconds. So a value v > 0 goes to bucket bitLength(v). This is what
 *   the text table and the heatmap rows show.
 * - log-linear ("fine") buckets: each log2 bucket i in 1..FINE_LAST_SLOT split into `parts`
 *   (1..16) equal linear ranges, as the kernel counts them (bpf/latency.h LAT_SUB_MAX):
 *   v goes to part floor((v - 2^(i-1)) × parts / 2^(i-1)). Percentiles are read from these, so
 *   an estimate is within 1/parts of the true value (12.5% for the default 8), not a factor 2.
 * Percentiles are also clamped to [min, max] when those are known, so they never lie outside
 * what happened.
 */

/** Buckets per histogram, as in bpf/latency.h (LAT_SLOTS). Bucket 63 holds [2^62, 2^63 - 1] ns and everything above. */
export const LOG2_SLOTS = 64;

/** Linear parts per log2 bucket: the default, and the accepted range (bpf/latency.h LAT_SUB_MAX). */
export const DEFAULT_SUB_BUCKETS = 8;
export const MIN_SUB_BUCKETS = 1;
export const MAX_SUB_BUCKETS = 16;
/** Highest log2 bucket that is split into parts (bpf/latency.h LAT_SUB_LAST_SLOT). */
export const FINE_LAST_SLOT = 59;

/**
 * Log-linear counts: counts[j] is fine bucket start + j, where fine bucket f = slot × parts + part
 * (see fineLow/fineHigh). Leading and trailing empty buckets are left out.
 */
export interface FineBuckets {
  /** Linear parts per log2 bucket, 1..16. */
  parts: number;
  /** Fine bucket number of counts[0]. */
  start: number;
  counts: number[];
}

/** A histogram of durations in nanoseconds. */
export interface Log2Histogram {
  /** Number of recorded durations. */
  count: number;
  /** Sum of the recorded durations, ns. */
  sum: number;
  /** buckets[i] = how many durations fell in bucket i (see bucketLow/bucketHigh). Trailing zeros may be omitted. */
  buckets: number[];
  /** The same counts at log-linear resolution, when the kernel counted them so. */
  fine?: FineBuckets;
  /**
   * Every duration counted here lies in [min, max] (ns). Exact for totals; for an interval, the
   * tightest bound known (the probe's extremes so far and the interval's outermost buckets).
   * Absent when unknown.
   */
  min?: number;
  max?: number;
}

export type TimeUnit = 'ns' | 'us' | 'ms';
export const TIME_UNITS: readonly TimeUnit[] = ['ns', 'us', 'ms'];
const UNIT_DIV: Record<TimeUnit, number> = { ns: 1, us: 1e3, ms: 1e6 };
const UNIT_LABEL: Record<TimeUnit, string> = { ns: 'nsecs', us: 'usecs', ms: 'msecs' };

/** Index of the bucket holding `ns` (>= 0; fractions are truncated). */
export function bucketIndex(ns: number): number {
  let v = Math.floor(ns);
  if (!(v > 0)) return 0;
  let i = 0;
  // Math.clz32 only covers 32 bits; values here can reach 2^53.
  while (v >= 4294967296) {
    v = Math.floor(v / 4294967296);
    i += 32;
  }
  return Math.min(i + 32 - Math.clz32(v), LOG2_SLOTS - 1);
}

/** Smallest value (ns, inclusive) of bucket i. */
export function bucketLow(i: number): number {
  return i <= 0 ? 0 : 2 ** (i - 1);
}

/** Largest value (ns, inclusive) of bucket i. */
export function bucketHigh(i: number): number {
  return i <= 0 ? 0 : 2 ** i - 1;
}

/** Smallest value (ns, inclusive) of fine bucket f (f = slot × parts + part). */
export function fineLow(f: number, parts: number): number {
  const slot = Math.floor(f / parts);
  const part = f - slot * parts;
  if (slot <= 0) return 0;
  const width = 2 ** (slot - 1);
  if (slot > FINE_LAST_SLOT || parts === 1) return part === 0 ? width : Infinity;
  return width + Math.ceil((part * width) / parts);
}

/** Largest value (ns, inclusive) of fine bucket f; below fineLow when no integer falls in it. */
export function fineHigh(f: number, parts: number): number {
  const slot = Math.floor(f / parts);
  const part = f - slot * parts;
  if (slot <= 0) return part === 0 ? 0 : -1;
  const width = 2 ** (slot - 1);
  if (slot > FINE_LAST_SLOT || parts === 1) return part === 0 ? bucketHigh(slot) : -1;
  return width + Math.ceil(((part + 1) * width) / parts) - 1;
}

/** Fine bucket of a value (the kernel's bucket_of, with the bucket as slot × parts + part). */
export function fineIndex(ns: number, parts: number): number {
  const slot = bucketIndex(ns);
  if (slot === 0 || slot > FINE_LAST_SLOT || parts === 1) return slot * parts;
  const width = 2 ** (slot - 1);
  return slot * parts + Math.floor(((Math.floor(ns) - width) * parts) / width);
}

export function emptyHistogram(): Log2Histogram {
  return { count: 0, sum: 0, buckets: [] };
}

/**
 * Histogram of the given durations (ns), with min and max, and fine buckets when `parts` is
 * given; for tests and user-space aggregation.
 */
export function histogramOf(values: number[], parts?: number): Log2Histogram {
  const h = emptyHistogram();
  const fine = new Map<number, number>();
  for (const v of values) {
    const i = bucketIndex(v);
    while (h.buckets.length <= i) h.buckets.push(0);
    h.buckets[i]++;
    h.count++;
    h.sum += v;
    h.min = h.min === undefined ? v : Math.min(h.min, v);
    h.max = h.max === undefined ? v : Math.max(h.max, v);
    if (parts !== undefined) {
      const f = fineIndex(v, parts);
      fine.set(f, (fine.get(f) ?? 0) + 1);
    }
  }
  if (parts !== undefined) h.fine = fineFromMap(fine, parts);
  return h;
}

/** FineBuckets from sparse (fine bucket -> count) pairs; undefined when there are none. */
export function fineFromMap(counts: ReadonlyMap<number, number>, parts: number): FineBuckets | undefined {
  let lo = Infinity;
  let hi = -1;
  for (const [f, n] of counts) {
    if (n <= 0) continue;
    if (f < lo) lo = f;
    if (f > hi) hi = f;
  }
  if (hi < 0) return { parts, start: 0, counts: [] };
  const out = new Array<number>(hi - lo + 1).fill(0);
  for (const [f, n] of counts) if (n > 0) out[f - lo] += n;
  return { parts, start: lo, counts: out };
}

/** The log2 buckets the fine buckets add up to. */
export function log2OfFine(fine: FineBuckets): number[] {
  const buckets: number[] = [];
  fine.counts.forEach((n, j) => {
    if (n === 0) return;
    const slot = Math.floor((fine.start + j) / fine.parts);
    while (buckets.length <= slot) buckets.push(0);
    buckets[slot] += n;
  });
  return buckets;
}

/** Fine bucket counts combined by `op` (a fine bucket present in neither is 0). Both must have the same parts. */
function combineFine(a: FineBuckets, b: FineBuckets, op: (x: number, y: number) => number): FineBuckets {
  if (a.parts !== b.parts) throw new RangeError(`cannot combine histograms with ${a.parts} and ${b.parts} parts per bucket`);
  const map = new Map<number, number>();
  a.counts.forEach((n, j) => map.set(a.start + j, n));
  b.counts.forEach((n, j) => {
    const f = b.start + j;
    map.set(f, op(map.get(f) ?? 0, n));
  });
  for (const [f, n] of map) if (!(n > 0)) map.delete(f);
  return fineFromMap(map, a.parts) ?? { parts: a.parts, start: 0, counts: [] };
}

/** The outermost values the fine (else log2) buckets of h allow: [low of the first non-empty, high of the last]. */
export function bucketRange(h: Log2Histogram): { low: number; high: number } | null {
  if (h.fine) {
    const first = h.fine.counts.findIndex((n) => n > 0);
    if (first < 0) return null;
    let last = h.fine.counts.length - 1;
    while (last > first && !(h.fine.counts[last] > 0)) last--;
    return { low: fineLow(h.fine.start + first, h.fine.parts), high: fineHigh(h.fine.start + last, h.fine.parts) };
  }
  const first = h.buckets.findIndex((n) => n > 0);
  if (first < 0) return null;
  return { low: bucketLow(first), high: bucketHigh(trimTrailingZeros(h.buckets).length - 1) };
}

/** a + b (new object). Fine buckets survive when both have them with the same parts (or one is empty). */
export function addHistograms(a: Log2Histogram, b: Log2Histogram): Log2Histogram {
  const n = Math.max(a.buckets.length, b.buckets.length);
  const buckets: number[] = [];
  for (let i = 0; i < n; i++) buckets.push((a.buckets[i] ?? 0) + (b.buckets[i] ?? 0));
  const out: Log2Histogram = { count: a.count + b.count, sum: a.sum + b.sum, buckets };
  if (a.count === 0 && b.count === 0) {
    if (a.fine ?? b.fine) out.fine = { parts: (a.fine ?? b.fine)!.parts, start: 0, counts: [] };
    return out;
  }
  const fa = a.count > 0 ? a.fine : b.fine;
  const fb = b.count > 0 ? b.fine : a.fine;
  if (fa && fb && fa.parts === fb.parts) out.fine = combineFine(fa, fb, (x, y) => x + y);
  // bounds: the union of both, known only when each non-empty side knows its own
  const sides = [a, b].filter((h) => h.count > 0);
  if (sides.every((h) => h.min !== undefined)) out.min = Math.min(...sides.map((h) => h.min!));
  if (sides.every((h) => h.max !== undefined)) out.max = Math.max(...sides.map((h) => h.max!));
  return out;
}

/**
 * a - b, clamped at 0 per field (for deltas of cumulative kernel counters: a is the newer).
 * The delta's bounds are the tightest known: a's extremes (since load) narrowed to the
 * delta's outermost non-empty buckets.
 */
export function subtractHistograms(a: Log2Histogram, b: Log2Histogram): Log2Histogram {
  const buckets: number[] = [];
  for (let i = 0; i < a.buckets.length; i++) buckets.push(Math.max(0, a.buckets[i] - (b.buckets[i] ?? 0)));
  const out: Log2Histogram = { count: Math.max(0, a.count - b.count), sum: Math.max(0, a.sum - b.sum), buckets: trimTrailingZeros(buckets) };
  if (a.fine) out.fine = b.fine && b.fine.counts.length > 0 ? combineFine(a.fine, b.fine, (x, y) => Math.max(0, x - y)) : a.fine;
  if (out.count > 0) {
    const range = bucketRange(out);
    if (range) {
      out.min = a.min !== undefined ? Math.max(a.min, range.low) : range.low;
      out.max = a.max !== undefined ? Math.min(a.max, range.high) : range.high;
    }
  }
  return out;
}

function trimTrailingZeros(b: number[]): number[] {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0) n--;
  return n === b.length ? b : b.slice(0, n);
}

/**
 * Estimated q-quantile (0 < q <= 1) in ns, or 0 for an empty histogram.
 *
 * Method: the target rank is r = q × total (total = sum of the buckets). Walk the buckets (the
 * fine ones when present) to the one where the cumulative count reaches r, then interpolate
 * linearly inside that bucket, assuming its values are spread evenly over [low, high]:
 *   estimate = low + (high - low) × (r - countBefore) / bucketCount,
 * and clamp the estimate to [min, max] when known. The true quantile lies in the same bucket,
 * so the error is below the bucket's width: a factor 2 with log2 buckets, 1/parts of the
 * value with fine ones (see relativeErrorBound).
 */
export function percentile(h: Log2Histogram, q: number): number {
  const estimate = h.fine && h.fine.counts.length > 0 ? finePercentile(h.fine, q) : log2Percentile(h, q);
  if (h.count === 0) return estimate;
  let v = estimate;
  if (h.min !== undefined && v < h.min) v = h.min;
  if (h.max !== undefined && v > h.max) v = h.max;
  return v;
}

/** Largest relative error of a percentile of h: 1/parts with fine buckets, else 1 (the log2 factor 2). */
export function relativeErrorBound(h: Log2Histogram): number {
  return h.fine ? 1 / h.fine.parts : 1;
}

function finePercentile(fine: FineBuckets, q: number): number {
  let total = 0;
  for (const c of fine.counts) total += c;
  if (total === 0) return 0;
  const rank = Math.min(Math.max(q, 0), 1) * total;
  let before = 0;
  let last = 0;
  for (let j = 0; j < fine.counts.length; j++) {
    const c = fine.counts[j];
    if (c === 0) continue;
    last = j;
    if (before + c >= rank) {
      const low = fineLow(fine.start + j, fine.parts);
      const high = Math.max(low, fineHigh(fine.start + j, fine.parts));
      const frac = Math.min(Math.max((rank - before) / c, 0), 1);
      return low + (high - low) * frac;
    }
    before += c;
  }
  return fineHigh(fine.start + last, fine.parts);
}

function log2Percentile(h: Log2Histogram, q: number): number {
  let total = 0;
  for (const c of h.buckets) total += c;
  if (total === 0) return 0;
  const rank = Math.min(Math.max(q, 0), 1) * total;
  let before = 0;
  for (let i = 0; i < h.buckets.length; i++) {
    const c = h.buckets[i];
    if (c === 0) continue;
    if (before + c >= rank) {
      const low = bucketLow(i);
      const high = bucketHigh(i);
      const frac = Math.min(Math.max((rank - before) / c, 0), 1);
      return low + (high - low) * frac;
    }
    before += c;
  }
  const last = trimTrailingZeros(h.buckets).length - 1;
  return bucketHigh(last);
}

/** Mean duration in ns (sum / count), 0 when empty. */
export function average(h: Log2Histogram): number {
  return h.count > 0 ? h.sum / h.count : 0;
}

/** Events per second over an interval of `seconds`. */
export function rate(h: Log2Histogram, seconds: number): number {
  return seconds > 0 ? h.count / seconds : 0;
}

/** Derived figures of one histogram over one interval; all durations in ns. */
export interface HistogramSummary {
  count: number;
  sum: number;
  avg: number;
  p50: number;
  p90: number;
  p99: number;
  /** Events per second. */
  rate: number;
}

export function summarize(h: Log2Histogram, seconds: number): HistogramSummary {
  return {
    count: h.count,
    sum: h.sum,
    avg: average(h),
    p50: percentile(h, 0.5),
    p90: percentile(h, 0.9),
    p99: percentile(h, 0.99),
    rate: rate(h, seconds),
  };
}

/** One non-empty bucket with inclusive nanosecond bounds. */
export interface BucketJson {
  low: number;
  high: number;
  count: number;
}

/** The JSON object `probeboard latency --format json` prints per interval (issue 3, exactly this shape). */
export interface LatencyJson {
  probe: string;
  unit: 'ns';
  interval_s: number;
  count: number;
  sum: number;
  p50: number;
  p90: number;
  p99: number;
  /** Shortest and longest duration (bounds as in Log2Histogram.min/max); null when unknown or empty. */
  min: number | null;
  max: number | null;
  /** Largest relative error of p50/p90/p99 (0.125: within 12.5% of the true value; 1: a factor 2). */
  error_bound: number;
  /** The log2 buckets (bcc's resolution). */
  buckets: BucketJson[];
  /** Linear parts per log2 bucket in `sub_buckets`; absent when the histogram has none. */
  sub_buckets_per_bucket?: number;
  /** The non-empty log-linear buckets, ascending, inclusive ns bounds: what the percentiles are read from. */
  sub_buckets?: BucketJson[];
  /** Present (true) only on the last object printed when --duration was given: the totals. */
  final?: true;
}

/** Only the non-empty buckets, ascending, with inclusive ns bounds. */
export function nonEmptyBuckets(h: Log2Histogram): BucketJson[] {
  const out: BucketJson[] = [];
  h.buckets.forEach((count, i) => {
    if (count > 0) out.push({ low: bucketLow(i), high: bucketHigh(i), count });
  });
  return out;
}

/** Only the non-empty fine buckets, ascending, with inclusive ns bounds ([] without fine buckets). */
export function nonEmptyFineBuckets(h: Log2Histogram): BucketJson[] {
  const fine = h.fine;
  if (!fine) return [];
  const out: BucketJson[] = [];
  fine.counts.forEach((count, j) => {
    if (count > 0) out.push({ low: fineLow(fine.start + j, fine.parts), high: fineHigh(fine.start + j, fine.parts), count });
  });
  return out;
}

/**
 * Prometheus classic-histogram buckets of h: cumulative counts at upper bounds `le` in seconds,
 * one per non-empty bucket (fine ones when present), ending with `+Inf` = count. A bucket's
 * `le` is its inclusive ns upper bound + 1 ns, so "value <= le" holds for every value in it.
 */
export function prometheusBuckets(h: Log2Histogram): { le: string; count: number }[] {
  const rows = h.fine ? nonEmptyFineBuckets(h) : nonEmptyBuckets(h);
  const out: { le: string; count: number }[] = [];
  let cumulative = 0;
  for (const b of rows) {
    cumulative += b.count;
    out.push({ le: String((b.high + 1) / 1e9), count: cumulative });
  }
  out.push({ le: '+Inf', count: Math.max(h.count, cumulative) });
  return out;
}

/** The JSON object for one interval (or the final totals). Percentiles are rounded to whole ns. */
export function toLatencyJson(probe: string, h: Log2Histogram, intervalS: number, final = false): LatencyJson {
  const obj: LatencyJson = {
    probe,
    unit: 'ns',
    interval_s: intervalS,
    count: h.count,
    sum: h.sum,
    p50: Math.round(percentile(h, 0.5)),
    p90: Math.round(percentile(h, 0.9)),
    p99: Math.round(percentile(h, 0.99)),
    min: h.count > 0 && h.min !== undefined ? h.min : null,
    max: h.count > 0 && h.max !== undefined ? h.max : null,
    error_bound: relativeErrorBound(h),
    buckets: nonEmptyBuckets(h),
  };
  if (h.fine) {
    obj.sub_buckets_per_bucket = h.fine.parts;
    obj.sub_buckets = nonEmptyFineBuckets(h);
  }
  if (final) obj.final = true;
  return obj;
}

/** A bucket bound (ns) in `unit`: integers where exact, else 4 significant digits. */
export function formatBound(ns: number, unit: TimeUnit): string {
  const v = ns / UNIT_DIV[unit];
  if (Number.isInteger(v)) return String(v);
  if (v >= 1000) return String(Math.round(v));
  return String(Number(v.toPrecision(4)));
}

/** A duration (ns) in a human unit chosen by size, e.g. `1.53ms`. */
export function formatDuration(ns: number): string {
  if (ns < 1e3) return `${Math.round(ns)}ns`;
  if (ns < 1e6) return `${Number((ns / 1e3).toPrecision(3))}us`;
  if (ns < 1e9) return `${Number((ns / 1e6).toPrecision(3))}ms`;
  return `${Number((ns / 1e9).toPrecision(3))}s`;
}

/**
 * bcc-style table (`usecs : count distribution` with 40-character star bars), one row per
 * bucket from the first to the last non-empty one. Bounds are the exact ns bucket bounds
 * shown in `unit`. Returns '' for an empty histogram.
 */
export function formatLog2Table(h: Log2Histogram, unit: TimeUnit = 'us'): string {
  const rows: { low: number; high: number; count: number }[] = [];
  h.buckets.forEach((count, i) => rows.push({ low: bucketLow(i), high: bucketHigh(i), count: count ?? 0 }));
  return formatTable(rows, unit);
}

/**
 * The same table at log-linear resolution: one row per fine bucket that can hold a value, from
 * the first to the last non-empty one. Falls back to the log2 table without fine buckets.
 */
export function formatFineTable(h: Log2Histogram, unit: TimeUnit = 'us'): string {
  const fine = h.fine;
  if (!fine) return formatLog2Table(h, unit);
  const rows: { low: number; high: number; count: number }[] = [];
  fine.counts.forEach((count, j) => {
    const low = fineLow(fine.start + j, fine.parts);
    const high = fineHigh(fine.start + j, fine.parts);
    if (high >= low) rows.push({ low, high, count });
  });
  return formatTable(rows, unit);
}

function formatTable(all: { low: number; high: number; count: number }[], unit: TimeUnit): string {
  const first = all.findIndex((r) => r.count > 0);
  if (first < 0) return '';
  let last = all.length - 1;
  while (!(all[last].count > 0)) last--;
  const max = Math.max(...all.map((r) => r.count));
  const rows = all.slice(first, last + 1).map((r) => ({ lo: formatBound(r.low, unit), hi: formatBound(r.high, unit), c: r.count }));
  const wide = rows.some((r) => r.lo.length > 10 || r.hi.length > 10);
  const w = wide ? 20 : 10;
  const stars = wide ? 20 : 40;
  const countW = Math.max(8, ...rows.map((r) => String(r.c).length));
  const label = UNIT_LABEL[unit];
  // As libbpf-tools' print_log2_hist: the label starts 5 columns in, left-aligned over the bounds.
  const lines = [`${' '.repeat(5)}${label.padEnd(2 * w + 4 - 5)} : ${'count'.padEnd(countW)} distribution`];
  for (const r of rows) {
    const n = max > 0 ? Math.floor((r.c * stars) / max) : 0;
    const bar = '*'.repeat(n) + ' '.repeat(stars - n);
    lines.push(`${r.lo.padStart(w)} -> ${r.hi.padEnd(w)} : ${String(r.c).padEnd(countW)} |${bar}|`);
  }
  return lines.join('\n') + '\n';
}

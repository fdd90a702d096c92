/**
 * Log2 latency histograms: bucket math, percentile estimates, summaries, the bcc-style
 * text table and the JSON object form of `probeboard latency`. Pure, isomorphic.
 *
 * Bucket convention (bcc / bpftrace): bucket 0 holds the value 0; bucket i >= 1 holds
 * [2^(i-1), 2^i - 1] nanoseconds. So a value v > 0 goes to bucket bitLength(v).
 * The kernel side (bpf/latency.bpf.c) uses the same convention and LOG2_SLOTS.
 */

/** Buckets per histogram, as in bpf/latency.h (LAT_SLOTS). Bucket 63 holds [2^62, 2^63 - 1] ns and everything above. */
export const LOG2_SLOTS = 64;

/** A log2 histogram of durations in nanoseconds. */
export interface Log2Histogram {
  /** Number of recorded durations. */
  count: number;
  /** Sum of the recorded durations, ns. */
  sum: number;
  /** buckets[i] = how many durations fell in bucket i (see bucketLow/bucketHigh). Trailing zeros may be omitted. */
  buckets: number[];
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

export function emptyHistogram(): Log2Histogram {
  return { count: 0, sum: 0, buckets: [] };
}

/** Histogram of the given durations (ns); for tests and user-space aggregation. */
export function histogramOf(values: number[]): Log2Histogram {
  const h = emptyHistogram();
  for (const v of values) {
    const i = bucketIndex(v);
    while (h.buckets.length <= i) h.buckets.push(0);
    h.buckets[i]++;
    h.count++;
    h.sum += v;
  }
  return h;
}

/** a + b (new object). */
export function addHistograms(a: Log2Histogram, b: Log2Histogram): Log2Histogram {
  const n = Math.max(a.buckets.length, b.buckets.length);
  const buckets: number[] = [];
  for (let i = 0; i < n; i++) buckets.push((a.buckets[i] ?? 0) + (b.buckets[i] ?? 0));
  return { count: a.count + b.count, sum: a.sum + b.sum, buckets };
}

/** a - b, clamped at 0 per field (for deltas of cumulative kernel counters). */
export function subtractHistograms(a: Log2Histogram, b: Log2Histogram): Log2Histogram {
  const buckets: number[] = [];
  for (let i = 0; i < a.buckets.length; i++) buckets.push(Math.max(0, a.buckets[i] - (b.buckets[i] ?? 0)));
  return { count: Math.max(0, a.count - b.count), sum: Math.max(0, a.sum - b.sum), buckets: trimTrailingZeros(buckets) };
}

function trimTrailingZeros(b: number[]): number[] {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0) n--;
  return n === b.length ? b : b.slice(0, n);
}

/**
 * Estimated q-quantile (0 < q <= 1) in ns, or 0 for an empty histogram.
 *
 * Method: the target rank is r = q × total (total = sum of the buckets). Walk the buckets
 * to the one where the cumulative count reaches r, then interpolate linearly inside
 * that bucket, assuming its values are spread evenly over [low, high]:
 *   estimate = low + (high - low) × (r - countBefore) / bucketCount.
 * The error is therefore bounded by the bucket width (a factor of 2).
 */
export function percentile(h: Log2Histogram, q: number): number {
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
  buckets: BucketJson[];
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
    buckets: nonEmptyBuckets(h),
  };
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
  let first = -1;
  let last = -1;
  let max = 0;
  h.buckets.forEach((c, i) => {
    if (c > 0) {
      if (first < 0) first = i;
      last = i;
      if (c > max) max = c;
    }
  });
  if (first < 0) return '';
  const rows: { lo: string; hi: string; c: number }[] = [];
  for (let i = first; i <= last; i++) {
    rows.push({ lo: formatBound(bucketLow(i), unit), hi: formatBound(bucketHigh(i), unit), c: h.buckets[i] ?? 0 });
  }
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

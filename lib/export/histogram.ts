/**
 * Exports of one log2 latency histogram (lib/histogram.ts): JSON (the object
 * `probeboard latency --format json` prints), CSV and a standalone SVG bar chart.
 * Isomorphic, pure. All bounds are inclusive nanoseconds (bucket i >= 1 holds [2^(i-1), 2^i - 1]).
 */
import { bucketHigh, bucketLow, formatBound, nonEmptyBuckets, nonEmptyFineBuckets, toLatencyJson, type LatencyJson, type Log2Histogram, type TimeUnit } from '../histogram.ts';
import { chartHeader, groupDigits, niceTicks, num, xmlEscape } from './chart.ts';

/** One key's part of a keyed probe's JSON (`by`): the per-interval fields without probe/unit/interval_s. */
export type LatencyKeyJson = { key: string } & Omit<LatencyJson, 'probe' | 'unit' | 'interval_s' | 'final'>;

/** The object `probeboard latency --format json` prints: LatencyJson, plus `by` for keyed probes. */
export type LatencyJsonWithKeys = Omit<LatencyJson, 'final'> & { by?: LatencyKeyJson[]; final?: true };

export interface HistogramJsonOptions {
  /** Per-key histograms of a keyed probe (glob functions, syscalls, disks, pids): printed as `by`, empty ones left out. */
  series?: readonly { label: string; histogram: Log2Histogram }[];
  /** The totals of a run (`"final": true`, printed last). */
  final?: boolean;
}

/**
 * The JSON object of `probeboard latency --format json` for one histogram (lib/histogram.ts
 * toLatencyJson), with `by` (one object per non-empty key) when `series` is given and
 * `"final": true` last when `final`. The CLI prints exactly this.
 */
export function histogramToJson(probe: string, h: Log2Histogram, intervalS: number, options: HistogramJsonOptions = {}): LatencyJsonWithKeys {
  const { final: _final, ...base } = toLatencyJson(probe, h, intervalS);
  const obj: LatencyJsonWithKeys = base;
  if (options.series) {
    obj.by = options.series
      .filter((s) => s.histogram.count > 0)
      .map((s) => {
        const { probe: _p, unit: _u, interval_s: _i, final: _f, ...rest } = toLatencyJson(probe, s.histogram, intervalS);
        return { key: s.label, ...rest };
      });
  }
  if (options.final) obj.final = true;
  return obj;
}

export const HISTOGRAM_CSV_HEADER = 'low_ns,high_ns,count';

/**
 * CSV: the header `low_ns,high_ns,count`, then one row per non-empty bucket, ascending — the
 * log-linear sub-buckets when the histogram has them (the resolution the percentiles come
 * from), else the log2 buckets; lines end in `\n`.
 */
export function histogramToCsv(h: Log2Histogram): string {
  const rows = (h.fine ? nonEmptyFineBuckets(h) : nonEmptyBuckets(h)).map((b) => `${b.low},${b.high},${b.count}`);
  return [HISTOGRAM_CSV_HEADER, ...rows].join('\n') + '\n';
}

export interface HistogramSvgOptions {
  title: string;
  subtitle?: string;
  /** Unit of the bucket labels on the x axis. Default 'us'. */
  unit?: TimeUnit;
  /** Image size in px. Defaults 800 × 420. */
  width?: number;
  height?: number;
}

const UNIT_NAME: Record<TimeUnit, string> = { ns: 'ns', us: 'µs', ms: 'ms' };

/**
 * A standalone SVG bar chart: one slot per log2 bucket from the first to the last non-empty one
 * (x, labelled with the bucket's lower bound in `unit`), bar height = count (y, linear, with
 * ticks). One `<rect class="bar">` per non-empty bucket, each with a <title> `[low, high] ns: count`.
 * No scripts, no external references.
 */
export function histogramToSvg(h: Log2Histogram, options: HistogramSvgOptions): string {
  const width = Math.max(300, options.width ?? 800);
  const height = Math.max(200, options.height ?? 420);
  const unit = options.unit ?? 'us';
  const left = 70;
  const right = 20;
  const top = options.subtitle ? 60 : 45;
  const bottom = 70;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const out = chartHeader(width, height, options.title, options.subtitle);
  const buckets = nonEmptyBuckets(h);
  if (buckets.length === 0) {
    out.push(`<text class="empty" x="${num(width / 2)}" y="${num(top + plotH / 2)}">no samples</text>`, '</svg>');
    return out.join('\n') + '\n';
  }
  let first = Infinity;
  let last = -1;
  let max = 0;
  h.buckets.forEach((c, i) => {
    if (c > 0) {
      first = Math.min(first, i);
      last = Math.max(last, i);
      max = Math.max(max, c);
    }
  });
  const slots = last - first + 1;
  const slotW = plotW / slots;
  const ticks = niceTicks(max);
  const yMax = ticks[ticks.length - 1];
  const yOf = (count: number) => top + plotH - (count / yMax) * plotH;
  const baseY = top + plotH;

  // Grid and y axis.
  out.push('<g class="axis y-axis">');
  for (const t of ticks) {
    const y = num(yOf(t));
    out.push(`<line class="grid" x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}"/>`);
    out.push(`<text x="${left - 6}" y="${num(yOf(t) + 4)}" text-anchor="end">${groupDigits(t)}</text>`);
  }
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${baseY}"/>`);
  out.push('</g>');

  // Bars.
  for (let i = first; i <= last; i++) {
    const count = h.buckets[i] ?? 0;
    if (count <= 0) continue;
    const x = left + (i - first) * slotW + slotW * 0.08;
    const y = yOf(count);
    out.push(
      `<rect class="bar" x="${num(x)}" y="${num(y)}" width="${num(slotW * 0.84)}" height="${num(baseY - y)}" fill="rgb(70,130,180)">` +
        `<title>[${bucketLow(i)}, ${bucketHigh(i)}] ns: ${count}</title></rect>`,
    );
  }

  // X axis: the lower bound of each slot (every k-th when crowded), rotated.
  const every = Math.max(1, Math.ceil(slots / Math.max(1, Math.floor(plotW / 28))));
  out.push('<g class="axis x-axis">');
  out.push(`<line x1="${left}" y1="${baseY}" x2="${left + plotW}" y2="${baseY}"/>`);
  for (let i = first; i <= last; i += every) {
    const x = left + (i - first) * slotW;
    out.push(`<line x1="${num(x)}" y1="${baseY}" x2="${num(x)}" y2="${baseY + 4}"/>`);
    out.push(`<text x="${num(x)}" y="${baseY + 14}" text-anchor="end" transform="rotate(-35 ${num(x)} ${baseY + 14})">${xmlEscape(formatBound(bucketLow(i), unit))}</text>`);
  }
  out.push('</g>');
  out.push(`<text class="axis-title" x="${num(left + plotW / 2)}" y="${height - 8}">latency, ${UNIT_NAME[unit]} (log2 buckets, lower bound)</text>`);
  out.push(`<text class="axis-title" x="16" y="${num(top + plotH / 2)}" transform="rotate(-90 16 ${num(top + plotH / 2)})">count</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

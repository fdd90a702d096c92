/**
 * Exports of a latency heatmap: the columns a probe frame carries (lib/latency-view.ts
 * HeatmapColumn: one column per interval, log2 and log-linear bucket counts) as JSON, CSV and a
 * standalone SVG. Rows are the heatmap's (lib/latency-view.ts heatmapRows: sub-buckets unless
 * the data spans too many). Isomorphic, pure. Bounds are inclusive nanoseconds; times are the column's end,
 * ms since the epoch.
 */
import { formatBound, nonEmptyBuckets, nonEmptyFineBuckets, type BucketJson, type Log2Histogram, type TimeUnit } from '../histogram.ts';
import { heatmapMax, heatmapRows, type HeatmapColumn } from '../latency-view.ts';
import { chartHeader, countColor, groupDigits, num, xmlEscape } from './chart.ts';

/** One column in the JSON export. */
export interface HeatmapColumnJson {
  /** End of the interval, ms since the epoch. */
  end_ms: number;
  /** Interval length, ms. */
  duration_ms: number;
  /** Durations in the column. */
  count: number;
  /** Non-empty log2 buckets, ascending, inclusive ns bounds. */
  buckets: BucketJson[];
  /** Non-empty log-linear sub-buckets, when the probe counts them. */
  sub_buckets?: BucketJson[];
}

/** The heatmap as one JSON object; snake_case like `probeboard latency --format json`. */
export interface HeatmapJson {
  probe: string;
  unit: 'ns';
  /** Oldest first. */
  columns: HeatmapColumnJson[];
}

export function heatmapToJson(probe: string, columns: readonly HeatmapColumn[]): HeatmapJson {
  return {
    probe,
    unit: 'ns',
    columns: columns.map((c) => {
      const h: Log2Histogram = { count: 0, sum: 0, buckets: c.buckets };
      if (c.fine) h.fine = c.fine;
      const buckets = nonEmptyBuckets(h);
      const column: HeatmapColumnJson = { end_ms: c.endMs, duration_ms: c.durationMs, count: buckets.reduce((n, b) => n + b.count, 0), buckets };
      if (c.fine) column.sub_buckets = nonEmptyFineBuckets(h);
      return column;
    }),
  };
}

export const HEATMAP_CSV_HEADER = 'time_ms,low_ns,high_ns,count';

/**
 * CSV: the header `time_ms,low_ns,high_ns,count`, then one row per non-empty cell (time_ms =
 * the column's end, ms since the epoch), columns oldest first, rows ascending; `\n` endings.
 */
export function heatmapToCsv(columns: readonly HeatmapColumn[]): string {
  const out: string[] = [HEATMAP_CSV_HEADER];
  const rows = heatmapRows(columns);
  for (const c of columns) {
    for (const r of rows?.rows ?? []) {
      const count = rows!.count(c, r);
      if (count > 0) out.push(`${c.endMs},${rows!.low(r)},${rows!.high(r)},${count}`);
    }
  }
  return out.join('\n') + '\n';
}

export interface HeatmapSvgOptions {
  title: string;
  subtitle?: string;
  /** Unit of the bucket labels on the y axis. Default 'us'. */
  unit?: TimeUnit;
  /** Image width in px. Default 900. */
  width?: number;
}

/** `HH:MM:SS` in UTC. */
function clockUtc(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

const UNIT_NAME: Record<TimeUnit, string> = { ns: 'ns', us: 'µs', ms: 'ms' };

/**
 * A standalone SVG heatmap: time on x (one equal-width column per interval, oldest left,
 * labelled with UTC clock times), log2 buckets on y (short latencies at the bottom, rows from
 * the first to the last bucket with data, labelled with the lower bound in `unit`), colour =
 * count on a log scale (dark = 1, light yellow = the largest cell) with a legend. One
 * `<rect class="cell">` per non-empty cell, each with a <title>. No scripts.
 */
export function heatmapToSvg(columns: readonly HeatmapColumn[], options: HeatmapSvgOptions): string {
  const width = Math.max(300, options.width ?? 900);
  const unit = options.unit ?? 'us';
  const scheme = heatmapRows(columns);
  const rows = scheme ? scheme.rows.length : 0;
  const rowH = rows > 0 ? Math.max(6, Math.min(22, 320 / rows)) : 20;
  const left = 80;
  const right = 110; // legend
  const top = options.subtitle ? 60 : 45;
  const bottom = 60;
  const plotW = width - left - right;
  const plotH = Math.max(rowH, rows * rowH);
  const height = top + plotH + bottom;
  const out = chartHeader(width, height, options.title, options.subtitle);
  if (!scheme || columns.length === 0) {
    out.push(`<text class="empty" x="${num(width / 2)}" y="${num(top + plotH / 2 + 4)}">no samples</text>`, '</svg>');
    return out.join('\n') + '\n';
  }
  const max = heatmapMax(columns, scheme);
  const colW = plotW / columns.length;
  const baseY = top + plotH;
  const rowY = (index: number) => baseY - (index + 1) * rowH;

  out.push(`<rect x="${left}" y="${top}" width="${num(plotW)}" height="${num(plotH)}" fill="#f4f4f4"/>`);
  columns.forEach((c, x) => {
    const time = clockUtc(c.endMs);
    scheme.rows.forEach((r, index) => {
      const count = scheme.count(c, r);
      if (count <= 0) return;
      out.push(
        `<rect class="cell" x="${num(left + x * colW)}" y="${num(rowY(index))}" width="${num(colW)}" height="${num(rowH)}" fill="${countColor(count, max)}">` +
          `<title>${time} UTC, [${scheme.low(r)}, ${scheme.high(r)}] ns: ${count}</title></rect>`,
      );
    });
  });

  // Y axis: bucket lower bounds (every k-th row when rows are thin).
  const everyRow = Math.max(1, Math.ceil(12 / rowH));
  out.push('<g class="axis y-axis">');
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${baseY}"/>`);
  for (let index = 0; index < scheme.rows.length; index += everyRow) {
    const y = rowY(index) + rowH;
    out.push(`<line x1="${left - 4}" y1="${num(y)}" x2="${left}" y2="${num(y)}"/>`);
    out.push(`<text x="${left - 6}" y="${num(y)}" text-anchor="end">${xmlEscape(formatBound(scheme.low(scheme.rows[index]), unit))}</text>`);
  }
  out.push('</g>');

  // X axis: the clock time at the end of some columns (about one label per 90 px).
  const everyCol = Math.max(1, Math.ceil(columns.length / Math.max(1, Math.floor(plotW / 90))));
  out.push('<g class="axis x-axis">');
  out.push(`<line x1="${left}" y1="${baseY}" x2="${left + plotW}" y2="${baseY}"/>`);
  for (let x = columns.length - 1; x >= 0; x -= everyCol) {
    const px = left + (x + 1) * colW;
    out.push(`<line x1="${num(px)}" y1="${baseY}" x2="${num(px)}" y2="${baseY + 4}"/>`);
    out.push(`<text x="${num(px)}" y="${baseY + 16}" text-anchor="middle">${clockUtc(columns[x].endMs)}</text>`);
  }
  out.push('</g>');
  out.push(`<text class="axis-title" x="${num(left + plotW / 2)}" y="${height - 10}">time (UTC, end of each interval)</text>`);
  const midY = num(top + plotH / 2);
  out.push(`<text class="axis-title" x="16" y="${midY}" transform="rotate(-90 16 ${midY})">latency, ${UNIT_NAME[unit]} (${scheme.parts ? `log2 buckets in ${scheme.parts} sub-buckets` : 'log2 buckets'})</text>`);

  // Legend: a few swatches from 1 to max on the same log scale.
  const lx = width - right + 20;
  out.push('<g class="legend">');
  out.push(`<text x="${lx}" y="${top + 10}">count</text>`);
  const steps = max > 1 ? 5 : 1;
  for (let s = 0; s < steps; s++) {
    const value = steps === 1 ? max : Math.round(Math.exp((Math.log(max) * (steps - 1 - s)) / (steps - 1)));
    const y = top + 18 + s * 20;
    out.push(`<rect x="${lx}" y="${y}" width="16" height="16" fill="${countColor(value, max)}"/>`);
    out.push(`<text x="${lx + 22}" y="${y + 12}">${groupDigits(value)}</text>`);
  }
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n') + '\n';
}

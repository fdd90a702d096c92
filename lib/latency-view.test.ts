import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pushColumn, heatmapRowRange, heatmapRows, heatmapMax, histogramRows, formatIn, windowSummary, MAX_FINE_HEATMAP_ROWS, type HeatmapColumn } from './latency-view.ts';
import { histogramOf } from './histogram.ts';

function col(endMs: number, buckets: number[]): HeatmapColumn {
  return { endMs, durationMs: 1000, buckets };
}

test('heatmap columns scroll and the row range fits the data', () => {
  let cols: HeatmapColumn[] = [];
  for (let i = 0; i < 5; i++) cols = pushColumn(cols, col(i * 1000, i === 2 ? [0, 0, 0, 4, 0, 9] : [0, 0, 0, 0, 1]), 3);
  assert.deepEqual(
    cols.map((c) => c.endMs),
    [2000, 3000, 4000],
  );
  assert.deepEqual(heatmapRowRange(cols), { lo: 3, hi: 5 });
  assert.equal(heatmapMax(cols), 9);
  assert.equal(heatmapRowRange([]), null);
});

test('histogram rows in a unit, empty buckets in between kept', () => {
  const rows = histogramRows(histogramOf([1500, 1500, 5000]), 'us');
  assert.deepEqual(
    rows.map((r) => [r.bucket, r.low, r.high, r.count, r.fraction]),
    [
      [11, '1.024', '2.047', 2, 1],
      [12, '2.048', '4.095', 0, 0],
      [13, '4.096', '8.191', 1, 0.5],
    ],
  );
  assert.deepEqual(histogramRows(histogramOf([]), 'ns'), []);
});

test('formatIn and window summary', () => {
  assert.equal(formatIn(1536, 'us'), '1.54 µs');
  assert.equal(formatIn(2_500_000, 'ms'), '2.5 ms');
  assert.equal(formatIn(123456, 'ns'), '123456 ns');
  const s = windowSummary([col(0, [0, 0, 2]), col(1000, [0, 0, 0, 2])]);
  assert.equal(s.count, 4);
  assert.equal(s.rate, 2);
  assert.ok(s.p50 >= 2 && s.p50 <= 3, `p50 within [2, 3] (${s.p50})`);
});

/** A heatmap column of these durations, counted as the kernel counts them (8 sub-buckets). */
function fineColumn(endMs: number, values: number[]): HeatmapColumn {
  const h = histogramOf(values, 8);
  return { endMs, durationMs: 1000, buckets: h.buckets, fine: h.fine, min: h.min, max: h.max };
}

test('heatmap rows: sub-buckets while the data spans few, log2 rows beyond MAX_FINE_HEATMAP_ROWS', () => {
  const cols = [fineColumn(1000, [2_000_000, 2_050_000]), fineColumn(2000, []), fineColumn(3000, [7_000_000])];
  const rows = heatmapRows(cols)!;
  assert.equal(rows.parts, 8);
  // 2.0 ms is in [1966080, 2097151] (sub-bucket 7 of 2^20..2^21), 7 ms in [6815744, 7340031] (5 of 2^22..2^23)
  assert.deepEqual([rows.low(rows.rows[0]), rows.high(rows.rows.at(-1)!)], [1_966_080, 7_340_031]);
  assert.equal(rows.rows.length, 1 + 8 + 6, `rows ${rows.rows.length}`);
  const counts = cols.map((c) => rows.rows.reduce((n, r) => n + rows.count(c, r), 0));
  assert.deepEqual(counts, [2, 0, 1], 'every duration in exactly one row');
  assert.equal(heatmapMax(cols, rows), 2);
  // window percentiles use the sub-buckets and the columns' bounds
  const summary = windowSummary(cols);
  assert.ok(summary.p50 >= 2_000_000 && summary.p50 <= 2_050_000, `window p50 ${summary.p50}`);
  // 1 µs to 1 s spans 20 powers of two: 160 sub-bucket rows, too many to draw; log2 rows instead
  const wide = heatmapRows([fineColumn(1000, [1000, 1_000_000_000])])!;
  assert.equal(wide.parts, null);
  assert.ok(wide.rows.length <= MAX_FINE_HEATMAP_ROWS, `rows ${wide.rows.length}`);
  // columns without sub-buckets (old recordings) keep log2 rows
  assert.equal(heatmapRows([col(1000, [0, 3])])!.parts, null);
  assert.equal(heatmapRows([col(1000, [])]), null);
});

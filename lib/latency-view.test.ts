import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pushColumn, heatmapRowRange, heatmapMax, histogramRows, formatIn, windowSummary, type HeatmapColumn } from './latency-view.ts';
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
  assert.ok(s.p50 >= 2 && s.p50 <= 3, 's.p50 >= 2 && s.p50 <= 3');
});

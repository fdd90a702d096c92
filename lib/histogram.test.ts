import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bucketIndex,
  bucketLow,
  bucketHigh,
  histogramOf,
  percentile,
  average,
  rate,
  addHistograms,
  subtractHistograms,
  toLatencyJson,
  formatLog2Table,
  formatBound,
  LOG2_SLOTS,
} from './histogram.ts';

test('bucket math follows the bcc convention', () => {
  assert.equal(bucketIndex(0), 0);
  assert.equal(bucketIndex(1), 1);
  assert.equal(bucketIndex(2), 2);
  assert.equal(bucketIndex(3), 2);
  assert.equal(bucketIndex(4), 3);
  assert.equal(bucketIndex(1023), 10);
  assert.equal(bucketIndex(1024), 11);
  assert.equal(bucketIndex(2 ** 40), 41);
  assert.equal(bucketIndex(2 ** 40 - 1), 40);
  assert.equal(bucketIndex(2 ** 53), 54);
  assert.equal(bucketIndex(2 ** 70), LOG2_SLOTS - 1);
  for (let i = 0; i <= 53; i++) {
    assert.equal(bucketIndex(bucketLow(i)), i, `low of ${i}`);
    assert.equal(bucketIndex(bucketHigh(i)), i, `high of ${i}`);
    if (i > 0) assert.equal(bucketLow(i), bucketHigh(i - 1) + 1);
  }
  assert.deepEqual([bucketLow(0), bucketHigh(0), bucketLow(1), bucketHigh(1), bucketLow(11), bucketHigh(11)], [0, 0, 1, 1, 1024, 2047]);
});

test('percentiles interpolate within the bucket', () => {
  const h = histogramOf(Array(100).fill(1500)); // all in [1024, 2047]
  assert.equal(percentile(h, 0.5), 1024 + 1023 * 0.5);
  assert.equal(percentile(h, 1), 2047);
  const h2 = histogramOf([...Array(90).fill(100), ...Array(10).fill(5000)]); // 90 in [64,127], 10 in [4096,8191]
  assert.equal(percentile(h2, 0.5), 64 + 63 * (50 / 90));
  assert.equal(percentile(h2, 0.9), 127);
  assert.equal(percentile(h2, 0.99), 4096 + 4095 * 0.9);
  assert.equal(percentile(histogramOf([]), 0.5), 0);
  assert.equal(percentile(histogramOf([0, 0]), 0.99), 0);
  // estimates stay within a factor of 2 of the truth
  const vals = Array.from({ length: 1000 }, (_, i) => 1000 + i * 37);
  const hv = histogramOf(vals);
  for (const q of [0.5, 0.9, 0.99]) {
    const truth = vals[Math.ceil(q * vals.length) - 1];
    const est = percentile(hv, q);
    assert.ok(est >= truth / 2 && est <= truth * 2, `q=${q} est=${est} truth=${truth}`);
  }
});

test('average, rate, add, subtract', () => {
  const a = histogramOf([10, 20, 30]);
  assert.equal(average(a), 20);
  assert.equal(rate(a, 2), 1.5);
  assert.equal(average(histogramOf([])), 0);
  const b = histogramOf([1000]);
  const s = addHistograms(a, b);
  assert.equal(s.count, 4);
  assert.equal(s.sum, 1060);
  assert.deepEqual(subtractHistograms(s, a), b);
});

test('JSON object has exactly the issue shape', () => {
  const h = histogramOf([0, 5, 6, 1500]);
  const j = toLatencyJson('uprobe:c:malloc', h, 1);
  assert.deepEqual(Object.keys(j), ['probe', 'unit', 'interval_s', 'count', 'sum', 'p50', 'p90', 'p99', 'buckets']);
  assert.deepEqual(j.buckets, [
    { low: 0, high: 0, count: 1 },
    { low: 4, high: 7, count: 2 },
    { low: 1024, high: 2047, count: 1 },
  ]);
  assert.equal(j.count, 4);
  assert.equal(j.sum, 1511);
  assert.equal(j.unit, 'ns');
  assert.ok(Number.isInteger(j.p50) && Number.isInteger(j.p99), 'Number.isInteger(j.p50) && Number.isInteger(j.p99)');
  assert.equal(toLatencyJson('x', h, 5, true).final, true);
});

test('bcc-style text table', () => {
  const h = histogramOf([...Array(4).fill(1500), ...Array(8).fill(3000), 9000]);
  const t = formatLog2Table(h, 'ns');
  assert.equal(
    t,
    [
      '     nsecs               : count    distribution',
      '      1024 -> 2047       : 4        |********************                    |',
      '      2048 -> 4095       : 8        |****************************************|',
      '      4096 -> 8191       : 0        |                                        |',
      '      8192 -> 16383      : 1        |*****                                   |',
      '',
    ].join('\n'),
  );
  const us = formatLog2Table(histogramOf([2 ** 20]), 'us');
  assert.match(us, /usecs/);
  assert.match(us, /1049 -> 2097/);
  assert.equal(formatBound(1024, 'us'), '1.024');
  assert.equal(formatBound(2 ** 20, 'ms'), '1.049');
  assert.equal(formatLog2Table(histogramOf([])), '');
});

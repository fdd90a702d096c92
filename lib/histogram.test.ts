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
  formatFineTable,
  fineIndex,
  fineLow,
  fineHigh,
  log2OfFine,
  prometheusBuckets,
  relativeErrorBound,
  LOG2_SLOTS,
  FINE_LAST_SLOT,
  type Log2Histogram,
} from './histogram.ts';
import { seededRandom } from './random.ts';

/** h without its min/max (as a histogram of unknown extremes). */
function unbounded(h: Log2Histogram): Log2Histogram {
  const { min: _min, max: _max, ...rest } = h;
  return rest;
}

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
  const h = unbounded(histogramOf(Array(100).fill(1500))); // all in [1024, 2047]
  assert.equal(percentile(h, 0.5), 1024 + 1023 * 0.5);
  assert.equal(percentile(h, 1), 2047);
  // with the extremes known, the estimate is clamped to what happened
  assert.equal(percentile(histogramOf(Array(100).fill(1500)), 0.5), 1500);
  const h2 = unbounded(histogramOf([...Array(90).fill(100), ...Array(10).fill(5000)])); // 90 in [64,127], 10 in [4096,8191]
  assert.equal(percentile(h2, 0.5), 64 + 63 * (50 / 90));
  assert.equal(percentile(h2, 0.9), 127);
  assert.equal(percentile(h2, 0.99), 4096 + 4095 * 0.9);
  assert.equal(percentile(histogramOf([]), 0.5), 0);
  assert.equal(percentile(histogramOf([0, 0]), 0.99), 0);
  // estimates stay within a factor of 2 of the truth
  const vals = Array.from({ length: 1000 }, (_, i) => 1000 + i * 37);
  const hv = unbounded(histogramOf(vals));
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
  assert.deepEqual([s.min, s.max], [10, 1000]);
  const d = subtractHistograms(s, a);
  assert.deepEqual({ count: d.count, sum: d.sum, buckets: d.buckets }, { count: b.count, sum: b.sum, buckets: b.buckets });
  // the delta's bounds: s's max, and the low end of the only bucket left (its own min is not known)
  assert.deepEqual([d.min, d.max], [512, 1000]);
});

test('fine buckets: bounds, index and the kernel formula agree', () => {
  for (const parts of [1, 3, 8, 16]) {
    // every value up to 2^12 lands in the bucket whose bounds hold it; buckets tile without gaps
    let expectedLow = 0;
    for (let f = 0; f < 13 * parts; f++) {
      const low = fineLow(f, parts);
      const high = fineHigh(f, parts);
      if (high < low) continue; // a part narrower than 1 ns holds no integer
      assert.equal(low, expectedLow, `parts ${parts} bucket ${f}: low ${low}, previous high + 1 = ${expectedLow}`);
      for (const v of [low, high, Math.floor((low + high) / 2)]) assert.equal(fineIndex(v, parts), f, `parts ${parts} value ${v}: index ${fineIndex(v, parts)} != ${f}`);
      expectedLow = high + 1;
    }
    // the kernel's integer formula for a few large values
    for (const v of [2_000_000, 2_200_000, 7_000_000, 300_000, 2 ** 40 + 12345]) {
      const slot = bucketIndex(v);
      const sub = Number(((BigInt(v) - (1n << BigInt(slot - 1))) * BigInt(parts)) >> BigInt(slot - 1));
      assert.equal(fineIndex(v, parts), slot * parts + sub, `parts ${parts} value ${v}`);
      const f = fineIndex(v, parts);
      assert.ok(fineLow(f, parts) <= v && v <= fineHigh(f, parts), `${v} outside [${fineLow(f, parts)}, ${fineHigh(f, parts)}]`);
    }
  }
  // above FINE_LAST_SLOT one part covers the whole log2 bucket
  const huge = 2 ** (FINE_LAST_SLOT + 1);
  assert.equal(fineIndex(huge, 8), (FINE_LAST_SLOT + 2) * 8);
  assert.deepEqual([fineLow((FINE_LAST_SLOT + 2) * 8, 8), fineHigh((FINE_LAST_SLOT + 2) * 8, 8)], [bucketLow(FINE_LAST_SLOT + 2), bucketHigh(FINE_LAST_SLOT + 2)]);
});

test('fine percentiles are within 1/parts of the truth and inside [min, max]', () => {
  const rng = seededRandom(13);
  for (const parts of [1, 2, 8, 16]) {
    for (let round = 0; round < 20; round++) {
      const base = 1000 + Math.floor(rng() * 5e6);
      const vals = Array.from({ length: 1 + Math.floor(rng() * 400) }, () => Math.floor(base * (0.5 + rng() * (round % 2 ? 3 : 0.1))));
      vals.sort((x, y) => x - y);
      const h = histogramOf(vals, parts);
      assert.deepEqual(log2OfFine(h.fine!), h.buckets, 'the fine counts add up to the log2 counts');
      assert.equal(relativeErrorBound(h), 1 / parts);
      for (const q of [0.5, 0.9, 0.99, 1]) {
        const truth = vals[Math.max(0, Math.ceil(q * vals.length) - 1)];
        const est = percentile(h, q);
        assert.ok(Math.abs(est - truth) <= truth / parts, `parts ${parts} q ${q}: estimate ${est}, truth ${truth}, bound ${truth / parts}`);
        assert.ok(est >= vals[0] && est <= vals[vals.length - 1], `parts ${parts} q ${q}: ${est} outside [${vals[0]}, ${vals[vals.length - 1]}]`);
      }
    }
  }
  // the issue's case: calls of 2.0 to 2.09 ms, all in log2's [1.05, 2.10] ms bucket, where
  // interpolation alone puts p50 below the fastest call
  const calls = Array.from({ length: 200 }, (_, i) => 2_000_000 + i * 450);
  const log2Only = unbounded(histogramOf(calls));
  assert.ok(percentile(log2Only, 0.5) < 2_000_000, `log2 p50 ${percentile(log2Only, 0.5)}`);
  const h = histogramOf(calls, 8);
  for (const q of [0.5, 0.9, 0.99]) {
    const p = percentile(h, q);
    assert.ok(p >= 2_000_000 && p <= 2_089_550, `p${q * 100} = ${p} outside the calls' [2.0, 2.08955] ms`);
  }
});

test('fine buckets survive add and subtract (kernel deltas)', () => {
  const a = histogramOf([300_000, 310_000, 2_000_000], 8);
  const b = histogramOf([7_000_000, 2_000_000], 8);
  const sum = addHistograms(a, b);
  assert.deepEqual(sum.fine, histogramOf([300_000, 310_000, 2_000_000, 7_000_000, 2_000_000], 8).fine);
  assert.deepEqual([sum.min, sum.max], [300_000, 7_000_000]);
  const delta = subtractHistograms(sum, a);
  assert.deepEqual(delta.fine, b.fine);
  assert.equal(delta.count, 2);
  assert.ok(delta.min! >= 1_966_080 && delta.min! <= 2_000_000, `delta min ${delta.min}: at least the low end of 2.0 ms's bucket`);
  assert.equal(delta.max, 7_000_000);
  // different resolutions (never within one probe) keep only what both share: log2 counts
  const mixed = addHistograms(a, histogramOf([5], 4));
  assert.deepEqual([mixed.fine, mixed.count, mixed.buckets[3]], [undefined, 4, 1]);
});

test('Prometheus le bounds follow the fine buckets', () => {
  const h = histogramOf([300_000, 2_000_000, 2_000_000, 7_000_000], 8);
  const le = prometheusBuckets(h);
  assert.equal(le.length, 4, JSON.stringify(le));
  assert.deepEqual(le.map((r) => r.count), [1, 3, 4, 4]);
  assert.equal(le[3].le, '+Inf');
  // each le is above its values and at most 1/8 above the lowest value of its bucket
  for (const [i, v] of [[0, 300_000], [1, 2_000_000], [2, 7_000_000]] as const) {
    const leNs = Number(le[i].le) * 1e9;
    assert.ok(leNs > v && leNs <= v * 1.125 + 1, `le ${le[i].le} s for a value of ${v} ns`);
  }
  assert.equal(prometheusBuckets(histogramOf([1500])).length, 2, 'log2-only histograms give their log2 bounds');
});

test('JSON object has exactly the issue shape', () => {
  const h = histogramOf([0, 5, 6, 1500], 8);
  const j = toLatencyJson('uprobe:c:malloc', h, 1);
  assert.deepEqual(Object.keys(j), ['probe', 'unit', 'interval_s', 'count', 'sum', 'p50', 'p90', 'p99', 'min', 'max', 'error_bound', 'buckets', 'sub_buckets_per_bucket', 'sub_buckets']);
  assert.deepEqual([j.min, j.max, j.error_bound, j.sub_buckets_per_bucket], [0, 1500, 0.125, 8]);
  assert.deepEqual(j.sub_buckets, [
    { low: 0, high: 0, count: 1 },
    { low: 5, high: 5, count: 1 },
    { low: 6, high: 6, count: 1 },
    { low: 1408, high: 1535, count: 1 },
  ]);
  const log2 = toLatencyJson('x', histogramOf([5]), 1);
  assert.deepEqual([log2.error_bound, 'sub_buckets' in log2], [1, false]);
  assert.deepEqual(j.buckets, [
    { low: 0, high: 0, count: 1 },
    { low: 4, high: 7, count: 2 },
    { low: 1024, high: 2047, count: 1 },
  ]);
  assert.equal(j.count, 4);
  assert.equal(j.sum, 1511);
  assert.equal(j.unit, 'ns');
  assert.ok(Number.isInteger(j.p50) && Number.isInteger(j.p99), `percentiles are whole ns (p50 ${j.p50}, p99 ${j.p99})`);
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
  // the log-linear table: 8 rows per power of two, bounds tiling the range
  const fine = formatFineTable(histogramOf([1100, 1500, 2047], 8), 'ns');
  assert.equal(
    fine,
    [
      '     nsecs               : count    distribution',
      '      1024 -> 1151       : 1        |****************************************|',
      '      1152 -> 1279       : 0        |                                        |',
      '      1280 -> 1407       : 0        |                                        |',
      '      1408 -> 1535       : 1        |****************************************|',
      '      1536 -> 1663       : 0        |                                        |',
      '      1664 -> 1791       : 0        |                                        |',
      '      1792 -> 1919       : 0        |                                        |',
      '      1920 -> 2047       : 1        |****************************************|',
      '',
    ].join('\n'),
  );
});

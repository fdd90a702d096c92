import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogramOf, nonEmptyBuckets, type Log2Histogram } from '../histogram.ts';
import { checkXml } from '../flame/xml-check.ts';
import { HISTOGRAM_CSV_HEADER, histogramToCsv, histogramToJson, histogramToSvg } from './histogram.ts';
import { niceTicks, countColor, rampColor } from './chart.ts';
import { assertIncludes } from '../../test/assert-text.ts';

const h: Log2Histogram = histogramOf([0, 1, 3, 3, 900, 1000, 1023, 5_000_000, 5_000_001]);

/** Parses CSV written by the exporters (numbers only, no quoting). */
function parseCsv(text: string): { header: string; rows: number[][] } {
  assert.ok(text.endsWith('\n'), 'text.endsWith(\'\\n\')');
  const [header, ...lines] = text.slice(0, -1).split('\n');
  return { header, rows: lines.map((line) => line.split(',').map(Number)) };
}

test('CSV parses back to the non-empty buckets', () => {
  const { header, rows } = parseCsv(histogramToCsv(h));
  assert.equal(header, HISTOGRAM_CSV_HEADER);
  assert.deepEqual(
    rows.map(([low, high, count]) => ({ low, high, count })),
    nonEmptyBuckets(h),
  );
  assert.deepEqual(rows[0], [0, 0, 1]);
  assert.deepEqual(rows[2], [2, 3, 2]);
  assert.equal(rows.reduce((n, r) => n + r[2], 0), h.count);
  assert.equal(histogramToCsv({ count: 0, sum: 0, buckets: [] }), 'low_ns,high_ns,count\n');
});

test('JSON is the object `probeboard latency --format json` prints, keys in order', () => {
  const small = histogramOf([3, 5, 6]);
  assert.equal(
    JSON.stringify(histogramToJson('syscall:read', small, 1)),
    // p90 and p99 interpolate to 6.55 and 6.96 in [4, 7] and are clamped to the longest call, 6
    '{"probe":"syscall:read","unit":"ns","interval_s":1,"count":3,"sum":14,"p50":5,"p90":6,"p99":6,"min":3,"max":6,"error_bound":1,"buckets":[{"low":2,"high":3,"count":1},{"low":4,"high":7,"count":2}]}',
  );
  const keyed = histogramToJson('syscall:*', small, 2.5, {
    series: [
      { label: 'read', histogram: histogramOf([3]) },
      { label: 'idle', histogram: histogramOf([]) },
      { label: 'write', histogram: histogramOf([5, 6]) },
    ],
    final: true,
  });
  assert.deepEqual(Object.keys(keyed), ['probe', 'unit', 'interval_s', 'count', 'sum', 'p50', 'p90', 'p99', 'min', 'max', 'error_bound', 'buckets', 'by', 'final']);
  assert.deepEqual(
    keyed.by!.map((k) => k.key),
    ['read', 'write'],
    'empty keys left out',
  );
  assert.deepEqual(Object.keys(keyed.by![0]), ['key', 'count', 'sum', 'p50', 'p90', 'p99', 'min', 'max', 'error_bound', 'buckets']);
  assert.equal(keyed.final, true);
  assert.equal('final' in histogramToJson('x', small, 1), false);
});

test('SVG bar chart: well formed, one bar per non-empty bucket, labelled axes', () => {
  const svg = histogramToSvg(h, { title: 'malloc <latency>', subtitle: 'pid 42', unit: 'us' });
  assert.equal(checkXml(svg), null);
  assert.equal(svg.match(/<rect class="bar"/g)!.length, nonEmptyBuckets(h).length);
  assertIncludes(svg, 'malloc &lt;latency&gt;');
  assertIncludes(svg, '<title>[512, 1023] ns: 3</title>');
  assert.match(svg, /latency, µs \(log2 buckets, lower bound\)/);
  assert.match(svg, />count<\/text>/);
  assert.doesNotMatch(svg, /<script|href=/);
  // Taller bars for bigger counts: bucket [512, 1023] (3) is taller than [1, 1] (1).
  const heightOf = (title: string) => Number(new RegExp(`height="([^"]*)"[^>]*><title>${title.replace(/[[\]]/g, '\\$&')}`).exec(svg)![1]);
  assert.ok(heightOf('[512, 1023] ns: 3') > heightOf('[1, 1] ns: 1'), `3 calls draw taller than 1 (${heightOf('[512, 1023] ns: 3')} vs ${heightOf('[1, 1] ns: 1')})`);
  const empty = histogramToSvg({ count: 0, sum: 0, buckets: [] }, { title: 'none' });
  assert.equal(checkXml(empty), null);
  assertIncludes(empty, 'no samples');
  assert.equal(empty.match(/<rect class="bar"/g), null);
});

test('chart helpers', () => {
  assert.deepEqual(niceTicks(3), [0, 1, 2, 3]);
  assert.deepEqual(niceTicks(9), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(1234), [0, 500, 1000, 1500]);
  assert.deepEqual(niceTicks(0), [0, 1]);
  assert.equal(rampColor(0), 'rgb(0,0,4)');
  assert.equal(rampColor(1), 'rgb(252,255,164)');
  assert.equal(countColor(1, 100), rampColor(0));
  assert.equal(countColor(100, 100), rampColor(1));
  assert.equal(countColor(10, 100), rampColor(0.5));
});

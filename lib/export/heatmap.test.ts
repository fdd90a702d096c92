import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketHigh, bucketLow } from '../histogram.ts';
import { emptyProbeFrame, type HeatmapColumn, type LatencyProbeFrame } from '../latency-view.ts';
import { checkXml } from '../flame/xml-check.ts';
import { HEATMAP_CSV_HEADER, heatmapToCsv, heatmapToJson, heatmapToSvg } from './heatmap.ts';
import { latencyExport, LATENCY_EXPORT_FORMATS } from './latency.ts';
import { histogramOf } from '../histogram.ts';
import { assertIncludes } from '../../test/assert-text.ts';

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);
const columns: HeatmapColumn[] = [
  { endMs: T0, durationMs: 1000, buckets: [0, 2, 0, 5] },
  { endMs: T0 + 1000, durationMs: 1000, buckets: [] },
  { endMs: T0 + 2000, durationMs: 1000, buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 40] },
];
const CELLS = 4;

test('CSV: one row per non-empty cell, parses back to the columns', () => {
  const text = heatmapToCsv(columns);
  assert.ok(text.endsWith('\n'), 'text.endsWith(\'\\n\')');
  const [header, ...lines] = text.slice(0, -1).split('\n');
  assert.equal(header, HEATMAP_CSV_HEADER);
  const rows = lines.map((line) => line.split(',').map(Number));
  assert.equal(rows.length, CELLS);
  // Rebuild the columns' buckets from the rows.
  const rebuilt = new Map<number, number[]>();
  for (const [time, low, high, count] of rows) {
    const bucket = low === 0 ? 0 : Math.log2(low) + 1;
    assert.equal(bucketLow(bucket), low);
    assert.equal(bucketHigh(bucket), high);
    const b = rebuilt.get(time) ?? [];
    b[bucket] = count;
    rebuilt.set(time, b);
  }
  for (const c of columns) {
    const expected = c.buckets.map((n, i) => [i, n]).filter(([, n]) => n > 0);
    const got = [...(rebuilt.get(c.endMs) ?? [])].map((n, i) => [i, n ?? 0]).filter(([, n]) => n > 0);
    assert.deepEqual(got, expected, `column ${c.endMs}`);
  }
  assert.deepEqual(rows[0], [T0, 1, 1, 2]);
  assert.equal(heatmapToCsv([]), 'time_ms,low_ns,high_ns,count\n');
});

test('JSON: columns with non-empty buckets and counts', () => {
  const json = heatmapToJson('runq', columns);
  assert.equal(json.unit, 'ns');
  assert.equal(json.columns.length, 3);
  assert.deepEqual(json.columns[0], {
    end_ms: T0,
    duration_ms: 1000,
    count: 7,
    buckets: [
      { low: 1, high: 1, count: 2 },
      { low: 4, high: 7, count: 5 },
    ],
  });
  assert.deepEqual(json.columns[1].buckets, []);
  assert.equal(json.columns[2].count, 41);
});

test('SVG: well formed, one rect per non-empty cell, axes and legend', () => {
  const svg = heatmapToSvg(columns, { title: 'runq & co', unit: 'us' });
  assert.equal(checkXml(svg), null);
  assert.equal(svg.match(/<rect class="cell"/g)!.length, CELLS);
  assertIncludes(svg, 'runq &amp; co');
  assertIncludes(svg, '<title>03:04:07 UTC, [2048, 4095] ns: 40</title>');
  assert.match(svg, />03:04:07<\/text>/);
  assert.match(svg, /time \(UTC, end of each interval\)/);
  assert.match(svg, /latency, µs \(log2 buckets\)/);
  assert.match(svg, /<g class="legend">/);
  assert.doesNotMatch(svg, /<script|href=/);
  // Rows span buckets 1..12: the long latencies are above the short ones.
  const yOf = (title: string) => Number(new RegExp(`y="([^"]*)"[^>]*><title>${title.replace(/[[\]]/g, '\\$&')}`).exec(svg)![1]);
  assert.ok(yOf('03:04:07 UTC, [2048, 4095] ns: 40') < yOf('03:04:05 UTC, [1, 1] ns: 2'), `slower cells are higher (y ${yOf('03:04:07 UTC, [2048, 4095] ns: 40')} for 2048 ns, ${yOf('03:04:05 UTC, [1, 1] ns: 2')} for 1 ns)`);
  const empty = heatmapToSvg([], { title: 'none' });
  assert.equal(checkXml(empty), null);
  assertIncludes(empty, 'no samples');
});

test('latencyExport: every kind and format of a probe frame', () => {
  const frame: LatencyProbeFrame = {
    ...emptyProbeFrame('lat-1', 'syscall:*'),
    total: histogramOf([3, 5, 6]),
    columns,
    series: [{ label: 'read', total: histogramOf([3]) }],
    sampledAtMs: T0 + 2000,
  };
  for (const kind of ['histogram', 'heatmap'] as const) {
    for (const format of LATENCY_EXPORT_FORMATS) {
      const file = latencyExport(frame, kind, format);
      assert.equal(file.extension, format);
      if (format === 'json') JSON.parse(file.body);
      if (format === 'svg') assert.equal(checkXml(file.body), null, `${kind} svg`);
      if (format === 'csv') assert.equal(file.body.split(',')[0], kind === 'histogram' ? 'low_ns' : 'time_ms', `${kind} csv header: ${file.body.split('\n')[0]}`);
    }
  }
  const json = JSON.parse(latencyExport(frame, 'histogram', 'json', { seconds: 12 }).body);
  assert.equal(json.interval_s, 12);
  assert.equal(json.final, true);
  assert.deepEqual(json.by.map((k: { key: string }) => k.key), ['read']);
  assert.match(latencyExport(frame, 'heatmap', 'svg').contentType, /^image\/svg\+xml/);
});

test('sub-buckets: JSON carries them, CSV and SVG rows follow them', () => {
  const h1 = histogramOf([2_000_000, 2_050_000, 300_000], 8);
  const h2 = histogramOf([7_000_000], 8);
  const fine: HeatmapColumn[] = [
    { endMs: T0, durationMs: 1000, buckets: h1.buckets, fine: h1.fine },
    { endMs: T0 + 1000, durationMs: 1000, buckets: h2.buckets, fine: h2.fine },
  ];
  const json = heatmapToJson('uprobe:/bin/x:f', fine);
  assert.deepEqual(json.columns[0].sub_buckets, [
    { low: 294_912, high: 327_679, count: 1 },
    { low: 1_966_080, high: 2_097_151, count: 2 },
  ]);
  const csv = heatmapToCsv(fine).trim().split('\n');
  assert.deepEqual(csv.slice(1), [`${T0},294912,327679,1`, `${T0},1966080,2097151,2`, `${T0 + 1000},6815744,7340031,1`]);
  const svg = heatmapToSvg(fine, { title: 't' });
  assert.equal(checkXml(svg), null);
  assert.match(svg, /log2 buckets in 8 sub-buckets/);
  assert.equal(svg.match(/<rect class="cell"/g)!.length, 3);
  assertIncludes(svg, '[1966080, 2097151] ns: 2', 'a cell titled with its sub-bucket bounds');
});

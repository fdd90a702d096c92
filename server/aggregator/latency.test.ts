import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyView } from './latency.ts';
import { histogramOf, addHistograms, emptyHistogram } from '../../lib/histogram.ts';
import type { LatencyBatch } from '../collectors/latency.ts';

function batch(i: number, values: number[], total: ReturnType<typeof histogramOf>, label = '', hint: string | null = null): LatencyBatch {
  const interval = histogramOf(values, 8);
  return {
    probe: 'syscall:read',
    startMs: 1000 * i,
    endMs: 1000 * (i + 1),
    series: [{ label, key: { probe: 0, pid: 0, id: 0, comm: '' }, interval, total }],
    interval,
    total,
    misses: { noEntry: 0, startFull: 0, histFull: 0 },
    missesTotal: { noEntry: i, startFull: 0, histFull: 0 },
    stale: i === 3 ? 'gone' : null,
    targetExited: false,
    hint,
  };
}

test('columns scroll, totals and misses come from the newest batch', () => {
  const v = new LatencyView('p1', 'syscall:read', 3);
  let total = emptyHistogram();
  for (let i = 0; i < 4; i++) {
    const values = Array(i + 1).fill(1000);
    total = addHistograms(total, histogramOf(values));
    v.apply(batch(i, values, total));
  }
  const f = v.frame;
  assert.deepEqual(
    f.columns.map((c) => [c.endMs, c.durationMs, c.buckets[10]]),
    [
      [2000, 1000, 2],
      [3000, 1000, 3],
      [4000, 1000, 4],
    ],
  );
  assert.equal(f.total.count, 10);
  assert.equal(f.interval.count, 4);
  assert.equal(f.misses.noEntry, 3);
  assert.equal(f.stale, 'gone');
  assert.equal(f.sampledAtMs, 4000);
  assert.deepEqual(f.series, []);
});

test('keyed probes carry per-key totals', () => {
  const v = new LatencyView('p2', 'syscall:*');
  const f = v.apply(batch(0, [5], histogramOf([5]), 'read'));
  assert.deepEqual(f.series, [{ label: 'read', total: histogramOf([5]) }]);
});

test('columns keep the fine buckets and bounds; the hint follows the newest batch', () => {
  const v = new LatencyView('p2', 'syscall:nanosleep', 5);
  const hint = '0 calls to nanosleep; this process called clock_nanosleep 3 times (x) — try syscall:clock_nanosleep';
  const first = v.apply(batch(0, [2_000_000, 2_050_000], histogramOf([2_000_000, 2_050_000], 8)));
  assert.equal(first.hint, null);
  const column = first.columns[0];
  assert.deepEqual({ parts: column.fine?.parts, min: column.min, max: column.max }, { parts: 8, min: 2_000_000, max: 2_050_000 });
  const second = v.apply(batch(1, [], histogramOf([2_000_000, 2_050_000], 8), '', hint));
  assert.equal(second.hint, hint);
  assert.equal(second.columns.length, 2);
});

/**
 * The latency panel in chromium (components/ui/testing/mount.ts), given a LatencyProbeFrame:
 * the histogram's bars (bounds, counts, lengths), the percentiles, count, rate, min and max in
 * the chosen unit, the interval/total switch, the heatmap's cells and the miss counters.
 */
import type { Page } from '@playwright/test';
import { histogramOf, percentile } from '../../lib/histogram.ts';
import { formatIn, type LatencyProbeFrame } from '../../lib/latency-view.ts';
import { LATENCY_TEST_IDS } from '../../lib/test-ids.ts';
import { expect, sceneFile, test } from '../ui/testing/mount.ts';

const SCENES = sceneFile(import.meta.url, './LatencyPanel.scenes.tsx');

/**
 * Ten calls over two 1 s intervals, in ns: six of 1 µs, one of 20 µs, then three of 3 µs.
 * Log2 buckets (bucket i holds [2^(i-1), 2^i - 1] ns): 1000 → 10, 3000 → 12, 20000 → 15.
 */
const FIRST = [1000, 1000, 1000, 1000, 1000, 1000, 20_000];
const SECOND = [3000, 3000, 3000];
const ALL = [...FIRST, ...SECOND];

function column(values: number[], endMs: number) {
  const h = histogramOf(values);
  return { endMs, durationMs: 1000, buckets: h.buckets, min: h.min, max: h.max };
}

const FRAME: LatencyProbeFrame = {
  id: 'p1',
  spec: 'uprobe:/usr/bin/app:handle_request',
  interval: histogramOf(SECOND),
  total: histogramOf(ALL),
  columns: [column(FIRST, 1_700_000_001_000), column(SECOND, 1_700_000_002_000)],
  series: [],
  misses: { noEntry: 1, startFull: 0, histFull: 2 },
  stale: null,
  targetExited: false,
  hint: null,
  sampledAtMs: 1_700_000_002_000,
};

const stat = (page: Page, key: string) =>
  page.getByTestId(LATENCY_TEST_IDS.percentiles).locator('div').filter({ has: page.locator('dt').getByText(key, { exact: true }) }).locator('dd');
const rows = (page: Page) => page.getByTestId(LATENCY_TEST_IDS.histogramRow);
const unitButton = (page: Page, label: string) => page.getByTestId(LATENCY_TEST_IDS.unit).getByRole('button', { name: label, exact: true });

test('since added (default, µs): one bar per bucket from the fastest to the slowest, lengths relative to the largest', async ({ page, mountScene }) => {
  await mountScene(SCENES, 'Panel', { frame: FRAME });
  await expect(page.getByTestId(LATENCY_TEST_IDS.histogram)).toHaveAttribute('data-count', '10');
  // Buckets 10..15, the empty ones between kept (as bcc prints them).
  await expect(rows(page).locator('td:nth-child(1)')).toHaveText(['0.512 – 1.023', '1.024 – 2.047', '2.048 – 4.095', '4.096 – 8.191', '8.192 – 16.38', '16.38 – 32.77']);
  await expect(rows(page).locator('td:nth-child(2)')).toHaveText(['6', '0', '3', '0', '0', '1']);
  // Bar lengths as drawn, relative to the longest (the 6-call bucket's), rounded to 1/100.
  const widths = await rows(page).locator('td:nth-child(3) > div').evaluateAll((divs) => divs.map((d) => d.getBoundingClientRect().width));
  const bars = widths.map((w) => Math.round((100 * w) / Math.max(...widths)) / 100);
  expect(bars, `bar widths ${JSON.stringify(widths)} px`).toEqual([1, 0, 0.5, 0, 0, 0.17]);
});

test('percentiles, count, rate, average, min and max of the total, in µs', async ({ page, mountScene }) => {
  await mountScene(SCENES, 'Panel', { frame: FRAME });
  await expect(stat(page, 'count')).toHaveText('10');
  // 10 calls over the two 1 s columns.
  await expect(stat(page, 'rate')).toHaveText('5/s');
  // (6 × 1000 + 3 × 3000 + 20000) / 10 ns.
  await expect(stat(page, 'avg')).toHaveText('3.5 µs');
  await expect(stat(page, 'min')).toHaveText('1 µs');
  await expect(stat(page, 'max')).toHaveText('20 µs');
  const total = histogramOf(ALL);
  for (const [key, q] of [['p50', 0.5], ['p90', 0.9], ['p99', 0.99]] as const) await expect(stat(page, key), key).toHaveText(formatIn(percentile(total, q), 'us'));
  // The estimates lie in the right buckets: the 5th/6th call is a 1 µs one, the 10th the 20 µs one.
  const percentiles = page.getByTestId(LATENCY_TEST_IDS.percentiles);
  const p50 = Number(await percentiles.getAttribute('data-p50'));
  const p99 = Number(await percentiles.getAttribute('data-p99'));
  expect(p50, `p50 ${p50} ns, bucket 10 clamped to min: [1000, 1023]`).toBeGreaterThanOrEqual(1000);
  expect(p50, `p50 ${p50} ns, bucket 10 clamped to min: [1000, 1023]`).toBeLessThanOrEqual(1023);
  expect(p99, `p99 ${p99} ns, bucket 15 clamped to max: [16384, 20000]`).toBeGreaterThanOrEqual(16384);
  expect(p99, `p99 ${p99} ns, bucket 15 clamped to max: [16384, 20000]`).toBeLessThanOrEqual(20000);
});

test('the unit switch redraws the numbers and the bounds in ns and ms', async ({ page, mountScene }) => {
  await mountScene(SCENES, 'Panel', { frame: FRAME });
  await unitButton(page, 'ns').click();
  await expect(unitButton(page, 'ns')).toHaveAttribute('aria-pressed', 'true');
  await expect(stat(page, 'avg')).toHaveText('3500 ns');
  await expect(stat(page, 'max')).toHaveText('20000 ns');
  await expect(rows(page).first().locator('td').first()).toHaveText('512 – 1023');
  await unitButton(page, 'ms').click();
  await expect(stat(page, 'avg')).toHaveText('0.0035 ms');
  await expect(stat(page, 'min')).toHaveText('0.001 ms');
  await expect(rows(page).last().locator('td').first()).toHaveText('0.01638 – 0.03277');
});

test('"last interval" shows the newest interval only: its bars and its rate over its 1 s', async ({ page, mountScene }) => {
  await mountScene(SCENES, 'Panel', { frame: FRAME });
  await page.getByRole('combobox', { name: 'Histogram scope' }).selectOption('interval');
  await expect(page.getByTestId(LATENCY_TEST_IDS.histogram)).toHaveAttribute('data-count', '3');
  await expect(rows(page).locator('td:nth-child(1)')).toHaveText(['2.048 – 4.095']);
  await expect(rows(page).locator('td:nth-child(2)')).toHaveText(['3']);
  await expect(stat(page, 'count')).toHaveText('3');
  await expect(stat(page, 'rate')).toHaveText('3/s');
  await expect(stat(page, 'p50')).toHaveText('3 µs');
});

test('the heatmap has a column per interval with cells holding every call; misses are counted', async ({ page, mountScene }) => {
  await mountScene(SCENES, 'Panel', { frame: FRAME });
  await expect(page.getByTestId(LATENCY_TEST_IDS.heatmap)).toHaveAttribute('data-columns', '2');
  const cellCounts = await page.getByTestId(LATENCY_TEST_IDS.heatmapCell).evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-count'))));
  expect(cellCounts.reduce((a, b) => a + b, 0), `cell counts ${JSON.stringify(cellCounts)}`).toBe(10);
  await expect(page.getByTestId(LATENCY_TEST_IDS.misses)).toHaveAttribute('data-count', '3');
  await expect(page.getByTestId(LATENCY_TEST_IDS.misses)).toHaveText('Missed: 1 returns without an entry, 0 entries (map full), 2 durations (map full).');
});

test('an empty probe says so instead of drawing bars; a stale one shows why', async ({ page, mountScene }) => {
  const empty = histogramOf([]);
  await mountScene(SCENES, 'Panel', { frame: { ...FRAME, interval: empty, total: empty, columns: [], stale: '/usr/bin/app was replaced' } });
  await expect(page.getByTestId(LATENCY_TEST_IDS.histogram)).toHaveText('No calls yet.');
  await expect(rows(page)).toHaveCount(0);
  await expect(stat(page, 'count')).toHaveText('0');
  await expect(stat(page, 'p50')).toHaveText('–');
  await expect(page.getByTestId(LATENCY_TEST_IDS.stale)).toHaveText('Stale: /usr/bin/app was replaced');
  await expect(page.getByTestId(LATENCY_TEST_IDS.panel)).toHaveAttribute('data-state', 'stale');
});

/**
 * End to end: latency probes in the dashboard, against the real server, the real kernel and
 * Debian's chromium. A C workload calls `pb_sleep_us(500)` in a loop; a uprobe latency probe on
 * it must fill the histogram and the heatmap; a bad spec shows its error next to the field;
 * remove detaches the uprobes at once. Needs root (the server loads BPF programs).
 */
import { expect, test, type Page } from '@playwright/test';
import { io } from 'socket.io-client';
import { E2E_PORT, E2E_TOKEN } from '../playwright.config.ts';
import type { LatencyProbeList } from '../lib/protocol-latency.ts';
import { LATENCY_TEST_IDS, TEST_IDS } from '../lib/test-ids.ts';
import { bucketIndex, bucketLow } from '../lib/histogram.ts';
import { LATENCY_FUNCTION, LATENCY_SLEEP_US, startLatencyWorkload, startLibcSleeper, uprobesOn, type LatencyWorkload } from './fixtures/latency-workload.ts';

let workload: LatencyWorkload;

test.beforeAll(async () => {
  test.skip(process.getuid?.() !== 0 && process.env.CI !== 'true', 'the e2e tests need root: the server loads BPF programs (in CI they run, and fail, without it)');
  workload = await startLatencyWorkload();
});

test.afterAll(async () => {
  workload?.stop();
  await removeEveryLatencyProbe();
});

/**
 * Removes every latency probe from the shared session, whatever the tests left (a failed test
 * leaves its probe listed, and the next specs' viewers would get its frames).
 */
async function removeEveryLatencyProbe(): Promise<void> {
  const control = io(`http://127.0.0.1:${E2E_PORT}`, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: E2E_TOKEN, session: 'main' } });
  try {
    const list = await new Promise<LatencyProbeList>((resolve, reject) => {
      control.once('latency:probes', resolve);
      control.once('connect_error', reject);
    });
    for (const probe of list.probes) await control.timeout(10_000).emitWithAck('latency:remove', { id: probe.id });
  } finally {
    control.close();
  }
}

async function open(page: Page) {
  await page.goto('/');
  await expect(page.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId(LATENCY_TEST_IDS.section)).toBeVisible();
}

async function addProbe(page: Page, spec: string, pid?: number) {
  await page.getByTestId(LATENCY_TEST_IDS.specInput).fill(spec);
  await page.getByTestId(LATENCY_TEST_IDS.pidInput).fill(pid === undefined ? '' : String(pid));
  await page.getByTestId(LATENCY_TEST_IDS.specAdd).click();
}

test('a uprobe latency probe fills the histogram and heatmap live; remove detaches it', async ({ page }) => {
  await open(page);
  const spec = `uprobe:${workload.binary}:${LATENCY_FUNCTION}`;
  await addProbe(page, spec, workload.pid);
  await expect(page.getByTestId(LATENCY_TEST_IDS.specError)).toHaveCount(0);
  await expect(page.getByTestId(LATENCY_TEST_IDS.specInput)).toHaveValue(''); // accepted: the field is cleared

  const panel = page.locator(`[data-testid="${LATENCY_TEST_IDS.panel}"][data-spec="${spec}"]`);
  await expect(panel).toHaveCount(1);
  await expect(panel.getByTestId(LATENCY_TEST_IDS.state)).toHaveAttribute('data-state', 'running');
  expect(uprobesOn(workload.binary).map((e) => e.fd_type).sort()).toEqual(['uprobe', 'uretprobe']);

  // Counts arrive and keep growing.
  const count = async () => Number(await panel.getByTestId(LATENCY_TEST_IDS.percentiles).getAttribute('data-count'));
  await expect.poll(count, { timeout: 15_000 }).toBeGreaterThan(0);
  const first = await count();
  await expect.poll(count, { timeout: 15_000 }).toBeGreaterThan(first);

  // Histogram bars: the 500 µs calls, none below their bucket (a sleep is never shorter).
  const rows = panel.getByTestId(LATENCY_TEST_IDS.histogramRow);
  await expect.poll(() => rows.count()).toBeGreaterThan(0);
  const lowest = Number(await rows.first().getAttribute('data-low'));
  expect(lowest).toBeGreaterThanOrEqual(bucketLow(bucketIndex(LATENCY_SLEEP_US * 1000)));
  await expect(rows.first().locator('div')).toHaveAttribute('style', /width: [1-9]/);

  // Heatmap: cells drawn, and a new column scrolls in each second.
  const heatmap = panel.getByTestId(LATENCY_TEST_IDS.heatmap);
  await expect.poll(() => heatmap.getByTestId(LATENCY_TEST_IDS.heatmapCell).count(), { timeout: 15_000 }).toBeGreaterThan(0);
  // The newest column sits at the right edge, inside the panel's box (not cut off).
  const area = await heatmap.locator('..').boundingBox();
  const newest = await heatmap.getByTestId(LATENCY_TEST_IDS.heatmapCell).last().boundingBox();
  expect(area && newest).toBeTruthy();
  expect(newest!.x + newest!.width).toBeLessThanOrEqual(area!.x + area!.width + 1);
  expect(newest!.x).toBeGreaterThan(area!.x + area!.width * 0.8);
  const columns = async () => Number(await heatmap.getAttribute('data-columns'));
  const columnsBefore = await columns();
  await expect.poll(columns, { timeout: 10_000 }).toBeGreaterThan(columnsBefore);

  // Percentiles and the unit switch.
  const percentiles = panel.getByTestId(LATENCY_TEST_IDS.percentiles);
  // Percentiles come from sub-buckets (within 12.5%) and are clamped to the kernel's min/max, so
  // the median is never below the 500 µs every call sleeps (a sleep never ends early).
  expect(Number(await percentiles.getAttribute('data-p50'))).toBeGreaterThanOrEqual(LATENCY_SLEEP_US * 1000);
  expect(Number(await percentiles.getAttribute('data-error-bound'))).toBe(0.125);
  await expect(percentiles).toContainText('min');
  await expect(percentiles).toContainText('µs');
  await panel.getByTestId(LATENCY_TEST_IDS.unit).getByRole('button', { name: 'ms' }).click();
  await expect(percentiles).toContainText(/\d ms/);
  await expect(panel.getByTestId(LATENCY_TEST_IDS.histogram).locator('thead')).toContainText('ms');
  await expect(panel.getByTestId(LATENCY_TEST_IDS.misses)).toBeVisible();

  // A second viewer sees the same probe with its data at once.
  const other = await page.context().newPage();
  await open(other);
  const otherPanel = other.locator(`[data-testid="${LATENCY_TEST_IDS.panel}"][data-spec="${spec}"]`);
  await expect.poll(async () => Number(await otherPanel.getByTestId(LATENCY_TEST_IDS.percentiles).getAttribute('data-count')), { timeout: 5_000 }).toBeGreaterThan(0);

  // Remove: gone for both viewers, and the kernel has no uprobe left on the binary.
  await panel.getByTestId(LATENCY_TEST_IDS.remove).click();
  await expect(panel).toHaveCount(0);
  await expect(otherPanel).toHaveCount(0);
  expect(uprobesOn(workload.binary)).toEqual([]);
  await expect(page.getByTestId(LATENCY_TEST_IDS.empty)).toBeVisible();
  await other.close();
});

test('a bad spec shows its error next to the field and nothing breaks', async ({ page }) => {
  await open(page);
  const input = page.getByTestId(LATENCY_TEST_IDS.specInput);
  const error = page.getByTestId(LATENCY_TEST_IDS.specError);

  // Malformed: caught as you type, with the parser's message.
  await input.fill('uprobe:');
  await expect(error).toBeVisible();
  await expect(error).toContainText('at character');
  await expect(input).toHaveAttribute('aria-invalid', 'true');

  // Well-formed but wrong: the server's refusal, next to the field.
  await addProbe(page, 'uprobe:/nonexistent/pb-e2e-binary:main');
  await expect(error).toHaveText(/binary \/nonexistent\/pb-e2e-binary not found/);
  await addProbe(page, `uprobe:${workload.binary}:pb_no_such_function`);
  await expect(error).toContainText('pb_no_such_function');
  await addProbe(page, `uprobe:${workload.binary}:${LATENCY_FUNCTION}`, 4_000_000);
  await expect(error).toContainText('no process with pid 4000000');

  // Nothing was added, the page and connection are fine, and a good probe still works after.
  await expect(page.getByTestId(LATENCY_TEST_IDS.panel)).toHaveCount(0);
  await expect(page.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'connected');
  await addProbe(page, `uprobe:${workload.binary}:${LATENCY_FUNCTION}`, workload.pid);
  await expect(error).toHaveCount(0);
  const panel = page.getByTestId(LATENCY_TEST_IDS.panel);
  await expect.poll(async () => Number(await panel.getByTestId(LATENCY_TEST_IDS.percentiles).getAttribute('data-count')), { timeout: 15_000 }).toBeGreaterThan(0);
  await panel.getByTestId(LATENCY_TEST_IDS.remove).click();
  await expect(panel).toHaveCount(0);
});

test('a sub-bucket count outside 1–16 is refused next to its field; a syscall probe on a libc nanosleep() caller shows the hint', async ({ page }) => {
  await open(page);
  const sub = page.getByTestId(LATENCY_TEST_IDS.subBucketsInput);
  await sub.fill('17');
  await expect(sub).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText('sub-buckets must be a whole number from 1 to 16')).toBeVisible();
  await addProbe(page, 'syscall:nanosleep');
  await expect(page.getByTestId(LATENCY_TEST_IDS.panel)).toHaveCount(0); // refused in the page, nothing sent
  await sub.fill('4');
  await expect(sub).not.toHaveAttribute('aria-invalid', 'true');

  // libc's nanosleep() enters clock_nanosleep: the probe sees nothing and says why
  const sleeper = await startLibcSleeper();
  try {
    await addProbe(page, 'syscall:nanosleep', sleeper.pid);
    const panel = page.locator(`[data-testid="${LATENCY_TEST_IDS.panel}"][data-spec="syscall:nanosleep"]`);
    await expect(panel).toHaveCount(1);
    await expect(panel.getByTestId(LATENCY_TEST_IDS.hint)).toContainText(/0 calls to nanosleep; this process called clock_nanosleep \d+ times .* try syscall:clock_nanosleep/, { timeout: 15_000 });
    // the probe counts 4 sub-buckets per power of two: percentiles within 25%
    await expect(panel.getByTestId(LATENCY_TEST_IDS.percentiles)).toHaveAttribute('data-error-bound', '0.25');
    await panel.getByTestId(LATENCY_TEST_IDS.remove).click();
    await expect(panel).toHaveCount(0);
  } finally {
    sleeper.stop();
  }
});

test('a probe whose process exits is shown as ended with the reason, and can be removed', async ({ page }) => {
  const doomed = await startLatencyWorkload();
  try {
    await open(page);
    const spec = `uprobe:${doomed.binary}:${LATENCY_FUNCTION}`;
    await addProbe(page, spec, doomed.pid);
    const panel = page.locator(`[data-testid="${LATENCY_TEST_IDS.panel}"][data-spec="${spec}"]`);
    await expect.poll(async () => Number(await panel.getByTestId(LATENCY_TEST_IDS.percentiles).getAttribute('data-count')), { timeout: 15_000 }).toBeGreaterThan(0);
    doomed.stop();
    await expect(panel.getByTestId(LATENCY_TEST_IDS.state)).toHaveAttribute('data-state', 'ended');
    await expect(panel.getByTestId(LATENCY_TEST_IDS.probeError)).toContainText(`process ${doomed.pid} exited`);
    expect(uprobesOn(doomed.binary)).toEqual([]); // detached by the server
    // its last picture stays
    expect(Number(await panel.getByTestId(LATENCY_TEST_IDS.percentiles).getAttribute('data-count'))).toBeGreaterThan(0);
    await panel.getByTestId(LATENCY_TEST_IDS.remove).click();
    await expect(panel).toHaveCount(0);
  } finally {
    doomed.stop();
  }
});

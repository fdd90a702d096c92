/**
 * End to end: the probe picker and a live events panel, against the real server, the real
 * kernel and Debian's chromium. A C program fires USDT probes every 10 ms; through the picker
 * we choose its process, see its USDT probes, pick one, start it, and see rows arrive with the
 * arguments it passed. Needs root (the server loads BPF programs).
 */
import { expect, test, type Page } from '@playwright/test';
import { EVENTS_TEST_IDS, TEST_IDS } from '../lib/test-ids.ts';
import { startEventsWorkload, USDT_PROVIDER, type EventsWorkload } from './fixtures/events-workload.ts';

let workload: EventsWorkload;

test.beforeAll(async () => {
  test.skip(process.getuid?.() !== 0 && process.env.CI !== 'true', 'the e2e tests need root: the server loads BPF programs (in CI they run, and fail, without it)');
  workload = await startEventsWorkload();
});

test.afterAll(() => workload?.stop());

async function open(page: Page) {
  await page.goto('/');
  await expect(page.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId(EVENTS_TEST_IDS.section)).toBeVisible();
}

test('pick a USDT probe of a running process through the picker, start it, see rows with its arguments', async ({ page }) => {
  await open(page);
  const picker = page.getByTestId(EVENTS_TEST_IDS.picker);

  // Choose the process: search by its pid, pick it from the list.
  await picker.locator(`[data-testid="${EVENTS_TEST_IDS.pickerMode}"][data-mode="process"]`).click();
  await picker.getByTestId(EVENTS_TEST_IDS.processQuery).fill(String(workload.pid));
  const processItem = picker.locator(`[data-testid="${EVENTS_TEST_IDS.processItem}"][data-pid="${workload.pid}"]`);
  await expect(processItem).toHaveCount(1);
  await expect(processItem).toContainText('pb-e2e-usdt');
  await processItem.click();

  // Its binaries and libraries, and its USDT probes: exactly the four the program has.
  await expect(picker.locator(`[data-testid="${EVENTS_TEST_IDS.objectItem}"][data-path="${workload.binary}"]`)).toHaveCount(1);
  await expect(picker.getByTestId(EVENTS_TEST_IDS.objectItem).filter({ hasText: 'libc' }).first()).toBeVisible();
  const usdtItems = picker.locator(`[data-testid="${EVENTS_TEST_IDS.usdtItem}"][data-spec^="usdt:${workload.binary}:"]`);
  await expect(usdtItems).toHaveCount(4);
  const spec = `usdt:${workload.binary}:${USDT_PROVIDER}:start`;
  await picker.locator(`[data-testid="${EVENTS_TEST_IDS.usdtItem}"][data-spec="${spec}"]`).click();

  // The picker filled a valid spec and the pid.
  await expect(page.getByTestId(EVENTS_TEST_IDS.specInput)).toHaveValue(spec);
  await expect(page.getByTestId(EVENTS_TEST_IDS.pidInput)).toHaveValue(String(workload.pid));
  await expect(page.getByTestId(EVENTS_TEST_IDS.specError)).toHaveCount(0);
  await page.getByTestId(EVENTS_TEST_IDS.specAdd).click();

  const panel = page.locator(`[data-testid="${EVENTS_TEST_IDS.panel}"][data-spec="${spec}"]`);
  await expect(panel).toHaveCount(1);
  await expect(panel.getByTestId(EVENTS_TEST_IDS.state)).toHaveAttribute('data-state', 'running');
  await expect(page.getByTestId(EVENTS_TEST_IDS.specInput)).toHaveValue(''); // accepted: the field is cleared

  // Rows arrive (about 100 a second), with the arguments the program passed: arg1 = arg0 * 1000.
  const rows = panel.getByTestId(EVENTS_TEST_IDS.row);
  await expect.poll(() => rows.count(), { timeout: 15_000 }).toBeGreaterThan(5);
  const received = async () => Number(await panel.getAttribute('data-received'));
  const first = await received();
  await expect.poll(received, { timeout: 10_000 }).toBeGreaterThan(first + 50);
  for (const row of await rows.all().then((all) => all.slice(0, 5))) {
    await expect(row).toHaveAttribute('data-pid', String(workload.pid));
    const text = (await row.textContent()) ?? '';
    const m = /arg0=(\d+)\s+arg1=(\d+)/.exec(text);
    expect(m, text).not.toBeNull();
    expect(Number(m![2])).toBe(Number(m![1]) * 1000);
    expect(text).toContain('pb-e2e-usdt');
  }
  // Virtualised: far fewer rows in the DOM than received.
  await expect.poll(received, { timeout: 15_000 }).toBeGreaterThan(300);
  expect(await rows.count()).toBeLessThan(60);
  await expect(panel.getByTestId(EVENTS_TEST_IDS.perSecond)).toHaveAttribute('data-value', /^(9\d|1\d\d)$/, { timeout: 10_000 });
  await expect(page.getByTestId(EVENTS_TEST_IDS.rateChart)).toHaveAttribute('data-series', '1');

  // Filters: a field text that matches no row empties the table; clearing brings rows back.
  await panel.getByTestId(EVENTS_TEST_IDS.filterText).fill('arg0=-1');
  await expect(rows).toHaveCount(0);
  await panel.getByTestId(EVENTS_TEST_IDS.filterText).fill('');
  await panel.getByTestId(EVENTS_TEST_IDS.filterPid).fill(String(workload.pid));
  await expect.poll(() => rows.count()).toBeGreaterThan(5);

  // Pause: the table stops moving while rows keep arriving.
  await panel.getByTestId(EVENTS_TEST_IDS.pause).click();
  const topRow = await rows.first().getAttribute('data-n');
  const atPause = await received();
  await expect.poll(received, { timeout: 10_000 }).toBeGreaterThan(atPause + 20);
  expect(await rows.first().getAttribute('data-n')).toBe(topRow);
  await panel.getByTestId(EVENTS_TEST_IDS.pause).click();
  await expect.poll(async () => Number(await rows.first().getAttribute('data-n'))).toBeGreaterThan(Number(topRow));

  // A bad spec is refused with its reason under the field; the running probe carries on.
  await page.getByTestId(EVENTS_TEST_IDS.specInput).fill('tracepoint:nosuchcat:nosuchtp');
  await page.getByTestId(EVENTS_TEST_IDS.pidInput).fill('');
  await page.getByTestId(EVENTS_TEST_IDS.specAdd).click();
  await expect(page.getByTestId(EVENTS_TEST_IDS.specError)).toContainText('nosuchcat:nosuchtp');
  await expect(panel.getByTestId(EVENTS_TEST_IDS.state)).toHaveAttribute('data-state', 'running');
  const beforeBad = await received();
  await expect.poll(received).toBeGreaterThan(beforeBad);

  // Remove: the panel goes away for everyone.
  await panel.getByTestId(EVENTS_TEST_IDS.remove).click();
  await expect(panel).toHaveCount(0);
  await expect(page.getByTestId(EVENTS_TEST_IDS.empty)).toBeVisible();
});

test('the picker finds tracepoints as you type and builds the spec', async ({ page }) => {
  await open(page);
  const picker = page.getByTestId(EVENTS_TEST_IDS.picker);
  await picker.locator(`[data-testid="${EVENTS_TEST_IDS.pickerMode}"][data-mode="tracepoints"]`).click();
  await picker.getByTestId(EVENTS_TEST_IDS.tracepointQuery).fill('sched_switch');
  const item = picker.locator(`[data-testid="${EVENTS_TEST_IDS.tracepointItem}"][data-id="sched:sched_switch"]`);
  await expect(item).toHaveCount(1);
  await item.click();
  await expect(page.getByTestId(EVENTS_TEST_IDS.specInput)).toHaveValue('tracepoint:sched:sched_switch');
  await expect(page.getByTestId(EVENTS_TEST_IDS.specError)).toHaveCount(0);
});

test('binary mode: a USDT probe read with a string argument shows the text the program passed', async ({ page }) => {
  await open(page);
  const picker = page.getByTestId(EVENTS_TEST_IDS.picker);
  await picker.locator(`[data-testid="${EVENTS_TEST_IDS.pickerMode}"][data-mode="binary"]`).click();
  await picker.getByTestId(EVENTS_TEST_IDS.binaryInput).fill(workload.binary);
  const message = picker.locator(`[data-testid="${EVENTS_TEST_IDS.usdtItem}"][data-spec="usdt:${workload.binary}:${USDT_PROVIDER}:message"]`);
  await expect(message).toHaveCount(1);
  // Its functions are listed too (uprobe specs).
  await picker.getByTestId(EVENTS_TEST_IDS.symbolQuery).fill('main');
  await expect(picker.locator(`[data-testid="${EVENTS_TEST_IDS.symbolItem}"][data-spec="uprobe:${workload.binary}:main"]`)).toHaveCount(1);
  await message.click();

  const spec = `usdt:${workload.binary}:${USDT_PROVIDER}:message(arg0:str,arg1)`;
  const input = page.getByTestId(EVENTS_TEST_IDS.specInput);
  await expect(input).toHaveValue(`usdt:${workload.binary}:${USDT_PROVIDER}:message`);
  await input.fill(spec);
  await page.getByTestId(EVENTS_TEST_IDS.specAdd).click();
  await expect(page.getByTestId(EVENTS_TEST_IDS.specError)).toHaveCount(0);
  const panel = page.locator(`[data-testid="${EVENTS_TEST_IDS.panel}"][data-spec="${spec}"]`);
  await expect(panel).toHaveCount(1);
  const row = panel.getByTestId(EVENTS_TEST_IDS.row).first();
  await expect(row).toContainText('arg0="hello usdt"', { timeout: 15_000 });
  await expect(row).toContainText('arg1=10');
  await panel.getByTestId(EVENTS_TEST_IDS.remove).click();
  await expect(panel).toHaveCount(0);
});

/**
 * End to end: the real server (`probeboard serve`, started by playwright.config.ts), the real
 * kernel and Debian's chromium. A C workload burns a CPU in `pb_e2e_spin`; the dashboard must
 * show it, keep updating, search it, zoom, and export what is on screen as a standalone SVG.
 * Needs root (the server loads BPF programs).
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { TEST_IDS } from '../lib/test-ids.ts';
import { SEARCH_HIGHLIGHT } from '../lib/flame/colors.ts';
import { startWorkload, WORKLOAD_COMM, WORKLOAD_FUNCTION, type Workload } from './fixtures/workload.ts';

let workload: Workload;

test.beforeAll(() => {
  test.skip(process.getuid?.() !== 0 && process.env.CI !== 'true', 'the e2e tests need root: the server loads BPF programs (in CI they run, and fail, without it)');
  workload = startWorkload();
});

test.afterAll(() => workload?.stop());

const frame = (page: Page, name: string) => page.locator(`[data-testid="${TEST_IDS.flameGraph}"] g.frame[name="${name}"]`);
const numberIn = async (page: Page, testId: string) => Number((await page.getByTestId(testId).innerText()).replace(/[^\d]/g, ''));

/**
 * Frames move on every live update (about once a second), so a pointer action aimed at one
 * frame can land on another; pause the drawing around such actions (frames keep arriving).
 */
async function setPaused(page: Page, paused: boolean) {
  const button = page.getByTestId(TEST_IDS.pauseView);
  // Clicked again if a click did not take (CI once saw one lost while the page was busy drawing).
  await expect(async () => {
    if ((await button.getAttribute('aria-pressed')) !== String(paused)) await button.click();
    await expect(button).toHaveAttribute('aria-pressed', String(paused), { timeout: 2000 });
  }).toPass({ timeout: 20_000 });
}

/** Opens the dashboard and waits until the workload's frames are drawn. */
async function openWithWorkload(page: Page) {
  await page.goto('/');
  await expect(page.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId(TEST_IDS.statusError)).toHaveCount(0);
  try {
    await expect(frame(page, WORKLOAD_COMM).first()).toBeVisible({ timeout: 30_000 });
    await expect(frame(page, WORKLOAD_FUNCTION).first()).toBeAttached({ timeout: 30_000 });
  } catch (error) {
    // What was on screen instead, so that a failure in CI says more than "not found".
    const shown = await page.evaluate(({ flame, status }) => {
      const names = [...document.querySelectorAll(`[data-testid="${flame}"] g.frame`)].map((g) => g.getAttribute('name'));
      return { frames: names.length, first: names.slice(0, 25), status: document.querySelector(`[data-testid="${status}"]`)?.textContent ?? null };
    }, { flame: TEST_IDS.flameGraph, status: TEST_IDS.statusLine });
    throw new Error(`${error instanceof Error ? error.message : String(error)}\non screen instead: ${JSON.stringify(shown)}\nworkload pid ${workload.pid}`);
  }
}

test('live flame graph shows the workload and keeps updating', async ({ page }) => {
  await openWithWorkload(page);
  await expect(page.getByTestId(TEST_IDS.cpus)).not.toHaveText('–');

  const firstSeq = await numberIn(page, TEST_IDS.frameSeq);
  const firstTotal = await numberIn(page, TEST_IDS.totalSamples);
  const firstUpdate = await page.getByTestId(TEST_IDS.lastUpdate).innerText();
  expect(firstTotal).toBeGreaterThan(0);

  // The next updates arrive by themselves and change the picture.
  await expect.poll(() => numberIn(page, TEST_IDS.frameSeq), { timeout: 15_000 }).toBeGreaterThan(firstSeq + 1);
  await expect.poll(() => numberIn(page, TEST_IDS.totalSamples), { timeout: 15_000 }).not.toBe(firstTotal);
  await expect(page.getByTestId(TEST_IDS.lastUpdate)).not.toHaveText(firstUpdate);
  await expect(frame(page, WORKLOAD_FUNCTION).first()).toBeAttached();

  // Hover: name, samples and share.
  await setPaused(page, true);
  await frame(page, WORKLOAD_COMM).first().hover();
  const tooltip = page.getByTestId(TEST_IDS.tooltip);
  await expect(tooltip).toContainText(WORKLOAD_COMM);
  await expect(tooltip).toContainText(/samples\s*[\d,]+ \([\d.<]+% of all\)/);
});

test('a thin frame, painted on the canvas under the SVG, shows the same tooltip on hover and zooms on click', async ({ page }) => {
  await openWithWorkload(page);
  await setPaused(page, true);
  const tooltip = page.getByTestId(TEST_IDS.tooltip);
  // A point the canvas layer painted (frames under SVG_MIN_PX) with no SVG frame over it, on screen:
  // the centre of a row, found from the canvas's pixels. Found again on each try: a draw scheduled
  // before the pause took effect may still repaint once (seen in CI on a loaded machine), and then
  // the earlier point can be an SVG frame's or empty.
  let point: { x: number; y: number } | null = null;
  await expect(async () => {
    point = await page.evaluate((testId) => {
      const container = document.querySelector(`[data-testid="${testId}"]`)!;
      const canvas = container.querySelector('canvas');
      if (!canvas || canvas.width === 0) return null;
      const box = canvas.getBoundingClientRect();
      const ratio = canvas.width / box.width;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      // Flame orientation: rows of 18 px from the bottom. The middle of a run of at least 3 fully
      // painted px: a frame's edge pixel is anti-aliased (painted a little) yet outside the frame.
      const opaque = (x: number, y: number) => pixels[(Math.round(y * ratio) * canvas.width + Math.floor((x + 0.5) * ratio)) * 4 + 3] >= 200;
      for (let y = box.height - 9; y > 0; y -= 18) {
        let run = 0;
        for (let x = 0; x < box.width; x++) {
          run = opaque(x, y) ? run + 1 : 0;
          if (run < 3) continue;
          const at = { x: box.left + x - 1 + 0.5, y: box.top + y };
          const hit = document.elementFromPoint(at.x, at.y);
          if (hit && container.contains(hit) && hit.closest('g.frame') === null) return at;
        }
      }
      return null;
    }, TEST_IDS.flameGraph);
    expect(point, 'the canvas layer paints thin frames of a whole-machine profile').not.toBeNull();
    await page.mouse.move(0, 0); // off the graph, so the move below is a fresh hover
    await page.mouse.move(point!.x, point!.y);
    await expect(tooltip).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 30_000 });
  await expect(tooltip).toContainText(/samples\s*[\d,]+ \([\d.<]+% of all\)/);
  const name = (await tooltip.locator('div').first().innerText()).trim();
  expect(name.length).toBeGreaterThan(0);
  // Click zooms into that frame: the zoom path ends with its name, and the canvas redraws for the subtree.
  const at = point as unknown as { x: number; y: number };
  await page.mouse.click(at.x, at.y);
  await expect(page.getByTestId(TEST_IDS.zoomPath)).toContainText(name);
  await page.getByTestId(TEST_IDS.resetZoom).click();
  await expect(page.getByTestId(TEST_IDS.zoomPath)).toHaveCount(0);
});

test('search highlights the workload function and shows its share', async ({ page }) => {
  await openWithWorkload(page);
  await page.getByTestId(TEST_IDS.searchInput).fill(WORKLOAD_FUNCTION);
  const share = page.getByTestId(TEST_IDS.searchShare);
  await expect(share).toBeVisible();
  await expect.poll(async () => Number(await share.getAttribute('data-percent'))).toBeGreaterThan(0);
  await expect(share).toContainText('% of samples');
  await expect(frame(page, WORKLOAD_FUNCTION).first().locator('rect')).toHaveAttribute('fill', SEARCH_HIGHLIGHT);
  // A frame that does not match keeps its own colour.
  await expect(frame(page, WORKLOAD_COMM).first().locator('rect')).not.toHaveAttribute('fill', SEARCH_HIGHLIGHT);
});

test('click zooms into a frame, the zoom survives updates, reset zoom restores', async ({ page }) => {
  await openWithWorkload(page);
  const svgWidth = Number(await page.locator(`[data-testid="${TEST_IDS.flameGraph}"] svg`).getAttribute('width'));
  await expect(page.getByTestId(TEST_IDS.resetZoom)).toBeDisabled();

  await setPaused(page, true);
  await frame(page, WORKLOAD_COMM).first().click();
  await expect(page.getByTestId(TEST_IDS.zoomPath)).toContainText(WORKLOAD_COMM);
  await setPaused(page, false);
  const zoomedWidth = async () => Number(await frame(page, WORKLOAD_COMM).first().locator('rect').getAttribute('width'));
  expect(await zoomedWidth()).toBeGreaterThan(svgWidth - 2);

  // Two more updates: still zoomed on the same frame, still full width.
  const seq = await numberIn(page, TEST_IDS.frameSeq);
  await expect.poll(() => numberIn(page, TEST_IDS.frameSeq), { timeout: 15_000 }).toBeGreaterThan(seq + 1);
  await expect(page.getByTestId(TEST_IDS.zoomPath)).toContainText(WORKLOAD_COMM);
  expect(await zoomedWidth()).toBeGreaterThan(svgWidth - 2);

  await page.getByTestId(TEST_IDS.resetZoom).click();
  await expect(page.getByTestId(TEST_IDS.zoomPath)).toHaveCount(0);
  await expect(page.getByTestId(TEST_IDS.resetZoom)).toBeDisabled();
  await expect.poll(zoomedWidth).toBeLessThan(svgWidth - 2);
});

test('pause keeps receiving, resume draws the newest; flame and icicle', async ({ page }) => {
  await openWithWorkload(page);
  await page.getByTestId(TEST_IDS.pauseView).click();
  const pausedSeq = await numberIn(page, TEST_IDS.frameSeq);
  const pending = page.getByTestId(TEST_IDS.pendingUpdates);
  await expect.poll(async () => Number(await pending.getAttribute('data-count')), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
  expect(await numberIn(page, TEST_IDS.frameSeq)).toBe(pausedSeq);
  await page.getByTestId(TEST_IDS.pauseView).click();
  await expect(pending).toHaveCount(0);
  expect(await numberIn(page, TEST_IDS.frameSeq)).toBeGreaterThan(pausedSeq + 1);

  // Flame: root at the bottom; icicle: root at the top.
  const rootY = async () => {
    const transform = (await frame(page, 'all').first().getAttribute('transform')) ?? '';
    return Number(/,\s*([\d.]+)\)/.exec(transform)?.[1]);
  };
  expect(await rootY()).toBeGreaterThan(0);
  await page.getByTestId(TEST_IDS.orientation).getByRole('button', { name: 'Icicle' }).click();
  await expect(page.getByTestId(TEST_IDS.flameGraph)).toHaveAttribute('data-inverted', 'true');
  await expect.poll(rootY).toBe(0);
});

test('Export SVG downloads what is on screen as a standalone SVG', async ({ page }) => {
  await openWithWorkload(page);
  await page.getByTestId(TEST_IDS.searchInput).fill(WORKLOAD_FUNCTION);
  await setPaused(page, true);
  await frame(page, WORKLOAD_COMM).first().click();
  await expect(page.getByTestId(TEST_IDS.zoomPath)).toContainText(WORKLOAD_COMM);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(TEST_IDS.exportSvg).click()]);
  expect(download.suggestedFilename()).toMatch(/^probeboard-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.svg$/);
  const file = await download.path();
  const svg = readFileSync(file, 'utf8');

  expect(svg).toContain('<svg');
  expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
  expect(svg).toContain('probeboard: CPU flame graph');
  expect(svg).toMatch(/Total: [\d,]+ samples/);
  expect(svg).toContain(`zoomed: ${WORKLOAD_COMM}`);
  expect(svg).toMatch(new RegExp(`Matched “${WORKLOAD_FUNCTION}”: [\\d.]+%`));
  expect(svg).toMatch(new RegExp(`<title>${WORKLOAD_FUNCTION} \\([\\d,]+ samples, [\\d.]+%\\)</title>`));
  // Self-contained: the only script is embedded, nothing is fetched.
  expect(svg).toContain('<script');
  expect(svg).not.toMatch(/(?:href|src)="(?:https?:)?\/\//);
  expect(svg).not.toMatch(/url\((?:https?:)?\/\//);

  // Well-formed XML that a browser renders by itself.
  const check = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return { error: doc.querySelector('parsererror')?.textContent ?? null, root: doc.documentElement.nodeName, frames: doc.querySelectorAll('g.frame').length };
  }, svg);
  expect(check.error).toBeNull();
  expect(check.root).toBe('svg');
  expect(check.frames).toBeGreaterThan(2);

  // Opened alone in the browser, the file stays interactive: hover names a frame, click zooms.
  const alone = await page.context().newPage();
  // Playwright keeps downloads under extensionless names, which Chromium shows as text/plain: open a .svg copy.
  const svgFile = `${file}.svg`;
  copyFileSync(file, svgFile);
  await alone.goto(`file://${svgFile}`);
  const workloadFrame = alone.locator(`g.frame[data-name="${WORKLOAD_FUNCTION}"]`).first();
  await workloadFrame.hover();
  await expect(alone.locator('text.details')).toContainText(WORKLOAD_FUNCTION);
  await expect(alone.locator('text.reset-zoom')).toBeHidden();
  await workloadFrame.click();
  await expect(alone.locator('text.reset-zoom')).toBeVisible();
  await alone.close();
});

test('view and sampling controls reach the server; bad input is refused next to the field', async ({ page }) => {
  await openWithWorkload(page);

  // Kernel-only stacks: the workload's user function leaves the picture; back to all, it returns.
  await page.getByTestId(TEST_IDS.stackMode).selectOption('kernel');
  await expect(frame(page, WORKLOAD_FUNCTION)).toHaveCount(0, { timeout: 20_000 });
  await page.getByTestId(TEST_IDS.stackMode).selectOption('all');
  await expect(frame(page, WORKLOAD_FUNCTION).first()).toBeAttached({ timeout: 20_000 });
  await page.getByTestId(TEST_IDS.timeWindow).selectOption('all');
  await expect(page.getByTestId(TEST_IDS.viewError)).toHaveCount(0);

  // Per thread: the workload's root becomes comm-tid (its one thread is the process), and back.
  const perThreadRoot = `${WORKLOAD_COMM}-${workload.pid}`;
  await page.getByTestId(TEST_IDS.perThread).check();
  await expect(frame(page, perThreadRoot).first()).toBeAttached({ timeout: 20_000 });
  await expect(frame(page, WORKLOAD_COMM)).toHaveCount(0);
  await page.getByTestId(TEST_IDS.perThread).uncheck();
  await expect(frame(page, WORKLOAD_COMM).first()).toBeAttached({ timeout: 20_000 });
  await expect(frame(page, perThreadRoot)).toHaveCount(0);

  // Sample rate: out of range is refused before it is sent; a valid one is applied by the server.
  const hz = page.getByTestId(TEST_IDS.hzInput);
  await hz.fill('0');
  await page.getByTestId(TEST_IDS.hzApply).click();
  await expect(page.getByTestId(TEST_IDS.hzError)).toContainText('sample rate');
  await hz.fill('49');
  await page.getByTestId(TEST_IDS.hzApply).click();
  await expect(page.getByTestId(TEST_IDS.hzError)).toHaveCount(0);
  await expect(hz).toHaveValue('49');
  await expect(page.getByTestId(TEST_IDS.hzApply)).toBeDisabled();

  // A command name longer than the kernel keeps.
  await page.getByTestId(TEST_IDS.targetKind).selectOption('comm');
  await page.getByTestId(TEST_IDS.targetComm).fill('a-command-name-too-long');
  await page.getByTestId(TEST_IDS.targetApply).click();
  await expect(page.getByTestId(TEST_IDS.targetError)).toContainText('15 bytes');

  // Only the workload: its frames stay, the others go.
  await page.getByTestId(TEST_IDS.targetComm).fill(WORKLOAD_COMM);
  await page.getByTestId(TEST_IDS.targetApply).click();
  await expect(page.getByTestId(TEST_IDS.targetError)).toHaveCount(0);
  await expect(page.getByTestId(TEST_IDS.targetApply)).toBeDisabled();
  await expect(frame(page, 'node')).toHaveCount(0, { timeout: 30_000 });
  await expect(frame(page, WORKLOAD_COMM).first()).toBeAttached({ timeout: 30_000 });

  // Stop and start.
  const startStop = page.getByTestId(TEST_IDS.startStop);
  await startStop.click();
  await expect(startStop).toHaveAttribute('data-running', 'false');
  await startStop.click();
  await expect(startStop).toHaveAttribute('data-running', 'true');

  // Leave the shared settings as the other tests expect them.
  await page.getByTestId(TEST_IDS.targetKind).selectOption('all');
  await page.getByTestId(TEST_IDS.targetApply).click();
  await hz.fill('99');
  await page.getByTestId(TEST_IDS.hzApply).click();
  await expect(hz).toHaveValue('99');
  await expect(page.getByTestId(TEST_IDS.targetApply)).toBeDisabled();
});

/**
 * The flame graph panel in chromium (components/ui/testing/mount.ts), with d3-flame-graph
 * drawing a given tree: every frame appears at its share of the width, search highlights the
 * matches and reports their share, a click zooms (Reset zoom undoes it), hover names a frame
 * with its samples or time; the export menu asks the export route for this view (live) or makes
 * the file in the page (paused).
 */
import { SEARCH_HIGHLIGHT } from '../../lib/flame/colors.ts';
import type { FlameNode } from '../../lib/protocol.ts';
import { RECORDING_TEST_IDS, TEST_IDS } from '../../lib/test-ids.ts';
import { FLAME_FORMAT_LABELS, FLAME_FORMATS } from './files.ts';
import { expect, sceneFile, test } from '../ui/testing/mount.ts';
import type { Download, Page } from '@playwright/test';

const SCENES = sceneFile(import.meta.url, './FlamePanel.scenes.tsx');

/**
 * 200 samples: main (200) calls parse (50) and work (150); work spends 90 in compute, 40 in the
 * kernel's read and 20 in itself.
 */
const TREE: FlameNode = {
  n: 'all',
  v: 200,
  c: [
    {
      n: 'app',
      v: 200,
      k: 'p',
      c: [
        {
          n: 'main',
          v: 200,
          k: 'u',
          c: [
            { n: 'parse', v: 50, k: 'u' },
            {
              n: 'work',
              v: 150,
              k: 'u',
              c: [
                { n: 'compute', v: 90, k: 'u' },
                { n: 'read', v: 40, k: 'k' },
              ],
            },
          ],
        },
      ],
    },
  ],
};

/** The same shape in µs of time (an off-CPU profile): every value × 1000. */
function inMicros(node: FlameNode): FlameNode {
  return { ...node, v: node.v * 1000, ...(node.c && { c: node.c.map(inMicros) }) };
}

const frame = (page: Page, name: string) => page.locator(`[data-testid="${TEST_IDS.flameGraph}"] g.frame[name="${name}"]`);
const widthOf = async (page: Page, name: string) => Number(await frame(page, name).locator('rect').getAttribute('width'));

test('every frame of the tree appears, each as wide as its share of its parent', async ({ page, mountScene }) => {
  await mountScene(SCENES, 'Panel', { tree: TREE });
  for (const name of ['all', 'app', 'main', 'parse', 'work', 'compute', 'read']) await expect(frame(page, name), `frame ${name}`).toHaveCount(1);
  await expect(page.getByTestId(TEST_IDS.flameEmpty)).toHaveCount(0);
  await expect(page.getByTestId(TEST_IDS.totalSamples)).toContainText('200');
  const main = await widthOf(page, 'main');
  const shares = { work: (await widthOf(page, 'work')) / main, parse: (await widthOf(page, 'parse')) / main, compute: (await widthOf(page, 'compute')) / main };
  expect(shares.work, `work/main widths ${JSON.stringify(shares)}`).toBeCloseTo(0.75, 2);
  expect(shares.parse, `parse/main widths ${JSON.stringify(shares)}`).toBeCloseTo(0.25, 2);
  expect(shares.compute, `compute/main widths ${JSON.stringify(shares)}`).toBeCloseTo(0.45, 2);
});

test('without a frame the panel shows its empty message and no frames', async ({ page, mountScene }) => {
  await mountScene(SCENES, 'Panel', { tree: null });
  await expect(page.getByTestId(TEST_IDS.flameEmpty)).toHaveText('No samples in this window.');
  await expect(page.locator(`[data-testid="${TEST_IDS.flameGraph}"] g.frame`)).toHaveCount(0);
});

test('search highlights the matching frames only and reports their share; a /regex/ matches by pattern', async ({ page, mountScene }) => {
  await mountScene(SCENES, 'Panel', { tree: TREE });
  await page.getByTestId(TEST_IDS.searchInput).fill('work');
  const share = page.getByTestId(TEST_IDS.searchShare);
  await expect(share).toHaveText('75.0% of samples (150)');
  await expect(frame(page, 'work').locator('rect')).toHaveAttribute('fill', SEARCH_HIGHLIGHT);
  for (const name of ['main', 'parse', 'compute']) await expect(frame(page, name).locator('rect'), `frame ${name}`).not.toHaveAttribute('fill', SEARCH_HIGHLIGHT);

  await page.getByTestId(TEST_IDS.searchInput).fill('/^(parse|compute)$/');
  // 50 + 90 of 200.
  await expect(share).toHaveText('70.0% of samples (140)');
  for (const name of ['parse', 'compute']) await expect(frame(page, name).locator('rect'), `frame ${name}`).toHaveAttribute('fill', SEARCH_HIGHLIGHT);
  await expect(frame(page, 'work').locator('rect')).not.toHaveAttribute('fill', SEARCH_HIGHLIGHT);

  await page.getByTestId(TEST_IDS.searchInput).fill('');
  await expect(share).toHaveCount(0);
  await expect(frame(page, 'parse').locator('rect')).not.toHaveAttribute('fill', SEARCH_HIGHLIGHT);
});

test('a click zooms into the frame (it fills the width, its path is shown and reported); Reset zoom restores', async ({ page, mountScene }) => {
  await mountScene(SCENES, 'Panel', { tree: TREE });
  const fullWidth = await widthOf(page, 'all');
  const before = await widthOf(page, 'work');
  await frame(page, 'work').click();
  await expect(page.getByTestId('event-log').locator('li')).toHaveText(['zoom app/main/work']);
  await expect(page.getByTestId(TEST_IDS.zoomPath)).toHaveText('zoomed: all › app › main › work');
  await expect.poll(() => widthOf(page, 'work'), { message: `work's width zoomed (the graph is ${fullWidth} px wide, work was ${before} px)` }).toBeCloseTo(fullWidth, 0);
  // compute keeps its share of work: 90 / 150.
  expect((await widthOf(page, 'compute')) / (await widthOf(page, 'work'))).toBeCloseTo(0.6, 2);

  await page.getByTestId(TEST_IDS.resetZoom).click();
  await expect(page.getByTestId(TEST_IDS.zoomPath)).toHaveCount(0);
  await expect.poll(() => widthOf(page, 'work'), { message: `work's width after Reset zoom (was ${before} px)` }).toBeCloseTo(before, 0);
  await expect(page.getByTestId('event-log').locator('li')).toHaveText(['zoom app/main/work', 'zoom ']);
});

test('hover shows the frame\'s name, kind, samples and self samples with their shares', async ({ page, mountScene }) => {
  await mountScene(SCENES, 'Panel', { tree: TREE });
  const tooltip = page.getByTestId(TEST_IDS.tooltip);
  await frame(page, 'work').hover();
  await expect(tooltip).toBeVisible();
  await expect(tooltip.locator('div').first()).toHaveText('work');
  await expect(tooltip).toContainText('user');
  await expect(page.getByTestId(TEST_IDS.tooltipValue)).toHaveText('150 (75.0% of all)');
  // Self: 150 - 90 - 40.
  await expect(tooltip).toContainText('20 (10.0%)');

  await frame(page, 'read').hover();
  await expect(tooltip.locator('div').first()).toHaveText('read');
  await expect(tooltip).toContainText('kernel');
  await expect(page.getByTestId(TEST_IDS.tooltipValue)).toHaveText('40 (20.0% of all)');
});

test('an off-CPU profile says time, not samples, in the tooltip and the search share', async ({ page, mountScene }) => {
  await mountScene(SCENES, 'Panel', { tree: inMicros(TREE), type: 'offcpu' });
  await frame(page, 'compute').hover();
  await expect(page.getByTestId(TEST_IDS.tooltipValue)).toHaveText('90.0 ms (45.0% of all)');
  await expect(page.getByTestId(TEST_IDS.tooltipValue)).toHaveAttribute('data-unit', 'us');
  await page.getByTestId(TEST_IDS.searchInput).fill('compute');
  await expect(page.getByTestId(TEST_IDS.searchShare)).toHaveText('45.0% of time (90.0 ms)');
});

async function downloadedText(download: Download): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await download.createReadStream()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

test.describe('export menu', () => {
  const exportMenu = (page: Page) => page.getByTestId(RECORDING_TEST_IDS.exportMenu);

  test('live: a format downloads from the server\'s export route for this view; the menu closes onto its button', async ({ page, mountScene }) => {
    await mountScene(SCENES, 'Panel', { tree: TREE, exportSession: 'main' });
    // The download link the menu clicks, caught before it leaves the page: the test has no server
    // (e2e/recording.spec.ts downloads and parses the real route's files).
    await page.evaluate(() => {
      const caught: string[] = [];
      Object.assign(window, { __downloadLinks: caught });
      document.addEventListener(
        'click',
        (e) => {
          if (e.target instanceof HTMLAnchorElement && e.target.hasAttribute('download')) {
            caught.push(e.target.href);
            e.preventDefault();
          }
        },
        true,
      );
    });
    await expect(exportMenu(page)).toHaveAttribute('aria-haspopup', 'menu');
    await exportMenu(page).click();
    const menu = page.getByRole('menu', { name: 'Export ▾' });
    await expect(menu.getByRole('menuitem')).toHaveText(FLAME_FORMATS.map((format) => FLAME_FORMAT_LABELS[format]));
    await expect(page.getByText('This view (last 10s, all stacks) from the server:')).toBeVisible();

    await menu.locator('[data-format="folded"]').click();
    const links = await page.evaluate(() => (window as unknown as { __downloadLinks: string[] }).__downloadLinks);
    expect(links).toEqual(['http://components.test/api/sessions/main/export?kind=flame&format=folded&window=10s&stackMode=all&hideIdle=1']);
    await expect(page.getByRole('menu')).toHaveCount(0);
    await expect(exportMenu(page)).toBeFocused();
  });

  test('paused: the page makes the file from the frame on screen (folded stacks of the given tree)', async ({ page, mountScene }) => {
    await mountScene(SCENES, 'Panel', { tree: TREE, exportSession: 'main' });
    await page.getByTestId(TEST_IDS.pauseView).click();
    await exportMenu(page).click();
    await expect(page.getByText('The paused picture, as on screen (made in this page):')).toBeVisible();
    // Keyboard: the focus starts on the first format; ArrowDown moves to the second (folded).
    await expect(page.locator('[data-format="svg"]')).toBeFocused();
    await page.keyboard.press('ArrowDown');
    await expect(page.locator('[data-format="folded"]')).toBeFocused();
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    expect(download.suggestedFilename(), 'file name').toMatch(/^probeboard-main-flame-.*\.folded$/);
    // Kernel frames carry `_[k]` (the folded format's annotation, as flamegraph.pl reads it).
    const lines = (await downloadedText(download)).trim().split('\n').sort();
    expect(lines).toEqual(['app;main;parse 50', 'app;main;work 20', 'app;main;work;compute 90', 'app;main;work;read_[k] 40']);
    await expect(page.getByRole('menu')).toHaveCount(0);
  });
});

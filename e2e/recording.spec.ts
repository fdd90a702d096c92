/**
 * Recording, replay, exports, snapshots and compare, end to end: the real server
 * (playwright.config.ts), the real kernel, Debian's chromium. Steps run in order on one session
 * the spec creates through the Sessions menu, so its "since start" window is exactly what it
 * recorded. Needs root (the server loads BPF programs).
 *
 * (a) Record from the session's first interval (sampling stopped, record, start, stop), replay at
 *     4x in a new tab from the Recordings menu, and once the replay is at its end its flame graph
 *     (the export route's folded text, window=all) must equal the live session's.
 * (b) Every flame format from the export menu, parsed back; a latency panel's exports.
 * (c) Two pinned flame snapshots, compared: diff frames are red where they grew and blue where
 *     they shrank (checked against each frame's own before/after numbers), and the SVG parses.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Browser, type BrowserContext, type Download, type Page } from '@playwright/test';
import { E2E_PORT, E2E_TOKEN } from '../playwright.config.ts';
import { LATENCY_TEST_IDS, RECORDING_TEST_IDS, SESSION_TEST_IDS, TEST_IDS } from '../lib/test-ids.ts';
import { checkXml } from '../lib/flame/xml-check.ts';
import { decodePprof, foldedOfPprof } from '../lib/flame/pprof-reader.ts';
import { SPEEDSCOPE_SCHEMA } from '../lib/flame/speedscope.ts';
import { startWorkload, WORKLOAD_COMM, WORKLOAD_FUNCTION, type Workload } from './fixtures/workload.ts';

const BASE = `http://127.0.0.1:${E2E_PORT}`;

test.describe.configure({ mode: 'serial' });

let workload: Workload;
let context: BrowserContext;
let main: Page;
/** The session this spec created (and records). */
let page: Page;
let sessionId = '';
const stamp = Date.now().toString(36);
const SESSION_NAME = `e2e rec ${stamp}`;
const RECORDING_NAME = `e2e recording ${stamp}`;

const frame = (p: Page, name: string) => p.locator(`[data-testid="${TEST_IDS.flameGraph}"] g.frame[name="${name}"]`);

async function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({
    baseURL: BASE,
    acceptDownloads: true,
    viewport: { width: 1400, height: 900 },
    storageState: {
      cookies: [{ name: 'pb_token', value: E2E_TOKEN, domain: '127.0.0.1', path: '/', expires: -1, httpOnly: true, secure: false, sameSite: 'Strict' }],
      origins: [],
    },
  });
}

/** The session's flame graph as folded text, from the export route (the context's cookie authorizes it). */
async function exportedFolded(id: string): Promise<string> {
  const response = await context.request.get(`/api/sessions/${encodeURIComponent(id)}/export?kind=flame&format=folded&window=all&hideIdle=0`);
  expect(response.status(), await response.text().catch(() => '')).toBe(200);
  return response.text();
}

async function downloaded(p: Page, click: () => Promise<void>): Promise<{ download: Download; bytes: Buffer }> {
  const [download] = await Promise.all([p.waitForEvent('download', { timeout: 30_000 }), click()]);
  const path = await download.path();
  expect(path, `download ${download.suggestedFilename()} failed: ${await download.failure()}`).toBeTruthy();
  return { download, bytes: readFileSync(path!) };
}

async function setRunning(p: Page, running: boolean) {
  const button = p.getByTestId(TEST_IDS.startStop);
  await expect(button).toBeEnabled();
  if ((await button.getAttribute('data-running')) !== String(running)) await button.click();
  await expect(button).toHaveAttribute('data-running', String(running), { timeout: 30_000 });
}

async function setPaused(p: Page, paused: boolean) {
  const button = p.getByTestId(TEST_IDS.pauseView);
  if ((await button.getAttribute('aria-pressed')) !== String(paused)) await button.click();
  await expect(button).toHaveAttribute('aria-pressed', String(paused));
}

const numberIn = async (p: Page, testId: string) => Number((await p.getByTestId(testId).innerText()).replace(/[^\d]/g, ''));

test.beforeAll(async ({ browser }) => {
  test.skip(process.getuid?.() !== 0 && process.env.CI !== 'true', 'the e2e tests need root: the server loads BPF programs (in CI they run, and fail, without it)');
  workload = startWorkload();
  context = await newContext(browser);
  main = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
  workload?.stop();
});

test('(a) record a new session from its start, replay it at 4x: the replay ends with the same flame graph', async () => {
  test.setTimeout(240_000);
  await main.goto('/');
  await expect(main.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'connected');

  // A new session through the Sessions menu (it opens in a new tab).
  await main.getByTestId(SESSION_TEST_IDS.sessionsOpen).click();
  await main.getByTestId(SESSION_TEST_IDS.sessionsName).fill(SESSION_NAME);
  const [opened] = await Promise.all([context.waitForEvent('page'), main.getByTestId(SESSION_TEST_IDS.sessionsCreate).click()]);
  page = opened;
  await main.keyboard.press('Escape');
  await expect(page.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId(SESSION_TEST_IDS.name)).toHaveText(SESSION_NAME);
  sessionId = (await page.getByTestId(SESSION_TEST_IDS.name).getAttribute('data-id'))!;
  expect(sessionId).not.toBe('main');
  await page.getByTestId(TEST_IDS.timeWindow).selectOption('all');

  // Stop sampling, record, start sampling: a restart clears the window, so "since start" = the recording.
  await setRunning(page, false);
  await page.getByTestId(RECORDING_TEST_IDS.recordOpen).click();
  await page.getByTestId(RECORDING_TEST_IDS.recordName).fill(RECORDING_NAME);
  await page.getByTestId(RECORDING_TEST_IDS.recordStart).click();
  const indicator = page.getByTestId(RECORDING_TEST_IDS.recIndicator);
  await expect(indicator).toContainText(/REC 00:0\d/);
  const recordingId = (await indicator.getAttribute('data-recording-id'))!;
  // Every page of the session sees it (another tab of the same session).
  const second = await context.newPage();
  await second.goto(`/?session=${sessionId}`);
  await expect(second.getByTestId(RECORDING_TEST_IDS.recIndicator)).toHaveAttribute('data-recording-id', recordingId);
  await second.close();

  await setRunning(page, true);
  await expect(frame(page, WORKLOAD_COMM).first()).toBeVisible({ timeout: 30_000 });
  const seq = await numberIn(page, TEST_IDS.frameSeq);
  await expect.poll(() => numberIn(page, TEST_IDS.frameSeq), { timeout: 30_000 }).toBeGreaterThan(seq + 3);
  await expect(indicator).not.toContainText('REC 00:00');
  await setRunning(page, false);

  // Wait until the live picture stops changing (a last interval may still arrive), then stop.
  let previous = '';
  await expect
    .poll(
      async () => {
        const now = await exportedFolded(sessionId);
        const same = now === previous && now.includes(WORKLOAD_COMM);
        previous = now;
        return same;
      },
      { timeout: 30_000, intervals: [1500] },
    )
    .toBe(true);
  await page.getByTestId(RECORDING_TEST_IDS.recordStop).click();
  await expect(indicator).toHaveCount(0);
  const liveFolded = await exportedFolded(sessionId);
  expect(liveFolded).toBe(previous);
  expect(liveFolded).toContain(WORKLOAD_FUNCTION);

  // The recording is listed; replay it at 4x in a new tab.
  await page.getByTestId(RECORDING_TEST_IDS.recordingsOpen).click();
  const item = page.locator(`[data-testid="${RECORDING_TEST_IDS.recordingItem}"][data-id="${recordingId}"]`);
  await expect(item).toHaveAttribute('data-running', 'false');
  await expect(item).toContainText(RECORDING_NAME);
  await expect(item).toContainText(/updates/);
  await page.getByTestId(RECORDING_TEST_IDS.recordingsList).locator('..').getByRole('button', { name: '4x' }).click();
  const [replayPage] = await Promise.all([context.waitForEvent('page'), item.getByTestId(RECORDING_TEST_IDS.recordingReplay).click()]);
  await page.keyboard.press('Escape');

  await expect(replayPage.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'connected');
  const bar = replayPage.getByTestId(RECORDING_TEST_IDS.replayBar);
  await expect(bar).toBeVisible();
  await expect(replayPage.getByTestId(RECORDING_TEST_IDS.replayBadge)).toHaveText(`REPLAY of ${RECORDING_NAME}`);
  await expect(bar).toHaveAttribute('data-speed', '4');
  const replayId = (await replayPage.getByTestId(SESSION_TEST_IDS.name).getAttribute('data-id'))!;
  // Probe controls are off in a replay; no Record button.
  await expect(replayPage.getByTestId(TEST_IDS.startStop)).toBeDisabled();
  await expect(replayPage.getByTestId(LATENCY_TEST_IDS.specInput)).toHaveCount(0);
  await expect(replayPage.getByTestId(RECORDING_TEST_IDS.recordOpen)).toHaveCount(0);
  await replayPage.getByTestId(TEST_IDS.timeWindow).selectOption('all');
  await expect(frame(replayPage, WORKLOAD_COMM).first()).toBeVisible({ timeout: 60_000 });

  await expect(bar).toHaveAttribute('data-at-end', 'true', { timeout: 120_000 });
  expect(await exportedFolded(replayId)).toBe(liveFolded);

  // Transport: seek back to the start (the picture empties), then play to the end again.
  await replayPage.getByTestId(RECORDING_TEST_IDS.replaySeek).focus();
  await replayPage.keyboard.press('Home');
  await expect(bar).toHaveAttribute('data-position', /^\d{1,3}$/);
  await expect.poll(async () => (await exportedFolded(replayId)).length, { timeout: 20_000 }).toBeLessThan(liveFolded.length);
  await replayPage.getByTestId(RECORDING_TEST_IDS.replayPlay).click();
  await expect(bar).toHaveAttribute('data-at-end', 'true', { timeout: 120_000 });
  expect(await exportedFolded(replayId)).toBe(liveFolded);
  await replayPage.close();
});

test('(b) the export menu downloads every flame format, each parses back; a latency panel exports its histogram and heatmap', async () => {
  test.setTimeout(180_000);
  await setRunning(page, true);
  // Restarting sampling cleared the window: wait for the server's picture to have the workload again.
  await expect.poll(async () => (await exportedFolded(sessionId)).includes(WORKLOAD_FUNCTION), { timeout: 30_000 }).toBe(true);
  await expect(frame(page, WORKLOAD_COMM).first()).toBeVisible({ timeout: 30_000 });
  const pick = (format: string) => async () => {
    await page.getByTestId(RECORDING_TEST_IDS.exportMenu).click();
    await page.locator(`[data-testid="${RECORDING_TEST_IDS.exportFormat}"][data-format="${format}"]`).click();
  };

  const svg = (await downloaded(page, pick('svg'))).bytes.toString('utf8');
  expect(checkXml(svg)).toBeNull();
  expect(svg).toMatch(/<g class="frame/);
  expect(svg).toContain(WORKLOAD_COMM);

  const { download: foldedFile, bytes: foldedBytes } = await downloaded(page, pick('folded'));
  expect(foldedFile.suggestedFilename()).toMatch(/\.folded$/);
  const lines = foldedBytes.toString('utf8').trim().split('\n');
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line).toMatch(/^\S.* \d+$/);
  expect(lines.some((l) => l.startsWith(`${WORKLOAD_COMM};`) && l.includes(WORKLOAD_FUNCTION))).toBe(true);

  const json = JSON.parse((await downloaded(page, pick('json'))).bytes.toString('utf8')) as { name: string; value: number; children: { name: string }[] };
  expect(json.name).toBe('all');
  expect(json.value).toBeGreaterThan(0);
  expect(json.children.map((c) => c.name)).toContain(WORKLOAD_COMM);

  const speedscope = JSON.parse((await downloaded(page, pick('speedscope'))).bytes.toString('utf8')) as { $schema: string; shared: { frames: { name: string }[] }; profiles: unknown[] };
  expect(speedscope.$schema).toBe(SPEEDSCOPE_SCHEMA);
  expect(speedscope.shared.frames.map((f) => f.name)).toContain(WORKLOAD_FUNCTION);
  expect(speedscope.profiles.length).toBeGreaterThan(0);

  const { download: pprofFile, bytes: pprofBytes } = await downloaded(page, pick('pprof'));
  expect(pprofFile.suggestedFilename()).toMatch(/\.pb\.gz$/);
  expect([pprofBytes[0], pprofBytes[1]]).toEqual([0x1f, 0x8b]);
  const profile = decodePprof(new Uint8Array(pprofBytes));
  expect(foldedOfPprof(profile)).toContain(`${WORKLOAD_COMM};`);
  expect(profile.string_table).toContain(WORKLOAD_FUNCTION);

  // Paused: the menu exports the frozen picture, made in the page (here: pprof, gzipped by the browser).
  await setPaused(page, true);
  const frozen = decodePprof(new Uint8Array((await downloaded(page, pick('pprof'))).bytes));
  expect(frozen.string_table).toContain(WORKLOAD_FUNCTION);
  await setPaused(page, false);

  // The on-screen SVG (client-side renderer) still works from its own button.
  const onScreen = (await downloaded(page, () => page.getByTestId(TEST_IDS.exportSvg).click())).bytes.toString('utf8');
  expect(checkXml(onScreen)).toBeNull();

  // A latency probe: histogram and heatmap in JSON, CSV and SVG from its panel.
  await page.getByTestId(LATENCY_TEST_IDS.specInput).fill('syscall:read');
  await page.getByTestId(LATENCY_TEST_IDS.specAdd).click();
  const panel = page.locator(`[data-testid="${LATENCY_TEST_IDS.panel}"][data-spec="syscall:read"]`);
  await expect(panel).toHaveCount(1);
  await expect.poll(async () => Number(await panel.getByTestId(LATENCY_TEST_IDS.percentiles).getAttribute('data-count')), { timeout: 30_000 }).toBeGreaterThan(0);
  for (const kind of ['histogram', 'heatmap'] as const) {
    for (const format of ['json', 'csv', 'svg'] as const) {
      const { bytes } = await downloaded(page, async () => {
        await panel.getByTestId(RECORDING_TEST_IDS.latencyExport).click();
        await panel.locator(`[data-testid="${RECORDING_TEST_IDS.exportFormat}"][data-kind="${kind}"][data-format="${format}"]`).click();
      });
      const text = bytes.toString('utf8');
      if (format === 'json') expect(typeof JSON.parse(text)).toBe('object');
      if (format === 'csv') expect(text.split('\n')[0]).toBe(kind === 'histogram' ? 'low_ns,high_ns,count' : 'time_ms,low_ns,high_ns,count');
      if (format === 'svg') expect(checkXml(text), `${kind} svg`).toBeNull();
    }
  }
  await panel.getByTestId(LATENCY_TEST_IDS.remove).click();
  await expect(panel).toHaveCount(0);
});

test('(c) two pinned flame snapshots compare as a differential flame graph (red grew, blue shrank); its SVG downloads', async () => {
  test.setTimeout(180_000);
  await expect(frame(page, WORKLOAD_COMM).first()).toBeVisible({ timeout: 30_000 });
  await page.getByTestId(TEST_IDS.timeWindow).selectOption('10s');
  const pin = async (name: string) => {
    await page.getByTestId(RECORDING_TEST_IDS.flamePin).click();
    await page.getByTestId(RECORDING_TEST_IDS.pinName).fill(name);
    await page.getByTestId(RECORDING_TEST_IDS.pinSave).click();
    await expect(page.getByTestId(RECORDING_TEST_IDS.pinName)).toHaveCount(0);
  };
  const before = `e2e before ${stamp}`;
  const after = `e2e after ${stamp}`;
  await pin(before);
  const seq = await numberIn(page, TEST_IDS.frameSeq);
  await expect.poll(() => numberIn(page, TEST_IDS.frameSeq), { timeout: 30_000 }).toBeGreaterThan(seq + 3);
  await pin(after);

  await page.getByTestId(RECORDING_TEST_IDS.snapshotsOpen).click();
  const row = (name: string) => page.locator(`[data-testid="${RECORDING_TEST_IDS.snapshotItem}"][data-name="${name}"]`);
  await expect(row(before)).toHaveAttribute('data-kind', 'flame');
  await expect(row(after)).toHaveAttribute('data-kind', 'flame');

  // View one: drawn with the flame graph component, downloadable.
  await row(after).getByTestId(RECORDING_TEST_IDS.snapshotView).click();
  await expect(page.locator(`[data-testid="${RECORDING_TEST_IDS.snapshotFlame}"] g.frame[name="${WORKLOAD_COMM}"]`).first()).toBeAttached();
  const snapshotSvg = (await downloaded(page, () => page.getByTestId(RECORDING_TEST_IDS.snapshotDownload).click())).bytes.toString('utf8');
  expect(checkXml(snapshotSvg)).toBeNull();

  await row(before).getByTestId(RECORDING_TEST_IDS.snapshotA).check();
  await row(after).getByTestId(RECORDING_TEST_IDS.snapshotB).check();
  await page.getByTestId(RECORDING_TEST_IDS.snapshotsCompare).click();
  const graph = page.getByTestId(RECORDING_TEST_IDS.compareGraph);
  await expect(graph.locator('g.frame').first()).toBeAttached({ timeout: 20_000 });
  await expect(page.getByTestId(RECORDING_TEST_IDS.compareNormalize)).toBeChecked();

  // Every frame: red when after > before, blue when after < before (from its own tooltip numbers).
  const frames = await graph.locator('g.frame').evaluateAll((gs) =>
    gs.map((g) => ({ title: g.querySelector('title')?.textContent ?? '', fill: g.querySelector('rect')?.getAttribute('fill') ?? '' })),
  );
  let red = 0;
  let blue = 0;
  for (const { title, fill } of frames) {
    const numbers = /\(([\d,.]+) samples, [^;]*; before ([\d,.]+);/.exec(title);
    const rgb = /rgb\((\d+),(\d+),(\d+)\)/.exec(fill);
    if (!numbers || !rgb) continue;
    const afterSamples = Number(numbers[1].replace(/,/g, ''));
    const beforeSamples = Number(numbers[2].replace(/,/g, ''));
    const [r, , b] = [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])];
    if (r > b) {
      red++;
      expect(afterSamples, title).toBeGreaterThanOrEqual(beforeSamples);
    } else if (b > r) {
      blue++;
      expect(afterSamples, title).toBeLessThanOrEqual(beforeSamples);
    }
  }
  expect(red, 'frames that grew').toBeGreaterThan(0);
  expect(blue, 'frames that shrank').toBeGreaterThan(0);

  // Hover shows before/after/delta.
  await graph.locator('g.frame').first().hover();
  await expect(page.getByTestId(RECORDING_TEST_IDS.compareHover)).toContainText('before');

  const diffSvg = (await downloaded(page, () => page.getByTestId(RECORDING_TEST_IDS.compareDownload).click())).bytes.toString('utf8');
  expect(checkXml(diffSvg)).toBeNull();
  expect(diffSvg).toMatch(/<g class="frame/);
  expect(diffSvg).toContain('red grew, blue shrank');

  // Close the spec's session (the others expect few sessions).
  await main.getByTestId(SESSION_TEST_IDS.sessionsOpen).click();
  main.once('dialog', (dialog) => void dialog.accept());
  await main.locator(`[data-testid="${SESSION_TEST_IDS.sessionItem}"][data-id="${sessionId}"]`).getByTestId(SESSION_TEST_IDS.sessionsClose).click();
  await expect(page.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'closed');
});

/**
 * Profile types end to end (issue 14): the real server (playwright.config.ts), the real kernel
 * and Debian's chromium. A C workload (e2e/fixtures/sleeper.c) runs 1 ms in `pb_e2e_work` and
 * sleeps 3 ms in `pb_e2e_wait`, over and over. The operator switches the `main` session to
 * Off-CPU and then to Wall; a viewer page (a viewer link, in follow mode) switches with it; bad
 * filters are refused next to their field; the pprof export of an off-CPU profile carries
 * `offcpu`/`microseconds`. Steps run in order on the same two pages; the last one puts the
 * session back at cpu, all processes, 99 Hz, as the other specs expect.
 * Needs root (the server loads BPF programs).
 */
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { io, type Socket } from 'socket.io-client';
import { E2E_PORT, E2E_TOKEN } from '../playwright.config.ts';
import { SESSION_TEST_IDS, TEST_IDS } from '../lib/test-ids.ts';
import { decodePprof, foldedOfPprof } from '../lib/flame/pprof-reader.ts';
import type { ViewerLinkCreated } from '../lib/protocol-session.ts';
import { SLEEPER_COMM, SLEEPER_WAIT, SLEEPER_WORK, startSleeper, type Sleeper } from './fixtures/sleeper.ts';

const BASE = `http://127.0.0.1:${E2E_PORT}`;

test.describe.configure({ mode: 'serial' });

let sleeper: Sleeper;
let operatorContext: BrowserContext;
let viewerContext: BrowserContext;
let operator: Page;
let viewer: Page;
/** The operator's socket that made the viewer link (and revokes it at the end). */
let control: Socket;
let linkId = '';

const frame = (page: Page, name: string) => page.locator(`[data-testid="${TEST_IDS.flameGraph}"] g.frame[name="${name}"]`);
const panel = (page: Page) => page.locator('section[data-focus-panel="profile"]');

async function newContext(browser: Browser, withToken: boolean): Promise<BrowserContext> {
  return browser.newContext({
    baseURL: BASE,
    viewport: { width: 1400, height: 900 },
    storageState: {
      cookies: withToken
        ? [{ name: 'pb_token', value: E2E_TOKEN, domain: '127.0.0.1', path: '/', expires: -1, httpOnly: true, secure: false, sameSite: 'Strict' }]
        : [],
      origins: [],
    },
  });
}

/** A request on a socket.io client; a missing reply (a closed socket) fails within 10 s rather than hanging. */
function ask<T>(socket: Socket, event: string, payload: unknown): Promise<{ ok: boolean; value?: T; error?: string }> {
  return new Promise((resolve) =>
    socket.timeout(10_000).emit(event, payload, (error: Error | null, reply: { ok: boolean; value?: T; error?: string }) =>
      resolve(error ? { ok: false, error: `no reply to ${event} (connected: ${socket.connected}): ${error.message}` } : reply),
    ),
  );
}

async function setPaused(page: Page, paused: boolean) {
  const button = page.getByTestId(TEST_IDS.pauseView);
  await expect(async () => {
    if ((await button.getAttribute('aria-pressed')) !== String(paused)) await button.click();
    await expect(button).toHaveAttribute('aria-pressed', String(paused), { timeout: 2000 });
  }).toPass({ timeout: 20_000 });
}

/** Sets the target through the sampling controls and waits for the server to take it. */
async function setTarget(page: Page, target: { kind: 'all' } | { kind: 'comm'; comm: string } | { kind: 'pid'; pid: number }) {
  await page.getByTestId(TEST_IDS.targetKind).selectOption(target.kind);
  if (target.kind === 'comm') await page.getByTestId(TEST_IDS.targetComm).fill(target.comm);
  if (target.kind === 'pid') await page.getByTestId(TEST_IDS.targetPid).fill(String(target.pid));
  await page.getByTestId(TEST_IDS.targetApply).click();
  await expect(page.getByTestId(TEST_IDS.targetError)).toHaveCount(0);
  await expect(page.getByTestId(TEST_IDS.targetApply)).toBeDisabled();
}

test.beforeAll(async ({ browser }) => {
  test.skip(process.getuid?.() !== 0 && process.env.CI !== 'true', 'the e2e tests need root: the server loads BPF programs (in CI they run, and fail, without it)');
  sleeper = startSleeper();
  operatorContext = await newContext(browser, true);
  viewerContext = await newContext(browser, false);
  operator = await operatorContext.newPage();
  viewer = await viewerContext.newPage();
  control = io(BASE, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: E2E_TOKEN, session: 'main' } });
  // Acknowledge every flow-controlled message as a dashboard does: the hub disconnects a client
  // that stops acknowledging (a latency probe an earlier spec left in the list sends frames too).
  for (const event of ['profile:frame', 'latency:frame', 'events:batch']) control.on(event, (_message: unknown, ack: () => void) => ack());
});

test.afterAll(async () => {
  // Whatever happened, the session goes back to the defaults and the link goes away.
  if (control?.connected) {
    await ask(control, 'profile:configure', { type: 'cpu', target: { kind: 'all' }, hz: 99, offcpu: { wakers: false, minBlockUs: 1, maxBlockUs: null, state: 'all' } });
    if (linkId) await ask(control, 'link:revoke', { id: linkId });
  }
  control?.close();
  await operatorContext?.close();
  await viewerContext?.close();
  sleeper?.stop();
});

test('(a) switching the session to Off-CPU shows where the workload sleeps, for the operator and a following viewer; hover shows time', async () => {
  await operator.goto('/');
  await expect(operator.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'connected');
  await expect(operator.getByTestId(TEST_IDS.profileType)).toHaveValue('cpu');

  // A viewer in follow mode, through a viewer link made by the operator's socket.
  const created = await ask<ViewerLinkCreated>(control, 'link:create', { label: 'e2e offcpu viewer', minutes: 15 });
  expect(created.ok, `link:create: ${created.error}`).toBe(true);
  linkId = created.value!.id;
  await viewer.goto(created.value!.path);
  await expect(viewer.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'connected');
  await expect(viewer.getByTestId(SESSION_TEST_IDS.role)).toHaveAttribute('data-role', 'viewer');
  await expect(viewer.getByTestId(SESSION_TEST_IDS.follow)).toHaveAttribute('data-following', 'true');
  await expect(viewer.getByTestId(TEST_IDS.profileType)).toBeDisabled();

  // Off-CPU of every process: the workload's waiting function is in the picture (searched:
  // among every sleeping thread of the machine it may be too thin to draw as an SVG frame).
  await operator.getByTestId(TEST_IDS.profileType).selectOption('offcpu');
  await expect(operator.getByTestId(TEST_IDS.profileTypeError)).toHaveCount(0);
  await expect(operator.getByTestId(TEST_IDS.statusError)).toHaveCount(0);
  await expect(panel(operator)).toHaveAttribute('data-profile-type', 'offcpu');
  await expect(operator.getByTestId(TEST_IDS.statusLine)).toHaveAttribute('data-unit', 'us', { timeout: 30_000 });
  await operator.getByTestId(TEST_IDS.searchInput).fill(SLEEPER_WAIT);
  const share = operator.getByTestId(TEST_IDS.searchShare);
  await expect.poll(async () => Number(await share.getAttribute('data-percent')), { timeout: 30_000, message: `${SLEEPER_WAIT} in the off-CPU picture of all processes` }).toBeGreaterThan(0);
  await expect(share).toContainText('of time');
  await operator.getByTestId(TEST_IDS.searchInput).fill('');

  // The viewer switched with the presenter, without doing anything.
  await expect(viewer.getByTestId(TEST_IDS.profileType)).toHaveValue('offcpu');
  await expect(panel(viewer)).toHaveAttribute('data-profile-type', 'offcpu');
  await expect(viewer.getByTestId(TEST_IDS.statusLine)).toHaveAttribute('data-unit', 'us', { timeout: 30_000 });
  await expect(viewer.getByTestId(SESSION_TEST_IDS.follow)).toHaveAttribute('data-following', 'true');

  // Only the workload: its waiting function is drawn, with time in the hover.
  await setTarget(operator, { kind: 'comm', comm: SLEEPER_COMM });
  await expect(frame(operator, SLEEPER_WAIT).first()).toBeVisible({ timeout: 30_000 });
  await expect(frame(viewer, SLEEPER_WAIT).first()).toBeVisible({ timeout: 30_000 });
  await expect(operator.getByTestId(TEST_IDS.totalSamples)).toHaveText(/^[\d.]+ (µs|ms|s)$/);
  await setPaused(operator, true);
  await frame(operator, SLEEPER_WAIT).first().hover();
  const tooltip = operator.getByTestId(TEST_IDS.tooltip);
  await expect(tooltip).toContainText(SLEEPER_WAIT);
  await expect(tooltip).toContainText(/time\s*[\d.]+ (µs|ms|s) \([\d.<]+% of all\)/);
  await expect(operator.getByTestId(TEST_IDS.tooltipValue)).toHaveAttribute('data-unit', 'us');
  // and how many blocking events make up that time
  await expect(operator.getByTestId(TEST_IDS.tooltipEvents)).toContainText(/[\d,]+ blocking events?/);
  expect(Number(await operator.getByTestId(TEST_IDS.tooltipEvents).getAttribute('data-events'))).toBeGreaterThan(0);
  await expect(tooltip).not.toContainText('samples');
  await setPaused(operator, false);
});

test('(b) bad off-CPU filters are refused next to the field, naming it', async () => {
  const min = operator.getByTestId(TEST_IDS.offcpuMinBlock);
  const max = operator.getByTestId(TEST_IDS.offcpuMaxBlock);
  await min.fill('5000');
  await max.fill('10');
  await operator.getByTestId(TEST_IDS.offcpuApply).click();
  const error = operator.getByTestId(TEST_IDS.offcpuError);
  await expect(error).toHaveText('offcpu.minBlockUs (5000 µs) must not exceed offcpu.maxBlockUs (10 µs)');
  await expect(min).toHaveAttribute('aria-invalid', 'true');
  // Still sampling with the old filters.
  await expect(operator.getByTestId(TEST_IDS.profileType)).toHaveValue('offcpu');
  await min.fill('-1');
  await max.fill('');
  await operator.getByTestId(TEST_IDS.offcpuApply).click();
  await expect(error).toContainText('offcpu.minBlockUs must be a whole number of µs');
  // Good values are taken (and clear the error).
  await min.fill('1');
  await operator.getByTestId(TEST_IDS.offcpuApply).click();
  await expect(error).toHaveCount(0);
  await expect(operator.getByTestId(TEST_IDS.offcpuApply)).toBeDisabled();
});

test('(c) Wall of the workload\'s pid shows on- and off-CPU with a legend, for the viewer too; all processes are refused', async () => {
  await setTarget(operator, { kind: 'pid', pid: sleeper.pid });
  await operator.getByTestId(TEST_IDS.profileType).selectOption('wall');
  await expect(operator.getByTestId(TEST_IDS.profileTypeError)).toHaveCount(0);
  await expect(operator.getByTestId(TEST_IDS.wallLegend)).toBeVisible({ timeout: 30_000 });
  await expect(operator.getByTestId(TEST_IDS.wallLegend)).toContainText('on-CPU');
  await expect(operator.getByTestId(TEST_IDS.wallLegend)).toContainText('off-CPU');
  await expect(frame(operator, SLEEPER_WORK).first()).toBeVisible({ timeout: 30_000 });
  await expect(frame(operator, SLEEPER_WAIT).first()).toBeVisible({ timeout: 30_000 });
  await expect(operator.getByTestId(TEST_IDS.totalSamples)).toHaveText(/^[\d.]+ (µs|ms|s)$/);

  await expect(viewer.getByTestId(TEST_IDS.profileType)).toHaveValue('wall');
  await expect(viewer.getByTestId(TEST_IDS.wallLegend)).toBeVisible({ timeout: 30_000 });
  await expect(frame(viewer, SLEEPER_WAIT).first()).toBeVisible({ timeout: 30_000 });
  await expect(viewer.getByTestId(SESSION_TEST_IDS.follow)).toHaveAttribute('data-following', 'true');

  // A wall profile needs a target: all processes is refused next to the target field.
  await operator.getByTestId(TEST_IDS.targetKind).selectOption('all');
  await operator.getByTestId(TEST_IDS.targetApply).click();
  await expect(operator.getByTestId(TEST_IDS.targetError)).toContainText('type wall needs a target');
  // The server says the same to a client that skips the page's check.
  const refused = await ask(control, 'profile:configure', { target: { kind: 'all' } });
  expect(refused.ok, `target all under wall: ${JSON.stringify(refused)}`).toBe(false);
  expect(refused.error).toMatch(/type wall needs a target/);
  await expect(operator.getByTestId(TEST_IDS.profileType)).toHaveValue('wall');
});

test('(d) the pprof export of an off-CPU profile reads back as offcpu/microseconds; then back to the defaults', async () => {
  await operator.getByTestId(TEST_IDS.profileType).selectOption('offcpu');
  await expect(panel(operator)).toHaveAttribute('data-profile-type', 'offcpu');
  await expect(operator.getByTestId(TEST_IDS.wallLegend)).toHaveCount(0);
  await expect(frame(operator, SLEEPER_WAIT).first()).toBeVisible({ timeout: 30_000 });

  let folded = '';
  await expect(async () => {
    const response = await operator.request.get('/api/sessions/main/export?kind=flame&format=pprof&window=10s');
    expect(response.status(), await response.text().catch(() => '')).toBe(200);
    const profile = decodePprof(new Uint8Array(await response.body()));
    const types = profile.sample_type.map((t) => `${profile.string_table[t.type]}/${profile.string_table[t.unit]}`);
    expect(types, `sample types ${types.join(', ')}`).toEqual(['offcpu/microseconds']);
    expect(profile.period, `no period for µs, got ${profile.period}`).toBe(0);
    folded = foldedOfPprof(profile);
    expect(folded, `the folded stacks of the pprof file:\n${folded.slice(0, 2000)}`).toContain(SLEEPER_WAIT);
  }).toPass({ timeout: 30_000 });
  expect(folded).toContain(SLEEPER_COMM);

  // Back to the defaults, through the page: filters, type, target (hz was never changed).
  await operator.getByTestId(TEST_IDS.offcpuMinBlock).fill('1');
  await operator.getByTestId(TEST_IDS.offcpuMaxBlock).fill('');
  await operator.getByTestId(TEST_IDS.offcpuState).selectOption('all');
  if (await operator.getByTestId(TEST_IDS.offcpuWakers).isChecked()) await operator.getByTestId(TEST_IDS.offcpuWakers).uncheck();
  if (await operator.getByTestId(TEST_IDS.offcpuApply).isEnabled()) await operator.getByTestId(TEST_IDS.offcpuApply).click();
  await expect(operator.getByTestId(TEST_IDS.offcpuError)).toHaveCount(0);
  await operator.getByTestId(TEST_IDS.profileType).selectOption('cpu');
  await expect(operator.getByTestId(TEST_IDS.profileTypeError)).toHaveCount(0);
  await setTarget(operator, { kind: 'all' });
  await expect(operator.getByTestId(TEST_IDS.hzInput)).toHaveValue('99');
  await expect(viewer.getByTestId(TEST_IDS.profileType)).toHaveValue('cpu');
  await expect(operator.getByTestId(TEST_IDS.statusLine)).toHaveAttribute('data-unit', 'samples', { timeout: 30_000 });
  await expect(operator.getByTestId(TEST_IDS.offcpuMinBlock)).toHaveCount(0);

  const revoked = await ask(control, 'link:revoke', { id: linkId });
  expect(revoked.ok, `link:revoke: ${revoked.error}`).toBe(true);
  linkId = '';
});

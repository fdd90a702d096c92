/**
 * Sessions end to end: two real browser contexts on the `main` session of the real server
 * (playwright.config.ts) with the real kernel. The operator (token cookie) shares a viewer link
 * through the UI; a second context without the token opens it read-only, follows the
 * operator's zoom and search, leaves follow mode by zooming itself and rejoins; a raw
 * socket.io client with the same link cannot start anything; revoking the link ends the
 * viewer's page. Steps run in order on the same two pages.
 * Needs root (the server loads BPF programs).
 */
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { io, type Socket } from 'socket.io-client';
import { E2E_PORT, E2E_TOKEN } from '../playwright.config.ts';
import { EVENTS_TEST_IDS, LATENCY_TEST_IDS, SESSION_TEST_IDS, TEST_IDS } from '../lib/test-ids.ts';
import { startWorkload, WORKLOAD_COMM, WORKLOAD_FUNCTION, type Workload } from './fixtures/workload.ts';

const BASE = `http://127.0.0.1:${E2E_PORT}`;

test.describe.configure({ mode: 'serial' });

let workload: Workload;
let operatorContext: BrowserContext;
let viewerContext: BrowserContext;
let operator: Page;
let viewer: Page;
/** The viewer link's full URL, as the operator's page showed it. */
let viewerUrl = '';

const frame = (page: Page, name: string) => page.locator(`[data-testid="${TEST_IDS.flameGraph}"] g.frame[name="${name}"]`);

async function setPaused(page: Page, paused: boolean) {
  const button = page.getByTestId(TEST_IDS.pauseView);
  if ((await button.getAttribute('aria-pressed')) !== String(paused)) await button.click();
  await expect(button).toHaveAttribute('aria-pressed', String(paused));
}

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

function ask(socket: Socket, event: string, payload: unknown): Promise<{ ok: boolean; error?: string }> {
  return new Promise((resolve) => socket.emit(event, payload, resolve));
}

test.beforeAll(async ({ browser }) => {
  test.skip(process.getuid?.() !== 0 && process.env.CI !== 'true', 'the e2e tests need root: the server loads BPF programs (in CI they run, and fail, without it)');
  workload = startWorkload();
  operatorContext = await newContext(browser, true);
  viewerContext = await newContext(browser, false);
  operator = await operatorContext.newPage();
  viewer = await viewerContext.newPage();
});

test.afterAll(async () => {
  await operatorContext?.close();
  await viewerContext?.close();
  workload?.stop();
});

test('(a) the operator shares a viewer link; a context without the token opens it as a viewer', async () => {
  await operator.goto('/');
  await expect(operator.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'connected');
  await expect(operator.getByTestId(SESSION_TEST_IDS.role)).toHaveAttribute('data-role', 'operator');
  await expect(operator.getByTestId(SESSION_TEST_IDS.name)).toHaveAttribute('data-id', 'main');
  await expect(operator.getByTestId(SESSION_TEST_IDS.watching)).toHaveText('0 watching');

  // Without the token or a link the page itself is refused.
  const refused = await viewer.goto('/');
  expect(refused?.status()).toBe(401);

  await operator.getByTestId(SESSION_TEST_IDS.shareOpen).click();
  await operator.getByTestId(SESSION_TEST_IDS.shareLifetime).selectOption('15');
  await operator.getByTestId(SESSION_TEST_IDS.shareLabel).fill('e2e viewer');
  await operator.getByTestId(SESSION_TEST_IDS.shareCreate).click();
  const url = operator.getByTestId(SESSION_TEST_IDS.shareUrl);
  await expect(url).toHaveValue(new RegExp(`^${BASE}/\\?session=main&view=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
  viewerUrl = await url.inputValue();
  // This test's link (a spec that failed before this one may have left its own link listed).
  const link = operator.getByTestId(SESSION_TEST_IDS.link).filter({ hasText: 'e2e viewer' });
  await expect(link).toHaveCount(1);
  await expect(link).toContainText(/expires in 1[45] min/);
  // The panel closes on Escape (it covers the toolbar).
  await operator.keyboard.press('Escape');
  await expect(url).toHaveCount(0);

  const opened = await viewer.goto(viewerUrl);
  expect(opened?.status()).toBe(200);
  await expect(viewer.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'connected');
  await expect(viewer.getByTestId(SESSION_TEST_IDS.role)).toHaveAttribute('data-role', 'viewer');
  await expect(viewer.getByTestId(SESSION_TEST_IDS.role)).toContainText('read-only');
  // The secret leaves the address bar; the session stays in it.
  expect(viewer.url()).not.toContain('view=');
  expect(viewer.url()).toContain('session=main');
  await expect(viewer.getByTestId(SESSION_TEST_IDS.follow)).toHaveAttribute('data-following', 'true');

  await expect(operator.getByTestId(SESSION_TEST_IDS.watching)).toHaveText('1 watching');
  await expect(operator.getByTestId(SESSION_TEST_IDS.watching)).toHaveAttribute('data-count', '1');
});

test('(b) the viewer follows the operator\'s zoom and search', async () => {
  await expect(frame(operator, WORKLOAD_COMM).first()).toBeVisible({ timeout: 30_000 });
  await expect(frame(viewer, WORKLOAD_COMM).first()).toBeVisible({ timeout: 30_000 });

  // Frames move on every live update: pause the operator's drawing around the click.
  await setPaused(operator, true);
  await frame(operator, WORKLOAD_COMM).first().click();
  await expect(operator.getByTestId(TEST_IDS.zoomPath)).toContainText(WORKLOAD_COMM);
  await setPaused(operator, false);

  await expect(viewer.getByTestId(TEST_IDS.zoomPath)).toHaveText(`zoomed: all › ${WORKLOAD_COMM}`);
  const svgWidth = Number(await viewer.locator(`[data-testid="${TEST_IDS.flameGraph}"] svg`).getAttribute('width'));
  await expect
    .poll(async () => Number(await frame(viewer, WORKLOAD_COMM).first().locator('rect').getAttribute('width')))
    .toBeGreaterThan(svgWidth - 2);

  await operator.getByTestId(TEST_IDS.searchInput).fill(WORKLOAD_FUNCTION);
  await expect(viewer.getByTestId(TEST_IDS.searchInput)).toHaveValue(WORKLOAD_FUNCTION);
  const operatorShare = operator.getByTestId(TEST_IDS.searchShare);
  const viewerShare = viewer.getByTestId(TEST_IDS.searchShare);
  await expect(viewerShare).toContainText('% of samples');
  await expect.poll(async () => Number(await viewerShare.getAttribute('data-percent'))).toBeGreaterThan(0);
  await expect.poll(async () => Number(await operatorShare.getAttribute('data-percent'))).toBeGreaterThan(0);
  // Both pages see the same busy process: the shares agree (each from its own newest frame).
  await expect
    .poll(async () => Math.abs(Number(await viewerShare.getAttribute('data-percent')) - Number(await operatorShare.getAttribute('data-percent'))))
    .toBeLessThan(25);
  await expect(viewer.getByTestId(SESSION_TEST_IDS.follow)).toHaveAttribute('data-following', 'true');
});

test('(c) the viewer cannot start a probe: no enabled control, and the server refuses it', async () => {
  await expect(viewer.getByTestId(TEST_IDS.readOnlyHint)).toBeVisible();
  await expect(viewer.getByTestId(TEST_IDS.startStop)).toBeDisabled();
  await expect(viewer.getByTestId(TEST_IDS.hzInput)).toBeDisabled();
  await expect(viewer.getByTestId(TEST_IDS.hzApply)).toBeDisabled();
  await expect(viewer.getByTestId(TEST_IDS.targetKind)).toBeDisabled();
  await expect(viewer.getByTestId(TEST_IDS.targetApply)).toBeDisabled();
  for (const id of [LATENCY_TEST_IDS.specInput, LATENCY_TEST_IDS.specAdd, LATENCY_TEST_IDS.remove, EVENTS_TEST_IDS.specInput, EVENTS_TEST_IDS.specAdd, EVENTS_TEST_IDS.picker, EVENTS_TEST_IDS.remove]) {
    await expect(viewer.getByTestId(id), id).toHaveCount(0);
  }
  await expect(viewer.getByTestId(SESSION_TEST_IDS.readOnly).first()).toBeVisible();
  await expect(viewer.getByTestId(SESSION_TEST_IDS.shareOpen)).toHaveCount(0);
  // View controls stay.
  await expect(viewer.getByTestId(TEST_IDS.timeWindow)).toBeEnabled();
  await expect(viewer.getByTestId(TEST_IDS.searchInput)).toBeEnabled();

  // Straight over socket.io with the same link, bypassing the page.
  const view = new URL(viewerUrl).searchParams.get('view')!;
  const socket = io(BASE, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { view, session: 'main' } });
  try {
    const hello = await new Promise<{ role: string; canControl: boolean }>((resolve, reject) => {
      socket.once('hello', resolve);
      socket.once('connect_error', reject);
    });
    expect(hello).toMatchObject({ role: 'viewer', canControl: false });
    for (const [event, payload] of [
      ['latency:add', { spec: 'syscall:read' }],
      ['profile:configure', { running: false }],
      ['events:add', { spec: 'exec' }],
    ] as const) {
      const reply = await ask(socket, event, payload);
      expect(reply.ok, event).toBe(false);
      expect(reply.error, event).toMatch(/needs an operator/);
    }
  } finally {
    socket.close();
  }
  // Nothing changed: sampling still runs, no latency probe appeared.
  await expect(operator.getByTestId(TEST_IDS.startStop)).toHaveAttribute('data-running', 'true');
  await expect(operator.locator(`[data-testid="${LATENCY_TEST_IDS.panel}"][data-spec="syscall:read"]`)).toHaveCount(0);
});

test('(e) a local zoom leaves follow mode; Rejoin presenter applies the presenter\'s view again', async () => {
  await expect(frame(viewer, WORKLOAD_FUNCTION).first()).toBeAttached({ timeout: 30_000 });
  await setPaused(viewer, true);
  await frame(viewer, WORKLOAD_FUNCTION).first().click();
  await expect(viewer.getByTestId(SESSION_TEST_IDS.follow)).toHaveAttribute('data-following', 'false');
  await expect(viewer.getByTestId(SESSION_TEST_IDS.rejoin)).toBeVisible();
  await expect(viewer.getByTestId(TEST_IDS.zoomPath)).toContainText(WORKLOAD_FUNCTION);
  await setPaused(viewer, false);

  // The presenter moves on; the viewer keeps its own zoom (it has seen the new presenter view).
  await operator.getByTestId(TEST_IDS.resetZoom).click();
  await expect(operator.getByTestId(TEST_IDS.zoomPath)).toHaveCount(0);
  await expect(viewer.getByTestId(SESSION_TEST_IDS.follow)).toHaveAttribute('data-presenter-zoom', '');
  await expect(viewer.getByTestId(TEST_IDS.zoomPath)).toContainText(WORKLOAD_FUNCTION);

  await viewer.getByTestId(SESSION_TEST_IDS.rejoin).click();
  await expect(viewer.getByTestId(SESSION_TEST_IDS.follow)).toHaveAttribute('data-following', 'true');
  await expect(viewer.getByTestId(TEST_IDS.zoomPath)).toHaveCount(0);
  await expect(viewer.getByTestId(TEST_IDS.searchInput)).toHaveValue(WORKLOAD_FUNCTION);

  // Following again: the next presenter zoom reaches the viewer.
  await setPaused(operator, true);
  await frame(operator, WORKLOAD_COMM).first().click();
  await setPaused(operator, false);
  await expect(viewer.getByTestId(TEST_IDS.zoomPath)).toHaveText(`zoomed: all › ${WORKLOAD_COMM}`);
});

test('(d) revoking the link ends the viewer\'s page within 5 s', async () => {
  await operator.getByTestId(SESSION_TEST_IDS.shareOpen).click();
  const link = operator.getByTestId(SESSION_TEST_IDS.link).filter({ hasText: 'e2e viewer' });
  await expect(link).toHaveAttribute('data-state', 'live');
  // The secret was shown once: reopening the panel lists the link without its URL.
  await expect(operator.getByTestId(SESSION_TEST_IDS.shareUrl)).toHaveCount(0);
  await link.getByTestId(SESSION_TEST_IDS.linkRevoke).click();
  await expect(viewer.getByTestId(SESSION_TEST_IDS.closed)).toContainText('revoked', { timeout: 5000 });
  await expect(viewer.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'closed');
  await expect(link).toHaveAttribute('data-state', 'revoked');
  await expect(operator.getByTestId(SESSION_TEST_IDS.watching)).toHaveText('0 watching');

  // The link opens nothing any more.
  const again = await viewerContext.newPage();
  const response = await again.goto(viewerUrl);
  expect(response?.status()).toBe(401);
  await again.close();
  // Put the operator's shared view back as the other specs expect it.
  await operator.keyboard.press('Escape');
  await operator.getByTestId(TEST_IDS.resetZoom).click();
  await operator.getByTestId(TEST_IDS.searchInput).fill('');
});

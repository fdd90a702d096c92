/**
 * `probeboard serve` with a token (PROBEBOARD_TOKEN, as users are told to pass it: a --token on
 * the command line is public until serve hides it): the page and the socket.io handshake need
 * the token. Starts its own server on another port with its own token, in a browser context
 * without the config's token cookie.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { TEST_IDS } from '../lib/test-ids.ts';

const PORT = 7172;
const TOKEN = 'e2e-token-spec-9876543210';
const BASE = `http://127.0.0.1:${PORT}`;
let server: ChildProcess | undefined;
let output = '';

test.use({ storageState: { cookies: [], origins: [] } });

test.beforeAll(async () => {
  test.skip(process.getuid?.() !== 0 && process.env.CI !== 'true', 'the e2e tests need root: the server loads BPF programs (in CI they run, and fail, without it)');
  test.setTimeout(240_000);
  server = spawn(process.execPath, ['bin/probeboard.js', 'serve', '--port', String(PORT)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', PROBEBOARD_TOKEN: TOKEN },
  });
  // Up once it prints where the dashboard is (server/cli/serve.ts writes that after listening).
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`probeboard serve did not come up in 200 s:\n${output}`)), 200_000);
    const seen = (chunk: Buffer) => {
      output += chunk;
      if (!output.includes('probeboard: dashboard at ')) return;
      clearTimeout(timer);
      resolve();
    };
    server!.stdout!.on('data', seen);
    server!.stderr!.on('data', seen);
    server!.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`probeboard serve exited (${code}):\n${output}`));
    });
  });
});

test.afterAll(async () => {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((r) => server!.once('exit', r));
  server.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (server.exitCode === null) server.kill('SIGKILL');
});

test('without the token the page is refused', async ({ page }) => {
  const response = await page.goto(`${BASE}/`);
  expect(response?.status()).toBe(401);
  await expect(page.locator('body')).toContainText('token');
  await expect(page.getByTestId(TEST_IDS.flameGraph)).toHaveCount(0);

  const wrong = await page.goto(`${BASE}/?token=not-the-token`);
  expect(wrong?.status()).toBe(401);
});

test('with ?token= the dashboard connects and draws', async ({ page }) => {
  await page.goto(`${BASE}/?token=${TOKEN}`);
  await expect(page.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId(TEST_IDS.flameGraph).locator('g.frame').first()).toBeAttached({ timeout: 30_000 });
  // The token leaves the address bar; a reload still works (cookie + sessionStorage).
  expect(page.url()).not.toContain(TOKEN);
  await page.reload();
  await expect(page.getByTestId(TEST_IDS.connectionState)).toHaveAttribute('data-state', 'connected');
});

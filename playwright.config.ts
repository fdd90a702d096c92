/**
 * Playwright: Debian's chromium (never a downloaded browser) against the real server and
 * the real kernel. Run as root: `npx playwright test` (also `npm run test:e2e`).
 * The server is the built bundle (bin/probeboard.js -> dist/) serving out/: `npm run build` first
 * (npm test does); a missing or stale build makes serve exit with that advice.
 */
import { defineConfig } from '@playwright/test';
import path from 'node:path';
import { tmpdir } from 'node:os';

/**
 * Recordings and snapshots of this run, in a directory of their own (not the machine's default
 * data directory). One name per run: the workers inherit it from the main process's environment.
 */
process.env.PB_E2E_DATA_DIR ??= path.join(tmpdir(), `probeboard-e2e-${process.pid}-${Date.now()}`);

export const E2E_PORT = 7171;
/** The dashboard always requires a token; the browser context carries it as the page's cookie would. */
export const E2E_TOKEN = 'e2e-token-0123456789';

export default defineConfig({
  testDir: 'e2e',
  workers: 1,
  fullyParallel: false,
  reporter: 'list',
  timeout: 90_000,
  expect: { timeout: 20_000 },
  retries: 0,
  use: {
    baseURL: `http://127.0.0.1:${E2E_PORT}`,
    acceptDownloads: true,
    storageState: {
      cookies: [{ name: 'pb_token', value: E2E_TOKEN, domain: '127.0.0.1', path: '/', expires: -1, httpOnly: true, secure: false, sameSite: 'Strict' }],
      origins: [],
    },
    viewport: { width: 1400, height: 900 },
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--headless',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    // The token goes through the environment: a command line is readable by every local user.
    command: `node bin/probeboard.js serve --port ${E2E_PORT} --data-dir ${process.env.PB_E2E_DATA_DIR}`,
    url: `http://127.0.0.1:${E2E_PORT}/`,
    reuseExistingServer: false,
    timeout: 240_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { NEXT_TELEMETRY_DISABLED: '1', PROBEBOARD_TOKEN: E2E_TOKEN },
  },
});

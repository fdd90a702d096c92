/**
 * Component tests (`npm run test:components`): `components/**\/*.ct.ts`, each mounting scenes of
 * real components in Debian's chromium (never a downloaded browser), bundled in memory by
 * esbuild (components/ui/testing/mount.ts). No server, no network, no root needed.
 *
 * Why not @playwright/experimental-ct-react: its newest release on npm (1.62) lags the
 * @playwright/test this project uses (1.65) and would bring a second Playwright and Vite; this
 * needs only what the project already has (@playwright/test, esbuild, React).
 */
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'components',
  testMatch: '**/*.ct.ts',
  // One worker: the machine's CPUs are shared, and the tests are short.
  workers: 1,
  fullyParallel: false,
  reporter: 'list',
  timeout: 30_000,
  retries: 0,
  use: {
    viewport: { width: 1200, height: 800 },
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  outputDir: 'test-results/components',
});

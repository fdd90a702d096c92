/**
 * Component tests in a real browser (Debian's chromium, driven by @playwright/test): a test
 * mounts one scene of a `*.scenes.tsx` file, i.e. real components with real React, d3 and
 * DOM, and drives the page as a user would. Run by playwright-ct.config.ts (`npm run
 * test:components`).
 *
 * How: the scenes file is bundled with esbuild (the project's bundler, already a dependency)
 * into one script and stylesheet, once per file and worker, kept in memory; the page loads them
 * from a made-up origin that `page.route` answers, so nothing is written to disk and nothing
 * is fetched from the network. The scene's name and its JSON props reach the page before its
 * script runs (an init script), and render.tsx renders `scenes[name](props)` into #root.
 */
import { test as base, type Page } from '@playwright/test';
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Answered by page.route only (the .test TLD never resolves). */
const ORIGIN = 'http://components.test';

interface Bundle {
  js: string;
  css: string;
}

const bundles = new Map<string, Promise<Bundle>>();

function bundle(scenesFile: string): Promise<Bundle> {
  let pending = bundles.get(scenesFile);
  if (!pending) {
    pending = bundleNow(scenesFile);
    bundles.set(scenesFile, pending);
  }
  return pending;
}

async function bundleNow(scenesFile: string): Promise<Bundle> {
  const entry = `import * as scenes from ${JSON.stringify(scenesFile)};\nimport { renderScene } from ${JSON.stringify(path.join(HERE, 'render.tsx'))};\nrenderScene(scenes);\n`;
  const result = await build({
    stdin: { contents: entry, resolveDir: HERE, loader: 'ts', sourcefile: 'components-test-entry.ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    // React's development build: its warnings (keys, act) reach the console, which the fixture watches.
    define: { 'process.env.NODE_ENV': '"development"' },
    loader: { '.css': 'css' },
    sourcemap: 'inline',
    outdir: 'components-test',
    write: false,
    logLevel: 'silent',
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'));
  if (!js) throw new Error(`esbuild wrote no script for ${scenesFile}: ${result.outputFiles.map((f) => f.path).join(', ')}`);
  return { js: js.text, css: css?.text ?? '' };
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>component test</title><link rel="stylesheet" href="/scene.css"></head>
<body><div id="root"></div><script type="module" src="/scene.js"></script></body></html>`;

/** The JSON the page receives: props must survive JSON (no functions: scenes own their callbacks). */
export type SceneProps = Record<string, unknown>;

export type MountScene = (scenesFile: string, scene: string, props?: SceneProps) => Promise<void>;

async function mountInPage(page: Page, errors: string[], scenesFile: string, scene: string, props: SceneProps = {}): Promise<void> {
  const { js, css } = await bundle(scenesFile);
  await page.route(`${ORIGIN}/**`, (route) => {
    const { pathname } = new URL(route.request().url());
    if (pathname === '/scene.js') return route.fulfill({ contentType: 'text/javascript', body: js });
    if (pathname === '/scene.css') return route.fulfill({ contentType: 'text/css', body: css });
    if (pathname === '/') return route.fulfill({ contentType: 'text/html', body: PAGE });
    return route.fulfill({ status: 404, body: `no ${pathname} in a component test` });
  });
  await page.addInitScript(([name, json]) => Object.assign(window, { __componentScene: { name, props: JSON.parse(json) } }), [scene, JSON.stringify(props)] as const);
  await page.goto(`${ORIGIN}/`);
  // render.tsx marks #root once React committed the scene (or lists the scenes when the name is wrong).
  await page.locator('#root[data-mounted="true"]').waitFor({ state: 'attached' });
  if (errors.length > 0) throw new Error(`the page reported errors while mounting ${scene}:\n${errors.join('\n')}`);
}

/**
 * `test` with `mountScene(scenesFile, scene, props)`: the scenes file by absolute path
 * (see sceneFile). Page errors and console errors fail the test (React reports its own there).
 */
export const test = base.extend<{ mountScene: MountScene; pageErrors: string[] }>({
  pageErrors: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
    });
    await use(errors);
    if (errors.length > 0) throw new Error(`the page reported errors:\n${errors.join('\n')}`);
  },
  mountScene: async ({ page, pageErrors }, use) => {
    await use((scenesFile, scene, props) => mountInPage(page, pageErrors, scenesFile, scene, props));
  },
});

export { expect } from '@playwright/test';

/** The absolute path of a scenes file next to the test: `sceneFile(import.meta.url, './Menu.scenes.tsx')`. */
export function sceneFile(testUrl: string, relative: string): string {
  return fileURLToPath(new URL(relative, testUrl));
}

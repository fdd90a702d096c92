/**
 * A throwaway checkout for tests of what bin/probeboard.js and serve refuse: bin/ and dist/ copied
 * from this checkout's build (scripts/build.mjs), node_modules as a symlink, and a build record
 * (dist/build-info.json) that lists two fake sources of its own, so a test can make the build
 * stale, incomplete or foreign-owned without touching the real checkout.
 *
 * The copy's dist/ runs exactly as the real one does: bin finds dist/ next to itself, and the
 * bundle finds its checkout (out/, package.json) relative to dist/.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHECKOUT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface TempCheckout {
  root: string;
  /** bin/probeboard.js of the copy. */
  bin: string;
  /** The server source the copy's dist/ was "built from" (relative to root). */
  serverSource: string;
  /** The dashboard source the copy's out/ was "built from" (relative to root). */
  dashboardSource: string;
  /** Sets a file's mtime `seconds` from now (negative: in the past). */
  age(relative: string, seconds: number): void;
  cleanup(): void;
}

/** A copy as described above, its build fresh: sources an hour old, dist/ and out/ new. */
export function tempCheckout(): TempCheckout {
  const dist = path.join(CHECKOUT_ROOT, 'dist');
  if (!existsSync(path.join(dist, 'cli.js'))) throw new Error(`no build in ${dist}: run npm run build first (npm test does)`);
  const root = mkdtempSync(path.join(tmpdir(), 'pb-checkout-'));
  mkdirSync(path.join(root, 'bin'));
  copyFileSync(path.join(CHECKOUT_ROOT, 'bin', 'probeboard.js'), path.join(root, 'bin', 'probeboard.js'));
  copyFileSync(path.join(CHECKOUT_ROOT, 'package.json'), path.join(root, 'package.json'));
  symlinkSync(path.join(CHECKOUT_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  mkdirSync(path.join(root, 'dist'), { mode: 0o755 });
  for (const name of readdirSync(dist)) {
    if (name.endsWith('.js')) copyFileSync(path.join(dist, name), path.join(root, 'dist', name));
  }
  const serverSource = 'server/input.ts';
  const dashboardSource = 'app/page.tsx';
  mkdirSync(path.join(root, 'server'));
  mkdirSync(path.join(root, 'app'));
  writeFileSync(path.join(root, serverSource), '// stands for the sources of dist/\n');
  writeFileSync(path.join(root, dashboardSource), '// stands for the sources of out/\n');
  mkdirSync(path.join(root, 'out'));
  writeFileSync(path.join(root, 'out', 'index.html'), '<!doctype html><title>probeboard (test copy)</title>\n');
  const info = {
    format: 1,
    server: { newestSourceMs: 0, inputs: [serverSource] },
    dashboard: { newestSourceMs: 0, inputs: ['app', dashboardSource] },
  };
  writeFileSync(path.join(root, 'dist', 'build-info.json'), JSON.stringify(info));
  const age = (relative: string, seconds: number) => {
    const when = new Date(Date.now() + seconds * 1000);
    utimesSync(path.join(root, relative), when, when);
  };
  for (const source of [serverSource, dashboardSource, 'app']) age(source, -3600);
  return { root, bin: path.join(root, 'bin', 'probeboard.js'), serverSource, dashboardSource, age, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

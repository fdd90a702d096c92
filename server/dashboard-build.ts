/**
 * Is the dashboard's static export (out/) there and as new as its sources? Nothing builds it at
 * run time: `npm run build` (scripts/build.mjs, run as the user who installs probeboard, also by
 * `npm ci`) does, and writes dist/build-info.json with the files it was built from. This check
 * only stats those files (about 130: a few ms), so `serve` can refuse a stale build at once instead
 * of running `next build` as root.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface BuildInfo {
  format: number;
  server?: { newestSourceMs: number; inputs: string[] } | null;
  dashboard?: { newestSourceMs: number; inputs: string[] } | null;
}

/** `npm run build` and whom to run it as (never root: it executes the checkout's code). */
export function buildCommandHint(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const who = process.getuid?.() === 0 && env.SUDO_USER ? `as ${env.SUDO_USER}` : 'as your user';
  return `run \`npm run build\` ${who} (not root) in ${root}`;
}

/** dist/build-info.json under `root`, or null when there is none (or it is unreadable). */
export function readBuildInfo(root: string): BuildInfo | null {
  try {
    return JSON.parse(readFileSync(path.join(root, 'dist', 'build-info.json'), 'utf8')) as BuildInfo;
  } catch {
    return null;
  }
}

/**
 * Why out/ under `root` cannot be served as it is, in one line ending with the command that
 * builds it, or null when it can. `allowStale`: only a missing build is a problem (--no-build).
 */
export function dashboardBuildProblem(root: string, options: { allowStale?: boolean } = {}): string | null {
  const index = path.join(root, 'out', 'index.html');
  let builtMs: number;
  try {
    builtMs = statSync(index).mtimeMs;
  } catch {
    return `the dashboard is not built (no ${index}): ${buildCommandHint(root)}`;
  }
  if (options.allowStale) return null;
  const inputs = readBuildInfo(root)?.dashboard?.inputs;
  if (!inputs) return `the dashboard build in ${path.join(root, 'out')} has no record of its sources (dist/build-info.json): ${buildCommandHint(root)}`;
  for (const input of inputs) {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(path.join(root, input)).mtimeMs;
    } catch {
      return `the dashboard build in ${path.join(root, 'out')} is stale (${input} is gone since): ${buildCommandHint(root)}, or pass --no-build to serve it as it is`;
    }
    if (mtimeMs > builtMs) {
      return `the dashboard build in ${path.join(root, 'out')} is stale (${input} changed since): ${buildCommandHint(root)}, or pass --no-build to serve it as it is`;
    }
  }
  return null;
}

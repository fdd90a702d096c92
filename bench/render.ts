/**
 * Rendering benchmark: the time to apply one live update to a flame graph of N nodes
 * (default 10,000) in the browser, with the dashboard's own flame graph code.
 *
 *   node --import tsx bench/render.ts [--nodes 10000] [--updates 40] [--budget 1000] [--width 1400] [--port 7181]
 *
 * Serves the built Next app (`next start`, building first when there is no build) and drives
 * /bench/render (components/bench/RenderBench.tsx) in Debian's chromium. That page generates a
 * seeded synthetic tree of N nodes, then feeds it fresh copies with new sample counts and
 * times each update. Prints medians and p95 of:
 *   update   — the synchronous render call (hierarchy, layout, DOM join);
 *   to paint — from the call until the browser has painted (includes waiting for the frame).
 * Target: median under 50 ms. The machine's load average is printed: the figures are wall time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NEXT_BIN = path.join(ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10000' },
    updates: { type: 'string', default: '40' },
    budget: { type: 'string' },
    width: { type: 'string', default: '1400' },
    port: { type: 'string', default: '7181' },
    build: { type: 'boolean', default: false },
  },
});
const nodes = Number(values.nodes);
const updates = Number(values.updates);
const width = Number(values.width);
const port = Number(values.port);

interface Result {
  nodes: number;
  width: number;
  budget: number;
  updates: number;
  updateMs: number[];
  frameMs: number[];
  drawnFrames: number;
  done: boolean;
  error?: string;
}

const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

async function main(): Promise<number> {
  if (values.build || !existsSync(path.join(ROOT, '.next', 'BUILD_ID'))) {
    process.stderr.write('bench/render: building the Next app…\n');
    const built = spawnSync(process.execPath, [NEXT_BIN, 'build'], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    });
    if (built.status !== 0) throw new Error('next build failed');
  }
  const server = spawn(process.execPath, [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        if ((await fetch(`${base}/bench/render`)).ok) break;
      } catch {
        // not up yet
      }
      if (server.exitCode !== null || Date.now() > deadline) throw new Error('next start did not come up');
      await new Promise((r) => setTimeout(r, 200));
    }
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const query = new URLSearchParams({ nodes: String(nodes), updates: String(updates) });
      if (values.budget) query.set('budget', values.budget);
      const load = loadavg()[0];
      await page.goto(`${base}/bench/render?${query}`);
      await page.waitForFunction(() => window.__pbRenderBench?.done === true, null, { timeout: 600_000 });
      const r = (await page.evaluate(() => window.__pbRenderBench)) as Result;
      if (r.error) throw new Error(`page: ${r.error}`);
      const f = (x: number) => `${x.toFixed(1)} ms`;
      process.stdout.write(
        [
          `flame graph live update, ${r.nodes} nodes, ${r.width} px wide, ${r.drawnFrames} frames drawn (budget ${r.budget}), ${r.updateMs.length} updates`,
          `  update (sync):  median ${f(quantile(r.updateMs, 0.5))}  p95 ${f(quantile(r.updateMs, 0.95))}  min ${f(Math.min(...r.updateMs))}`,
          `  to paint:       median ${f(quantile(r.frameMs, 0.5))}  p95 ${f(quantile(r.frameMs, 0.95))}  min ${f(Math.min(...r.frameMs))}`,
          `  target: median < 50 ms -> ${quantile(r.frameMs, 0.5) < 50 ? 'met' : 'NOT met'} (to paint)`,
          `  machine: ${cpus().length} CPUs, load average ${load.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end`,
          '',
        ].join('\n'),
      );
    } finally {
      await browser.close();
    }
  } finally {
    server.kill('SIGTERM');
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`bench/render: ${error.message}\n`);
    process.exit(1);
  },
);

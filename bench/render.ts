/**
 * Rendering benchmark: the time to apply one live update to a flame graph of N nodes
 * (default 10,000) in the browser, with the dashboard's own flame graph code.
 *
 *   node --import tsx bench/render.ts [--nodes 10000] [--updates 40] [--budget 1000] [--width 1400] [--port 7181]
 *
 * Serves the dashboard's static build (out/: run `npm run build` first; a missing or stale build
 * is refused with that advice) and drives
 * /bench/render (components/bench/RenderBench.tsx) in Debian's chromium. That page generates a
 * seeded synthetic tree of N nodes, then feeds it fresh copies with new sample counts and
 * times each update. Prints medians and p95 of:
 *   update   — the synchronous render call (hierarchy, layout, DOM join);
 *   to paint — from the call until the browser has painted (includes waiting for the frame).
 * Target: median under 50 ms. The machine's load average is printed: the figures are wall time.
 */
import { createServer } from 'node:http';
import { loadavg, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import type { RenderBenchResult } from '../components/bench/RenderBench.tsx';

import { DASHBOARD_DIR, requireDashboardBuild } from '../server/index.ts';
import { staticFiles } from '../server/http/static-files.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10000' },
    updates: { type: 'string', default: '40' },
    budget: { type: 'string' },
    width: { type: 'string', default: '1400' },
    port: { type: 'string', default: '7181' },
  },
});
const nodes = Number(values.nodes);
const updates = Number(values.updates);
const width = Number(values.width);
const port = Number(values.port);

type Result = RenderBenchResult;

const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

async function main(): Promise<number> {
  requireDashboardBuild();
  const server = createServer(staticFiles(DASHBOARD_DIR));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${port}`;
  try {
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
    server.close();
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

/**
 * Rendering benchmark: the time to apply one live update to a flame graph of N nodes
 * (default 10,000) in the browser, with the dashboard's own flame graph code.
 *
 *   node --import tsx bench/render.ts [--nodes 10000] [--updates 40] [--width 1400] [--port 7181]
 *                                     [--renderer svg|canvas|hybrid] [--svg-min-px N] [--cpu]
 *
 * Serves the dashboard's static build (out/: build it first with `npx next build`, or the
 * project's build command; only its presence is checked) and drives /bench/render
 * (components/bench/RenderBench.tsx) in Debian's chromium. That page generates a seeded synthetic
 * tree of N nodes, then feeds it fresh copies with new sample counts and times each update.
 * Prints medians and p95 of:
 *   update   — the synchronous render call (hierarchy, layout, DOM join);
 *   to paint — from the call until the browser has painted (includes waiting for the frame);
 * and the frames drawn vs. the frames at least 1 px wide in the last update (all must be drawn).
 * Target: to paint median <= 50 ms and p95 <= 100 ms. The machine's load average is printed: the
 * figures are wall time. --cpu also records a Chrome trace and prints the page's main-thread CPU
 * time per update (script, style, layout, paint: from the update's start until after its paint),
 * which other work on the machine inflates far less than wall time (raster and compositor threads
 * are not included).
 *
 * --renderer hybrid (default) is the dashboard's flame graph as shipped (components/flamegraph/
 * chart.ts: d3-flame-graph for frames of SVG_MIN_PX and more, its canvas layer for the thinner
 * ones); `svg` is the same code with every frame in d3-flame-graph's SVG (the dashboard before the
 * canvas layer), and `canvas` every frame on a canvas alone (components/bench/canvas-flame.ts).
 * --svg-min-px moves the SVG/canvas cut of `hybrid` (with `svg`: draws only frames that wide).
 */
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import type { RenderBenchResult } from '../components/bench/RenderBench.tsx';
import { UPDATE_END_MARK, UPDATE_START_MARK } from '../components/bench/marks.ts';
import { staticFiles } from '../server/http/static-files.ts';

/** The dashboard's static export (next.config.js: output 'export'). */
const DASHBOARD_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'out');

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10000' },
    updates: { type: 'string', default: '40' },
    width: { type: 'string', default: '1400' },
    port: { type: 'string', default: '7181' },
    renderer: { type: 'string', default: 'hybrid' },
    'svg-min-px': { type: 'string' },
    cpu: { type: 'boolean', default: false },
  },
});
const nodes = Number(values.nodes);
const updates = Number(values.updates);
const width = Number(values.width);
const port = Number(values.port);
if (!['svg', 'canvas', 'hybrid'].includes(values.renderer!)) {
  process.stderr.write(`bench/render: --renderer must be svg, canvas or hybrid, not ${values.renderer}\n`);
  process.exit(2);
}

type Result = RenderBenchResult;

/** Target for a 10,000-node update, to paint (ms). */
const TARGET_MEDIAN_MS = 50;
const TARGET_P95_MS = 100;

const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  /** Start, µs. */
  ts: number;
  /** Wall duration, µs. */
  dur?: number;
  /** Thread (CPU) duration, µs. */
  tdur?: number;
  args?: { name?: string };
}

/**
 * CPU time of the page's main thread in each measured update: the thread CPU time of every task
 * that overlaps the span between the page's start and end marks (the update starts a task of its
 * own; the span ends after the paint), ms.
 */
function mainThreadCpuPerUpdate(events: TraceEvent[]): number[] {
  const starts = events.filter((e) => e.name === UPDATE_START_MARK).sort((a, b) => a.ts - b.ts);
  const ends = events.filter((e) => e.name === UPDATE_END_MARK).sort((a, b) => a.ts - b.ts);
  if (starts.length === 0 || starts.length !== ends.length) throw new Error(`trace: ${starts.length} update starts, ${ends.length} ends`);
  // The marks may be recorded off the main thread: take the renderer's main thread by name.
  const { pid } = starts[0];
  const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === pid && e.args?.name === 'CrRendererMain');
  if (!main) throw new Error(`trace: no CrRendererMain thread in renderer ${pid}`);
  const tasks = events.filter((e) => e.name === 'RunTask' && e.ph === 'X' && e.pid === pid && e.tid === main.tid && e.tdur !== undefined);
  return starts.map((start, i) => {
    const end = ends[i].ts;
    let cpuUs = 0;
    for (const task of tasks) if (task.ts < end && task.ts + (task.dur ?? 0) > start.ts) cpuUs += task.tdur!;
    return cpuUs / 1000;
  });
}

async function main(): Promise<number> {
  if (!existsSync(path.join(DASHBOARD_DIR, 'bench', 'render.html'))) {
    throw new Error(`no dashboard build with the bench page in ${DASHBOARD_DIR}: build it first (NEXT_TELEMETRY_DISABLED=1 npx next build)`);
  }
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
      const query = new URLSearchParams({ nodes: String(nodes), updates: String(updates), renderer: values.renderer! });
      if (values['svg-min-px']) query.set('svgMinPx', values['svg-min-px']);
      const load = loadavg()[0];
      if (values.cpu) await browser.startTracing(page, { categories: ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing'] });
      await page.goto(`${base}/bench/render?${query}`);
      await page.waitForFunction(() => window.__pbRenderBench?.done === true, null, { timeout: 600_000 });
      const r = (await page.evaluate(() => window.__pbRenderBench)) as Result;
      if (r.error) throw new Error(`page: ${r.error}`);
      const trace = values.cpu ? (JSON.parse((await browser.stopTracing()).toString()).traceEvents as TraceEvent[]) : null;
      const cpuMs = trace ? mainThreadCpuPerUpdate(trace) : null;
      const f = (x: number) => `${x.toFixed(1)} ms`;
      const median = quantile(r.frameMs, 0.5);
      const p95 = quantile(r.frameMs, 0.95);
      const everyFrame = r.drawnFrames >= r.framesAtLeast1px;
      const drawnBy =
        r.renderer === 'svg'
          ? `${r.svgFrames} SVG frames (d3-flame-graph, frames of ${r.svgMinPx} px and more)`
          : r.renderer === 'canvas'
            ? `${r.canvasFrames} canvas frames`
            : `${r.svgFrames} SVG frames of ${r.svgMinPx} px and more + ${r.canvasFrames} canvas frames under ${r.svgMinPx} px (the dashboard's flame graph)`;
      process.stdout.write(
        [
          `flame graph live update, renderer ${r.renderer}, ${r.nodes} nodes, ${r.width} px wide, ${r.updateMs.length} updates`,
          `  frames:         ${r.drawnFrames} drawn of ${r.framesAtLeast1px} at least 1 px wide (last update): ${drawnBy}`,
          `  update (sync):  median ${f(quantile(r.updateMs, 0.5))}  p95 ${f(quantile(r.updateMs, 0.95))}  min ${f(Math.min(...r.updateMs))}`,
          `  to paint:       median ${f(median)}  p95 ${f(p95)}  min ${f(Math.min(...r.frameMs))}`,
          ...(cpuMs ? [`  main-thread CPU per update: median ${f(quantile(cpuMs, 0.5))}  p95 ${f(quantile(cpuMs, 0.95))}  min ${f(Math.min(...cpuMs))} (${cpuMs.length} updates, traced)`] : []),
          `  target: to paint median <= ${TARGET_MEDIAN_MS} ms ${median <= TARGET_MEDIAN_MS ? 'met' : 'NOT met'}, p95 <= ${TARGET_P95_MS} ms ${p95 <= TARGET_P95_MS ? 'met' : 'NOT met'}, every frame >= 1 px drawn: ${everyFrame ? 'yes' : 'NO'}`,
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

/**
 * bench/sample-to-screen — how long from a sample being taken to it being drawn in a browser.
 *
 *   sudo node --import tsx bench/sample-to-screen.ts [--trials 20]
 *
 * Each trial starts a CPU-bound process under a name never used before (a copy of
 * test/workloads/spin with a unique file name, so a unique comm), notes the wall-clock time it
 * started, and waits until the dashboard in headless chromium draws a frame with that name. The
 * process is sampled within one sampling period of starting (about 10 ms at 99 Hz), so the
 * difference is the sample-to-screen latency to within that. Prints min, median, p95, max.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { buildWorkload } from '../test/workloads/build.ts';
import { TEST_IDS } from '../lib/test-ids.ts';

const { values } = parseArgs({ options: { trials: { type: 'string' } } });
const TRIALS = Number(values.trials ?? 20);
const PORT = 7392;

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

async function main() {
  if (process.getuid?.() !== 0) throw new Error('run as root (the profiler loads BPF programs)');
  const spin = buildWorkload('spin');
  const dir = mkdtempSync(path.join(tmpdir(), 'pb-s2s-'));
  const server: ChildProcess = spawn(process.execPath, ['bin/probeboard.js', 'serve', '--port', String(PORT), '--no-auth'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    server.once('exit', (code) => reject(new Error(`probeboard serve exited with ${code}`)));
    server.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('dashboard at') && resolve());
  });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const latencies: number[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(`http://127.0.0.1:${PORT}/`);
    await page.getByTestId(TEST_IDS.flameGraph).waitFor();
    await page.waitForTimeout(3000);
    for (let trial = 0; trial < TRIALS; trial++) {
      const name = `pbs2s${process.pid % 1000}x${trial}`;
      const binary = path.join(dir, name);
      copyFileSync(spin, binary);
      const startedMs = Date.now();
      const child = spawn(binary, ['8', '50'], { stdio: 'ignore' });
      try {
        const drawnMs = await page.waitForFunction(
          ({ id, wanted }) => {
            const graph = document.querySelector(`[data-testid="${id}"]`);
            return graph?.textContent?.includes(wanted) ? Date.now() : false;
          },
          { id: TEST_IDS.flameGraph, wanted: name },
          { polling: 'raf', timeout: 15_000 },
        );
        const latency = (await drawnMs.jsonValue()) as number - startedMs;
        latencies.push(latency);
        process.stderr.write(`trial ${trial + 1}/${TRIALS}: ${latency} ms\n`);
      } finally {
        child.kill('SIGKILL');
      }
      await page.waitForTimeout(300 + Math.random() * 700); // start at a random phase of the interval
    }
  } finally {
    await browser.close();
    server.kill('SIGINT');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(`sample-to-screen over ${sorted.length} trials (ms): min ${sorted[0]}, median ${quantile(sorted, 0.5)}, p95 ${quantile(sorted, 0.95)}, max ${sorted.at(-1)}`);
}

await main();

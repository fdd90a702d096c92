/**
 * bench/events-browser: events per second from the kernel to the dashboard's events table
 * without loss, and where loss begins — the browser side of bench/events-throughput.ts.
 *
 *   node --import tsx bench/events-browser.ts [--seconds 3] [--rates 1000,2000,...] [--port 7272]
 *
 * Starts `probeboard serve` and Debian's chromium (headless, through Playwright), adds the
 * probe `usdt:…/events-target:pbev:flood` through the page's spec field, runs
 * test/workloads/events-target.c `rate R S`, and reads from the page: rows received into the
 * table's store, rows the server did not send because the page was behind (`skipped`), and
 * kernel/server losses; also the page's animation frames per second while the rows arrive
 * (smoothness) and the server's CPU. Run as root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Page } from '@playwright/test';
import { compileWorkload } from '../server/probes/testing.ts';
import { cpuSeconds, option } from './proc.ts';
import { EVENTS_TEST_IDS, TEST_IDS } from '../lib/test-ids.ts';

const SECONDS = Number(option('seconds', '3'));
const RATES = option('rates', '500,1000,2000,4000,8000,16000,32000').split(',').map(Number);
const PORT = Number(option('port', '7272'));

function runProducer(path: string, rate: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, ['rate', String(rate), String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', () => resolve(Number(out.trim())));
  });
}

async function startServer(): Promise<{ server: ChildProcess; url: string }> {
  const server = spawn(process.execPath, ['bin/probeboard.js', 'serve', '--port', String(PORT)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
  let log = '';
  let url = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 240_000);
    const onData = (d: Buffer) => {
      log += d.toString();
      const m = /dashboard at (\S+)/.exec(log);
      if (m) {
        url = m[1];
        clearTimeout(timer);
        resolve();
      }
    };
    server.stdout!.on('data', onData);
    server.stderr!.on('data', onData);
    server.once('exit', (code) => reject(new Error(`server exited (${code}):\n${log}`)));
  });
  return { server, url };
}

interface Row {
  rate: number;
  fired: number;
  serverTotal: number;
  received: number;
  skipped: number;
  lostDropped: number;
  fps: number;
  serverCpuPct: number;
}

const attr = async (page: Page, selector: string, name: string) => Number(await page.locator(selector).first().getAttribute(name));

async function measure(page: Page, server: ChildProcess, bin: string, rate: number): Promise<Row> {
  const spec = `usdt:${bin}:pbev:flood`;
  await page.getByTestId(EVENTS_TEST_IDS.specInput).fill(spec);
  await page.getByTestId(EVENTS_TEST_IDS.pidInput).fill('');
  await page.getByTestId(EVENTS_TEST_IDS.specAdd).click();
  const panel = `[data-testid="${EVENTS_TEST_IDS.panel}"][data-spec="${spec}"]`;
  await page.locator(panel).waitFor();
  await sleep(300);
  // Count animation frames while rows arrive.
  // (a string: tsx would wrap a named function with a helper the page does not have)
  await page.evaluate(`(() => {
    window.__frames = 0;
    window.__counting = true;
    const step = () => {
      if (!window.__counting) return;
      window.__frames++;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  })()`);
  const cpu0 = cpuSeconds(server.pid!);
  const t0 = performance.now();
  const fired = await runProducer(bin, rate);
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = cpuSeconds(server.pid!);
  const frames = Number(await page.evaluate('window.__counting = false, window.__frames'));
  // Let the last batches arrive.
  let received = -1;
  for (let i = 0; i < 20; i++) {
    await sleep(250);
    const now = await attr(page, panel, 'data-received');
    if (now === received) break;
    received = now;
  }
  const skipped = await attr(page, `${panel} [data-testid="${EVENTS_TEST_IDS.skipped}"]`, 'data-value');
  const lost = await attr(page, `${panel} [data-testid="${EVENTS_TEST_IDS.lost}"]`, 'data-lost');
  const dropped = await attr(page, `${panel} [data-testid="${EVENTS_TEST_IDS.lost}"]`, 'data-dropped');
  const serverTotal = received + skipped;
  await page.locator(panel).getByTestId(EVENTS_TEST_IDS.remove).click();
  await page.locator(panel).waitFor({ state: 'detached' });
  return { rate, fired, serverTotal, received, skipped, lostDropped: lost + dropped, fps: frames / wall, serverCpuPct: ((cpu1 - cpu0) / wall) * 100 };
}

const bin = compileWorkload('events-target', ['events-target.c']);
const { server, url } = await startServer();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless', '--disable-gpu'] });
const rows: Row[] = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url); // carries the token the server printed
  await page.locator(`[data-testid="${TEST_IDS.connectionState}"][data-state="connected"]`).waitFor();
  for (const rate of RATES) rows.push(await measure(page, server, bin.path, rate));
} finally {
  await browser.close();
  server.kill('SIGINT');
  bin.cleanup();
}

console.log(`\n${'target/s'.padStart(9)} ${'fired'.padStart(8)} ${'server'.padStart(8)} ${'in table'.padStart(9)} ${'skipped'.padStart(8)} ${'lost+drop'.padStart(9)} ${'loss%'.padStart(6)} ${'page fps'.padStart(8)} ${'srv CPU%'.padStart(8)}`);
for (const r of rows) {
  const loss = r.fired > 0 ? (100 * (r.fired - r.received)) / r.fired : 0;
  console.log(
    `${String(r.rate).padStart(9)} ${String(r.fired).padStart(8)} ${String(r.serverTotal).padStart(8)} ${String(r.received).padStart(9)} ${String(r.skipped).padStart(8)} ${String(r.lostDropped).padStart(9)} ${loss.toFixed(2).padStart(6)} ${r.fps.toFixed(0).padStart(8)} ${r.serverCpuPct.toFixed(1).padStart(8)}`,
  );
}
const clean = rows.filter((r) => r.received >= r.fired && r.fired > 0);
const firstLoss = rows.find((r) => r.received < r.fired);
console.log(
  `browser table: highest rate without loss ${clean.length ? Math.max(...clean.map((r) => r.fired / SECONDS)).toFixed(0) : 'none'} events/s; loss begins at ${firstLoss ? `${firstLoss.rate}/s (${firstLoss.skipped} rows not sent: the page was behind or over the per-batch cap)` : 'no tested rate'}`,
);

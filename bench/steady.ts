/**
 * bench/steady — what `serve` costs in steady state with one live viewer, per process.
 *
 *   sudo node --import tsx bench/steady.ts [--seconds 60] [--warmup 20] [--browser] [--checkout DIR]
 *
 * Starts DIR/bin/probeboard.js (default: this checkout; run as an executable, so the V8 flags of
 * its #! line apply as for a user) `serve --no-build --no-auth` (with PROBEBOARD_MEMSTATS=1), switches whole-machine
 * sampling on at 99 Hz and keeps one viewer: a socket.io client that acknowledges every frame
 * as the dashboard does (flow control: one frame in flight), or headless chromium on the
 * dashboard with --browser (needs the static export in out/). After --warmup seconds it measures
 * for --seconds: CPU (user+sys, % of one core) of the web process and of the collector process,
 * their RSS (mean and peak of VmRSS, RssAnon, and VmHWM since start), and the last heap line each
 * process logged. The viewer's own costs are not counted.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { io as connect } from 'socket.io-client';
import { childPids, cpuSeconds } from './proc.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    browser: { type: 'boolean' },
    checkout: { type: 'string' },
    port: { type: 'string' },
    /** Print every memstats line as it comes (growth over time). */
    verbose: { type: 'boolean' },
    /** Each process runs a full GC before its memstats line (live heap; costs CPU: not for CPU figures). */
    gc: { type: 'boolean' },
  },
});
const SECONDS = Number(values.seconds ?? 60);
const WARMUP = Number(values.warmup ?? 20);
const CHECKOUT = path.resolve(values.checkout ?? '.');
const ENTRY = path.join(CHECKOUT, 'bin/probeboard.js');
const PORT = Number(values.port ?? 7393);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function statusKb(pid: number, field: string): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('run as root (the profiler loads BPF programs)');
  const started = Date.now();
  const server = spawn(ENTRY, ['serve', '--port', String(PORT), '--no-auth', '--no-build'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: CHECKOUT,
    env: { ...process.env, PROBEBOARD_MEMSTATS: values.gc ? 'gc' : '1' },
  });
  const lastMemstats = new Map<string, string>();
  let stderrTail = '';
  server.stderr!.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
    for (const line of chunk.toString().split('\n')) {
      const match = /^memstats (\w+) pid \d+: (.*)$/.exec(line);
      if (match) {
        lastMemstats.set(match[1], match[2]);
        if (values.verbose) process.stderr.write(`${((Date.now() - started) / 1000).toFixed(0)} s ${line}\n`);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderrTail}`)));
    server.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('dashboard at')) resolve();
    });
  });
  const startMs = Date.now() - started;
  const web = server.pid!;
  // The collector is the child running collector.js (bundle) or main.ts (sources); serve may have other, short-lived children.
  const collector = childPids(web).find((pid) => {
    try {
      return /collector\.js|privileged\/main\.ts/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  });
  if (collector === undefined) throw new Error('no collector child found');

  const control = connect(`http://127.0.0.1:${PORT}`, { transports: ['websocket'] });
  let frames = 0;
  let frameBytes = 0;
  control.on('profile:frame', (frame: unknown, ack: () => void) => {
    frames++;
    frameBytes += JSON.stringify(frame).length;
    ack();
  });
  await new Promise<void>((resolve, reject) =>
    control.emit('profile:configure', { running: true, hz: 99, target: { kind: 'all' } }, (reply: { ok: boolean; error?: string }) =>
      reply.ok ? resolve() : reject(new Error(reply.error)),
    ),
  );
  let closeBrowser = async () => {};
  if (values.browser) {
    const { chromium } = await import('@playwright/test');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless', '--disable-gpu'] });
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${PORT}/`);
    closeBrowser = () => browser.close();
  }
  await sleep(WARMUP * 1000);

  const pids = { web, collector };
  for (const role of ['web', 'collector'] as const) {
    if (!existsSync(`/proc/${pids[role]}`)) throw new Error(`the ${role} process (pid ${pids[role]}) is gone during the warm-up: ${stderrTail}`);
  }
  const cpu0 = { web: cpuSeconds(web), collector: cpuSeconds(collector) };
  const rss = { web: [] as number[], collector: [] as number[] };
  const anon = { web: [] as number[], collector: [] as number[] };
  frames = 0;
  frameBytes = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < SECONDS * 1000) {
    await sleep(1000);
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(`serve exited during the measurement (${server.signalCode ?? `code ${server.exitCode}`}): ${stderrTail}`);
    }
    if (!existsSync(`/proc/${collector}`)) throw new Error(`the collector (pid ${collector}) is gone: ${stderrTail}`);
    for (const role of ['web', 'collector'] as const) {
      rss[role].push(statusKb(pids[role], 'VmRSS') / 1024);
      anon[role].push(statusKb(pids[role], 'RssAnon') / 1024);
    }
  }
  const wall = (Date.now() - t0) / 1000;
  for (const role of ['web', 'collector'] as const) {
    if (!existsSync(`/proc/${pids[role]}`)) throw new Error(`the ${role} process (pid ${pids[role]}) is gone: ${stderrTail}`);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`serve ${ENTRY}: start to URL ${startMs} ms; one ${values.browser ? 'chromium' : 'socket.io'} viewer, 99 Hz whole machine, ${WARMUP} s warm-up, ${wall.toFixed(0)} s measured; ${frames} frames, ${(frameBytes / Math.max(frames, 1) / 1024).toFixed(0)} KB JSON each`);
  let sumPeak = 0;
  let sumHwm = 0;
  let sumCpu = 0;
  for (const role of ['web', 'collector'] as const) {
    const cpu = ((cpuSeconds(pids[role]) - cpu0[role]) / wall) * 100;
    const hwm = statusKb(pids[role], 'VmHWM') / 1024;
    sumPeak += Math.max(...rss[role]);
    sumHwm += hwm;
    sumCpu += cpu;
    console.log(
      `  ${role.padEnd(9)} CPU ${cpu.toFixed(2)} % of one core; RSS mean ${mean(rss[role]).toFixed(0)} MB, peak ${Math.max(...rss[role]).toFixed(0)} MB (anon mean ${mean(anon[role]).toFixed(0)} MB), VmHWM ${hwm.toFixed(0)} MB; ${lastMemstats.get(role) ?? 'no memstats line'}`,
    );
  }
  console.log(`  summed    CPU ${sumCpu.toFixed(2)} %; RSS peak ${sumPeak.toFixed(0)} MB (measured window), VmHWM ${sumHwm.toFixed(0)} MB (since start)`);
  control.close();
  await closeBrowser();
  server.kill('SIGINT');
  await new Promise((resolve) => server.once('exit', resolve));
}

await main();

/**
 * bench/overhead — what profiling the whole machine costs, measured side by side in one run.
 *
 *   sudo node --import tsx bench/overhead.ts [--rounds 3] [--soak-minutes 0]
 *
 * 1. A CPU-bound workload (test/workloads/spin.c, fixed iterations) is timed with nothing
 *    attached, with probeboard serving the dashboard and profiling at 99 Hz with one viewer
 *    (headless chromium), and with `perf record -F 99 -a -g` running — interleaved, `--rounds`
 *    times, so machine noise hits every condition alike. Prints the median runtime and the
 *    slowdown ratio of each condition against the baseline.
 * 2. The CPU time (user+sys) of probeboard's own process and of perf's, per minute of wall time,
 *    measured over the same windows; and probeboard's peak RSS.
 * 3. With --soak-minutes N: keeps probeboard profiling with one viewer for N minutes and prints
 *    its RSS every minute (growth check).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from '@playwright/test';
import { io as connect } from 'socket.io-client';
import { buildWorkload } from '../test/workloads/build.ts';
import { childPids, cpuSeconds, treeCpuSeconds } from './proc.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, 'soak-minutes': { type: 'string' }, iterations: { type: 'string' } } });
const ROUNDS = Number(values.rounds ?? 3);
const SOAK_MINUTES = Number(values['soak-minutes'] ?? 0);
const ITERATIONS = values.iterations ?? '20000000000';
const PORT = 7391;
/** RSS of probeboard: the web process and its collector child, summed (MB). */
function treeRssMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  return rssMb(pid, field) + childPids(pid).reduce((sum, child) => sum + treeRssMb(child, field), 0);
}

function rssMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

function timeWorkload(binary: string): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(binary, ['0', '0', ITERATIONS]);
  if (result.status !== 0) throw new Error(`workload failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startProbeboard(): Promise<{ server: ChildProcess; browser: Browser; stop(): Promise<void> }> {
  const server = spawn(process.execPath, ['bin/probeboard.js', 'serve', '--port', String(PORT), '--no-auth'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    server.once('exit', (code) => reject(new Error(`probeboard serve exited with ${code}`)));
    server.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('dashboard at')) resolve();
    });
  });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${PORT}/`);
  await sleep(3000); // first frames drawn, steady state
  return {
    server,
    browser,
    stop: async () => {
      await browser.close();
      server.kill('SIGINT');
      await new Promise((resolve) => server.once('exit', resolve));
    },
  };
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('run as root (the profiler loads BPF programs)');
  const binary = buildWorkload('spin');
  timeWorkload(binary); // warm caches
  const base: number[] = [];
  const withProbeboard: number[] = [];
  const withPerf: number[] = [];
  let probeboardCpu = 0;
  let probeboardWall = 0;
  let perfCpu = 0;
  let perfWall = 0;
  let peakRss = 0;
  const perfDir = mkdtempSync(path.join(tmpdir(), 'pb-bench-perf-'));

  const pb = await startProbeboard();
  const pbPid = pb.server.pid!;
  // A control connection: sampling is switched off (every BPF link detached) for the baseline
  // and perf conditions, so nothing of probeboard's stays in the kernel while they run.
  const control = connect(`http://127.0.0.1:${PORT}`, { transports: ['websocket'] });
  control.on('profile:frame', (_frame: unknown, ack: () => void) => ack());
  const sampling = (running: boolean) =>
    new Promise<void>((resolve, reject) =>
      control.emit('profile:configure', { running }, (reply: { ok: boolean; error?: string }) =>
        reply.ok ? resolve() : reject(new Error(reply.error)),
      ),
    );
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await sampling(false);
      await sleep(500);
      base.push(timeWorkload(binary));
      await sampling(true);
      await sleep(1500);

      const cpu0 = treeCpuSeconds(pbPid);
      const t0 = Date.now();
      withProbeboard.push(timeWorkload(binary));
      probeboardCpu += treeCpuSeconds(pbPid) - cpu0;
      probeboardWall += (Date.now() - t0) / 1000;
      peakRss = Math.max(peakRss, treeRssMb(pbPid, 'VmHWM'));

      await sampling(false);
      const perf = spawn('perf', ['record', '-F', '99', '-a', '-g', '-q', '-o', path.join(perfDir, `perf${round}.data`)], { stdio: 'ignore' });
      await sleep(1500);
      const perfCpu0 = cpuSeconds(perf.pid!, true);
      const p0 = Date.now();
      withPerf.push(timeWorkload(binary));
      perfCpu += cpuSeconds(perf.pid!, true) - perfCpu0;
      perfWall += (Date.now() - p0) / 1000;
      perf.kill('SIGINT');
      await new Promise((resolve) => perf.once('exit', resolve));
      await sampling(true);
      await sleep(1500);
      process.stderr.write(`round ${round + 1}/${ROUNDS}: base ${base.at(-1)!.toFixed(2)} s, probeboard ${withProbeboard.at(-1)!.toFixed(2)} s, perf ${withPerf.at(-1)!.toFixed(2)} s\n`);
    }

    const b = median(base);
    console.log(`workload: ${ITERATIONS} iterations of spin, ${ROUNDS} interleaved rounds, medians`);
    console.log(`  nothing attached             ${b.toFixed(3)} s`);
    console.log(`  probeboard 99 Hz + 1 viewer  ${median(withProbeboard).toFixed(3)} s  (x${(median(withProbeboard) / b).toFixed(3)})`);
    console.log(`  perf record -F 99 -a -g      ${median(withPerf).toFixed(3)} s  (x${(median(withPerf) / b).toFixed(3)})`);
    console.log(`own CPU, per minute of wall time (share of one core):`);
    console.log(`  probeboard serve             ${((probeboardCpu / probeboardWall) * 60).toFixed(2)} s/min  (${((probeboardCpu / probeboardWall) * 100).toFixed(2)} %)`);
    console.log(`  perf record                  ${((perfCpu / perfWall) * 60).toFixed(2)} s/min  (${((perfCpu / perfWall) * 100).toFixed(2)} %)`);
    console.log(`probeboard peak RSS            ${peakRss.toFixed(0)} MB`);

    if (SOAK_MINUTES > 0) {
      console.log(`soak: ${SOAK_MINUTES} min, RSS every minute`);
      const cpuStart = treeCpuSeconds(pbPid);
      for (let minute = 1; minute <= SOAK_MINUTES; minute++) {
        await sleep(60_000);
        console.log(`  minute ${minute}: RSS ${treeRssMb(pbPid, 'VmRSS').toFixed(0)} MB, peak ${treeRssMb(pbPid, 'VmHWM').toFixed(0)} MB, CPU ${(((treeCpuSeconds(pbPid) - cpuStart) / (minute * 60)) * 100).toFixed(2)} %`);
      }
    }
  } finally {
    control.close();
    await pb.stop();
    rmSync(perfDir, { recursive: true, force: true });
  }
}

await main();

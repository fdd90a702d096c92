/**
 * bench/events-throughput: events per second from the kernel to user space without loss,
 * where loss begins, and the CPU cost per 10k events/s — probeboard's EventsCollector vs
 * bpftrace printing the same USDT events, in the same run, at the same rates.
 *
 *   node --import tsx bench/events-throughput.ts [--seconds 2] [--rates 10000,50000,...]
 *
 * Producer: test/workloads/events-target.c `rate R S` fires usdt pbev:flood R times a second.
 * probeboard: EventsCollector with its defaults (4 MiB ring, batches of 4096, 10k queue); the
 * consumer turns each record into a JSON line (what the CLI's jsonl and the hub send), counted.
 * bpftrace: `usdt:…:pbev:flood { printf("%d\n", arg0) }`, its stdout counted by a pipe.
 * CPU: user+system time of the consuming process only (this process's cpuUsage delta for
 * probeboard, /proc/PID/stat for bpftrace), per second of the run, per 10k events/s delivered.
 * Run as root.
 */
import { execFileSync, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { compileWorkload } from '../server/probes/testing.ts';
import { cpuSeconds, option } from './proc.ts';
import { EventsCollector } from '../server/collectors/events.ts';

const SECONDS = Number(option('seconds', '2'));
const RATES = option('rates', '10000,50000,100000,200000,400000,800000,1600000').split(',').map(Number);

interface Row {
  tool: string;
  rate: number;
  fired: number;
  delivered: number;
  lost: number;
  cpuPct: number;
}

function runProducer(path: string, rate: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, ['rate', String(rate), String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', () => resolve(Number(out.trim())));
  });
}

async function probeboard(path: string, rate: number): Promise<Row> {
  let delivered = 0;
  let bytes = 0;
  const collector = new EventsCollector(`usdt:${path}:pbev:flood`, {
    onEvent: (e) => {
      delivered++;
      bytes += JSON.stringify(e).length + 1;
    },
  });
  collector.start();
  await sleep(200);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const fired = await runProducer(path, rate);
  await sleep(300);
  const stats = collector.stop();
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  void bytes;
  return { tool: 'probeboard', rate, fired, delivered, lost: stats.lost + stats.dropped, cpuPct: ((cpu.user + cpu.system) / 1e6 / wall) * 100 };
}

async function bpftrace(path: string, rate: number): Promise<Row> {
  const child = spawn('bpftrace', ['-e', `usdt:${path}:pbev:flood { printf("%d\\n", arg0); }`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  let stderr = '';
  let attached = false;
  child.stdout.on('data', (d: Buffer) => {
    if (!attached && d.includes('Attaching')) attached = true;
    for (const byte of d) if (byte === 10) lines++;
  });
  child.stderr.on('data', (d) => (stderr += d));
  for (let i = 0; i < 100 && !attached; i++) await sleep(100);
  if (!attached) throw new Error(`bpftrace did not attach: ${stderr.slice(0, 300)}`);
  lines = 0;
  const cpu0 = cpuSeconds(child.pid!);
  const t0 = process.hrtime.bigint();
  const fired = await runProducer(path, rate);
  await sleep(300);
  const cpu1 = cpuSeconds(child.pid!);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
  const lost = [...stderr.matchAll(/Lost (\d+) events/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  return { tool: 'bpftrace', rate, fired, delivered: lines, lost, cpuPct: ((cpu1 - cpu0) / wall) * 100 };
}

function print(rows: Row[]): void {
  console.log(`\n${'tool'.padEnd(11)} ${'target/s'.padStart(9)} ${'fired'.padStart(9)} ${'delivered'.padStart(10)} ${'lost'.padStart(9)} ${'loss%'.padStart(6)} ${'CPU%'.padStart(6)} ${'CPU%/10k/s'.padStart(10)}`);
  for (const r of rows) {
    const perSec = r.delivered / SECONDS;
    const loss = r.fired > 0 ? (100 * (r.fired - r.delivered)) / r.fired : 0;
    console.log(`${r.tool.padEnd(11)} ${String(r.rate).padStart(9)} ${String(r.fired).padStart(9)} ${String(r.delivered).padStart(10)} ${String(r.lost).padStart(9)} ${loss.toFixed(2).padStart(6)} ${r.cpuPct.toFixed(1).padStart(6)} ${(perSec > 0 ? (r.cpuPct / perSec) * 1e4 : 0).toFixed(2).padStart(10)}`);
  }
}

const bin = compileWorkload('events-target', ['events-target.c']);
const rows: Row[] = [];
let haveBpftrace = true;
try {
  execFileSync('bpftrace', ['--version'], { stdio: 'ignore' });
} catch {
  haveBpftrace = false;
  console.log('bpftrace not found: probeboard only');
}
try {
  for (const rate of RATES) {
    rows.push(await probeboard(bin.path, rate));
    if (haveBpftrace) rows.push(await bpftrace(bin.path, rate));
  }
} finally {
  bin.cleanup();
}
print(rows);
for (const tool of ['probeboard', 'bpftrace']) {
  const mine = rows.filter((r) => r.tool === tool);
  if (mine.length === 0) continue;
  const clean = mine.filter((r) => r.delivered >= r.fired && r.fired > 0);
  const firstLoss = mine.find((r) => r.delivered < r.fired);
  console.log(`${tool}: highest rate without loss ${clean.length ? Math.max(...clean.map((r) => r.delivered / SECONDS)).toFixed(0) : 'none'} events/s; loss begins at ${firstLoss ? `${firstLoss.rate}/s target (${(firstLoss.fired / SECONDS).toFixed(0)}/s fired)` : 'no tested rate'}`);
}

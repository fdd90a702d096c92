/**
 * Latency numbers that never mislead (issue 13), on the real kernel (root): percentiles of calls
 * with known durations against the program's own clock and against bpftrace on the same run,
 * the syscall hint, and syscall lists. Run: node --import tsx --test
 * server/collectors/latency-truth.kernel.test.ts (and in the 6.1 VM through test/vm/run).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelTestGate, openFds, newFds } from '../testing/kernel.ts';
import { startWhenReady, type ReadyWorkload } from '../../test/workloads/build.ts';
import { LatencyCollector } from './latency.ts';
import { percentile, relativeErrorBound, type Log2Histogram } from '../../lib/histogram.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const IN_VM = process.env.PB_VM === '1';
/**
 * What separates a duration the kernel measured from the one the function measured inside
 * itself: the kernel's window runs from the uprobe to the uretprobe, around the function's own,
 * so it is longer by the function's first and last instructions and the handlers. A few µs on hardware; the 6.1 VM emulates the CPU, where they take far longer.
 */
const PROBE_OVERHEAD_NS = IN_VM ? 1_000_000 : 50_000;
/** What each pb_fixed_* function busy-waits, ns. */
const NOMINAL_NS: Record<string, number> = { pb_fixed_300us: 300_000, pb_fixed_2ms: 2_000_000, pb_fixed_7ms: 7_000_000 };
const ROUNDS = 40; // 200 calls of 300 µs, 80 of 2 ms, 40 of 7 ms: about 0.5 s of work

let dir = '';
let fixedBin = '';
let rawSleepBin = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-latency-truth-'));
  fixedBin = join(dir, 'latency-fixed');
  rawSleepBin = join(dir, 'latency-sleep');
  execFileSync('gcc', ['-O1', '-o', fixedBin, join(root, 'test/workloads/latency-fixed.c')]);
  execFileSync('gcc', ['-O2', '-o', rawSleepBin, join(root, 'test/workloads/latency-sleep.c')]);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The q-quantile of sorted values, nearest rank (the value a percentile estimates). */
function trueQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

/** Durations per function the workload printed (`NAME d1 d2 ...`), sorted ascending. */
function ownDurations(out: string): Map<string, number[]> {
  const byName = new Map<string, number[]>();
  for (const line of out.split('\n')) {
    const [name, ...values] = line.trim().split(' ');
    if (name?.startsWith('pb_fixed_')) byName.set(name, values.map(Number).sort((a, b) => a - b));
  }
  return byName;
}

/** bpftrace timing every call of the pb_fixed_* functions of `pid`: one `NAME NS` line per call. */
async function startBpftrace(pid: number): Promise<{ stop(): Promise<Map<string, number[]>> }> {
  const script = `
uprobe:${fixedBin}:pb_fixed_* /pid == ${pid}/ { @start[tid] = nsecs; }
uretprobe:${fixedBin}:pb_fixed_* /pid == ${pid} && @start[tid]/ { printf("%s %llu\\n", probe, nsecs - @start[tid]); delete(@start[tid]); }`;
  const child = spawn('bpftrace', ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (/Attaching \d+ probes/.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`bpftrace exited (${code}) before attaching: ${err}`)));
    setTimeout(() => reject(new Error(`bpftrace did not attach in 120 s: ${err}`)), 120_000).unref();
  });
  return {
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
      const byName = new Map<string, number[]>();
      for (const m of out.matchAll(/^uretprobe:\S+:(pb_fixed_\w+) (\d+)$/gm)) {
        const list = byName.get(m[1]) ?? [];
        list.push(Number(m[2]));
        byName.set(m[1], list);
      }
      for (const list of byName.values()) list.sort((a, b) => a - b);
      return byName;
    },
  };
}

test('fixed durations: every percentile within the stated bound of the program clock and of bpftrace, and inside [min, max]', async (t) => {
  if (!kernelTestGate(t, ['uprobes'])) return;
  const w = await startWhenReady(fixedBin, [String(ROUNDS)]);
  const bpftrace = await startBpftrace(w.pid);
  const fdsBefore = openFds();
  const collector = LatencyCollector.open(`uprobe:${fixedBin}:pb_fixed_*`, { pid: w.pid });
  let own: Map<string, number[]>;
  let totals: { label: string; total: Log2Histogram }[];
  try {
    own = ownDurations(await w.go());
    totals = collector.read().series.map((s) => ({ label: s.label, total: s.total }));
  } finally {
    collector.close();
  }
  const traced = await bpftrace.stop();
  assert.deepEqual(newFds(fdsBefore, openFds()).filter((f) => /bpf|perf_event/.test(f)), [], 'every BPF fd is closed with the probe');

  assert.deepEqual(totals.map((s) => s.label).sort(), ['pb_fixed_2ms', 'pb_fixed_300us', 'pb_fixed_7ms']);
  for (const { label, total } of totals) {
    const mine = own.get(label)!;
    const theirs = traced.get(label) ?? [];
    const context = `${label}: kernel min ${total.min} max ${total.max}; program min ${mine[0]} max ${mine[mine.length - 1]}; bpftrace min ${theirs[0]} max ${theirs[theirs.length - 1]}`;
    assert.equal(total.count, mine.length, `${label}: one duration per call (${total.count} counted, ${mine.length} made)`);
    assert.equal(theirs.length, mine.length, `${label}: bpftrace saw ${theirs.length} of ${mine.length} calls`);
    assert.equal(relativeErrorBound(total), 1 / 8, `${label}: default resolution is 8 sub-buckets`);
    // A call busy-waits its nominal time, so nothing is shorter; the kernel's window encloses the
    // function's own, so its extremes are at least the program's, and longer by the probe overhead only.
    const nominal = NOMINAL_NS[label];
    assert.ok(mine[0] >= nominal, `the program's fastest call is at least the nominal ${nominal} ns: ${context}`);
    assert.ok(total.min! >= mine[0] && total.max! >= mine[mine.length - 1], `kernel extremes enclose the program's: ${context}`);
    assert.ok(total.min! - mine[0] <= PROBE_OVERHEAD_NS, `kernel min within the probe overhead of the program's: ${context}`);
    // The max is one call, and a single call can take far longer in a probe than in the function (a
    // first-hit fault, the handler preempted on a busy host), in ours or in bpftrace's on its own: CI
    // saw bpftrace's max 62 µs above ours on a 7 ms call. So the max is held only one way (it encloses
    // the program's, above); the percentiles below are held to both clocks.
    assert.ok(Math.abs(total.min! - theirs[0]) <= PROBE_OVERHEAD_NS, `kernel min within the probe overhead of bpftrace's: ${context}`);
    for (const q of [0.5, 0.9, 0.99]) {
      const estimate = percentile(total, q);
      const ownTruth = trueQuantile(mine, q);
      const traceTruth = trueQuantile(theirs, q);
      const detail = `${label} p${q * 100}: estimate ${estimate} ns, program ${ownTruth} ns, bpftrace ${traceTruth} ns (${context})`;
      assert.ok(estimate >= total.min! && estimate <= total.max!, `inside [min, max]: ${detail}`);
      // The program's clock misses what happens inside the probes (a handler preempted on a busy
      // host adds its wait to the kernel's window only), so against it the estimate is held one
      // way: never shorter than the program measured, beyond the resolution. Both ways it is held
      // to bpftrace, which measures the same window.
      assert.ok(estimate >= ownTruth * (7 / 8) - PROBE_OVERHEAD_NS, `not under the program's clock by more than 1/8 (+ probe overhead): ${detail}`);
      assert.ok(Math.abs(estimate - traceTruth) <= traceTruth / 8 + PROBE_OVERHEAD_NS, `within 1/8 (+ probe overhead) of bpftrace: ${detail}`);
    }
  }
});

test('a finer resolution tightens the bound: 16 sub-buckets, percentiles within 1/16', async (t) => {
  if (!kernelTestGate(t, ['uprobes'])) return;
  const w = await startWhenReady(fixedBin, ['10']);
  const collector = LatencyCollector.open(`uprobe:${fixedBin}:pb_fixed_2ms`, { pid: w.pid, subBuckets: 16 });
  try {
    const mine = ownDurations(await w.go()).get('pb_fixed_2ms')!;
    const total = collector.read().total;
    assert.equal(total.fine?.parts, 16);
    assert.equal(total.count, mine.length);
    const estimate = percentile(total, 0.5);
    const truth = trueQuantile(mine, 0.5);
    assert.ok(Math.abs(estimate - truth) <= truth / 16 + PROBE_OVERHEAD_NS, `p50 ${estimate} ns vs program ${truth} ns`);
  } finally {
    collector.close();
  }
});

/** Runs `probeboard latency ARGS` (the built CLI) while `w` runs; resolves with its output. */
async function cliDuring(w: ReadyWorkload, args: string[]): Promise<{ code: number | null; out: string; err: string; workload: string }> {
  const cli = spawn(process.execPath, [join(root, 'bin/probeboard.js'), 'latency', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  cli.stderr!.on('data', (d: Buffer) => (err += d));
  let workload: Promise<string> | null = null;
  const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
  cli.stdout!.on('data', (d: Buffer) => {
    out += d;
    // the first interval printed means the probe is attached: let the workload run
    if (!workload && out.includes('\n')) workload = w.go();
  });
  const code = await exited;
  return { code, out, err, workload: workload ? await workload : '' };
}

test('hint: a libc nanosleep() caller probed with syscall:nanosleep is told about clock_nanosleep, once', async (t) => {
  if (!kernelTestGate(t, ['tracepoints'])) return;
  const w = await startWhenReady(fixedBin, ['0', 'libc-sleeps', '50', '2000']);
  const run = await cliDuring(w, ['syscall:nanosleep', '--pid', String(w.pid), '--interval', '0.5', '--duration', IN_VM ? '8' : '3', '--format', 'json']);
  assert.equal(run.code, 0, run.err);
  const hints = run.err.split('\n').filter((l) => l.includes('0 calls to nanosleep'));
  assert.equal(hints.length, 1, `one hint on stderr: ${run.err}`);
  const m = /^probeboard latency: 0 calls to nanosleep; this process called clock_nanosleep (\d+) times \(glibc's nanosleep\(\) and usleep\(\) use it\) — try syscall:clock_nanosleep$/.exec(hints[0]);
  assert.ok(m, `hint wording: ${hints[0]}`);
  assert.ok(Number(m[1]) >= 1 && Number(m[1]) <= 50, `counted ${m[1]} clock_nanosleep calls of the 50 made`);
  const final = JSON.parse(run.out.trim().split('\n').pop()!);
  assert.equal(final.count, 0, 'the probe itself measured nothing');
});

test('no hint for a program that really calls nanosleep', async (t) => {
  if (!kernelTestGate(t, ['tracepoints'])) return;
  const w = await startWhenReady(rawSleepBin, ['s:20:2000']); // syscall(SYS_nanosleep, ...)
  const run = await cliDuring(w, ['syscall:nanosleep', '--pid', String(w.pid), '--interval', '0.5', '--duration', IN_VM ? '8' : '3', '--format', 'json']);
  assert.equal(run.code, 0, run.err);
  assert.doesNotMatch(run.err, /0 calls to|try syscall:/, `no hint: ${run.err}`);
  const final = JSON.parse(run.out.trim().split('\n').pop()!);
  assert.equal(final.count, 20, `20 nanosleep calls measured: ${run.out}`);
});

test('syscall:nanosleep,clock_nanosleep measures both as one probe, one series each', async (t) => {
  if (!kernelTestGate(t, ['tracepoints'])) return;
  const w = await startWhenReady(fixedBin, ['0', 'libc-sleeps', '30', '1000']);
  const raw = await startWhenReady(rawSleepBin, ['s:10:1000']);
  const collector = LatencyCollector.open('syscall:nanosleep,clock_nanosleep', {});
  try {
    assert.equal(collector.keyed, true);
    await Promise.all([w.go(), raw.go()]);
    const b = collector.read();
    const count = (label: string) => b.series.find((s) => s.label === label)?.total.count ?? 0;
    // whole system: other processes may sleep too, so at least what the two workloads made
    assert.ok(count('clock_nanosleep') >= 30, `clock_nanosleep series: ${count('clock_nanosleep')} (labels ${b.series.map((s) => s.label)})`);
    assert.ok(count('nanosleep') >= 10, `nanosleep series: ${count('nanosleep')}`);
    assert.equal(b.total.count, count('clock_nanosleep') + count('nanosleep'), 'the probe is the sum of its syscalls');
    assert.deepEqual(
      b.series.map((s) => s.label).filter((l) => l !== 'nanosleep' && l !== 'clock_nanosleep'),
      [],
      'no other syscall is measured',
    );
    assert.equal(b.hint, null, 'no hint while the probe sees calls');
  } finally {
    collector.close();
  }
});

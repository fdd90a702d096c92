/**
 * Off-CPU profiles on the real kernel (root), against test/workloads/offcpu-work.c, which
 * measures its own blocked and running time. Through the built CLI (`probeboard profile --type
 * offcpu|wall`), and OffCpuCollector directly for the accounting. Run: node --import tsx --test
 * server/collectors/offcpu.kernel.test.ts (and in the 6.1 VM through test/vm/run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelTestGate, openFds, newFds } from '../testing/kernel.ts';
import { buildWorkload, startWhenReady } from '../../test/workloads/build.ts';
import { OffCpuCollector } from './offcpu.ts';
import { DEFAULT_OFFCPU_SETTINGS } from '../../lib/protocol.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const IN_VM = process.env.PB_VM === '1';
/**
 * Share tolerance of the issue: ±5 points on hardware. The 6.1 VM emulates its CPUs (TCG): the
 * workload's own clock and the kernel's then disagree by the emulated syscall and timer paths,
 * so there the shares are only checked to ±15 points.
 */
const POINTS = IN_VM ? 15 : 5;

/** offcpu-work MODE SECONDS, ready; `go()` resolves with what it measured (`sleep_ns N`, `round_trips N`…). */
interface Workload {
  child: ChildProcess;
  pid: number;
  go(): Promise<Map<string, number>>;
}

async function startWorkload(mode: 'split' | 'wall' | 'storm', seconds: number): Promise<Workload> {
  const workload = await startWhenReady(buildWorkload('offcpu-work', ['-pthread']), [mode, String(seconds)]);
  return {
    child: workload.child,
    pid: workload.pid,
    go: async () => {
      const out = await workload.go();
      return new Map(out.split('\n').filter((l) => / \d+$/.test(l)).map((l) => [l.split(' ')[0], Number(l.split(' ')[1])]));
    },
  };
}

/** `probeboard profile ARGS` (the built CLI), started once the workload runs; resolves with its output. */
async function profile(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = spawn(process.execPath, [join(root, 'bin/probeboard.js'), 'profile', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  cli.stdout!.on('data', (d: Buffer) => (stdout += d));
  cli.stderr!.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number | null>((r) => cli.once('close', (c) => r(c)));
  return { code, stdout, stderr };
}

/** Folded lines as [stack, count]. */
function folded(text: string): [string, number][] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]);
}

function share(lines: [string, number][], match: (stack: string) => boolean): number {
  const total = lines.reduce((n, [, c]) => n + c, 0);
  return total > 0 ? (100 * lines.filter(([s]) => match(s)).reduce((n, [, c]) => n + c, 0)) / total : NaN;
}

const PROFILE_S = IN_VM ? 4 : 2;
/**
 * How much longer than a profile the workload runs: the CLI starts (slowly, under emulation)
 * after the workload, and names its frames only while it still runs.
 */
const SLACK_S = IN_VM ? 10 : 2;

test('offcpu: blocked time splits between the two waiting functions as the program measured it (±5 points), in µs', async (t) => {
  if (!kernelTestGate(t, ['tracepoints'])) return;
  const w = await startWorkload('split', PROFILE_S + SLACK_S);
  const measured = w.go();
  const run = await profile(['--type', 'offcpu', '--comm', 'pb-oc-main', '--duration', String(PROFILE_S), '--format', 'folded']);
  const own = await measured;
  assert.equal(run.code, 0, run.stderr);
  const lines = folded(run.stdout);
  const sleep = share(lines, (s) => s.includes(';pb_sleep_part'));
  const pipe = share(lines, (s) => s.includes(';pb_pipe_part'));
  const ownSleep = (100 * own.get('sleep_ns')!) / (own.get('sleep_ns')! + own.get('pipe_ns')!);
  const detail = `sleep ${sleep.toFixed(1)}% pipe ${pipe.toFixed(1)}% vs the program's ${ownSleep.toFixed(1)}/${(100 - ownSleep).toFixed(1)}; stderr: ${run.stderr}`;
  assert.ok(Math.abs(sleep - ownSleep) <= POINTS, `nanosleep share: ${detail}`);
  assert.ok(Math.abs(pipe - (100 - ownSleep)) <= POINTS, `pipe share: ${detail}`);
  // µs: about the profile's length of blocked time (one thread, blocked nearly all the time)
  const totalUs = lines.reduce((n, [, c]) => n + c, 0);
  assert.ok(totalUs > PROFILE_S * 1e6 * 0.7 && totalUs < (PROFILE_S + 1) * 1e6, `${totalUs} µs blocked in a ${PROFILE_S} s profile`);
  assert.match(run.stderr, /blocked in [\d.]+ s \(comm pb-oc-main, (tp_btf|raw_tp)\/sched_switch\)/);
  // every stack blocked in the kernel's scheduler, below the workload's function
  assert.ok(lines.every(([s]) => s.startsWith('pb-oc-main;')), `only the target: ${lines.map(([s]) => s.split(';')[0])}`);
  assert.ok(lines.filter(([s]) => s.includes('pb_')).every(([s]) => /schedule_\[k\]/.test(s)), `blocked in schedule: ${run.stdout.slice(0, 600)}`);
});

test('wall: a thread that computes 25% and sleeps 75% looks like that; off-CPU leaves are marked _[o]', async (t) => {
  if (!kernelTestGate(t, ['tracepoints', 'perf_events'])) return;
  const w = await startWorkload('wall', PROFILE_S + SLACK_S);
  const measured = w.go();
  // 499 Hz: enough on-CPU samples in a short run for a ±5 point share
  const run = await profile(['--type', 'wall', '--comm', 'pb-wall-main', '--hz', '499', '--duration', String(PROFILE_S), '--format', 'folded']);
  const own = await measured;
  assert.equal(run.code, 0, run.stderr);
  const lines = folded(run.stdout);
  const onCpu = lines.filter(([s]) => !s.endsWith('_[o]'));
  const offCpu = lines.filter(([s]) => s.endsWith('_[o]'));
  // The program's clock counts the time its compute loop was preempted (runnable, off CPU) as
  // computing, and so does the wall view: pb_compute_part's on- and off-CPU stacks together.
  const computeShare = share(lines, (s) => s.includes(';pb_compute_part'));
  const restShare = share(lines, (s) => s.includes(';pb_rest_part') && s.endsWith('_[o]'));
  const ownCompute = (100 * own.get('compute_ns')!) / (own.get('compute_ns')! + own.get('rest_ns')!);
  const detail = `compute ${computeShare.toFixed(1)}% rest ${restShare.toFixed(1)}% vs the program's ${ownCompute.toFixed(1)}/${(100 - ownCompute).toFixed(1)} (${onCpu.length} on-CPU, ${offCpu.length} off-CPU stacks)`;
  assert.ok(Math.abs(computeShare - ownCompute) <= POINTS, `on-CPU share: ${detail}`);
  assert.ok(Math.abs(restShare - (100 - ownCompute)) <= POINTS, `off-CPU share: ${detail}`);
  assert.ok(onCpu.some(([s]) => s.includes(';pb_compute_part')), `computing shows on-CPU: ${detail}`);
  // entering and leaving the sleep runs a little: at most a sliver of the rest is on-CPU
  assert.ok(share(lines, (s) => s.includes(';pb_rest_part') && !s.endsWith('_[o]')) < 2, `sleeping barely shows on-CPU: ${detail}`);
  assert.ok(share(lines, (s) => s.includes(';pb_compute_part') && !s.endsWith('_[o]')) >= computeShare / 2, `most of the computing ran: ${detail}`);
});

test('wakers: the blocked pipe read is joined to the waking function of the other thread', async (t) => {
  if (!kernelTestGate(t, ['tracepoints'])) return;
  const w = await startWorkload('split', PROFILE_S + SLACK_S);
  const measured = w.go();
  const run = await profile(['--type', 'offcpu', '--wakers', '--comm', 'pb-oc-main', '--duration', String(PROFILE_S), '--format', 'folded']);
  await measured;
  assert.equal(run.code, 0, run.stderr);
  const lines = folded(run.stdout);
  const pipe = lines.filter(([s]) => s.includes(';pb_pipe_part'));
  const woken = pipe.filter(([s]) => /;--;.*;pb_wake_reader;.*;pb-oc-waker$/.test(s));
  const wokenUs = woken.reduce((n, [, c]) => n + c, 0);
  const pipeUs = pipe.reduce((n, [, c]) => n + c, 0);
  assert.ok(pipeUs > 0 && wokenUs >= pipeUs * 0.9, `${wokenUs} of ${pipeUs} µs of pipe waits name pb_wake_reader in pb-oc-waker as waker: ${pipe.slice(0, 2).map(([s]) => s).join('\n')}`);
  // the waker's part reads leaf first after `--`: the waking function before its caller
  assert.ok(woken.every(([s]) => s.indexOf(';pb_wake_reader;') < s.indexOf(';waker;')), `waker frames leaf first: ${woken[0]?.[0]}`);
});

test('filters: --min-block-us and --max-block-us keep the right waits, --state uninterruptible none of these', async (t) => {
  if (!kernelTestGate(t, ['tracepoints'])) return;
  // The 6 ms sleeps and the ~4 ms pipe waits (the waker sleeps 4 ms before writing); in the
  // emulated VM sleeps overshoot, so the split sits between them with room either side.
  const w = await startWorkload('split', 3 * PROFILE_S + 2 * SLACK_S);
  const measured = w.go();
  const long = await profile(['--type', 'offcpu', '--comm', 'pb-oc-main', '--min-block-us', '5500', '--duration', String(PROFILE_S)]);
  const short = await profile(['--type', 'offcpu', '--comm', 'pb-oc-main', '--max-block-us', '5500', '--duration', String(PROFILE_S)]);
  const disk = await profile(['--type', 'offcpu', '--comm', 'pb-oc-main', '--state', 'uninterruptible', '--duration', String(PROFILE_S)]);
  await measured;
  for (const run of [long, short, disk]) assert.equal(run.code, 0, run.stderr);
  const longLines = folded(long.stdout);
  const shortLines = folded(short.stdout);
  // A sleep never ends early, but one block can be shorter than the sleep: a task preempted inside
  // the syscall, before the sleep's own switch-out, blocks for the rest only (seen on a loaded
  // 2-core host; under emulation the slow syscall path does the same: a 6 ms sleep blocked 0.5 ms).
  // So a few 6 ms sleeps may fall under 5.5 ms; nearly all the short waits are the pipe's.
  assert.ok(share(shortLines, (s) => s.includes(';pb_sleep_part')) <= (IN_VM ? 40 : 10), `<= 5.5 ms: few 6 ms sleeps: ${short.stdout.slice(0, 400)}`);
  assert.ok(share(shortLines, (s) => s.includes(';pb_pipe_part')) >= (IN_VM ? 60 : 90), `<= 5.5 ms: the pipe waits: ${short.stdout.slice(0, 400)}`);
  assert.ok(share(longLines, (s) => s.includes(';pb_sleep_part')) >= (IN_VM ? 50 : 80), `>= 5.5 ms: mostly the 6 ms sleeps: ${long.stdout.slice(0, 400)}`);
  // nanosleep and a pipe read sleep interruptibly (S), never in D
  assert.equal(folded(disk.stdout).filter(([s]) => s.includes('pb_')).length, 0, `no uninterruptible waits of the workload: ${disk.stdout.slice(0, 400)}`);
});

test('a context-switch storm stays accounted: every switch-out is filtered, lost or a start; every start recorded, filtered, lost or in flight', async (t) => {
  if (!kernelTestGate(t, ['tracepoints'])) return;
  const fdsBefore = openFds();
  const collector = OffCpuCollector.open({ kind: 'comm', comm: 'pb-storm' }, { ...DEFAULT_OFFCPU_SETTINGS, minBlockUs: 2 });
  try {
    const w = await startWorkload('storm', IN_VM ? 3 : 1.5);
    const own = await w.go();
    collector.detach();
    // a program run that began before the detach may still be finishing on another CPU
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stats = collector.stats();
    const read = collector.read();
    const started = stats.switches - stats.filtered - stats.exited - stats.startFull;
    const detail = JSON.stringify({ ...stats, roundTrips: own.get('round_trips') });
    assert.equal(started, stats.recorded + stats.blockFiltered + stats.countsFull + stats.overwritten + stats.inFlight, `switch-outs add up: ${detail}`);
    assert.ok(stats.exited >= 2, `the workload's two threads exited: ${detail}`);
    assert.equal(stats.startFull + stats.countsFull, 0, `no map filled up: ${detail}`);
    // A start replaced before its switch-in was seen (counted and reported as dropped, never
    // misattributed): seen from a handful per million to 7 in 44k switches on 6.18; a broken
    // pairing would lose a large share, so the bound is 0.1% (at least 20).
    assert.ok(stats.overwritten <= Math.max(20, stats.recorded / 1000), `switch-ins seen for nearly every start: ${detail}`);
    // two switches per round trip for each thread at most; most round trips block both threads
    assert.ok(stats.recorded + stats.blockFiltered >= own.get('round_trips')!, `at least one blocked interval per round trip: ${detail}`);
    const us = read.samples.reduce((n, s) => n + s.count, 0);
    const events = read.samples.reduce((n, s) => n + (s.events ?? 0), 0);
    assert.equal(events, stats.recorded, `events in the counts = recorded: ${detail}`);
    assert.ok(us > 0, `blocked time counted: ${us} µs`);
  } finally {
    collector.close();
  }
  assert.deepEqual(newFds(fdsBefore, openFds()).filter((f) => /bpf|perf_event/.test(f)), [], 'every BPF fd is closed with the collector');
});

test('the raw_tp fallback (kernels without BTF-typed tracepoints) measures the same', async (t) => {
  if (!kernelTestGate(t, ['tracepoints'])) return;
  const collector = OffCpuCollector.open({ kind: 'comm', comm: 'pb-oc-main' }, DEFAULT_OFFCPU_SETTINGS, { forceRawTracepoint: true });
  try {
    assert.equal(collector.attachedVia, 'raw_tp/sched_switch');
    const w = await startWorkload('split', 1);
    const own = await w.go();
    const read = collector.read();
    const us = read.samples.reduce((n, s) => n + s.count, 0);
    const ownUs = (own.get('sleep_ns')! + own.get('pipe_ns')!) / 1000;
    // In the emulated VM a good part of each "sleep" the program times is spent running the
    // syscall path itself (slowly), on CPU: blocked time is then well below the program's figure.
    const tolerance = IN_VM ? 0.4 : 0.1;
    assert.ok(Math.abs(us - ownUs) <= ownUs * tolerance, `${us} µs blocked vs the program's ${ownUs} µs (tolerance ${tolerance * 100}%)`);
  } finally {
    collector.close();
  }
});

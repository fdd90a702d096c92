/**
 * `probeboard profile --unwind cfi|fp|auto` end to end on the real kernel (the built CLI,
 * dist/ via bin/probeboard.js), on a C workload built the way Debian builds packages (-O2, no
 * frame pointers), with three call paths:
 *   main -> pb_a -> pb_b -> pb_c                         (pb_c spins)
 *   main -> pb_d -> qsort (libc) -> ... -> pb_compare    (pb_compare spins)
 *   main -> pb_s -> read (libc) -> kernel                (64 KiB reads of /dev/zero)
 * The second runs through libc, which has no frame pointers either. The CFI walk must bring
 * ≥95% of the samples' folded stacks to main and draw the compare stacks in order
 * (…;main;pb_d;qsort…;pb_compare), and the third's kernel time with its kernel frames on top
 * of the walked user frames (…;main;pb_s;read…;entry_SYSCALL_64…_[k];…_[k]); stderr must carry
 * the outcome counts. The frame-pointer walk of the same workload is run for the record.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kernelTestGate } from '../testing/kernel.ts';
import { decodePprof, foldedOfPprof } from '../../lib/flame/pprof-reader.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const NEEDS = ['btf', 'perf_events', 'ringbuf'] as const;
const SECONDS = 3;

// Each round is scaled by a random factor (k/8, k in 1..16) so that samples cannot lock onto a
// phase of a round of fixed length (see server/unwind/walker.kernel.test.ts). pb_compare spins
// until the round's budget is used, then returns at once.
const WORKLOAD = `
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static inline __attribute__((always_inline)) void spin(long n) {
  for (long i = 0; i < n; i++) __asm__ volatile("" ::: "memory");
}
volatile long sink;
static long budget;
volatile long spin_per_compare = 2000;
__attribute__((noinline)) void pb_c(long n) { spin(n); sink++; }
__attribute__((noinline)) void pb_b(long n) { pb_c(n); sink++; }
__attribute__((noinline)) void pb_a(long n) { pb_b(n); sink++; }
__attribute__((noinline)) int pb_compare(const void *x, const void *y) {
  if (budget > 0) { long n = spin_per_compare; spin(n); budget -= n; }
  return *(const int *)x - *(const int *)y;
}
__attribute__((noinline)) void pb_d(long n) {
  int v[32];
  budget = n;
  while (budget > 0) {
    for (int i = 0; i < 32; i++) v[i] = (i * 7919 + (int)sink) % 101;
    qsort(v, 32, sizeof v[0], pb_compare);
  }
  sink += v[0];
}
static char zeros[65536];
static int zero_fd;
__attribute__((noinline)) void pb_s(long n) {
  for (long i = 0; i < n; i++) sink += read(zero_fd, zeros, sizeof zeros);
}
int main(int argc, char **argv) {
  long reads = argc > 1 ? atol(argv[1]) : 15;
  zero_fd = open("/dev/zero", O_RDONLY);
  if (zero_fd < 0) { perror("/dev/zero"); return 1; }
  for (long round = 0;; round++) {
    long k = 1 + rand() % 16;
    pb_a(k * 75000);
    pb_d(k * 50000);
    pb_s(k * reads);
    if (round == 0) { puts("ready"); fflush(stdout); }
  }
}
`;

let dir = '';
let workload: ChildProcess | null = null;

before(async () => {
  if (process.geteuid?.() !== 0) return; // the gate in each test says why
  dir = mkdtempSync(path.join(tmpdir(), 'pb-profile-unwind-'));
  writeFileSync(path.join(dir, 'workload.c'), WORKLOAD);
  execFileSync('gcc', ['-O2', '-fomit-frame-pointer', '-o', path.join(dir, 'pb-cfi-work'), path.join(dir, 'workload.c')]);
  // 64 KiB reads per round unit: 15 take about as long as pb_a here (~37 µs); under the VM's
  // emulation the kernel's clear_user is ~25× slower next to user code (15 reads took 92% of the
  // samples there), so 1 keeps every path sampled.
  workload = spawn(path.join(dir, 'pb-cfi-work'), [process.env.PB_VM ? '1' : '15'], { stdio: ['ignore', 'pipe', 'inherit'] });
  // Its libraries are mapped once it printed (the first round ran).
  await new Promise<void>((resolve, reject) => {
    workload!.stdout!.once('data', () => resolve());
    workload!.once('exit', (code) => reject(new Error(`workload exited (${code}) before it was ready`)));
  });
});

after(() => {
  workload?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function profile(args: string[]) {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'probeboard.js'), 'profile', ...args], {
    encoding: 'utf8',
    timeout: 300_000, // the emulated VM loads the walker slowly
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(result.status, 0, `probeboard profile ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}`);
  return result;
}

interface Figures {
  samples: number;
  reachingMain: number;
  leafC: number;
  /** pb_c stacks going main;pb_a;pb_b;pb_c. */
  chainsC: number;
  leafCompare: number;
  /** pb_compare stacks going …;main;pb_d;qsort…;pb_compare (libc frames between qsort and pb_compare). */
  chainsCompare: number;
  /** Stacks with kernel frames (`_[k]`). */
  kernel: number;
  /** Stacks going …;main;pb_s;…(user) then kernel frames from the system call entry (entry_SYSCALL_64… or do_syscall_64) on. */
  syscallKernel: number;
  /** Stacks with a user frame above a kernel frame (must be none: kernel frames go on top). */
  userAboveKernel: number;
  /** Stacks with a [lost stack: …] frame. */
  lost: number;
  top: string[];
}

/** Figures of folded text (root first: comm;frames… COUNT). */
function figures(folded: string): Figures {
  const f: Figures = { samples: 0, reachingMain: 0, leafC: 0, chainsC: 0, leafCompare: 0, chainsCompare: 0, kernel: 0, syscallKernel: 0, userAboveKernel: 0, lost: 0, top: [] };
  const lines = folded.trim() === '' ? [] : folded.trim().split('\n');
  for (const line of lines) {
    const space = line.lastIndexOf(' ');
    const count = Number(line.slice(space + 1));
    const frames = line.slice(0, space).split(';');
    f.samples += count;
    const main = frames.indexOf('main');
    if (main >= 0) f.reachingMain += count;
    if (frames.some((frame) => frame.startsWith('[lost stack: '))) f.lost += count;
    const firstKernel = frames.findIndex((frame) => frame.endsWith('_[k]'));
    if (firstKernel >= 0) {
      f.kernel += count;
      if (frames.slice(firstKernel).some((frame) => !frame.endsWith('_[k]'))) f.userAboveKernel += count;
      if (main >= 0 && main < firstKernel && frames[main + 1] === 'pb_s' && main + 2 < firstKernel && /^(entry_SYSCALL_64|do_syscall_64)/.test(frames[firstKernel])) f.syscallKernel += count;
    }
    const leaf = frames[frames.length - 1];
    if (leaf === 'pb_c') {
      f.leafC += count;
      if (main >= 0 && frames.slice(main).join(';') === 'main;pb_a;pb_b;pb_c') f.chainsC += count;
    }
    if (leaf === 'pb_compare') {
      f.leafCompare += count;
      if (main >= 0 && frames[main + 1] === 'pb_d' && /qsort/.test(frames[main + 2] ?? '') && main + 2 < frames.length - 1) f.chainsCompare += count;
    }
  }
  f.top = lines
    .map((line) => ({ line, n: Number(line.slice(line.lastIndexOf(' ') + 1)) }))
    .sort((a, b) => b.n - a.n)
    .slice(0, 6)
    .map((x) => x.line);
  return f;
}

const pct = (n: number, of: number) => `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;

/** The `unwind total:` line of stderr, parsed. */
function unwindTotal(stderr: string) {
  const m = /unwind total: (\d+) stacks: CFI (\d+), frame-pointer fallback (\d+), truncated (\d+), failed (\d+) \(no table (\d+), read fault (\d+), unsupported (\d+), bad frame (\d+)\); lost (\d+), no user registers (\d+)/.exec(stderr);
  assert.ok(m, `stderr reports the unwind outcome counts:\n${stderr}`);
  const [stacks, cfi, fp, truncated, failed, noTable, readFault, unsupported, badFrame, lost, noRegs] = m.slice(1).map(Number);
  return { stacks, cfi, fp, truncated, failed, noTable, readFault, unsupported, badFrame, lost, noRegs };
}

test('--unwind cfi: -O2 -fomit-frame-pointer stacks reach main through libc qsort, outcome counts on stderr; --unwind fp for the record', (t) => {
  if (!kernelTestGate(t, [...NEEDS])) return;
  const pid = String(workload!.pid);
  const cfiRun = profile(['--pid', pid, '--duration', String(SECONDS), '--unwind', 'cfi', '--format', 'folded']);
  const c = figures(cfiRun.stdout);
  const total = unwindTotal(cfiRun.stderr);
  t.diagnostic(`CFI: ${c.samples} samples, ${pct(c.reachingMain, c.samples)} reach main; pb_c ${c.leafC} (${c.chainsC} main;pb_a;pb_b;pb_c), pb_compare ${c.leafCompare} (${c.chainsCompare} …;main;pb_d;qsort…;pb_compare)`);
  for (const line of cfiRun.stderr.trim().split('\n')) t.diagnostic(`CFI stderr: ${line}`);
  for (const line of c.top) t.diagnostic(`CFI stack: ${line}`);

  const fpRun = profile(['--pid', pid, '--duration', String(SECONDS), '--unwind', 'fp', '--format', 'folded']);
  const f = figures(fpRun.stdout);
  t.diagnostic(`CFI kernel frames: ${c.kernel} stacks with kernel frames, ${c.syscallKernel} …;main;pb_s;…;system call entry_[k]…, ${c.userAboveKernel} with a user frame above a kernel one, ${c.lost} with a lost stack`);
  t.diagnostic(`FP: ${f.samples} samples, ${pct(f.reachingMain, f.samples)} reach main; pb_c ${f.leafC} (${f.chainsC} whole), pb_compare ${f.leafCompare} (${f.chainsCompare} whole); kernel frames ${f.kernel}`);
  for (const line of f.top) t.diagnostic(`FP stack: ${line}`);

  // Enough samples: 99 Hz for 3 s on the workload's one thread, about 300.
  assert.ok(c.samples >= 100, `at least 100 samples, got ${c.samples}:\n${cfiRun.stdout.slice(0, 3000)}`);
  assert.ok(c.reachingMain >= 0.95 * c.samples, `≥95% of stacks reach main: ${pct(c.reachingMain, c.samples)}:\n${c.top.join('\n')}`);
  assert.ok(c.leafC >= 20 && c.leafCompare >= 20, `both paths sampled: pb_c ${c.leafC}, pb_compare ${c.leafCompare}`);
  assert.ok(c.chainsC >= 0.95 * c.leafC, `pb_c stacks go main;pb_a;pb_b;pb_c: ${c.chainsC}/${c.leafC}`);
  assert.ok(c.chainsCompare >= 0.95 * c.leafCompare, `pb_compare stacks go …;main;pb_d;qsort…;pb_compare: ${c.chainsCompare}/${c.leafCompare}`);
  // Kernel frames: the reads of /dev/zero spend most of pb_s's time in the kernel (about a third
  // of the run); those samples carry the kernel stack, from the system call entry up, on top of
  // the walked user stack. Kernel frames never sit under user frames.
  assert.ok(c.syscallKernel >= 0.1 * c.samples, `kernel frames from the system call entry on top of …;main;pb_s;…: ${c.syscallKernel} of ${c.samples} stacks\n${c.top.join('\n')}`);
  assert.ok(c.syscallKernel >= 0.9 * c.kernel, `stacks with kernel frames are pb_s's system calls: ${c.syscallKernel}/${c.kernel}`);
  assert.equal(c.userAboveKernel, 0, 'kernel frames go on top of the user frames');
  assert.ok(c.lost <= 0.05 * c.samples, `few lost stacks: ${c.lost}/${c.samples}`);
  // Every line is the workload's thread.
  for (const line of cfiRun.stdout.trim().split('\n')) assert.ok(line.startsWith('pb-cfi-work;'), `line rooted at the comm: ${line}`);

  // The counts on stderr: one stack per folded sample, nearly all walked by CFI to the end,
  // the categories adding up, and one line per interval before the total.
  assert.equal(total.stacks, c.samples, 'stacks counted = samples in the output');
  assert.equal(total.cfi + total.fp + total.truncated + total.failed, total.stacks, 'every stack in one category');
  assert.equal(total.noTable + total.readFault + total.unsupported + total.badFrame, total.failed, 'failures by reason add up');
  assert.ok(total.cfi >= 0.95 * total.stacks, `≥95% of stacks unwound by CFI alone: ${total.cfi}/${total.stacks}`);
  assert.ok((cfiRun.stderr.match(/^probeboard profile: unwind \d\d:\d\d:\d\d \([\d.]+ s\): \d+ stacks: CFI \d+/gm) ?? []).length >= SECONDS, `a line per interval:\n${cfiRun.stderr}`);
  assert.match(cfiRun.stderr, /CFI tables for pid \d+: \d+ mappings with tables/);
  assert.doesNotMatch(cfiRun.stderr, /--unwind auto/, 'an explicit --unwind says nothing about auto');

  // Frame pointers alone do no better (in fact far worse: this workload has none).
  assert.ok(f.samples >= 100, `FP: at least 100 samples, got ${f.samples}`);
  assert.ok(f.reachingMain / f.samples <= c.reachingMain / c.samples, `FP reaches main no more often (${pct(f.reachingMain, f.samples)}) than CFI (${pct(c.reachingMain, c.samples)})`);
  assert.doesNotMatch(fpRun.stderr, /unwind total/, '--unwind fp: no CFI counts');
});

test('--unwind auto with --pid picks CFI and says so; pprof output carries the CFI stacks', (t) => {
  if (!kernelTestGate(t, [...NEEDS])) return;
  const out = path.join(dir, 'auto.pb.gz');
  const run = profile(['--pid', String(workload!.pid), '--duration', '2', '--format', 'pprof', '--output', out]);
  const lines = run.stderr.trim().split('\n');
  t.diagnostic(`auto stderr: ${lines.join(' | ')}`);
  assert.match(lines[0], /^probeboard profile: --unwind auto: CFI \(--pid given and the kernel has bpf_loop and ring buffers\)$/);
  assert.equal(lines.filter((line) => line.includes('--unwind auto')).length, 1, 'one line says which walker and why');
  const folded = foldedOfPprof(decodePprof(readFileSync(out)));
  const p = figures(folded);
  t.diagnostic(`pprof: ${p.samples} samples, ${pct(p.reachingMain, p.samples)} reach main, compare chains ${p.chainsCompare}/${p.leafCompare}`);
  assert.ok(p.samples >= 50, `samples in the pprof file: ${p.samples}`);
  assert.ok(p.reachingMain >= 0.95 * p.samples, `≥95% of pprof stacks reach main: ${pct(p.reachingMain, p.samples)}`);
  assert.equal(unwindTotal(run.stderr).stacks, p.samples, 'the pprof file holds every stack counted');
});

test('--unwind auto without --pid falls back to frame pointers and says why', (t) => {
  if (!kernelTestGate(t, ['perf_events'])) return;
  const run = profile(['--duration', '1', '--format', 'folded', '--user-only']);
  const said = run.stderr.split('\n').filter((line) => line.includes('--unwind auto'));
  assert.deepEqual(said, ['probeboard profile: --unwind auto: frame pointers (CFI needs --pid PID)']);
  assert.doesNotMatch(run.stderr, /unwind total/);
});

// A library the workload maps only when told (SIGUSR1), after sampling started: its table can only
// come from the CLI's re-reading of the mappings. Built like the workload (no frame pointers), so
// without a table its stacks would not reach main.
const DL_LIBRARY = `
static inline __attribute__((always_inline)) void spin(long n) {
  for (long i = 0; i < n; i++) __asm__ volatile("" ::: "memory");
}
volatile long dl_sink;
__attribute__((noinline)) void pbdl_inner(long n) { spin(n); dl_sink++; }
__attribute__((noinline)) void pbdl_outer(long n) { pbdl_inner(n); dl_sink++; }
`;
const DL_WORKLOAD = `
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
static inline __attribute__((always_inline)) void spin(long n) {
  for (long i = 0; i < n; i++) __asm__ volatile("" ::: "memory");
}
volatile long sink;
static volatile sig_atomic_t load_now;
static void on_usr1(int sig) { (void)sig; load_now = 1; }
__attribute__((noinline)) void pb_before(long n) { spin(n); sink++; }
__attribute__((noinline)) void pb_after(void (*outer)(long), long n) { outer(n); sink++; }
int main(int argc, char **argv) {
  (void)argc;
  signal(SIGUSR1, on_usr1);
  void (*outer)(long) = 0;
  for (long round = 0;; round++) {
    long k = 1 + rand() % 16;
    if (load_now && !outer) {
      void *lib = dlopen(argv[1], RTLD_NOW);
      if (!lib) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
      outer = (void (*)(long))dlsym(lib, "pbdl_outer");
    }
    if (outer) pb_after(outer, k * 75000);
    else pb_before(k * 75000);
    if (round == 0) { puts("ready"); fflush(stdout); }
  }
}
`;

test('--unwind cfi re-reads the mappings: a library dlopen\'d during the run gets its table; Ctrl-C ends the run with the output and the counts', async (t) => {
  if (!kernelTestGate(t, [...NEEDS])) return;
  const lib = path.join(dir, 'libpbdl.so');
  writeFileSync(path.join(dir, 'lib.c'), DL_LIBRARY);
  writeFileSync(path.join(dir, 'dl.c'), DL_WORKLOAD);
  execFileSync('gcc', ['-O2', '-fomit-frame-pointer', '-shared', '-fPIC', '-o', lib, path.join(dir, 'lib.c')]);
  execFileSync('gcc', ['-O2', '-fomit-frame-pointer', '-o', path.join(dir, 'pb-dl-work'), path.join(dir, 'dl.c'), '-ldl']);
  const work = spawn(path.join(dir, 'pb-dl-work'), [lib], { stdio: ['ignore', 'pipe', 'inherit'] });
  let cli: ChildProcess | undefined;
  try {
    await once(work.stdout!, 'data');
    cli = spawn(process.execPath, [path.join(ROOT, 'bin', 'probeboard.js'), 'profile', '--pid', String(work.pid), '--unwind', 'cfi', '--format', 'folded'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    cli.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    cli.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(cli, 'exit');
    // Sampling runs once the first interval is reported (loading the walker takes seconds).
    for (let waited = 0; !/unwind \d\d:\d\d:\d\d/.test(stderr); waited += 100) {
      assert.ok(waited < 240_000 && cli.exitCode === null, `the CLI reports a first interval: ${stderr}`);
      await sleep(100);
    }
    assert.doesNotMatch(stderr, /libpbdl/, 'the library is not mapped yet when the tables are first loaded');
    work.kill('SIGUSR1');
    await sleep(process.env.PB_VM ? 8000 : 3500);
    cli.kill('SIGINT');
    const [code, signal] = await exited;
    t.diagnostic(`stderr: ${stderr.trim().split('\n').join(' | ')}`);
    assert.equal(code, 0, `Ctrl-C ends the run normally (exit ${code}, signal ${signal}): ${stderr}`);
    const f = figures(stdout);
    let inner = 0;
    let innerWhole = 0;
    for (const line of stdout.trim().split('\n')) {
      const space = line.lastIndexOf(' ');
      const frames = line.slice(0, space).split(';');
      const count = Number(line.slice(space + 1));
      if (frames[frames.length - 1] !== 'pbdl_inner') continue;
      inner += count;
      if (frames.slice(frames.indexOf('main')).join(';') === 'main;pb_after;pbdl_outer;pbdl_inner') innerWhole += count;
    }
    t.diagnostic(`${f.samples} samples; pbdl_inner ${inner}, of which ${innerWhole} go main;pb_after;pbdl_outer;pbdl_inner`);
    // At 99 Hz, ≥ 2.5 s in the library (less under emulation), at most ~1 s of it before the re-read.
    assert.ok(inner >= 50, `samples in the dlopen'd library: ${inner}\n${stdout}`);
    assert.ok(innerWhole >= 0.5 * inner, `most library stacks whole once its table is loaded: ${innerWhole}/${inner}\n${stdout}`);
    assert.ok(innerWhole >= inner - 1.5 * 99, `at most ~1.5 s of library samples before its table: ${inner - innerWhole} not whole`);
    assert.equal(unwindTotal(stderr).stacks, f.samples, 'the counts printed after Ctrl-C cover every sample written');
  } finally {
    cli?.kill('SIGKILL');
    work.kill('SIGKILL');
  }
});

/**
 * `probeboard profile` end to end on the real kernel: the folded output must tell the truth
 * about workloads whose time split is known, name JIT frames, and write every format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kernelTestGate } from '../testing/kernel.ts';
import { buildWorkload } from '../../test/workloads/build.ts';
import { checkXml } from '../../lib/flame/xml-check.ts';
import { decodePprof, foldedOfPprof, mappingOfFunctions, mappingsOfPprof } from '../../lib/flame/pprof-reader.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** The VM is emulated and several times slower: sample longer there. */
const SECONDS = process.env.PB_VM ? 6 : 4;
/** Workloads outlive any profile of them (the CLI starts slowly in the emulated VM); killed at the end. */
const WORKLOAD_SECONDS = 120;

function profile(args: string[]) {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'probeboard.js'), 'profile', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(result.status, 0, `probeboard profile ${args.join(' ')} failed: ${result.stderr}`);
  return result;
}

/** Samples per folded line that contain `frame`, summed. */
function samplesWith(folded: string, frame: string): number {
  let total = 0;
  for (const line of folded.trim().split('\n')) {
    const space = line.lastIndexOf(' ');
    if (line.slice(0, space).split(';').includes(frame)) total += Number(line.slice(space + 1));
  }
  return total;
}

function start(command: string, args: string[]): ChildProcess {
  // In a temporary directory: node --perf-basic-prof leaves V8 log files in its working directory.
  const child = spawn(command, args, { stdio: 'ignore', cwd: tmpdir() });
  child.unref();
  return child;
}

for (const shareAlpha of [75, 30]) {
  test(`the folded output shows a workload's ${shareAlpha}/${100 - shareAlpha} split within ±10 points`, (t) => {
    if (!kernelTestGate(t, ['perf_events'])) return;
    const spin = buildWorkload('spin');
    const child = start(spin, [String(WORKLOAD_SECONDS), String(shareAlpha)]);
    try {
      const { stdout, stderr } = profile(['--pid', String(child.pid), '--duration', String(SECONDS), '--hz', '199']);
      const alpha = samplesWith(stdout, 'pb_work_alpha');
      const beta = samplesWith(stdout, 'pb_work_beta');
      assert.ok(alpha + beta >= 50, `enough samples of the workload (alpha ${alpha}, beta ${beta}):\n${stdout}`);
      const measured = (100 * alpha) / (alpha + beta);
      assert.ok(Math.abs(measured - shareAlpha) <= 10, `pb_work_alpha got ${measured.toFixed(1)}% of samples, truth ${shareAlpha}%`);
      // Full user stacks: main is the caller of both, and every line starts with the comm.
      for (const line of stdout.trim().split('\n')) {
        assert.ok(line.startsWith(`${path.basename(spin).slice(0, 15)};`), `line starts with the comm: ${line}`);
      }
      assert.ok(samplesWith(stdout, 'main') >= alpha + beta, `main is on every workload stack (${samplesWith(stdout, 'main')} samples with main, ${alpha} + ${beta} in the workers)`);
      assert.match(stderr, /lost stacks: user \d+/);
    } finally {
      child.kill('SIGKILL');
    }
  });
}

test('a Node.js workload started with --perf-basic-prof shows its own JavaScript function names', (t) => {
  if (!kernelTestGate(t, ['perf_events'])) return;
  const script = `
    function pbJitHotLoop(n) { let x = 0; for (let i = 0; i < n; i++) x = (x * 31 + i) % 1000003; return x; }
    const end = Date.now() + ${WORKLOAD_SECONDS * 1000};
    let sink = 0;
    while (Date.now() < end) sink += pbJitHotLoop(200000);
    console.log(sink);`;
  const child = start(process.execPath, ['--perf-basic-prof', '-e', script]);
  try {
    // Let V8 tier the function up and write its perf map entry first.
    spawnSync('sleep', ['1']);
    const { stdout } = profile(['--pid', String(child.pid), '--duration', String(SECONDS)]);
    const lines = stdout.trim().split('\n');
    const jitLines = lines.filter((line) => line.slice(0, line.lastIndexOf(' ')).split(';').some((frame) => frame.includes('pbJitHotLoop')));
    const jit = jitLines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    const all = lines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    assert.ok(jit > all / 2, `pbJitHotLoop named on most samples (${jit} of ${all}):\n${stdout.slice(0, 3000)}`);
  } finally {
    child.kill('SIGKILL');
  }
});

test('whole-machine profile writes svg, json and speedscope files that describe the same samples', (t) => {
  if (!kernelTestGate(t, ['perf_events'])) return;
  const spin = buildWorkload('spin');
  const child = start(spin, [String(WORKLOAD_SECONDS), '50']);
  const dir = mkdtempSync(path.join(tmpdir(), 'pb-profile-'));
  try {
    const svgPath = path.join(dir, 'out.svg');
    const { stderr } = profile(['--duration', '2', '--format', 'svg', '--output', svgPath]);
    const svg = readFileSync(svgPath, 'utf8');
    checkXml(svg);
    assert.match(svg, /probeboard CPU flame graph/);
    assert.match(svg, /pb_work_alpha|pb_work_beta/, 'the busy workload is in the whole-machine picture');
    const total = Number(/(\d+) samples in/.exec(stderr)?.[1]);
    assert.ok(total > 0, `samples counted (stderr: ${stderr})`);
    const json = JSON.parse(profile(['--duration', '1', '--format', 'json']).stdout);
    assert.equal(json.name, 'all');
    assert.ok(json.value > 0 && Array.isArray(json.children), `a root with samples and children (value ${json.value}, ${Array.isArray(json.children) ? json.children.length : 'no'} children)`);
    // Kernel frames need samples taken in the kernel: the spin workload rarely leaves user mode, so
    // a copy from /dev/zero to /dev/null (almost all kernel time) runs during the kernel-only profile.
    const kernelWork = start('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=64k']);
    let speedscope;
    try {
      speedscope = JSON.parse(profile(['--duration', '1', '--format', 'speedscope', '--kernel-only']).stdout);
    } finally {
      kernelWork.kill('SIGKILL');
    }
    assert.equal(speedscope.profiles[0].type, 'sampled');
    const names: string[] = speedscope.shared.frames.map((frame: { name: string }) => frame.name);
    assert.ok(names.some((name) => name.endsWith('_[k]')), `kernel frames present: ${JSON.stringify(names.slice(0, 20))}`);
    assert.deepEqual(names.filter((name) => name.startsWith('pb_work')), [], 'kernel-only output has no user frames');
  } finally {
    child.kill('SIGKILL');
  }
});

/** Starts the two-threads-one-name workload; resolves with its pid and its threads' ids once both are named. */
async function startThreads(): Promise<{ child: ChildProcess; tids: number[]; bin: string }> {
  const bin = buildWorkload('threads-same-name', ['-lpthread']);
  const child = spawn(bin, [String(WORKLOAD_SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const tids = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    child.once('exit', (code, signal) => reject(new Error(`${bin} exited (${signal ?? code}) before it printed its tids`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /tids (\d+) (\d+)\n/.exec(out);
      if (match) resolve([Number(match[1]), Number(match[2])]);
    });
  });
  return { child, tids, bin };
}

test('two threads with the same name: split by --per-thread (comm-tid roots), merged without; pprof maps them to the workload binary by build-id', async (t) => {
  if (!kernelTestGate(t, ['perf_events'])) return;
  const { child, tids, bin } = await startThreads();
  try {
    // Per thread: one root per thread, pbworker-TID, both busy.
    const split = profile(['--pid', String(child.pid), '--duration', String(SECONDS), '--per-thread']).stdout;
    const roots = new Map<string, number>();
    for (const line of split.trim().split('\n')) {
      const space = line.lastIndexOf(' ');
      const root = line.slice(0, line.indexOf(';') < 0 ? space : line.indexOf(';'));
      roots.set(root, (roots.get(root) ?? 0) + Number(line.slice(space + 1)));
    }
    const perThread = tids.map((tid) => roots.get(`pbworker-${tid}`) ?? 0);
    assert.ok(perThread.every((n) => n >= 20), `each thread has its own root with samples: want pbworker-${tids[0]} and pbworker-${tids[1]}, got ${JSON.stringify([...roots])}`);
    assert.ok(!roots.has('pbworker'), `no merged root with --per-thread: ${JSON.stringify([...roots])}`);
    assert.ok(samplesWith(split, 'pb_thread_spin') >= 40, `pb_thread_spin on the stacks: ${samplesWith(split, 'pb_thread_spin')}\n${split}`);

    // Merged (no flag), as pprof: one pbworker root; mappings carry the workload's build-id.
    const dir = mkdtempSync(path.join(tmpdir(), 'pb-pprof-'));
    const out = path.join(dir, 'threads.pb.gz');
    const before = Date.now();
    profile(['--pid', String(child.pid), '--duration', String(SECONDS), '--format', 'pprof', '--output', out]);
    const p = decodePprof(readFileSync(out));
    const folded = foldedOfPprof(p);
    const pprofRoots = new Set(folded.trim().split('\n').map((line) => line.split(';')[0].replace(/ \d+$/, '')));
    assert.deepEqual([...pprofRoots], ['pbworker'], `merged without --per-thread: roots ${JSON.stringify([...pprofRoots])}\n${folded}`);
    const readelf = execFileSync('readelf', ['-n', bin], { encoding: 'utf8' });
    const buildId = /Build ID: ([0-9a-f]+)/.exec(readelf)?.[1];
    assert.ok(buildId, `readelf -n ${bin} shows a build id:\n${readelf}`);
    const maps = mappingsOfPprof(p);
    const workload = maps.find((m) => m.file === bin);
    assert.ok(workload, `a mapping for ${bin}: ${JSON.stringify(maps)}`);
    assert.equal(workload.buildId, buildId, `mapping build id ${workload.buildId}, readelf says ${buildId}`);
    const spinMappings = mappingOfFunctions(p).get('pb_thread_spin');
    assert.deepEqual(spinMappings, [bin], `pb_thread_spin in the workload's mapping: ${JSON.stringify(spinMappings)}`);
    const timeMs = p.time_nanos / 1e6;
    const durationS = p.duration_nanos / 1e9;
    assert.ok(timeMs >= before - 1000 && timeMs <= Date.now(), `time_nanos is the run's start: ${new Date(timeMs).toISOString()}, run began ${new Date(before).toISOString()}`);
    assert.ok(Math.abs(durationS - SECONDS) <= 1.5, `duration_nanos ${durationS.toFixed(2)} s for a ${SECONDS} s run`);
    rmSync(dir, { recursive: true, force: true });
  } finally {
    child.kill('SIGKILL');
  }
});

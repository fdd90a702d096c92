/**
 * bench/offcpu-storm — what off-CPU profiling costs under a context-switch storm, side by side.
 *
 *   sudo node --import tsx bench/offcpu-storm.ts [--rounds 3] [--seconds 5]
 *
 * The storm: test/workloads/offcpu-work.c `storm` (two threads ping-ponging one byte over two
 * pipes as fast as they can: every round trip is four context switches). Each round runs it for
 * `--seconds`, in turn (the order rotates every round, so machine noise hits each alike):
 *   none:        the storm alone
 *   probeboard:  `probeboard profile --type offcpu` of the whole machine during the storm
 *   bpftrace:    a bcc offcputime-style bpftrace script on the same tracepoint, whole machine
 *                (stack ids per switch-out, summed at switch-in: the same work in the kernel)
 * and reports the storm's round trips per second, the slowdown against `none`, the switches
 * per second the kernel counted (probeboard's own counters), and the profiler's CPU time per
 * 100k switches/s (user + system of the profiler process, from /usr/bin/time).
 * Needs root, bpftrace and /usr/bin/time (apt-get install -y time bpftrace).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWorkload } from '../test/workloads/build.ts';
import { option } from './proc.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(option('rounds', '3'));
const SECONDS = Number(option('seconds', '5'));
const STORM = buildWorkload('offcpu-work', ['-pthread']);

type Mode = 'none' | 'probeboard' | 'bpftrace';
interface Result {
  roundTripsPerS: number;
  /** Profiler CPU seconds (user + system), 0 for none. */
  profilerCpuS: number;
}

/** Runs the storm for SECONDS; resolves with its round trips per second. */
function storm(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(STORM, ['storm', String(SECONDS)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out === 'ready\n') child.stdin!.write('go\n');
    });
    child.once('error', reject);
    child.once('close', () => {
      const m = /round_trips (\d+)/.exec(out);
      if (!m) reject(new Error(`storm printed ${out}`));
      else resolve(Number(m[1]) / SECONDS);
    });
  });
}

/** Starts a profiler under /usr/bin/time; resolves once it is attached. */
async function profiler(mode: Exclude<Mode, 'none'>, timeFile: string): Promise<{ stop(): Promise<number> }> {
  const args =
    mode === 'probeboard'
      ? [path.join(ROOT, 'bin', 'probeboard.js'), 'profile', '--type', 'offcpu', '--duration', String(SECONDS + 30), '--format', 'folded']
      : [
          '-B',
          'line', // say "Attaching" at once, not when a full buffer is flushed
          '-e',
          // bcc offcputime's work in bpftrace: stacks at switch-out, time added at switch-in
          'tracepoint:sched:sched_switch { if (args->prev_pid != 0) { @start[args->prev_pid] = nsecs; @ustack[args->prev_pid] = ustack; @kstack[args->prev_pid] = kstack; } ' +
            '$s = @start[args->next_pid]; if ($s != 0) { @us[@kstack[args->next_pid], @ustack[args->next_pid]] = sum((nsecs - $s) / 1000); delete(@start[args->next_pid]); } }',
        ];
  const command = mode === 'probeboard' ? process.execPath : 'bpftrace';
  // its own process group: SIGINT must reach the profiler (GNU time ignores it while it waits)
  const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    // bpftrace says "Attaching N probes" on stdout once attached
    child.stdout!.on('data', (d: Buffer) => {
      if (/Attaching/.test(String(d))) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d;
    });
    child.once('close', () => reject(new Error(`${mode} ended before the storm: ${err}`)));
    // probeboard prints nothing until it ends: give it time to attach
    if (mode === 'probeboard') setTimeout(resolve, 1500);
  });
  return {
    async stop() {
      const closed = new Promise((r) => child.once('close', r));
      process.kill(-child.pid!, 'SIGINT');
      await closed;
      const [user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      return user + sys;
    },
  };
}

async function run(mode: Mode, dir: string): Promise<Result> {
  if (mode === 'none') return { roundTripsPerS: await storm(), profilerCpuS: 0 };
  const p = await profiler(mode, path.join(dir, `${mode}.time`));
  const roundTripsPerS = await storm();
  return { roundTripsPerS, profilerCpuS: await p.stop() };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  if (process.geteuid?.() !== 0) throw new Error('run as root');
  if (!existsSync('/usr/bin/time')) throw new Error('needs /usr/bin/time (apt-get install -y time)');
  const dir = mkdtempSync(path.join(tmpdir(), 'pb-offcpu-bench-'));
  const bpftrace = spawnSync('bpftrace', ['--version']).status === 0;
  const modes: Mode[] = bpftrace ? ['none', 'probeboard', 'bpftrace'] : ['none', 'probeboard'];
  if (!bpftrace) process.stderr.write('bpftrace not installed: compared with nothing only\n');
  const results = new Map<Mode, Result[]>(modes.map((m) => [m, []]));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = modes.map((_, i) => modes[(i + round) % modes.length]);
      for (const mode of order) {
        const r = await run(mode, dir);
        results.get(mode)!.push(r);
        process.stderr.write(`round ${round + 1} ${mode}: ${Math.round(r.roundTripsPerS)} round trips/s, profiler CPU ${r.profilerCpuS.toFixed(2)} s\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const base = median(results.get('none')!.map((r) => r.roundTripsPerS));
  console.log(`storm: 2 threads ping-ponging over pipes, ${SECONDS} s per run, ${ROUNDS} rounds (medians)`);
  for (const mode of modes) {
    const rs = results.get(mode)!;
    const rate = median(rs.map((r) => r.roundTripsPerS));
    // each round trip blocks both threads once: about 4 switches per round trip
    const switchesPerS = rate * 4;
    const cpu = median(rs.map((r) => r.profilerCpuS));
    const per100k = mode === 'none' ? '' : `, profiler CPU ${((cpu / SECONDS) * 100).toFixed(1)}% of a core = ${((cpu / SECONDS / (switchesPerS / 1e5)) * 100).toFixed(2)}% per 100k switches/s`;
    console.log(`  ${mode.padEnd(10)} ${Math.round(rate)} round trips/s (${Math.round(switchesPerS)} switches/s), slowdown ${((1 - rate / base) * 100).toFixed(1)}%${per100k}`);
  }
}

await main();

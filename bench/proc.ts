/** What the benchmarks share: reading a process's CPU time from /proc, and `--name value` options. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second, the unit of /proc/PID/stat's times. */
const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/**
 * CPU seconds (user + system) of one process, from /proc/PID/stat (man 5 proc: utime, stime are
 * fields 14 and 15; cutime, cstime 16 and 17). With `children`, reaped children count too.
 */
export function cpuSeconds(pid: number, children = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const own = Number(fields[11]) + Number(fields[12]);
  return (children ? own + Number(fields[13]) + Number(fields[14]) : own) / TICKS;
}

/** Live child processes of `pid` (from each thread's /proc/PID/task/TID/children). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (child) out.push(Number(child));
    } catch {
      // the thread ended
    }
  }
  return out;
}

/**
 * CPU seconds of a process and all its live descendants (probeboard serve is two processes:
 * the web process and its collector child), plus what exited children were charged.
 */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  try {
    total = cpuSeconds(pid, true);
  } catch {
    return 0;
  }
  for (const child of childPids(pid)) total += treeCpuSeconds(child);
  return total;
}

/** The value after `--name` on the command line, or `fallback`. */
export function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

/**
 * What keeps the collector process from outliving its purpose, whatever its event loop is doing.
 * The IPC 'disconnect' handler in main.ts only runs when the event loop turns; a collector stuck
 * in a blocking syscall (an open() of a FIFO) or a CPU-bound loop would otherwise keep its BPF
 * programs attached, as root, after the web process died — and the web process, unprivileged,
 * cannot kill a root process (EPERM). So the collector arranges its own end:
 *
 * - bindToParent(): `prctl(PR_SET_PDEATHSIG, SIGKILL)`, then a check that the parent is still
 *   the process that forked it. From then on the kernel SIGKILLs the collector the moment the
 *   web process dies (any way, kill -9 included), even while the collector is stopped or spinning.
 *   The kernel sends that signal with the dying parent's credentials and checks them like a
 *   kill(2): an unprivileged web process (nobody, the sudo user) may not signal a process whose
 *   real and saved uids are both 0, and the signal is then silently dropped. So the collector
 *   first sets its saved uid to the web process's uid (`peerUid`; real and effective uid stay 0,
 *   so it keeps every capability, and files, /proc access and ptrace stay root's). The web
 *   process can then signal it — deliver the death signal, and SIGKILL a collector that stopped
 *   answering — as can any other process of that uid, which could already kill the web
 *   process itself. It is done only when SIGUSR1 has a JavaScript listener (no-inspector-signal.ts):
 *   SIGUSR1 from that uid must never open the inspector in a root process.
 * - startWatchdog(): a worker thread that SIGKILLs the process when the main thread has not
 *   bumped a shared counter for `periodMs` (its event loop is stuck), or when its parent is no
 *   longer the web process (a second way to die with it). The worker never uses its own event
 *   loop (it sleeps in Atomics.wait), writes its one line with a direct write(2), and is loaded
 *   from source text (no file to find, so it also works from a bundle).
 *
 * The environment variables below are how the web process (child.ts) passes settings to the
 * collector it forks; they are read once, at start.
 */
import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import koffi from 'koffi';

/** The pid of the web process that forked the collector (set by child.ts). */
export const PARENT_PID_ENV = 'PROBEBOARD_COLLECTOR_PARENT_PID';
/** The uid the web process runs as after it drops root (set by child.ts when it will drop). */
export const PEER_UID_ENV = 'PROBEBOARD_COLLECTOR_PEER_UID';
/** Watchdog period in ms (tests shorten it; default DEFAULT_WATCHDOG_MS). */
export const WATCHDOG_ENV = 'PROBEBOARD_COLLECTOR_WATCHDOG_MS';
/**
 * Tests only: `1` makes SIGUSR2 spin the collector's main thread forever (a stand-in for any
 * hang: a FIFO open, a regular-expression blow-up). Read once at start; never reachable through
 * the IPC protocol. Only root and the web process's uid may signal the collector, and that uid
 * can SIGKILL it anyway.
 */
export const TEST_HOOKS_ENV = 'PROBEBOARD_COLLECTOR_TEST_HOOKS';

/**
 * Default watchdog period: 30 s. The longest synchronous stretch measured in normal work is
 * `discover.symbols` of every function of /usr/bin/node (85,000 C++ names read and demangled):
 * 2 to 5 s on a loaded 2-core machine; a collector's first symbolization blocks ~0.5 s. Slower
 * machines need the margin, and a stuck collector is first declared down (and killed) by the
 * web process's heartbeat (15 s); this is the backstop for when that cannot happen.
 */
export const DEFAULT_WATCHDOG_MS = 30_000;
/** Shortest watchdog period accepted from the environment (ms). */
export const MIN_WATCHDOG_MS = 500;

const PR_SET_PDEATHSIG = 1;
const SIGKILL = 9;

/** A whole number of ms from the environment, or `fallback` when unset or malformed. */
export function envMs(value: string | undefined, fallback: number, min: number): number {
  if (value === undefined || !/^\d{1,9}$/.test(value)) return fallback;
  return Math.max(min, Number(value));
}

/** A uid from the environment (1 to 2^32 - 2), else null. */
export function envUid(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,10}$/.test(value)) return null;
  const uid = Number(value);
  return uid > 0 && uid < 2 ** 32 - 1 ? uid : null;
}

/**
 * Lets processes of `peerUid` signal this root process (saved uid = peerUid) so that the
 * death signal of an unprivileged parent is delivered; see the module comment.
 * Returns what went wrong, or null.
 */
export function acceptSignalsFrom(peerUid: number): string | null {
  if (process.geteuid?.() !== 0 || process.getuid?.() !== 0) return null; // not root: the parent's uid is ours already
  if (process.listenerCount('SIGUSR1') === 0) return `SIGUSR1 has no listener: signals from uid ${peerUid} stay refused (the inspector must not be reachable)`;
  const libc = koffi.load('libc.so.6');
  // glibc applies it to every thread of the process. -1 leaves real and effective uid as they are.
  const setresuid = libc.func('int setresuid(uint32_t ruid, uint32_t euid, uint32_t suid)') as (ruid: number, euid: number, suid: number) => number;
  const KEEP = 0xffffffff;
  if (setresuid(KEEP, KEEP, peerUid) !== 0) return `setresuid(-1, -1, ${peerUid}) failed`;
  return null;
}

/**
 * Asks the kernel to SIGKILL this process when its parent dies, then checks that the parent
 * is still `expectedParentPid` (if it died before the prctl, nobody would signal us: exit now).
 * Call acceptSignalsFrom() first when the parent will drop root. Returns an error message
 * instead of throwing when the prctl itself fails.
 */
export function bindToParent(expectedParentPid: number | null): string | null {
  const libc = koffi.load('libc.so.6');
  // x86-64 passes all five as registers; the kernel reads only what PR_SET_PDEATHSIG needs.
  const prctl = libc.func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)') as (
    option: number,
    arg2: number,
    arg3: number,
    arg4: number,
    arg5: number,
  ) => number;
  const getppid = libc.func('int getppid(void)') as () => number;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) !== 0) return 'prctl(PR_SET_PDEATHSIG) failed';
  const parent = getppid();
  if (expectedParentPid !== null && parent !== expectedParentPid) {
    writeSync(2, `probeboard collector: the web process ${expectedParentPid} is already gone (parent now ${parent}): exiting\n`);
    process.exit(0);
  }
  return null;
}

export interface Watchdog {
  /** Marks the main thread alive; call it from the event loop (a timer). */
  beat(): void;
  /** Ends the worker (process exit). */
  stop(): void;
}

/** Layout of the shared Int32Array: the heartbeat counter and the stop flag. */
const BEATS = 0;
const STOP = 1;

/** The worker's program, plain CommonJS: it must not depend on any loader or file path. */
const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const { readFileSync, writeSync } = require('node:fs');
const cells = new Int32Array(workerData.buffer);
const periodMs = workerData.periodMs;
const parentPid = workerData.parentPid;
// process.ppid is not this process's parent in a worker: read it from the kernel.
const parentNow = () => {
  try {
    return Number(readFileSync('/proc/self/stat', 'latin1').replace(/^.*\\) /s, '').split(' ')[1]);
  } catch {
    return parentPid;
  }
};
const die = (why) => {
  try {
    writeSync(2, 'probeboard collector ' + process.pid + ': watchdog: ' + why + ': killing the collector with SIGKILL so that its probes are detached\\n');
  } catch {}
  process.kill(process.pid, 'SIGKILL');
};
const checkMs = Math.max(50, Math.min(500, Math.floor(periodMs / 4)));
let seen = Atomics.load(cells, ${BEATS});
let changedAt = performance.now();
for (;;) {
  Atomics.wait(cells, ${STOP}, 0, checkMs);
  if (Atomics.load(cells, ${STOP}) !== 0) break;
  if (parentPid !== null && parentNow() !== parentPid) die('the web process ' + parentPid + ' is gone');
  const now = performance.now();
  const beats = Atomics.load(cells, ${BEATS});
  if (beats !== seen) {
    seen = beats;
    changedAt = now;
    continue;
  }
  if (now - changedAt >= periodMs) {
    die('the main thread has not run for ' + ((now - changedAt) / 1000).toFixed(1) + ' s (limit ' + (periodMs / 1000) + ' s)');
  }
}
`;

/**
 * Starts the watchdog thread. The caller bumps the counter with beat() at least every
 * periodMs / 4 from a timer on the main thread; if no bump is seen for `periodMs`, or the
 * process's parent is no longer `parentPid` (when given), the worker writes one line to stderr
 * and SIGKILLs the whole process.
 */
export function startWatchdog(periodMs: number, parentPid: number | null = null): Watchdog {
  const buffer = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  const cells = new Int32Array(buffer);
  const worker = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { buffer, periodMs, parentPid }, stdout: false, stderr: false });
  // The watchdog must never be what keeps the collector alive.
  worker.unref();
  worker.on('error', (error) => writeSync(2, `probeboard collector: the watchdog thread failed: ${error.message}\n`));
  return {
    beat: () => void Atomics.add(cells, BEATS, 1),
    stop: () => {
      Atomics.store(cells, STOP, 1);
      Atomics.notify(cells, STOP);
    },
  };
}

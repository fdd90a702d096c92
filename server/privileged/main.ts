/**
 * The collector process: started by the web process (child.ts) with a Node IPC channel, it
 * holds the BPF privileges and runs a CollectorHost. It accepts only requests that pass
 * protocol.ts's validation and answers each with exactly one reply.
 *
 * Lifetime: it lives exactly as long as its channel to the web process. When the web process
 * goes away (exits, crashes, is killed with SIGKILL) the channel closes ('disconnect'): every
 * BPF object, link and perf event is closed and the process exits at once (and whatever a
 * close could not reach, the kernel releases with the process's fds). Ctrl-C in a terminal
 * reaches the whole process group: the collector ignores SIGINT and lets the web process
 * shut it down in order.
 *
 * That handler needs the event loop. So that a collector stuck in a syscall or a loop still
 * dies (lifeline.ts): the kernel SIGKILLs it when the web process dies (PR_SET_PDEATHSIG), and
 * a watchdog thread SIGKILLs it when its main thread has not run for 30 s or its parent is
 * gone. The web process, for its part, declares it down (and kills it) when it stops answering
 * heartbeats (backend.ts, child.ts).
 */
// First: SIGUSR1 must never open the inspector in the root collector (see the module).
import '../no-inspector-signal.ts';
import { CollectorHost } from './host.ts';
import { startMemStats } from '../memstats.ts';
import type { CollectorOutput } from './protocol.ts';
import {
  acceptSignalsFrom,
  bindToParent,
  DEFAULT_WATCHDOG_MS,
  envMs,
  envUid,
  MIN_WATCHDOG_MS,
  PARENT_PID_ENV,
  PEER_UID_ENV,
  startWatchdog,
  TEST_HOOKS_ENV,
  WATCHDOG_ENV,
} from './lifeline.ts';

/** IPC messages sent but not yet handed to the OS; rows wait in the kernel beyond this. */
const MAX_IN_FLIGHT = 32;

if (typeof process.send !== 'function') {
  process.stderr.write('probeboard collector: this process is started by `probeboard serve`, not by hand\n');
  process.exit(2);
}

// Die with the web process, whatever this process is doing then (lifeline.ts). Before any probe exists.
const parentPid = /^\d{1,10}$/.test(process.env[PARENT_PID_ENV] ?? '') ? Number(process.env[PARENT_PID_ENV]) : null;
const peerUid = envUid(process.env[PEER_UID_ENV]);
const refused = peerUid === null ? null : acceptSignalsFrom(peerUid);
if (refused !== null) process.stderr.write(`probeboard collector: ${refused}\n`);
const unbound = bindToParent(parentPid);
if (unbound !== null) process.stderr.write(`probeboard collector: ${unbound}: it relies on its IPC channel and watchdog alone to end with the web process\n`);

// Die when this process's own event loop stops turning (a blocking syscall, a runaway loop).
const watchdogMs = envMs(process.env[WATCHDOG_ENV], DEFAULT_WATCHDOG_MS, MIN_WATCHDOG_MS);
const watchdog = startWatchdog(watchdogMs, parentPid);
const beating = setInterval(() => watchdog.beat(), Math.min(1000, Math.floor(watchdogMs / 4)));
beating.unref(); // the IPC channel is what keeps this process alive, never the heartbeat
process.on('exit', () => watchdog.stop());

if (process.env[TEST_HOOKS_ENV] === '1') {
  // Tests only (see TEST_HOOKS_ENV): a main thread that never returns, as a hang would.
  process.on('SIGUSR2', () => {
    process.stderr.write(`probeboard collector ${process.pid}: test hook: the main thread spins from now on\n`);
    for (;;) {
      // spin
    }
  });
}

let inFlight = 0;
const send = (output: CollectorOutput) => {
  if (!process.connected) return;
  inFlight++;
  try {
    process.send!(output, undefined, {}, () => {
      inFlight--;
    });
  } catch {
    inFlight--;
  }
};

const host = new CollectorHost(send, { canSend: () => inFlight < MAX_IN_FLIGHT });

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Closing is quick (fds); never let a stuck close keep the probes alive: exit regardless.
  const deadline = setTimeout(() => process.exit(code), 3000);
  try {
    await host.close();
  } finally {
    clearTimeout(deadline);
    process.exit(code);
  }
}

process.on('message', (raw: unknown) => {
  if (stopping) return;
  void host.handle(raw).then(send);
});
process.on('disconnect', () => void shutdown(0));
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGHUP', () => void shutdown(0));

// The web process may already be gone.
if (!process.connected) void shutdown(0);

startMemStats('collector');
send({ type: 'ready', pid: process.pid, uid: process.getuid?.() ?? -1 });

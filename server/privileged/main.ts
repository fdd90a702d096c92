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
 */
// First: SIGUSR1 must never open the inspector in the root collector (see the module).
import '../no-inspector-signal.ts';
import { CollectorHost } from './host.ts';
import { startMemStats } from '../memstats.ts';
import type { CollectorOutput } from './protocol.ts';

/** IPC messages sent but not yet handed to the OS; rows wait in the kernel beyond this. */
const MAX_IN_FLIGHT = 32;

if (typeof process.send !== 'function') {
  process.stderr.write('probeboard collector: this process is started by `probeboard serve`, not by hand\n');
  process.exit(2);
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

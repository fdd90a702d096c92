/**
 * Tests only (lifeline.kernel.test.ts): a small stand-in for the web process of `probeboard
 * serve`. Run as root, it forks the collector process exactly as serve does (child.ts), drops
 * its own root the same way (drop.ts: nobody, no capability), then attaches a profile of every
 * CPU and a uprobe latency probe, and reports on stdout, one JSON object per line:
 *   {"ready": {"collectorPid", "webPid", "uid", "latencyId"}}   once both probes run and the
 *                                                             first profile interval came
 *   {"down": "<reason>"}                                      when the backend goes down
 *   {"ended": "<reason>"}                                     when the latency probe ends
 * and stays until killed. Everything the collector writes to stderr appears on this process's.
 *
 * Usage: node --import tsx server/privileged/testing-parent.ts BINARY SYMBOL PID [HEARTBEAT_DEADLINE_MS]
 * (the collector's watchdog period and test hooks come from the environment: lifeline.ts;
 * TESTING_PARENT_NO_PEER=1 starts the collector without peerUid, as before this existed).
 */
import { startCollectorProcess } from './child.ts';
import { dropPrivileges, dropTarget } from './drop.ts';

const [binary, symbol, pidText, deadlineText] = process.argv.slice(2);
if (!binary || !symbol || !/^\d+$/.test(pidText ?? '')) {
  process.stderr.write('usage: testing-parent.ts BINARY SYMBOL PID [HEARTBEAT_DEADLINE_MS]\n');
  process.exit(2);
}
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

// No sudo variables: becomes nobody, as serve does in the VM.
const noSudo = {} as NodeJS.ProcessEnv;
const backend = await startCollectorProcess({
  peerUid: process.env.TESTING_PARENT_NO_PEER === '1' ? undefined : dropTarget(noSudo).uid,
  // In pb-vm (emulated CPU) the collector's first symbolization alone blocks for over 10 s.
  ...(deadlineText ? { heartbeatDeadlineMs: Number(deadlineText) } : process.env.PB_VM === '1' && { heartbeatDeadlineMs: 120_000 }),
  // pb-vm emulates the CPU: a cold tsx cache there takes the collector more than the usual 30 s.
  ...(process.env.PB_VM === '1' && { readyTimeoutMs: 180_000 }),
});
const dropped = dropPrivileges(noSudo);
backend.onDown((reason) => say({ down: reason }));

const profile = backend.openProfile();
// Ready once the first interval is symbolized: the collector's longest stretch of work is behind.
const firstInterval = new Promise<void>((resolve) =>
  profile.onMessage((message) => {
    if (message.type === 'profile.interval') resolve();
  }),
);
await profile.request({ type: 'profile.start', hz: 49, target: { kind: 'all' }, intervalMs: 500 });
const latency = backend.openLatency({ intervalMs: 200 });
latency.onEnd((_id, reason) => say({ ended: reason }));
const added = await latency.add(`uprobe:${binary}:${symbol}`, { pid: Number(pidText) });
if (!added.ok) {
  process.stderr.write(`testing-parent: latency.add failed: ${added.error}\n`);
  process.exit(1);
}
await firstInterval;
say({ ready: { collectorPid: backend.pid, webPid: process.pid, uid: dropped.uid, latencyId: added.id } });
setInterval(() => undefined, 60_000);

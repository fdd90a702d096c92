/**
 * The collector never outlives its web process and never leaves the web process waiting
 * (issue 8, finding 3: a frozen root collector kept its programs attached after kill -9 of the
 * web process, and every request waited forever). Root, real kernel, real collector processes:
 * - frozen collector (SIGSTOP, a stand-in for any hang): the web side declares it down within
 *   its heartbeat deadline with the reason; pending and later requests fail with it at once; the
 *   profile and the latency probe end with it; nothing of it remains;
 * - kill -9 of an unprivileged web process (testing-parent.ts: forks the collector as serve
 *   does, drops to nobody, attaches a profile and a uprobe) while the collector is frozen, or
 *   busy (its main thread spinning): within 5 s the collector is gone and no BPF program, link,
 *   uprobe or tracefs entry of it remains (PR_SET_PDEATHSIG, deliverable because the collector's
 *   saved uid is the web process's; another local user still may not signal it);
 * - without that (no peerUid), the kernel drops the death signal of an unprivileged parent;
 *   a busy collector still dies within 5 s: its watchdog thread sees its parent change;
 * - an unprivileged web process that declares its frozen collector down also kills it;
 * - the watchdog: a collector whose main thread spins kills itself after its watchdog period,
 *   says why on stderr, and is reported down.
 * Run: node --import tsx --test --test-concurrency=1 server/privileged/lifeline.kernel.test.ts
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bpfIdsOf, bpftoolShow, kernelTestGate, tracefsEntries, uprobesOn } from '../testing/kernel.ts';
import { attacker, runAs } from '../testing/unprivileged.ts';
import { buildWorkload, startLatencySleeper } from '../../test/workloads/build.ts';
import { startCollectorProcess } from './child.ts';
import { TEST_HOOKS_ENV, WATCHDOG_ENV } from './lifeline.ts';
import type { CollectorMessage } from '../collectors/types.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PARENT = path.join(HERE, 'testing-parent.ts');
/** Timeouts stretch in pb-vm (software emulation). */
const T = (ms: number) => ms * (process.env.PB_VM === '1' ? 5 : 1);
/**
 * Short heartbeat deadline and watchdog period for the tests, stretched in pb-vm: there a fresh
 * collector's first symbolization alone blocked its loop for over 10 s (emulated CPU, another VM
 * running), and the heartbeat would declare it down before the test begins.
 */
const DEADLINE_MS = process.env.PB_VM === '1' ? 30_000 : 2000;
/** The same stretch for the watchdog: with 10 s, a VM run under host load saw the start-up itself killed. */
const WATCHDOG_MS = process.env.PB_VM === '1' ? 30_000 : 2000;
const STALLED = (seconds: number) => new RegExp(`the collector process stopped answering for ${seconds} s: it was disconnected`);

const cleanups: (() => void)[] = [];
after(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

/** Whether a process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** The process's state letter (R running, S sleeping, T stopped, …). */
const stateOf = (pid: number) => /^State:\s*(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

/** TCP ports a process listens on (its socket inodes matched against /proc/net/tcp{,6}). */
function listeningPortsOf(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** User + system CPU time of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function waitFor(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Asserts that none of `ids` (the collector's links and programs), no uprobe on `binary` and no
 * tracefs entry of the collector remains. The kernel frees links and programs after an RCU
 * grace period, so this polls for up to `withinMs` first.
 */
async function assertNothingLeft(ids: { links: number[]; progs: number[] }, binary: string, collectorPid: number, withinMs: number): Promise<void> {
  const left = () => {
    const links = new Set(bpftoolShow('link').map((l) => l.id));
    const progs = new Set(bpftoolShow('prog').map((p) => p.id));
    return {
      links: ids.links.filter((id) => links.has(id)),
      progs: ids.progs.filter((id) => progs.has(id)),
      uprobes: uprobesOn(binary),
      tracefs: tracefsEntries([binary, `libbpf_${collectorPid}_`]),
    };
  };
  const end = Date.now() + withinMs;
  let now = left();
  while (Object.values(now).some((list) => list.length > 0) && Date.now() < end) {
    await sleep(100);
    now = left();
  }
  assert.deepEqual(now, { links: [], progs: [], uprobes: [], tracefs: [] }, `nothing of collector ${collectorPid} remains ${withinMs} ms on`);
}

let sleepers = 0;

/** latency-sleep calling pb_sleep_us(300) in a loop until killed. */
async function startSleeper(): Promise<{ pid: number; bin: string }> {
  // A copy of its own per test: uprobes are counted per file, so a collector a failed test left
  // behind cannot make the next test fail too.
  const copy = `${buildWorkload('latency-sleep')}-${++sleepers}`;
  copyFileSync(buildWorkload('latency-sleep'), copy);
  chmodSync(copy, 0o755);
  const { child, pid, bin } = await startLatencySleeper(300, 1_000_000, copy);
  cleanups.push(() => child.kill('SIGKILL'));
  return { pid, bin };
}

interface Parent {
  child: ChildProcess;
  webPid: number;
  collectorPid: number;
  uid: number;
  /** Its stdout lines, parsed. */
  lines: Record<string, unknown>[];
  /** Its stderr (and the collector's). */
  stderr: () => string;
  exited: Promise<void>;
}

/** Starts testing-parent.ts (forks a collector, drops to nobody, attaches a profile and a uprobe). */
async function startParent(sleeper: { pid: number; bin: string }, env: Record<string, string> = {}, heartbeatDeadlineMs?: number): Promise<Parent> {
  const args = ['--import', 'tsx', PARENT, sleeper.bin, 'pb_sleep_us', String(sleeper.pid), ...(heartbeatDeadlineMs !== undefined ? [String(heartbeatDeadlineMs)] : [])];
  const child = spawn(process.execPath, args, { cwd: path.resolve(HERE, '..', '..'), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const errors: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let collectorPid: number | undefined;
  cleanups.push(() => {
    child.kill('SIGKILL');
    if (collectorPid !== undefined) kill(collectorPid, 'SIGKILL');
  });
  child.stderr!.on('data', (d: Buffer) => errors.push(d.toString()));
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>);
      buffered = buffered.slice(nl + 1);
    }
  });
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  await waitFor(() => lines.some((l) => 'ready' in l) || exitedEarly, 'the parent to attach its probes', T(60_000));
  const ready = lines.find((l) => 'ready' in l)?.ready as { collectorPid: number; webPid: number; uid: number } | undefined;
  assert.ok(ready, `testing-parent did not get ready; it said ${JSON.stringify(lines)}; stderr:\n${errors.join('')}`);
  collectorPid = ready.collectorPid;
  return { child, webPid: ready.webPid, collectorPid: ready.collectorPid, uid: ready.uid, lines, stderr: () => errors.join(''), exited };
}

test('a frozen collector (SIGSTOP) is declared down within the heartbeat deadline: requests fail with the reason at once, the profile and probes end with it', async (t) => {
  if (!kernelTestGate(t, ['uprobes', 'perf_events'])) return;
  const sleeper = await startSleeper();
  // Requests wait longer than the heartbeat deadline, so that what fails them is the verdict.
  const backend = await startCollectorProcess({ heartbeatDeadlineMs: DEADLINE_MS, requestDeadlineMs: 3 * DEADLINE_MS, readyTimeoutMs: T(30_000) });
  cleanups.push(() => kill(backend.pid, 'SIGKILL'));
  try {
    const profile = backend.openProfile();
    const messages: CollectorMessage[] = [];
    profile.onMessage((message) => messages.push(message));
    await profile.request({ type: 'profile.start', hz: 49, target: { kind: 'all' } });
    const latency = backend.openLatency({ intervalMs: 200 });
    const ended: string[] = [];
    latency.onEnd((_id, reason) => ended.push(reason));
    const added = await latency.add(`uprobe:${sleeper.bin}:pb_sleep_us`, { pid: sleeper.pid });
    assert.ok(added.ok, JSON.stringify(added));
    const ids = bpfIdsOf(backend.pid);
    assert.ok(ids.links.length > 0 && ids.progs.length > 0, `the collector holds links and programs: ${JSON.stringify(ids)}`);
    let downAt = 0;
    backend.onDown(() => (downAt = performance.now()));

    // A request that is in flight when the collector freezes.
    process.kill(backend.pid, 'SIGSTOP');
    const frozenAt = performance.now();
    await waitFor(() => stateOf(backend.pid) === 'T', 'the collector to stop', T(2000));
    const inFlight = backend.discovery.processes();
    await assert.rejects(inFlight, STALLED(DEADLINE_MS / 1000), 'the request in flight fails with the reason');
    const tookMs = downAt - frozenAt;
    t.diagnostic(`declared down ${tookMs.toFixed(0)} ms after SIGSTOP (deadline ${DEADLINE_MS} ms, pings every 1000 ms)`);
    assert.ok(downAt > 0 && tookMs >= DEADLINE_MS - 100 && tookMs < DEADLINE_MS + T(1600), `down within the deadline plus one ping interval: ${tookMs} ms`);
    assert.match(backend.down ?? '', STALLED(DEADLINE_MS / 1000));

    // Later requests fail at once, with the same reason.
    const before = performance.now();
    await assert.rejects(backend.discovery.tracepoints(), STALLED(DEADLINE_MS / 1000));
    assert.deepEqual(await latency.add('syscall:read'), { ok: false, error: backend.down });
    assert.ok(performance.now() - before < T(100), `refused at once (${(performance.now() - before).toFixed(0)} ms)`);

    // Every handle was told.
    const stopped = messages.find((m) => m.type === 'profile.stopped');
    assert.match(stopped?.type === 'profile.stopped' ? (stopped.reason ?? '') : '', STALLED(DEADLINE_MS / 1000), 'the profile stopped with the reason');
    assert.equal(ended.length, 1, 'the latency probe ended');
    assert.match(ended[0]!, STALLED(DEADLINE_MS / 1000));

    // This process is root, so it also killed the frozen collector; nothing of it remains.
    await waitFor(() => !alive(backend.pid), 'the frozen collector to be gone', T(5000));
    await assertNothingLeft(ids, sleeper.bin, backend.pid, T(5000));
  } finally {
    kill(backend.pid, 'SIGKILL');
    await backend.close();
  }
});

for (const how of ['frozen (SIGSTOP)', 'busy (its main thread spinning)'] as const) {
  test(`kill -9 of the unprivileged web process while the collector is ${how}: within 5 s the collector is gone and nothing of it remains`, async (t) => {
    if (!kernelTestGate(t, ['uprobes', 'perf_events'])) return;
    const sleeper = await startSleeper();
    // Watchdog far away: only the parent's death may end the collector here.
    const parent = await startParent(sleeper, { [TEST_HOOKS_ENV]: '1', [WATCHDOG_ENV]: '600000' });
    assert.equal(parent.uid, 65534, 'the web process runs as nobody');
    const uids = /^Uid:\s*(.*)$/m.exec(readFileSync(`/proc/${parent.collectorPid}/status`, 'utf8'))![1]!.split(/\s+/);
    assert.deepEqual(uids, ['0', '0', '65534', '0'], 'collector: real, effective and filesystem uid root; saved uid the web process\'s');
    const other = runAs(attacker(), '/bin/kill', ['-0', String(parent.collectorPid)]);
    assert.notEqual(other.status, 0, 'another local user may not signal the collector');
    assert.match(other.stderr, /not permitted/i);
    // The web user may: SIGUSR1 from it must not open the inspector in the root collector.
    const usr1 = runAs({ name: 'nobody', uid: 65534, gid: 65534 }, '/bin/kill', ['-USR1', String(parent.collectorPid)]);
    assert.equal(usr1.status, 0, `nobody may signal the collector: ${usr1.stderr}`);
    await sleep(300);
    assert.deepEqual(listeningPortsOf(parent.collectorPid), [], 'SIGUSR1 opened no inspector port');
    assert.ok(alive(parent.collectorPid), 'SIGUSR1 did not end the collector');
    const ids = bpfIdsOf(parent.collectorPid);
    assert.ok(ids.links.length > 0 && ids.progs.length > 0, `the collector holds links and programs: ${JSON.stringify(ids)}`);
    assert.deepEqual(uprobesOn(sleeper.bin).sort(), ['uprobe', 'uretprobe']);

    if (how === 'frozen (SIGSTOP)') {
      process.kill(parent.collectorPid, 'SIGSTOP');
      await waitFor(() => stateOf(parent.collectorPid) === 'T', 'the collector to stop', T(2000));
    } else {
      process.kill(parent.collectorPid, 'SIGUSR2');
      await waitFor(() => parent.stderr().includes('the main thread spins'), 'the collector to start spinning', T(5000)).catch((error: Error) => {
        const state = alive(parent.collectorPid) ? stateOf(parent.collectorPid) : 'gone';
        throw new Error(`${error.message}: collector ${state}; web process said ${JSON.stringify(parent.lines)}; stderr:\n${parent.stderr()}`);
      });
      const ticks = cpuTicks(parent.collectorPid);
      await sleep(500);
      // At least 10% of a CPU (a blocked collector burns none); a loaded 2-core machine may give it little more.
      const burnt = cpuTicks(parent.collectorPid) - ticks;
      assert.ok(burnt >= 5, `the collector burns CPU (spinning): ${burnt} ticks in 500 ms`);
    }
    const killedAt = Date.now();
    process.kill(parent.webPid, 'SIGKILL');
    await parent.exited;
    await waitFor(() => !alive(parent.collectorPid), 'the collector to die with its web process', 5000);
    const tookMs = Date.now() - killedAt;
    t.diagnostic(`collector gone ${tookMs} ms after kill -9 of the web process`);
    await assertNothingLeft(ids, sleeper.bin, parent.collectorPid, Math.max(0, 5000 - tookMs));
    kill(sleeper.pid, 'SIGKILL');
  });
}

test('without signals accepted from the web uid, the kernel drops the death signal, yet a busy collector still dies within 5 s of its web process (watchdog: parent gone)', async (t) => {
  if (!kernelTestGate(t, ['uprobes', 'perf_events'])) return;
  const sleeper = await startSleeper();
  const parent = await startParent(sleeper, { TESTING_PARENT_NO_PEER: '1', [TEST_HOOKS_ENV]: '1', [WATCHDOG_ENV]: '600000' });
  const uids = /^Uid:\s*(.*)$/m.exec(readFileSync(`/proc/${parent.collectorPid}/status`, 'utf8'))![1]!.split(/\s+/);
  assert.deepEqual(uids, ['0', '0', '0', '0'], 'all root: nobody may signal it');
  const ids = bpfIdsOf(parent.collectorPid);
  process.kill(parent.collectorPid, 'SIGUSR2');
  await waitFor(() => parent.stderr().includes('the main thread spins'), 'the collector to start spinning', T(5000));
  const killedAt = Date.now();
  process.kill(parent.webPid, 'SIGKILL');
  await parent.exited;
  await waitFor(() => !alive(parent.collectorPid), 'the collector to die with its web process', 5000);
  const tookMs = Date.now() - killedAt;
  t.diagnostic(`collector gone ${tookMs} ms after kill -9 of the web process`);
  assert.match(parent.stderr(), new RegExp(`probeboard collector ${parent.collectorPid}: watchdog: the web process ${parent.webPid} is gone: killing the collector with SIGKILL`));
  await assertNothingLeft(ids, sleeper.bin, parent.collectorPid, Math.max(0, 5000 - tookMs));
  kill(sleeper.pid, 'SIGKILL');
});

test('an unprivileged web process declares its frozen collector down, kills it, and lives on', async (t) => {
  if (!kernelTestGate(t, ['uprobes', 'perf_events'])) return;
  const sleeper = await startSleeper();
  const parent = await startParent(sleeper, { [WATCHDOG_ENV]: '600000' }, DEADLINE_MS);
  const ids = bpfIdsOf(parent.collectorPid);
  process.kill(parent.collectorPid, 'SIGSTOP');
  const frozenAt = Date.now();
  await waitFor(() => parent.lines.some((l) => 'down' in l), 'the web process to declare the collector down', DEADLINE_MS + T(3000));
  assert.match(String(parent.lines.find((l) => 'down' in l)!.down), STALLED(DEADLINE_MS / 1000));
  await waitFor(() => parent.lines.some((l) => 'ended' in l), 'the latency probe to end', 1000);
  assert.match(String(parent.lines.find((l) => 'ended' in l)!.ended), STALLED(DEADLINE_MS / 1000));
  await waitFor(() => !alive(parent.collectorPid), 'the web process (nobody) to kill the frozen collector', 2000);
  t.diagnostic(`frozen collector declared down and killed ${Date.now() - frozenAt} ms after SIGSTOP (deadline ${DEADLINE_MS} ms)`);
  await assertNothingLeft(ids, sleeper.bin, parent.collectorPid, T(5000));
  assert.ok(alive(parent.webPid), 'the web process lives on');
  parent.child.kill('SIGKILL');
  kill(sleeper.pid, 'SIGKILL');
});

test('the watchdog: a collector whose main thread spins kills itself after its period, says why, and is reported down', async (t) => {
  if (!kernelTestGate(t, ['uprobes', 'perf_events'])) return;
  const sleeper = await startSleeper();
  const parent = await startParent(sleeper, { [TEST_HOOKS_ENV]: '1', [WATCHDOG_ENV]: String(WATCHDOG_MS) }, T(60_000));
  const ids = bpfIdsOf(parent.collectorPid);
  await sleep(WATCHDOG_MS * 1.5);
  assert.ok(alive(parent.collectorPid), 'a collector doing its normal work is not killed by its watchdog');
  const spunAt = Date.now();
  process.kill(parent.collectorPid, 'SIGUSR2');
  await waitFor(() => !alive(parent.collectorPid), 'the watchdog to kill the collector', WATCHDOG_MS + T(4000));
  const tookMs = Date.now() - spunAt;
  t.diagnostic(`collector killed by its watchdog ${tookMs} ms after its main thread began to spin (period ${WATCHDOG_MS} ms)`);
  // The period runs from the main thread's last beat, which came up to a quarter period before the spin.
  assert.ok(tookMs >= WATCHDOG_MS * 0.75 - 100, `not before the period: ${tookMs} ms`);
  assert.match(parent.stderr(), new RegExp(`probeboard collector ${parent.collectorPid}: watchdog: the main thread has not run for \\d+\\.\\d s \\(limit ${WATCHDOG_MS / 1000} s\\): killing the collector with SIGKILL`));
  await waitFor(() => parent.lines.some((l) => 'down' in l), 'the web process to report the collector down', 2000);
  assert.equal(parent.lines.find((l) => 'down' in l)!.down, 'the collector process exited (signal SIGKILL): every probe was detached — restart probeboard');
  await assertNothingLeft(ids, sleeper.bin, parent.collectorPid, T(5000));
  parent.child.kill('SIGKILL');
  kill(sleeper.pid, 'SIGKILL');
});

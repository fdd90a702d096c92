/**
 * Privilege separation end to end on the real kernel (root): the real `probeboard serve` as two
 * processes, a real socket.io client, real probes.
 * - the web process runs as nobody (or the sudo user) with CapEff 0 on every thread; the
 *   collector process keeps root;
 * - kill -9 of the collector: every viewer is told (profile status, latency and event probes
 *   ended with the reason), later requests are refused with it, and no BPF program, link, perf
 *   event or tracefs entry of ours remains;
 * - kill -9 of the web process: the collector notices and exits within seconds, nothing remains,
 *   and a new serve on the same port starts at once.
 * Run: node --import tsx --test server/privileged/split.kernel.test.ts
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestViewer } from '../hub/testing.ts';
import { bpfIdsOf, bpftoolShow, kernelTestGate } from '../testing/kernel.ts';
import { waitForServeReady } from '../testing/serve.ts';
import { startLatencySleeper } from '../../test/workloads/build.ts';
import type { EventProbeList, EventBatch } from '../../lib/protocol-events.ts';
import type { LatencyFrameMessage, LatencyProbeList } from '../../lib/protocol-latency.ts';
import type { ProfileStatus } from '../../lib/protocol.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'probeboard.js');
const TOKEN = 'split-test-token-0123';
/** Timeouts stretch in pb-vm (software emulation: a cold start of serve takes about a minute there). */
const T = (ms: number) => ms * (process.env.PB_VM === '1' ? 5 : 1);
const GONE = /the collector process exited \(signal SIGKILL\): every probe was detached — restart probeboard/;

const cleanups: (() => void)[] = [];
after(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

interface Served {
  child: ChildProcess;
  url: string;
  webPid: number;
  collectorPid: number;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `probeboard serve` (built dashboard as is) and waits for its URL and both pids. */
async function serve(port: number, env: Record<string, string | undefined> = {}): Promise<Served> {
  // The token through the environment, as users are told to (a command line is public).
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', PROBEBOARD_TOKEN: TOKEN };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  if (process.env.PB_VM === '1') {
    // Emulated CPU: the collector's first symbolization alone blocks for over 10 s there.
    childEnv.PROBEBOARD_COLLECTOR_HEARTBEAT_DEADLINE_MS ??= '120000';
    childEnv.PROBEBOARD_COLLECTOR_WATCHDOG_MS ??= '240000';
  }
  // A data directory of its own: serve refuses one owned by another web user (the previous test's nobody).
  // serve creates it (inside a root-owned directory the web user may enter) and gives it to the web user.
  const parentDir = mkdtempSync(path.join(tmpdir(), 'pb-split-data-'));
  chmodSync(parentDir, 0o755);
  const dataDir = path.join(parentDir, 'data');
  cleanups.push(() => rmSync(parentDir, { recursive: true, force: true }));
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--no-build', '--data-dir', dataDir], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => child.kill('SIGKILL'));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const output: string[] = [];
  const { url, collectorPid, webPid } = await waitForServeReady(child, output, T(60_000));
  cleanups.push(() => {
    try {
      process.kill(collectorPid, 'SIGKILL');
    } catch {
      // gone
    }
  });
  assert.equal(webPid, child.pid, 'the web process is the serve process itself');
  return { child, url, webPid, collectorPid, output, exited };
}

function statusOf(pid: number | string, task?: string): string {
  return readFileSync(task ? `/proc/${pid}/task/${task}/status` : `/proc/${pid}/status`, 'utf8');
}

const field = (status: string, name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';


/** Perf-event attachments (uprobes) on `file`, any process. */
function uprobesOn(file: string): string[] {
  const out = execFileSync('bpftool', ['perf', 'show', '-j'], { encoding: 'utf8' });
  const all = JSON.parse(out.trim() === '' ? '[]' : out) as { fd_type: string; filename?: string }[];
  return all.filter((e) => e.filename === file).map((e) => e.fd_type);
}

/** tracefs probe entries that mention `needle` (libbpf's legacy names carry the pid). */
function tracefsEntries(needles: string[]): string[] {
  const found: string[] = [];
  for (const file of ['/sys/kernel/tracing/uprobe_events', '/sys/kernel/tracing/kprobe_events']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) if (line && needles.some((n) => line.includes(n))) found.push(`${file}: ${line}`);
  }
  return found;
}

/**
 * Asserts that no BPF object of `ids` and nothing on `binary` or in tracefs is left. The kernel
 * frees a closed process's links and programs asynchronously (after an RCU grace period, which
 * takes a while in the emulated VM), so this waits up to T(5 s) for them to go before asserting.
 */
async function assertNothingLeft(ids: { links: number[]; progs: number[] }, binary: string, collectorPid: number): Promise<void> {
  const remaining = () => {
    const liveLinks = new Set(bpftoolShow('link').map((l) => l.id));
    const liveProgs = new Set(bpftoolShow('prog').map((p) => p.id));
    return ids.links.some((id) => liveLinks.has(id)) || ids.progs.some((id) => liveProgs.has(id)) || uprobesOn(binary).length > 0;
  };
  const end = Date.now() + T(5000);
  while (remaining() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 100));
  const links = new Set(bpftoolShow('link').map((l) => l.id));
  const progs = new Set(bpftoolShow('prog').map((p) => p.id));
  assert.deepEqual(ids.links.filter((id) => links.has(id)), [], 'no BPF link of the collector remains');
  assert.deepEqual(ids.progs.filter((id) => progs.has(id)), [], 'no BPF program of the collector remains');
  assert.deepEqual(uprobesOn(binary), [], 'no uprobe on the traced binary remains');
  assert.deepEqual(tracefsEntries([binary, `libbpf_${collectorPid}_`]), [], 'no uprobe_events/kprobe_events entry of ours');
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether a process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s*Z/m.test(statusOf(pid));
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** latency-sleep calling pb_sleep_us(300) in a loop until killed. */
async function startSleeper(): Promise<{ pid: number; bin: string; stop(): void }> {
  const { child, pid, bin } = await startLatencySleeper();
  cleanups.push(() => child.kill('SIGKILL'));
  return { pid, bin, stop: () => child.kill('SIGKILL') };
}

/** Keeps what a dashboard would show: profile status, latency and events lists, frames (acked). */
class Viewer extends TestViewer {
  status: ProfileStatus | undefined;
  latency: LatencyProbeList | undefined;
  events: EventProbeList | undefined;
  frames = new Map<string, LatencyFrameMessage>();
  rows = 0;

  constructor(url: string) {
    super(url, TOKEN);
    this.socket.on('profile:status', (status: ProfileStatus) => {
      this.status = status;
      this.notify();
    });
    this.socket.on('profile:frame', (_frame: unknown, ack: () => void) => ack());
    this.socket.on('latency:probes', (list: LatencyProbeList) => {
      this.latency = list;
      this.notify();
    });
    this.socket.on('latency:frame', (frame: LatencyFrameMessage, ack: () => void) => {
      ack();
      this.frames.set(frame.id, frame);
      this.notify();
    });
    this.socket.on('events:probes', (list: EventProbeList) => {
      this.events = list;
      this.notify();
    });
    this.socket.on('events:batch', (batch: EventBatch, ack: () => void) => {
      ack();
      this.rows += batch.rows.length;
      this.notify();
    });
  }
}

test('serve runs the web process without root or capabilities; kill -9 of the collector is shown to viewers and leaves nothing behind', async (t) => {
  if (!kernelTestGate(t, ['uprobes', 'tracepoints'])) return;
  const sleeper = await startSleeper();
  // Without sudo variables the web process becomes nobody (as in the VM).
  const served = await serve(0, { SUDO_UID: undefined, SUDO_GID: undefined, SUDO_USER: undefined });
  const viewer = new Viewer(served.url);
  try {
    // Privileges: the web process is nobody with no capability on any thread; the collector is root.
    const web = statusOf(served.webPid);
    assert.deepEqual(field(web, 'Uid').split(/\s+/), ['65534', '65534', '65534', '65534'], 'real, effective, saved and fs uid are nobody');
    assert.deepEqual(field(web, 'Gid').split(/\s+/), ['65534', '65534', '65534', '65534']);
    assert.equal(field(web, 'Groups'), '', 'no supplementary groups');
    for (const task of readdirSync(`/proc/${served.webPid}/task`)) {
      const status = statusOf(served.webPid, task);
      assert.equal(field(status, 'CapEff'), '0000000000000000', `thread ${task}: CapEff 0`);
      assert.equal(field(status, 'CapPrm'), '0000000000000000', `thread ${task}: CapPrm 0`);
    }
    const collector = statusOf(served.collectorPid);
    // Real, effective and fs uid root; the saved uid is the web process's, so that the kernel may
    // deliver its death signal and the web process may kill a collector that stopped answering.
    assert.deepEqual(field(collector, 'Uid').split(/\s+/), ['0', '0', '65534', '0'], 'the collector keeps root');
    assert.notEqual(field(collector, 'CapEff'), '0000000000000000');
    assert.equal(field(collector, 'PPid'), String(served.webPid), 'the collector is the web process\'s child');

    // Everything the dashboard does goes through the collector.
    await viewer.until(() => viewer.status?.settings.running === true, 'profiling running (started by serve)', T(15_000));
    await viewer.until(() => viewer.latency !== undefined && viewer.events !== undefined, 'the probe lists', T(8000));
    const added = await viewer.request<{ id: string; spec: string }>('latency:add', { spec: `uprobe:${sleeper.bin}:pb_sleep_us`, pid: sleeper.pid });
    assert.ok(added.ok, `latency probe added: ${JSON.stringify(added)}`);
    const latencyId = added.value!.id;
    await viewer.until(() => (viewer.frames.get(latencyId)?.total.count ?? 0) > 50, 'latency frames with counts', T(10_000));
    const exec = await viewer.request<{ id: string }>('events:add', { spec: 'exec' });
    assert.ok(exec.ok, `exec probe added: ${JSON.stringify(exec)}`);
    const eventsId = exec.value!.id;
    const procs = await viewer.request<{ items: { pid: number }[] }>('discover:processes', { query: String(sleeper.pid) });
    assert.ok(procs.ok && procs.value!.items.some((p) => p.pid === sleeper.pid), `discovery reads /proc through the collector: ${JSON.stringify(procs).slice(0, 200)}`);
    const bad = await viewer.request('latency:add', { spec: 'uprobe:./relative:main' });
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.error, /binary must be an absolute path/);

    const ids = bpfIdsOf(served.collectorPid);
    assert.ok(ids.links.length >= 3 && ids.progs.length >= 3, `the collector holds the links and programs: ${JSON.stringify(ids)}`);
    assert.deepEqual(bpfIdsOf(served.webPid), { links: [], progs: [] }, 'the web process holds no BPF object');
    assert.deepEqual(uprobesOn(sleeper.bin).sort(), ['uprobe', 'uretprobe']);

    // kill -9 of the collector.
    process.kill(served.collectorPid, 'SIGKILL');
    await viewer.until(() => GONE.test(viewer.status?.error ?? ''), 'profile:status with the reason', T(8000));
    assert.equal(viewer.status!.settings.running, false);
    await viewer.until(() => viewer.latency?.probes.find((p) => p.id === latencyId)?.state === 'ended', 'the latency probe ended', T(8000));
    assert.match(viewer.latency!.probes.find((p) => p.id === latencyId)!.error ?? '', GONE);
    await viewer.until(() => viewer.events?.probes.find((p) => p.id === eventsId)?.state === 'ended', 'the events probe ended', T(8000));
    assert.match(viewer.events!.probes.find((p) => p.id === eventsId)!.error ?? '', GONE);
    await waitFor(() => !alive(served.collectorPid), 'the collector gone', T(5000));

    // Nothing of ours remains in the kernel.
    await assertNothingLeft(ids, sleeper.bin, served.collectorPid);

    // The web process lives on and refuses what needs the collector, saying why.
    for (const [event, payload] of [
      ['latency:add', { spec: 'syscall:read' }],
      ['events:add', { spec: 'exec' }],
      ['discover:tracepoints', {}],
      ['profile:configure', { running: true }],
    ] as const) {
      const reply = await viewer.request(event, payload);
      assert.equal(reply.ok, false, `${event} refused`);
      assert.match(reply.ok ? '' : reply.error, GONE, event);
    }
    assert.match(served.output.join(''), GONE, 'the web process logs it too');

    served.child.kill('SIGTERM');
    const end = await served.exited;
    assert.equal(end.code, 0, `serve stops cleanly: ${served.output.join('')}`);
  } finally {
    viewer.close();
    sleeper.stop();
  }
});

test('kill -9 of the web process: the collector detaches everything and exits at once; a new serve takes the port right away', async (t) => {
  if (!kernelTestGate(t, ['uprobes'])) return;
  const sleeper = await startSleeper();
  const port = await freePort();
  // With sudo variables the web process becomes that user.
  const first = await serve(port, { SUDO_UID: '4242', SUDO_GID: '4343' });
  const viewer = new Viewer(first.url);
  try {
    const web = statusOf(first.webPid);
    assert.deepEqual(field(web, 'Uid').split(/\s+/), ['4242', '4242', '4242', '4242']);
    assert.deepEqual(field(web, 'Gid').split(/\s+/), ['4343', '4343', '4343', '4343']);
    assert.equal(field(web, 'CapEff'), '0000000000000000');

    await viewer.until(() => viewer.latency !== undefined, 'the probe list', T(8000));
    const added = await viewer.request<{ id: string }>('latency:add', { spec: `uprobe:${sleeper.bin}:pb_sleep_us`, pid: sleeper.pid });
    assert.ok(added.ok, JSON.stringify(added));
    // The sleeper's calls take 1 s each: the first count comes when one completes after attach.
    await viewer
      .until(() => (viewer.frames.get(added.value!.id)?.total.count ?? 0) > 0, 'counts', T(12_000))
      .catch((error: Error) => {
        const frame = viewer.frames.get(added.value!.id);
        throw new Error(
          `${error.message}: sleeper ${alive(sleeper.pid) ? 'alive' : 'gone'}, probe ${JSON.stringify(viewer.latency?.probes.find((p) => p.id === added.value!.id))}, ` +
            `last frame ${frame ? `count ${frame.total.count}, misses ${JSON.stringify(frame.misses)}, sampled ${Date.now() - frame.sampledAtMs} ms ago` : 'none'}`,
        );
      });
    const ids = bpfIdsOf(first.collectorPid);
    assert.ok(ids.links.length > 0, `the collector holds links (${JSON.stringify(ids)})`);

    const killedAt = Date.now();
    process.kill(first.webPid, 'SIGKILL');
    await first.exited;
    await waitFor(() => !alive(first.collectorPid), 'the collector to exit after its web process died', T(5000));
    const tookMs = Date.now() - killedAt;
    assert.ok(tookMs < T(5000), `collector gone ${tookMs} ms after the web process`);
    await assertNothingLeft(ids, sleeper.bin, first.collectorPid);

    // A restart on the same port works at once (nothing holds the port or the probes).
    const second = await serve(port, { SUDO_UID: undefined, SUDO_GID: undefined });
    assert.equal(new URL(second.url).port, String(port));
    const again = new Viewer(second.url);
    try {
      await again.until(() => again.latency !== undefined, 'the probe list from the new server', T(8000));
      assert.deepEqual(again.latency!.probes, [], 'a fresh server starts empty');
      const readded = await again.request<{ id: string }>('latency:add', { spec: `uprobe:${sleeper.bin}:pb_sleep_us`, pid: sleeper.pid });
      assert.ok(readded.ok, JSON.stringify(readded));
    } finally {
      again.close();
    }
    const secondIds = bpfIdsOf(second.collectorPid);
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, second.output.join(''));
    await waitFor(() => !alive(second.collectorPid), 'the second collector to exit with its server', T(5000));
    await assertNothingLeft(secondIds, sleeper.bin, second.collectorPid);
  } finally {
    viewer.close();
    sleeper.stop();
  }
});

/**
 * The latency hub feature end to end on the real kernel (root): a real socket.io server on
 * port 0, real socket.io clients, real uprobes on a C workload (test/workloads/latency-sleep.c).
 * Run: node --import tsx --test server/hub/latency.kernel.test.ts
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestHub, TestViewer, type TestHub } from './testing.ts';
import { latencyFeature } from './latency.ts';
import { inProcessBackend } from '../privileged/in-process.ts';
import { bpftoolShow, kernelTestGate, newFds, openFds } from '../testing/kernel.ts';
import { probeFeature } from '../libbpf/features.ts';
import { buildWorkload, startLatencySleeper } from '../../test/workloads/build.ts';
import { bucketIndex } from '../../lib/histogram.ts';
import type { Ack } from '../../lib/protocol.ts';
import type { LatencyAdded, LatencyFrameMessage, LatencyProbeList } from '../../lib/protocol-latency.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'pb-hub-latency-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** uprobes/uretprobes on `file`, as `bpftool perf show` lists them (any process). */
const uprobesOn = (file: string): string[] => {
  const out = execFileSync('bpftool', ['perf', 'show', '-j'], { encoding: 'utf8' });
  const all = JSON.parse(out.trim() === '' ? '[]' : out) as { fd_type: string; filename?: string }[];
  return all.filter((e) => e.filename === file).map((e) => e.fd_type).sort();
};

const bpfFds = () => new Map([...openFds()].filter(([, target]) => /bpf|perf_event/.test(target)));

function startHub(maxProbes = 16): Promise<TestHub> {
  return startTestHub([latencyFeature(inProcessBackend().openLatency({ intervalMs: 200, maxProbes }))]);
}

/** A viewer that acks every frame (as the dashboard does) and keeps the newest list and frame per probe. */
class Viewer extends TestViewer {
  lists: LatencyProbeList[] = [];
  frames = new Map<string, LatencyFrameMessage>();
  framesReceived = 0;
  /** Frames received per probe id. */
  framesOf = new Map<string, number>();

  constructor(url: string) {
    super(url);
    this.socket.on('latency:probes', (list: LatencyProbeList) => {
      this.lists.push(list);
      this.notify();
    });
    this.socket.on('latency:frame', (frame: LatencyFrameMessage, ack: () => void) => {
      ack();
      this.framesReceived++;
      this.framesOf.set(frame.id, (this.framesOf.get(frame.id) ?? 0) + 1);
      this.frames.set(frame.id, frame);
      this.notify();
    });
  }

  get list(): LatencyProbeList | undefined {
    return this.lists.at(-1);
  }

  async add(spec: string, extra: { pid?: number; comm?: string } = {}): Promise<Ack<LatencyAdded>> {
    return this.request<LatencyAdded>('latency:add', { spec, ...extra });
  }

}

/** latency-sleep calling pb_sleep_us(300) in a loop (about 3000 calls a second) until stopped. */
async function startSleeper(bin = buildWorkload('latency-sleep')): Promise<{ child: ChildProcess; pid: number; bin: string; stop(): Promise<void> }> {
  const sleeper = await startLatencySleeper(300, 1_000_000, bin);
  const exited = new Promise<void>((resolve) => sleeper.child.once('exit', () => resolve()));
  return {
    ...sleeper,
    stop: async () => {
      if (sleeper.child.exitCode === null && sleeper.child.signalCode === null) sleeper.child.kill('SIGKILL');
      await exited;
    },
  };
}

test('add a uprobe probe: frames with counts reach every viewer, a late joiner gets it at once, remove detaches', async (t) => {
  if (!kernelTestGate(t, ['uprobes'])) return;
  const fdsBefore = bpfFds();
  const linksBefore = new Set(bpftoolShow('link').map((l) => l.id));
  const sleeper = await startSleeper();
  const h = await startHub();
  const viewers: Viewer[] = [];
  try {
    const a = new Viewer(h.url);
    viewers.push(a);
    await a.until(() => a.list !== undefined, 'the probe list on connect');
    assert.deepEqual(structuredClone(a.list), { probes: [], max: 16 });

    const spec = `uprobe:${sleeper.bin}:pb_sleep_us`;
    const reply = await a.add(spec, { pid: sleeper.pid });
    assert.ok(reply.ok, `added: ${JSON.stringify(reply)}`);
    const { id } = reply.value!;
    assert.deepEqual(reply.value, { id, spec });
    const info = a.list!.probes.find((p) => p.id === id);
    assert.equal(info?.state, 'running', 'the list arrives before the ack');
    assert.equal(info?.pid, sleeper.pid);

    await a.until(() => (a.frames.get(id)?.total.count ?? 0) > 100, 'frames with counts');
    const frame = a.frames.get(id)!;
    assert.equal(frame.spec, spec);
    assert.ok(frame.columns.length >= 1, `heatmap columns (${frame.columns.length})`);
    const expected = bucketIndex(300_000);
    const atOrAbove = frame.total.buckets.slice(expected).reduce((x, y) => x + y, 0);
    assert.equal(atOrAbove, frame.total.count, `no 300 µs call below bucket ${expected}: ${JSON.stringify(frame.total.buckets)}`);
    assert.ok(frame.seq >= 2, `seq stamped per stream (seq ${frame.seq})`);

    const linksWhileLive = bpftoolShow('link').filter((l) => !linksBefore.has(l.id)).map((l) => l.id);
    const fdsWhileLive = newFds(fdsBefore, bpfFds());
    assert.ok(fdsWhileLive.length > 0, `the probe holds BPF fds (new fds: ${JSON.stringify(fdsWhileLive)})`);
    assert.deepEqual(uprobesOn(sleeper.bin), ['uprobe', 'uretprobe']);

    // A late joiner: the list and the probe's current picture, at once.
    const late = new Viewer(h.url);
    viewers.push(late);
    await late.until(() => (late.frames.get(id)?.total.count ?? 0) >= frame.total.count, 'the current frame for a late joiner', 1500);
    assert.deepEqual(late.list?.probes.map((p) => p.id), [id]);
    assert.equal(late.frames.get(id)!.seq, 1);

    // The same probe twice is refused.
    const twin = await late.add(spec, { pid: sleeper.pid });
    assert.equal(twin.ok, false);
    assert.match(twin.ok ? '' : twin.error, new RegExp(`already live as ${id}`));

    // Remove: detached at once (fds, links), everyone told.
    const removed = await late.request('latency:remove', { id });
    assert.deepEqual(removed, { ok: true });
    assert.deepEqual(newFds(fdsBefore, bpfFds()), [], 'no BPF or perf_event fd left once removed');
    const linksLeft = new Set(bpftoolShow('link').map((l) => l.id));
    assert.deepEqual(linksWhileLive.filter((l) => linksLeft.has(l)), [], 'its BPF links are gone');
    assert.deepEqual(uprobesOn(sleeper.bin), [], 'no uprobe left on the binary');
    await a.until(() => a.list!.probes.length === 0, 'the empty list for the other viewer');
    // No frames after remove: while a new probe on the same function gets three intervals' frames,
    // the removed one gets none.
    const countAtRemove = a.framesOf.get(id);
    const readded = await a.add(spec, { pid: sleeper.pid });
    assert.ok(readded.ok, `re-added after remove: ${JSON.stringify(readded)}`);
    const newId = readded.value!.id;
    await a.until(() => (a.framesOf.get(newId) ?? 0) >= 3, 'three frames of the re-added probe');
    assert.equal(a.framesOf.get(id), countAtRemove, `no frames of ${id} after remove`);
    assert.deepEqual(await a.request('latency:remove', { id: newId }), { ok: true });
    const again = await a.request('latency:remove', { id });
    assert.equal(again.ok, false);
    assert.match(again.ok ? '' : again.error, /no latency probe/);
  } finally {
    for (const v of viewers) v.close();
    await h.close();
    await sleeper.stop();
  }
  assert.deepEqual(newFds(fdsBefore, bpfFds()), []);
});

test('bad input is refused with what is wrong while the good probe keeps running; the cap is enforced', async (t) => {
  if (!kernelTestGate(t, ['uprobes'])) return;
  const fdsBefore = bpfFds();
  const sleeper = await startSleeper();
  const usdtBin = buildWorkload('latency-usdt');
  const notElf = path.join(scratch, 'not-elf');
  writeFileSync(notElf, '#!/bin/sh\necho hello\n', { mode: 0o755 });
  const h = await startHub(2);
  const v = new Viewer(h.url);
  try {
    await v.until(() => v.list !== undefined, 'the probe list');
    const good = await v.add(`uprobe:${sleeper.bin}:pb_sleep_us`, { pid: sleeper.pid });
    assert.ok(good.ok, `the good probe is added: ${JSON.stringify(good)}`);
    const id = good.value!.id;
    await v.until(() => (v.frames.get(id)?.total.count ?? 0) > 0, 'first counts');

    // One clear message each (the ack and error:message), and nothing else changes.
    const errors: { event: string; message: string }[] = [];
    v.socket.on('error:message', (e) => errors.push(e));
    const unusedPid = 4_000_000;
    const cases: [unknown, RegExp][] = [
      [{ spec: 'uprobe:' }, /^bad probe spec "uprobe:": .*\(at character \d+\)/],
      [{ spec: 'nonsense' }, /^bad probe spec "nonsense"/],
      [{ spec: '/nonexistent/bin:f' }, /bad probe spec/],
      [{ spec: 'uprobe:/nonexistent/pb-bin:main' }, /binary \/nonexistent\/pb-bin not found/],
      [{ spec: `uprobe:${notElf}:main` }, /not an ELF file|not a readable ELF file/],
      [{ spec: `uprobe:${sleeper.bin}:pb_no_such_function` }, /pb_no_such_function/],
      [{ spec: `usdt:${usdtBin}:pblat:req__start,no__such` }, /no__such/],
      [{ spec: `uprobe:${sleeper.bin}:pb_nap_us`, pid: unusedPid }, new RegExp(`no process with pid ${unusedPid}`)],
      [{ spec: 'runq', pid: 0 }, /pid must be/],
      [{ spec: 'runq', bogus: true }, /unknown field "bogus"/],
      ['uprobe:c:malloc', /latency:add takes \{spec, pid\?, comm\?, subBuckets\?\}, got "uprobe:c:malloc"/],
    ];
    if (!probeFeature('kprobes').available) cases.push([{ spec: 'kprobe:vfs_read' }, /kprobe:vfs_read refused: this kernel lacks kprobes/]);
    if (!probeFeature('fentry').available) cases.push([{ spec: 'kfunc:vfs_read' }, /kfunc:vfs_read refused: .*fentry/]);
    for (const [payload, expected] of cases) {
      const reply = await v.request('latency:add', payload);
      assert.equal(reply.ok, false, `refused: ${JSON.stringify(payload)}`);
      assert.match(reply.ok ? '' : reply.error, expected, JSON.stringify(payload));
    }
    await v.until(() => errors.length === cases.length, 'one error:message per refusal');
    assert.deepEqual([...new Set(errors.map((e) => e.event))], ['latency:add'], 'every error:message names latency:add');
    assert.deepEqual(v.list!.probes.map((p) => [p.id, p.state]), [[id, 'running']]);

    // The good probe kept counting through all of that.
    const countAfterErrors = v.frames.get(id)!.total.count;
    await v.until(() => v.frames.get(id)!.total.count > countAfterErrors + 50, 'more counts after the refusals');

    // The cap (2 here): a second probe is fine, a third is refused with the reason.
    const second = await v.add(`uprobe:${sleeper.bin}:pb_nap_us`, { pid: sleeper.pid });
    assert.ok(second.ok, JSON.stringify(second));
    const third = await v.add(`uprobe:${sleeper.bin}:pb_recurse`, { pid: sleeper.pid });
    assert.equal(third.ok, false);
    assert.match(third.ok ? '' : third.error, /at most 2 latency probes at once: remove one first/);
    assert.equal(v.list!.probes.length, 2);
  } finally {
    v.close();
    await h.close();
    await sleeper.stop();
  }
  assert.deepEqual(newFds(fdsBefore, bpfFds()), [], 'closing the hub closes every probe');
});

test('a traced process that exits ends its probe only; the ended probe stays listed until removed', async (t) => {
  if (!kernelTestGate(t, ['uprobes'])) return;
  const fdsBefore = bpfFds();
  const doomed = await startSleeper();
  const survivor = await startSleeper();
  const h = await startHub();
  const v = new Viewer(h.url);
  try {
    await v.until(() => v.list !== undefined, 'the probe list');
    const a = await v.add(`uprobe:${doomed.bin}:pb_sleep_us`, { pid: doomed.pid });
    const b = await v.add(`uprobe:${survivor.bin}:pb_sleep_us`, { pid: survivor.pid });
    assert.ok(a.ok && b.ok, `both added: ${JSON.stringify([a, b])}`);
    const [idA, idB] = [a.value!.id, b.value!.id];
    await v.until(() => (v.frames.get(idA)?.total.count ?? 0) > 0 && (v.frames.get(idB)?.total.count ?? 0) > 0, 'counts from both');

    await doomed.stop();
    await v.until(() => v.list!.probes.find((p) => p.id === idA)?.state === 'ended', 'the probe marked ended');
    const ended = v.list!.probes.find((p) => p.id === idA)!;
    assert.match(ended.error ?? '', new RegExp(`process ${doomed.pid} exited`));
    assert.equal(v.list!.probes.find((p) => p.id === idB)?.state, 'running');
    const countB = v.frames.get(idB)!.total.count;
    await v.until(() => v.frames.get(idB)!.total.count > countB, 'the other probe keeps counting');

    // A new viewer still sees the ended probe and its last picture.
    const late = new Viewer(h.url);
    await late.until(() => (late.frames.get(idA)?.total.count ?? 0) > 0, 'the ended probe\'s last frame');
    late.close();

    assert.deepEqual(await v.request('latency:remove', { id: idA }), { ok: true });
    await v.until(() => v.list!.probes.map((p) => p.id).join() === idB, 'only the live probe listed');
  } finally {
    v.close();
    await h.close();
    await doomed.stop();
    await survivor.stop();
  }
  assert.deepEqual(newFds(fdsBefore, bpfFds()), []);
});

test('a probe gone stale because its binary was replaced (new inode) does not block re-adding it: the new probe attaches to the new file', async (t) => {
  if (!kernelTestGate(t, ['uprobes'])) return;
  const fdsBefore = bpfFds();
  // A copy of our own, so replacing it touches no other test's binary.
  const bin = path.join(scratch, 'replaced-sleep');
  copyFileSync(buildWorkload('latency-sleep'), bin);
  const h = await startHub();
  const v = new Viewer(h.url);
  let sleeper: Awaited<ReturnType<typeof startSleeper>> | null = null;
  try {
    await v.until(() => v.list !== undefined, 'the probe list');
    const spec = `uprobe:${bin}:pb_sleep_us`;
    const first = await v.add(spec);
    assert.ok(first.ok, `attached: ${JSON.stringify(first)}`);
    const oldId = first.value!.id;

    // Replace the file the way a package upgrade or a rebuild does: a new inode renamed over it.
    const oldInode = statSync(bin).ino;
    copyFileSync(buildWorkload('latency-sleep'), `${bin}.new`);
    renameSync(`${bin}.new`, bin);
    assert.notEqual(statSync(bin).ino, oldInode, 'a new inode');
    await v.until(() => v.list!.probes.find((p) => p.id === oldId)?.state === 'stale', 'the probe marked stale');
    assert.match(v.list!.probes.find((p) => p.id === oldId)!.error ?? '', /replaced/);

    const again = await v.add(spec);
    assert.ok(again.ok, `re-adding the same spec attaches: ${JSON.stringify(again)}`);
    const newId = again.value!.id;
    assert.notEqual(newId, oldId);
    assert.deepEqual(v.list!.probes.map((p) => [p.id, p.state]), [[newId, 'running']], 'the stale probe was replaced');

    // The new probe watches the new file: a process running it is measured.
    sleeper = await startSleeper(bin);
    await v.until(() => (v.frames.get(newId)?.total.count ?? 0) > 50, 'counts from the new binary');
    assert.deepEqual(uprobesOn(bin), ['uprobe', 'uretprobe'], 'one probe pair on the file, the stale one detached');
  } finally {
    v.close();
    await h.close();
    await sleeper?.stop();
  }
  assert.deepEqual(newFds(fdsBefore, bpfFds()), []);
});

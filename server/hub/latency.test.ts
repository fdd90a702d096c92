/**
 * The latency hub feature without a kernel: a real socket.io server on port 0 and real clients,
 * with the in-process collector backend's LatencyProbeSet opening fake collectors (scripted batches). Flow control per probe,
 * refusals, stale and ended states, validation. The real-kernel version is latency.kernel.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { startTestHub, type TestHub } from './testing.ts';
import { untilReceived } from '../testing/received.ts';
import { latencyFeature } from './latency.ts';
import { inProcessBackend } from '../privileged/in-process.ts';
import { LatencyError, type LatencyBatch, type LatencyCollector, type LatencyOptions } from '../collectors/latency.ts';
import { histogramOf } from '../../lib/histogram.ts';
import type { Ack } from '../../lib/protocol.ts';
import type { LatencyFrameMessage, LatencyProbeList } from '../../lib/protocol-latency.ts';

/** A collector that reports `perRead` more 1 µs durations per read, and can be made stale, exited or broken. */
class FakeCollector {
  closed = false;
  stale: string | null = null;
  exited = false;
  broken = false;
  #values: number[] = [];
  #lastMs = Date.now();
  constructor(
    readonly probe: string,
    readonly options: LatencyOptions,
    readonly perRead = 3,
  ) {}
  read(nowMs: number): LatencyBatch {
    if (this.broken) throw new Error('map lookup failed: EBADF');
    const interval = histogramOf(Array(this.perRead).fill(1000));
    this.#values.push(...Array(this.perRead).fill(1000));
    const total = histogramOf(this.#values);
    const batch: LatencyBatch = {
      probe: this.probe,
      startMs: this.#lastMs,
      endMs: nowMs,
      series: [{ label: '', key: { probe: 0, pid: 0, id: 0, comm: '' }, interval, total }],
      interval,
      total,
      misses: { noEntry: 0, startFull: 0, histFull: 0 },
      missesTotal: { noEntry: 0, startFull: 0, histFull: 0 },
      stale: this.stale,
      targetExited: this.exited,
      hint: null,
    };
    this.#lastMs = nowMs;
    return batch;
  }
  close() {
    this.closed = true;
  }
}

interface Harness extends TestHub {
  collectors: FakeCollector[];
}

/** `now`: the feature's clock (ms), which the maximum probe duration is measured on. */
async function startHub(maxProbes = 3, intervalMs = 30, maxProbeMs?: number, now?: () => number): Promise<Harness> {
  const collectors: FakeCollector[] = [];
  const backend = inProcessBackend({
    openLatencyCollector: (spec, options) => {
      if (spec.includes('missing')) throw new LatencyError('input', `binary /missing not found`, 'binary');
      const c = new FakeCollector(spec, options);
      collectors.push(c);
      return c as unknown as LatencyCollector;
    },
  });
  const probes = backend.openLatency({ intervalMs, maxProbes });
  return { ...(await startTestHub([latencyFeature(probes, { maxProbeMs, now })])), collectors };
}

function client(url: string): ClientSocket {
  return connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
}

function request<T = unknown>(socket: ClientSocket, event: string, payload: unknown): Promise<Ack<T>> {
  return new Promise((resolve) => socket.emit(event, payload, resolve));
}

/** Resolves once `condition` holds, re-checked on every message `socket` receives. */
function until(socket: ClientSocket, condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  return untilReceived(socket, condition, what, timeoutMs);
}

/** Fails with the reply (the hub's reason) unless the request was accepted. */
function assertAccepted(reply: Ack<unknown>, what: string): void {
  assert.ok(reply.ok, `${what}: ${JSON.stringify(reply)}`);
}

/** Keeps the newest list and, per probe, every frame; acks at once unless told not to. */
function watch(socket: ClientSocket, { ack = true } = {}) {
  const state = { lists: [] as LatencyProbeList[], frames: new Map<string, LatencyFrameMessage[]>(), acks: new Map<string, () => void>() };
  socket.on('latency:probes', (list: LatencyProbeList) => state.lists.push(list));
  socket.on('latency:frame', (frame: LatencyFrameMessage, done: () => void) => {
    if (!state.frames.has(frame.id)) state.frames.set(frame.id, []);
    state.frames.get(frame.id)!.push(frame);
    if (ack) done();
    else state.acks.set(frame.id, done);
  });
  return state;
}

test('flow control is per probe: a viewer that does not ack holds one frame per probe, then gets the newest', async () => {
  const h = await startHub(3, 20);
  try {
    const adder = client(h.url);
    watch(adder);
    const slow = client(h.url);
    const s = watch(slow, { ack: false });
    await until(slow, () => s.lists.length > 0, 'the list');
    const a = await request<{ id: string }>(adder, 'latency:add', { spec: 'syscall:read' });
    const b = await request<{ id: string }>(adder, 'latency:add', { spec: 'syscall:write' });
    assert.ok(a.ok && b.ok, `both added: ${JSON.stringify([a, b])}`);
    const [idA, idB] = [a.value!.id, b.value!.id];
    // The adder acks every frame: it hears each interval in which the slow viewer's frames were replaced.
    await until(adder, () => h.hub.droppedFrames() >= 6, 'frames replaced while unacked');
    assert.equal(s.frames.get(idA)?.length, 1, 'one frame of probe A in flight');
    assert.equal(s.frames.get(idB)?.length, 1, 'one frame of probe B in flight: streams are independent');
    const sentA = s.frames.get(idA)![0];
    s.acks.get(idA)!();
    await until(slow, () => s.frames.get(idA)!.length === 2, 'the pending frame after the ack');
    const next = s.frames.get(idA)![1];
    assert.equal(next.seq, 2);
    assert.ok(next.total.count > sentA.total.count + 3, `the pending frame is the newest, not the next in line (count ${next.total.count} after ${sentA.total.count})`);
    assert.equal(s.frames.get(idB)!.length, 1, 'probe B still waits for its own ack');
    adder.close();
    slow.close();
  } finally {
    await h.close();
  }
});

test('refusals name what is wrong and change nothing; the cap; remove closes the collector', async () => {
  const h = await startHub(2);
  try {
    const socket = client(h.url);
    const s = watch(socket);
    await until(socket, () => s.lists.length > 0, 'the list');
    assert.deepEqual(s.lists[0], { probes: [], max: 2 });
    const ok = await request<{ id: string; spec: string }>(socket, 'latency:add', { spec: ' syscall:read ', pid: process.pid });
    assert.deepEqual(ok, { ok: true, value: { id: 'lat-1', spec: 'syscall:read' } });
    const refusals: [unknown, RegExp][] = [
      [{ spec: 'syscall:' }, /^bad probe spec "syscall:"/],
      [{ spec: 'uprobe:/missing:f' }, /^binary \/missing not found$/],
      [{ spec: 'syscall:read', pid: process.pid }, /^syscall:read \(pid \d+\) is already live as lat-1$/],
      [{ spec: 'runq', pid: 1.5 }, /pid must be a whole number/],
      [{ spec: 'runq', comm: 7 }, /^latency:add: comm must be a non-empty string, got 7$/],
      [{ spec: 'runq', extra: 1 }, /unknown field "extra"/],
      [null, /^latency:add takes \{spec, pid\?, comm\?, subBuckets\?\}, got null$/],
    ];
    for (const [payload, expected] of refusals) {
      const reply = await request(socket, 'latency:add', payload);
      assert.equal(reply.ok, false, JSON.stringify(payload));
      assert.match(reply.ok ? '' : reply.error, expected);
    }
    assert.equal(h.collectors.length, 1, 'no refused request opened a collector');
    assertAccepted(await request(socket, 'latency:add', { spec: 'syscall:write' }), 'syscall:write');
    const full = await request(socket, 'latency:add', { spec: 'runq' });
    assert.match(full.ok ? '' : full.error, /at most 2 latency probes at once/);

    assert.deepEqual(await request(socket, 'latency:remove', { id: 'lat-1' }), { ok: true });
    assert.equal(h.collectors[0].closed, true, 'closed at once');
    await until(socket, () => s.lists.at(-1)!.probes.map((p) => p.id).join() === 'lat-2', 'the list without lat-1');
    const bad = await request(socket, 'latency:remove', { id: 'lat-1' });
    assert.match(bad.ok ? '' : bad.error, /no latency probe lat-1/);
    assert.match(((await request(socket, 'latency:remove', {})) as { error: string }).error, /id must be/);
    socket.close();
  } finally {
    await h.close();
  }
  assert.deepEqual(h.collectors.map((c) => c.closed), h.collectors.map(() => true), 'closing the hub closes every probe');
});

test('stale, exited and broken probes change state for every viewer; the others keep running', async () => {
  const h = await startHub(4);
  try {
    const socket = client(h.url);
    const s = watch(socket);
    await until(socket, () => s.lists.length > 0, 'the list');
    for (const spec of ['syscall:read', 'syscall:write', 'syscall:openat', 'runq']) assertAccepted(await request(socket, 'latency:add', { spec, ...(spec === 'syscall:write' && { pid: 1 }) }), spec);
    const [stale, exited, broken, healthy] = h.collectors;
    stale.stale = '/usr/bin/x was replaced (new inode): still watching the old file';
    exited.exited = true;
    broken.broken = true;
    const stateOf = (id: string) => s.lists.at(-1)!.probes.find((p) => p.id === id);
    await until(socket, () => stateOf('lat-1')?.state === 'stale' && stateOf('lat-2')?.state === 'ended' && stateOf('lat-3')?.state === 'ended', 'the new states');
    assert.match(stateOf('lat-1')!.error!, /replaced/);
    assert.match(stateOf('lat-2')!.error!, /process 1 exited/);
    assert.match(stateOf('lat-3')!.error!, /reading failed: map lookup failed/);
    assert.equal(stateOf('lat-4')!.state, 'running');
    assert.deepEqual([exited.closed, broken.closed], [true, true], 'ended probes (exited, broken) are detached');
    assert.deepEqual([stale.closed, healthy.closed], [false, false], 'the stale and the healthy probe stay attached');
    const count = s.frames.get('lat-4')!.at(-1)!.total.count;
    await until(socket, () => s.frames.get('lat-4')!.at(-1)!.total.count > count, 'the healthy probe keeps going');

    // A late joiner sees the states and the ended probes' last frames.
    const late = client(h.url);
    const l = watch(late);
    await until(late, () => l.lists.length > 0 && l.frames.has('lat-2') && l.frames.has('lat-3') && l.frames.has('lat-4'), 'list and frames');
    assert.deepEqual(l.lists[0].probes.map((p) => p.state), ['stale', 'ended', 'ended', 'running']);
    assert.ok(l.frames.get('lat-2')![0].total.count > 0, `the ended probe's last frame has its calls (count ${l.frames.get('lat-2')![0].total.count})`);
    // An ended probe does not count against the cap and can be removed.
    assertAccepted(await request(late, 'latency:add', { spec: 'block' }), 'block, with two ended probes in the list');
    assert.deepEqual(await request(late, 'latency:remove', { id: 'lat-2' }), { ok: true });
    socket.close();
    late.close();
  } finally {
    await h.close();
  }
});

test('a probe is detached when it reaches the maximum probe duration, with the reason; newer probes run on', async () => {
  let clock = 1_000_000; // the feature's clock, ms
  const h = await startHub(3, 20, 400, () => clock);
  try {
    const socket = client(h.url);
    const s = watch(socket);
    await until(socket, () => s.lists.length > 0, 'the list');
    assertAccepted(await request(socket, 'latency:add', { spec: 'syscall:read' }), 'first probe');
    clock += 250;
    assertAccepted(await request(socket, 'latency:add', { spec: 'syscall:write' }), 'second probe');
    clock += 150; // the first probe has run 400 ms, its maximum; the second 150 ms
    const stateOf = (id: string) => s.lists.at(-1)!.probes.find((p) => p.id === id);
    await until(socket, () => stateOf('lat-1')?.state === 'ended', 'the first probe to end');
    assert.match(stateOf('lat-1')!.error!, /maximum probe duration \(0 min, serve --max-probe-minutes\)/);
    assert.equal(h.collectors[0].closed, true, 'its collector was detached');
    assert.equal(stateOf('lat-2')!.state, 'running', 'the younger probe still runs');
    assert.equal(h.collectors[1].closed, false);
    socket.close();
  } finally {
    await h.close();
  }
});

test('a stale probe does not block re-adding the same spec: the new probe replaces it', async () => {
  const h = await startHub(3);
  try {
    const socket = client(h.url);
    const s = watch(socket);
    await until(socket, () => s.lists.length > 0, 'the list');
    const spec = 'uprobe:/usr/bin/x:f';
    assertAccepted(await request(socket, 'latency:add', { spec, pid: 1 }), spec);
    const twin = await request(socket, 'latency:add', { spec, pid: 1 });
    assert.match(twin.ok ? '' : twin.error, /already live as lat-1/, 'a running twin is still refused');
    h.collectors[0].stale = '/usr/bin/x was replaced since the probe was attached (new inode); the probe still watches the old file: re-add it';
    const stateOf = (id: string) => s.lists.at(-1)!.probes.find((p) => p.id === id)?.state;
    await until(socket, () => stateOf('lat-1') === 'stale', 'lat-1 stale');

    const again = await request<{ id: string }>(socket, 'latency:add', { spec, pid: 1 });
    assert.ok(again.ok, `re-added: ${JSON.stringify(again)}`);
    assert.equal(again.value!.id, 'lat-2');
    assert.deepEqual(s.lists.at(-1)!.probes.map((p) => [p.id, p.state]), [['lat-2', 'running']], 'the stale probe left the list');
    assert.equal(h.collectors[0].closed, true, 'the stale probe was detached');
    assert.equal(h.collectors[1].closed, false);
    socket.close();
  } finally {
    await h.close();
  }
});

/**
 * Record a session, replay it as its own session, and get the same flame graph back (compared
 * as folded text); snapshots and window comparison over the same recording. A real socket.io
 * server and clients, a real SQLite file; the profile comes from a replayed channel (no kernel).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { startTestHub, type TestHub, ask, value } from './testing.ts';
import { profileFeature } from './profile.ts';
import { replayFeatures } from './replay-features.ts';
import { ProfilePipeline } from '../pipeline/profile.ts';
import { ReplayChannel } from '../collectors/replay.ts';
import { RecordingStore } from '../recording/store.ts';
import type { ProfileBatch } from '../collectors/types.ts';
import { treeToFolded } from '../../lib/flame/tree.ts';
import type { Ack, ProfileFrame, ViewSettings } from '../../lib/protocol.ts';
import type { SessionState } from '../../lib/protocol-session.ts';
import { flameOfRecording } from './recording.ts';

const TOKEN = 'operator-token-0123456789';
const ALL: ViewSettings = { window: 'all', stackMode: 'all', hideIdle: false };

/** Three intervals with different processes, cycled by the ReplayChannel. */
const BATCHES: ProfileBatch[] = [1, 2, 3].map((n) => ({
  startMs: 0,
  endMs: 0,
  hz: 99,
  cpus: 2,
  droppedSamples: 0,
  samples: [
    { pid: 100 + n, comm: `rec-${n}`, userStack: [], kernelStack: [], count: n * 2 },
    { pid: 200, comm: 'rec-common', userStack: [], kernelStack: [], count: 3 },
  ],
}));

interface Harness extends TestHub {
  pipeline: ProfilePipeline;
  dataDir: string;
}

async function startHub(): Promise<Harness> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pb-rec-'));
  const channel = new ReplayChannel(BATCHES, { intervalMs: 40 });
  const pipeline = new ProfilePipeline(channel);
  const started = await startTestHub([], TOKEN, {
    sessionFeatures: () => [profileFeature(pipeline)],
    recordings: () => RecordingStore.open(dataDir),
    replayFeatures: (_id, source) => replayFeatures(source),
  });
  return {
    ...started,
    pipeline,
    dataDir,
    close: async () => {
      await started.close();
      await pipeline.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function client(url: string, auth: Record<string, string>): Socket {
  return connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth });
}

/** Keeps the newest frame of `view` a client receives (acking each, as the dashboard does). */
function watchFrames(socket: Socket): { latest: () => ProfileFrame | null } {
  let latest: ProfileFrame | null = null;
  socket.on('profile:frame', (frame: ProfileFrame, ack: () => void) => {
    latest = frame;
    ack();
  });
  return { latest: () => latest };
}

/**
 * Resolves once `condition` holds: checked now, after each interval `h`'s pipeline emits and
 * after each message `sockets` receive (what can change it); fails after `timeoutMs` (ms).
 */
function until(h: Harness, sockets: Socket[], condition: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (error?: Error) => {
      done = true;
      clearTimeout(timer);
      stopIntervals();
      for (const socket of sockets) socket.offAny(onChange);
      if (error) reject(error);
      else resolve();
    };
    // Later in the same tick: the test's own listeners record the interval or message first.
    const onChange = () =>
      queueMicrotask(() => {
        if (!done && condition()) finish();
      });
    const stopIntervals = h.pipeline.onInterval(onChange);
    for (const socket of sockets) socket.onAny(onChange);
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    if (condition()) finish();
  });
}

test('record -> replay: the replayed session draws the same flame graph (folded text), and replay is read-only', async () => {
  const h = await startHub();
  const sockets: Socket[] = [];
  try {
    const operator = client(h.url, { token: TOKEN });
    sockets.push(operator);
    const live = watchFrames(operator);
    await new Promise<void>((resolve) => operator.once('connect', () => resolve()));
    await value(operator, 'view:set', ALL);

    // Record from the first interval on, so "since start" live equals the whole recording.
    const recording = await value<{ id: string }>(operator, 'record:start', { name: 'demo run' });
    let intervals = 0;
    h.pipeline.onInterval(() => intervals++);
    await h.pipeline.configure({ running: true });
    await until(h, sockets, () => intervals >= 9, 'nine intervals');
    await h.pipeline.configure({ running: false });
    await until(h, sockets, () => live.latest()?.totalSamples === h.pipeline.frame(ALL).totalSamples, 'the last live frame');
    const liveFolded = treeToFolded(h.pipeline.frame(ALL).tree);
    const stopped = await value<{ updates: number; endedAtMs: number }>(operator, 'record:stop');
    assert.ok(stopped.updates >= 9, `every interval stored (${stopped.updates} updates)`);
    assert.ok(liveFolded.includes('rec-1') && liveFolded.includes('rec-common'), `the live picture has the recorded processes:\n${liveFolded}`);

    // Built straight from the file, the same picture.
    const store = RecordingStore.open(h.dataDir);
    try {
      assert.equal(treeToFolded(flameOfRecording(store, recording.id, null, ALL).tree), liveFolded);
    } finally {
      store.close();
    }

    // Replay at 4x as its own session: the same folded stacks at the end.
    const replay = await value<{ id: string; path: string }>(operator, 'replay:open', { recordingId: recording.id, speed: 4 });
    assert.equal(replay.path, `/?session=${replay.id}`);
    const watcher = client(h.url, { token: TOKEN, session: replay.id });
    sockets.push(watcher);
    const replayed = watchFrames(watcher);
    let state: SessionState | null = null;
    watcher.on('session:state', (s: SessionState) => (state = s));
    await new Promise<void>((resolve) => watcher.once('connect', () => resolve()));
    await value(watcher, 'view:set', ALL);
    await until(h, sockets, () => state !== null && (state as SessionState).replay !== null, 'replay state');
    assert.equal((state as unknown as SessionState).replay!.speed, 4);
    await until(h, sockets, () => replayed.latest() !== null && treeToFolded(replayed.latest()!.tree) === liveFolded, 'the replayed frame to match the live one', 10_000);

    // A replay changes nothing: sampling and probes are refused, bad controls too.
    const configure = await ask(watcher, 'profile:configure', { hz: 199 });
    assert.equal(configure.ok, false);
    assert.match((configure as { error: string }).error, /replays a recording/);
    assert.equal((await ask(watcher, 'replay:control', { action: 'speed', speed: 3 })).ok, false);
    assert.equal((await ask(operator, 'replay:control', { action: 'pause' })).ok, false, 'main is live, not a replay');

    // Seek back to the start and forward again: the window is rebuilt to the same picture.
    await value(watcher, 'replay:control', { action: 'pause' });
    await value(watcher, 'replay:control', { action: 'seek', positionMs: 0 });
    await value(watcher, 'replay:control', { action: 'seek', positionMs: stopped.endedAtMs });
    await value(watcher, 'view:set', { ...ALL, hideIdle: true });
    await value(watcher, 'view:set', ALL);
    await until(h, sockets, () => treeToFolded(replayed.latest()!.tree) === liveFolded, 'the picture after seeking');
  } finally {
    for (const socket of sockets) socket.close();
    await h.close();
  }
});

test('snapshots pin the current flame graph; compare:windows returns two trees of one recording; bad requests are refused', async () => {
  const h = await startHub();
  const sockets: Socket[] = [];
  try {
    const operator = client(h.url, { token: TOKEN });
    sockets.push(operator);
    await new Promise<void>((resolve) => operator.once('connect', () => resolve()));
    const recording = await value<{ id: string; startedAtMs: number }>(operator, 'record:start', { name: 'compare' });
    // Wall-clock ms each interval reached the hub (the recording stamps it in the same tick).
    const arrivals: number[] = [];
    h.pipeline.onInterval(() => arrivals.push(Date.now()));
    await h.pipeline.configure({ running: true });
    await until(h, sockets, () => arrivals.length >= 6, 'six intervals');
    const pinned = await value<{ id: string; name: string }>(operator, 'snapshot:pin', { name: 'before fix', kind: 'flame', view: ALL });
    assert.equal(pinned.name, 'before fix');
    await h.pipeline.configure({ running: false });
    const stopped = await value<{ endedAtMs: number; startedAtMs: number }>(operator, 'record:stop');

    const list = await value<{ id: string }[]>(operator, 'snapshots:list');
    assert.deepEqual(list.map((s) => s.id), [pinned.id]);
    const snapshot = await value<{ payload: { tree: { v: number } } }>(operator, 'snapshot:get', { id: pinned.id });
    assert.ok(snapshot.payload.tree.v > 0, `the snapshot holds the flame graph (root value ${snapshot.payload.tree.v})`);

    // Split between the third and fourth interval: three intervals on each side.
    const half = Math.floor((arrivals[2] + arrivals[3]) / 2) - stopped.startedAtMs;
    const compared = await value<{ before: { totalSamples: number }; after: { totalSamples: number } }>(operator, 'compare:windows', {
      recordingId: recording.id,
      before: { fromMs: 0, toMs: half },
      after: { fromMs: half + 1, toMs: stopped.endedAtMs - stopped.startedAtMs },
    });
    assert.ok(compared.before.totalSamples > 0, `the first half has samples (${compared.before.totalSamples})`);
    assert.ok(compared.after.totalSamples > 0, `the second half has samples (${compared.after.totalSamples})`);
    const whole = h.pipeline.frame(ALL).totalSamples;
    assert.equal(compared.before.totalSamples + compared.after.totalSamples, whole, 'the two halves add up to the whole');

    for (const [event, payload, expected] of [
      ['snapshot:pin', { name: '', kind: 'flame' }, /name/],
      ['snapshot:pin', { name: 'x', kind: 'pie' }, /flame or histogram/],
      ['compare:windows', { recordingId: recording.id, before: { fromMs: 5, toMs: 1 }, after: { fromMs: 0, toMs: 1 } }, /^compare:windows: before\.toMs must not be before fromMs, got 1$/],
      ['replay:open', { recordingId: 'nope' }, /unknown recording/],
      ['record:stop', undefined, /not recording/],
    ] as const) {
      const reply = await ask(operator, event, payload);
      assert.equal(reply.ok, false, event);
      assert.match((reply as { error: string }).error, expected, event);
    }
  } finally {
    for (const socket of sockets) socket.close();
    await h.close();
  }
});

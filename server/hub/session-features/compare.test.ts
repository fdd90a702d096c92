/**
 * compare:windows in its worker thread: the same trees as the synchronous flameOfRecording, the
 * limits refused by name, progress before the answer, and an event loop that keeps serving while
 * a large comparison runs. A real socket.io hub and client, a real SQLite recording file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { startTestHub, type TestHub, ask } from '../testing.ts';
import { RecordingStore } from '../../recording/store.ts';
import { flameOfRecording, PROFILE_INTERVAL } from '../recording.ts';
import type { SymbolizedInterval } from '../../symbolizer/types.ts';
import type { Ack, ViewSettings } from '../../../lib/protocol.ts';
import type { CompareWindowsReply } from '../../../lib/protocol-session.ts';
import type { CompareFeatureLimits } from './compare.ts';

const TOKEN = 'operator-token-0123456789';
const ALL: ViewSettings = { window: 'all', stackMode: 'all', hideIdle: false };
const STARTED_AT_MS = 1_700_000_000_000;

/**
 * One interval per second of recording (ms since the epoch), `stacks` distinct stacks of
 * `depth` frames each: interval i samples stacks i … i+stacks-1 of a family that changes along
 * the recording, so the two windows of a comparison differ.
 */
function interval(i: number, stacks: number, depth: number): SymbolizedInterval {
  const samples = [];
  for (let s = 0; s < stacks; s++) {
    const family = (i + s) % (stacks * 2);
    const user = [{ name: 'main', kind: 'u' }];
    for (let d = 1; d < depth; d++) user.push({ name: `fn_${family}_${d}`, kind: 'u' });
    samples.push({ pid: 100 + (family % 3), comm: `app-${family % 3}`, user, kernel: [], count: 1 + ((i * 7 + s) % 11) });
  }
  return { startMs: STARTED_AT_MS + i * 1000, endMs: STARTED_AT_MS + (i + 1) * 1000, droppedSamples: 0, unknownFrames: 0, samples } as unknown as SymbolizedInterval;
}

interface Harness extends TestHub {
  dataDir: string;
  recordingId: string;
  /** ms from the recording's start to its last update. */
  lengthMs: number;
}

/** A hub whose recordings database already holds one stopped recording of `intervals` intervals. */
async function startHub(intervals: number, stacks: number, depth: number, compareLimits: Partial<CompareFeatureLimits> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pb-compare-'));
  const writer = RecordingStore.open(dataDir);
  const recording = writer.startRecording({ sessionId: 'main', name: 'compare input', startedAtMs: STARTED_AT_MS });
  for (let i = 0; i < intervals; i++) {
    writer.append(recording.id, { tMs: STARTED_AT_MS + (i + 1) * 1000, kind: PROFILE_INTERVAL, payload: interval(i, stacks, depth) });
  }
  writer.stopRecording(recording.id, STARTED_AT_MS + intervals * 1000 + 500);
  writer.close();
  const started = await startTestHub([], TOKEN, { recordings: () => RecordingStore.open(dataDir), compareLimits });
  return {
    ...started,
    dataDir,
    recordingId: recording.id,
    lengthMs: intervals * 1000,
    close: async () => {
      await started.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function operator(url: string): Promise<Socket> {
  const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: TOKEN } });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

function compared(reply: Ack<CompareWindowsReply>): CompareWindowsReply {
  if (!reply.ok) throw new Error(`compare:windows refused: ${reply.error}`);
  return reply.value as CompareWindowsReply;
}

interface Progress {
  requestId: number;
  done: number;
  total: number;
}

test('a compare in the worker returns the trees the synchronous flameOfRecording builds, for two views', async () => {
  const h = await startHub(40, 12, 6);
  const socket = await operator(h.url);
  try {
    const before = { fromMs: 0, toMs: 15_000 };
    const after = { fromMs: 15_001, toMs: h.lengthMs };
    const reader = RecordingStore.open(h.dataDir, { readOnly: true });
    try {
      for (const view of [ALL, { ...ALL, stackMode: 'user', perThread: true } as ViewSettings]) {
        const reply = compared(await ask<CompareWindowsReply>(socket, 'compare:windows', { recordingId: h.recordingId, before, after, view }));
        const expectedBefore = flameOfRecording(reader, h.recordingId, before, view);
        const expectedAfter = flameOfRecording(reader, h.recordingId, after, view);
        assert.deepEqual(reply.before, expectedBefore, `before, view ${JSON.stringify(view)}`);
        assert.deepEqual(reply.after, expectedAfter, `after, view ${JSON.stringify(view)}`);
        assert.equal(reply.before.intervals + reply.after.intervals, 40, `intervals: ${reply.before.intervals} + ${reply.after.intervals}`);
        assert.notDeepEqual(reply.before.tree, reply.after.tree, 'the two windows hold different stacks');
      }
    } finally {
      reader.close();
    }
    // An unknown recording is refused as before (the store's message), without a worker.
    const unknown = await ask(socket, 'compare:windows', { recordingId: 'nope', before, after });
    assert.equal(unknown.ok, false, JSON.stringify(unknown));
    assert.match((unknown as { error: string }).error, /unknown recording/);
  } finally {
    socket.close();
    await h.close();
  }
});

test('a compare past a limit is refused with one line naming the limit', async () => {
  const h = await startHub(30, 10, 5, { maxIntervals: 20, maxResultNodes: 25 });
  const socket = await operator(h.url);
  try {
    // 30 intervals in the first window, over the limit of 20 (read before any tree is built).
    const tooLong = await ask(socket, 'compare:windows', { recordingId: h.recordingId, before: { fromMs: 0, toMs: h.lengthMs }, after: { fromMs: 0, toMs: 1000 } });
    assert.equal(tooLong.ok, false, JSON.stringify(tooLong).slice(0, 200));
    const intervalsError = (tooLong as { error: string }).error;
    assert.match(intervalsError, /more than 20 profile intervals/);
    assert.doesNotMatch(intervalsError, /\n/);

    // Few intervals (2 + 2), but each window's tree has more than 25 nodes (10 stacks of 5 frames).
    const tooWide = await ask(socket, 'compare:windows', { recordingId: h.recordingId, before: { fromMs: 0, toMs: 2000 }, after: { fromMs: 2001, toMs: 4000 } });
    assert.equal(tooWide.ok, false, JSON.stringify(tooWide).slice(0, 200));
    const nodesError = (tooWide as { error: string }).error;
    assert.match(nodesError, /more than 25 nodes/);
    assert.doesNotMatch(nodesError, /\n/);

    // Within both limits: answered (one interval per window, one stack family each).
    const small = await startHub(4, 1, 3, { maxIntervals: 20, maxResultNodes: 25 });
    const other = await operator(small.url);
    try {
      const reply = compared(await ask<CompareWindowsReply>(other, 'compare:windows', { recordingId: small.recordingId, before: { fromMs: 0, toMs: 1000 }, after: { fromMs: 1001, toMs: 2000 } }));
      assert.equal(reply.before.intervals, 1, `before intervals ${reply.before.intervals}`);
    } finally {
      other.close();
      await small.close();
    }
  } finally {
    socket.close();
    await h.close();
  }
});

test('a worker that needs more heap than its limit ends alone, and the comparison is refused naming the limit', async () => {
  // 4 MB: less than a worker needs to load its code and open the database, let alone compare.
  const h = await startHub(30, 10, 5, { maxWorkerHeapMb: 4 });
  const socket = await operator(h.url);
  try {
    const reply = await ask(socket, 'compare:windows', { recordingId: h.recordingId, before: { fromMs: 0, toMs: 15_000 }, after: { fromMs: 15_001, toMs: h.lengthMs } });
    assert.equal(reply.ok, false, JSON.stringify(reply).slice(0, 200));
    assert.match((reply as { error: string }).error, /needed more than 4 MB of memory \(the limit of one comparison\)/);
    // The server carries on.
    const state = await ask(socket, 'session:state');
    assert.equal(state.ok, true, JSON.stringify(state).slice(0, 200));
  } finally {
    socket.close();
    await h.close();
  }
});

test('progress arrives on the requesting socket before the answer, from 0 to its total, under one request id', async () => {
  const h = await startHub(60, 20, 8);
  const socket = await operator(h.url);
  const bystander = await operator(h.url);
  try {
    const received: Progress[] = [];
    const seenByBystander: Progress[] = [];
    let answered = false;
    socket.on('compare:progress', (progress: Progress) => {
      assert.equal(answered, false, `progress ${JSON.stringify(progress)} after the answer`);
      received.push(progress);
    });
    bystander.on('compare:progress', (progress: Progress) => seenByBystander.push(progress));
    const request = { recordingId: h.recordingId, before: { fromMs: 0, toMs: 30_000 }, after: { fromMs: 30_001, toMs: 90_000 } };
    compared(await ask<CompareWindowsReply>(socket, 'compare:windows', request));
    answered = true;
    // Total: ms of recording read. The after window is clipped to the recording's 60 s.
    const total = 30_000 + (h.lengthMs - 30_001);
    assert.ok(received.length >= 2, `progress messages: ${JSON.stringify(received)}`);
    assert.deepEqual(received[0], { requestId: received[0].requestId, done: 0, total });
    assert.deepEqual(received.at(-1), { requestId: received[0].requestId, done: total, total });
    for (let i = 1; i < received.length; i++) {
      assert.ok(received[i].done >= received[i - 1].done, `progress went back: ${JSON.stringify(received)}`);
      assert.equal(received[i].requestId, received[0].requestId, `request ids: ${JSON.stringify(received)}`);
    }
    assert.deepEqual(seenByBystander, [], 'another connection gets no progress');

    // The next comparison has the next request id.
    const second: Progress[] = [];
    socket.off('compare:progress');
    socket.on('compare:progress', (progress: Progress) => second.push(progress));
    compared(await ask<CompareWindowsReply>(socket, 'compare:windows', request));
    assert.equal(second[0]?.requestId, received[0].requestId + 1, `request ids ${received[0].requestId} then ${JSON.stringify(second[0])}`);
  } finally {
    socket.close();
    bystander.close();
    await h.close();
  }
});

test('while a large compare runs, the event loop keeps serving: timers fire and another request is answered first', async () => {
  // 1500 intervals of 150 stacks: seconds of reading and building (compressed JSON rows).
  const h = await startHub(1500, 150, 12);
  const socket = await operator(h.url);
  const other = await operator(h.url);
  let heartbeats = 0;
  // A main-thread timer (1 ms): it can fire only while the event loop is free.
  const heartbeat = setInterval(() => heartbeats++, 1);
  try {
    const order: string[] = [];
    let heartbeatsAtFirstProgress: number | null = null;
    let stateAsked: Promise<unknown> | null = null;
    socket.on('compare:progress', () => {
      if (stateAsked) return;
      heartbeatsAtFirstProgress = heartbeats;
      // Asked once the worker is at work: answered before the compare if the loop is free.
      stateAsked = ask(other, 'session:state').then((reply) => order.push(`session:state ${(reply as Ack).ok}`));
    });
    const reply = await ask<CompareWindowsReply>(socket, 'compare:windows', {
      recordingId: h.recordingId,
      before: { fromMs: 0, toMs: 750_000 },
      after: { fromMs: 750_001, toMs: h.lengthMs },
    });
    order.push(`compare:windows ${reply.ok}`);
    const heartbeatsDuringCompare = heartbeats - (heartbeatsAtFirstProgress ?? heartbeats);
    await stateAsked;
    assert.deepEqual(order.slice(0, 2), ['session:state true', 'compare:windows true'], `order of answers; compare reply ${JSON.stringify(reply).slice(0, 200)}`);
    assert.ok(heartbeatsDuringCompare >= 3, `main-thread timer fired ${heartbeatsDuringCompare} times while the worker ran`);
  } finally {
    clearInterval(heartbeat);
    socket.close();
    other.close();
    await h.close();
  }
});

test('at most maxRunning comparisons at once: one more is refused, naming the limit', async () => {
  const h = await startHub(400, 60, 8, { maxRunning: 1 });
  const socket = await operator(h.url);
  try {
    const request = { recordingId: h.recordingId, before: { fromMs: 0, toMs: 200_000 }, after: { fromMs: 200_001, toMs: h.lengthMs } };
    // Both sent at once: the first has started its worker when the second arrives.
    const [first, second] = await Promise.all([ask<CompareWindowsReply>(socket, 'compare:windows', request), ask(socket, 'compare:windows', request)]);
    assert.equal(first.ok, true, JSON.stringify(first).slice(0, 200));
    assert.equal(second.ok, false, JSON.stringify(second).slice(0, 200));
    assert.match((second as { error: string }).error, /at most 1 comparisons run at once/);
    // Once the first has answered, the next one runs.
    const third = await ask(socket, 'compare:windows', request);
    assert.equal(third.ok, true, JSON.stringify(third).slice(0, 200));
  } finally {
    socket.close();
    await h.close();
  }
});

test('closing the hub stops a running compare worker, and the request is answered with the reason', async () => {
  const h = await startHub(800, 100, 10);
  const socket = await operator(h.url);
  let closing: Promise<void> | null = null;
  try {
    // At the first progress the worker is at work: the hub closes under it.
    socket.once('compare:progress', () => (closing = h.close()));
    const reply = await ask(socket, 'compare:windows', { recordingId: h.recordingId, before: { fromMs: 0, toMs: 400_000 }, after: { fromMs: 400_001, toMs: h.lengthMs } });
    assert.equal(reply.ok, false, JSON.stringify(reply).slice(0, 200));
    assert.match((reply as { error: string }).error, /the comparison stopped: the server is closing/);
    assert.notEqual(closing, null, 'the hub was closing');
    await closing;
  } finally {
    socket.close();
    if (closing === null) await h.close();
  }
});

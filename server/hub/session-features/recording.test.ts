/**
 * The recording feature (record, replay, recordings) through a real hub, real socket.io clients
 * and a real SQLite file: its close hook, the in-use rules, and servers without a database or
 * without replay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import { startTestHub, type TestHub, ask, value, joinHub as join } from '../testing.ts';
import { RecordingStore } from '../../recording/store.ts';
import type { HubOptions } from '../index.ts';
import type { Ack } from '../../../lib/protocol.ts';
import type { RecordingSummary, SessionState } from '../../../lib/protocol-session.ts';

const TOKEN = 'operator-token-0123456789';

async function startHub(options: Partial<HubOptions> = {}): Promise<TestHub & { dataDir: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pb-recfeature-'));
  const started = await startTestHub([], TOKEN, { sessionFeatures: () => [], recordings: () => RecordingStore.open(dataDir), ...options });
  return {
    ...started,
    dataDir,
    close: async () => {
      await started.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function errorOf(reply: Ack<unknown>): string {
  assert.equal(reply.ok, false, `expected a refusal, got ${JSON.stringify(reply)}`);
  return (reply as { error: string }).error;
}

test('closing a session that records stops its recording, with an end time; a recording in use cannot be deleted', async () => {
  const h = await startHub();
  const sockets: Socket[] = [];
  try {
    const operator = await join(h.url, { token: TOKEN });
    sockets.push(operator);
    const created = await value<{ id: string }>(operator, 'session:create', { name: 'short-lived' });
    const inside = await join(h.url, { token: TOKEN, session: created.id });
    sockets.push(inside);
    const recording = await value<{ id: string; name: string }>(inside, 'record:start', { name: 'cut short' });
    assert.match(errorOf(await ask(inside, 'record:start', {})), /already recording \(cut short\)/);

    // In use: not deleted while it records.
    assert.match(errorOf(await ask(operator, 'recording:delete', { id: recording.id })), new RegExp(`in use by session ${created.id}`));

    await value(operator, 'session:close', { id: created.id });
    const list = await value<RecordingSummary[]>(operator, 'recordings:list');
    const stored = list.find((r) => r.id === recording.id);
    assert.ok(stored !== undefined && stored.endedAtMs !== null, `the recording after its session closed: ${JSON.stringify(list)}`);
    assert.equal(stored.stoppedReason, null, `stopped on request, not by the store: ${JSON.stringify(stored)}`);

    // No longer in use: deletable.
    await value(operator, 'recording:delete', { id: recording.id });
    assert.deepEqual((await value<RecordingSummary[]>(operator, 'recordings:list')).map((r) => r.id), []);
  } finally {
    for (const socket of sockets) socket.close();
    await h.close();
  }
});

test('record:start and record:stop announce the recording to the session; replay controls need a replay session', async () => {
  const h = await startHub();
  const operator = await join(h.url, { token: TOKEN });
  try {
    const states: SessionState[] = [];
    operator.on('session:state', (state: SessionState) => states.push(state));
    const started = await value<{ id: string; name: string }>(operator, 'record:start', { name: 'announced' });
    // The announcement is emitted before the ack, on the same connection.
    assert.deepEqual(states.at(-1)?.recording?.id, started.id, `states: ${JSON.stringify(states.map((s) => s.recording))}`);
    const stopped = await value<RecordingSummary>(operator, 'record:stop');
    assert.equal(stopped.id, started.id);
    assert.notEqual(stopped.endedAtMs, null, JSON.stringify(stopped));
    assert.equal(states.at(-1)?.recording, null, `after stop: ${JSON.stringify(states.at(-1))}`);
    assert.match(errorOf(await ask(operator, 'record:stop')), /not recording/);
    assert.match(errorOf(await ask(operator, 'replay:control', { action: 'pause' })), /live, not a replay/);
    // This hub builds no replay sessions.
    assert.match(errorOf(await ask(operator, 'replay:open', { recordingId: started.id })), /replay is not available/);
  } finally {
    operator.close();
    await h.close();
  }
});

test('a server without a data directory refuses recording with the reason', async () => {
  const h = await startTestHub([], TOKEN);
  const operator = await join(h.url, { token: TOKEN });
  try {
    for (const event of ['record:start', 'recordings:list']) {
      assert.match(errorOf(await ask(operator, event)), /recording is not available on this server \(no data directory\)/, event);
    }
  } finally {
    operator.close();
    await h.close();
  }
});

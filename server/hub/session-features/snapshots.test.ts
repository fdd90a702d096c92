/**
 * The snapshots feature through a real hub, real socket.io clients, a real profile pipeline (a
 * replayed channel, no kernel) and a real SQLite file: what a pin holds, and who sees which
 * snapshot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import { startTestHub, ask, value, joinHub as join } from '../testing.ts';
import { profileFeature } from '../profile.ts';
import { ProfilePipeline } from '../../pipeline/profile.ts';
import { ReplayChannel } from '../../collectors/replay.ts';
import { RecordingStore } from '../../recording/store.ts';
import type { ProfileBatch } from '../../collectors/types.ts';
import type { Ack } from '../../../lib/protocol.ts';
import type { SnapshotRecord, SnapshotSummary, ViewerLinkCreated } from '../../../lib/protocol-session.ts';

const TOKEN = 'operator-token-0123456789';
const IDLE_BATCH: ProfileBatch = { startMs: 0, endMs: 0, hz: 99, cpus: 1, droppedSamples: 0, samples: [] };

test("snapshots: a pin holds the session's flame graph and view; viewers see only their session's, operators all", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pb-snapfeature-'));
  const pipelines: ProfilePipeline[] = [];
  const h = await startTestHub([], TOKEN, {
    sessionFeatures: () => {
      // Never started: the profile stays empty, which is enough to pin its (empty) picture.
      const pipeline = new ProfilePipeline(new ReplayChannel([IDLE_BATCH], { intervalMs: 1000 }));
      pipelines.push(pipeline);
      return [profileFeature(pipeline)];
    },
    recordings: () => RecordingStore.open(dataDir),
  });
  const sockets: Socket[] = [];
  try {
    const operator = await join(h.url, { token: TOKEN });
    sockets.push(operator);
    const view = { window: 'all', stackMode: 'user', hideIdle: true };
    const inMain = await value<SnapshotSummary>(operator, 'snapshot:pin', { name: 'main picture', kind: 'flame', view });
    assert.deepEqual([inMain.sessionId, inMain.name, inMain.kind], ['main', 'main picture', 'flame']);
    const stored = await value<SnapshotRecord>(operator, 'snapshot:get', { id: inMain.id });
    const payload = stored.payload as { view: unknown; tree: { n: string; v: number }; totalSamples: number };
    assert.deepEqual(payload.view, view, `the pinned view: ${JSON.stringify(payload.view)}`);
    assert.deepEqual([payload.tree.n, payload.tree.v, payload.totalSamples], ['all', 0, 0], `an idle profile's picture: ${JSON.stringify(payload).slice(0, 200)}`);

    const other = await value<{ id: string }>(operator, 'session:create', { name: 'other' });
    const inOther = await join(h.url, { token: TOKEN, session: other.id });
    sockets.push(inOther);
    const otherPin = await value<SnapshotSummary>(inOther, 'snapshot:pin', { name: 'other picture', kind: 'flame' });

    const link = await value<ViewerLinkCreated>(inOther, 'link:create', { label: 'viewer' });
    const viewer = await join(h.url, { view: link.token, session: other.id });
    sockets.push(viewer);
    assert.deepEqual((await value<SnapshotSummary[]>(viewer, 'snapshots:list')).map((s) => s.id), [otherPin.id]);
    assert.deepEqual((await value<SnapshotSummary[]>(operator, 'snapshots:list')).map((s) => s.id).sort(), [inMain.id, otherPin.id].sort());
    assert.equal((await value<SnapshotRecord>(viewer, 'snapshot:get', { id: otherPin.id })).info.id, otherPin.id);
    // Another session's snapshot is, to a viewer, no snapshot at all.
    const hidden = await ask(viewer, 'snapshot:get', { id: inMain.id });
    assert.equal(hidden.ok, false, JSON.stringify(hidden).slice(0, 200));
    assert.match((hidden as { error: string }).error, new RegExp(`no snapshot ${inMain.id}`));
    for (const [event, payload] of [
      ['snapshot:pin', { name: 'x', kind: 'flame' }],
      ['snapshot:delete', { id: otherPin.id }],
    ] as const) {
      const reply = await ask(viewer, event, payload);
      assert.match((reply as { error?: string }).error ?? '', /needs an operator/, `${event}: ${JSON.stringify(reply)}`);
    }

    await value(operator, 'snapshot:delete', { id: otherPin.id });
    assert.deepEqual((await value<SnapshotSummary[]>(viewer, 'snapshots:list')).map((s) => s.id), []);
    // A histogram needs a latency probe, which this session has none of.
    const noProbe = await ask(operator, 'snapshot:pin', { name: 'h', kind: 'histogram', probe: 'p1' });
    assert.match((noProbe as { error?: string }).error ?? '', /no latency probe p1/, JSON.stringify(noProbe));
  } finally {
    for (const socket of sockets) socket.close();
    await h.close();
    for (const pipeline of pipelines) await pipeline.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/**
 * The sessions feature (sessions, viewer links, follow) through a real hub and real socket.io
 * clients: what viewers may ask, the session lifecycle, link deltas, and the relayed follow view.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io as connect, type Socket } from 'socket.io-client';
import { startTestHub, type TestHub, ask, value } from '../testing.ts';
import type { Ack } from '../../../lib/protocol.ts';
import type { SessionState, SessionSummary, ViewerLinkCreated } from '../../../lib/protocol-session.ts';

const TOKEN = 'operator-token-0123456789';

/** A presenter's view: zoomed into main > work, searching "parse". */
const FOLLOW_VIEW = { window: '10s', stackMode: 'all', hideIdle: true, perThread: false, zoom: ['main', 'work'], search: 'parse', selected: null, focus: null, icicle: false };

/** A hub that can open sessions (each with no session features: only the hub-level ones matter here). */
const startHub = (): Promise<TestHub> => startTestHub([], TOKEN, { sessionFeatures: () => [] });

/** A connected client that keeps every message of the events it is told to watch. */
async function join(url: string, auth: Record<string, string>, watch: readonly string[] = []): Promise<{ socket: Socket; got: Map<string, unknown[]> }> {
  const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth });
  const got = new Map<string, unknown[]>(watch.map((event) => [event, []]));
  for (const event of watch) socket.on(event, (payload: unknown) => got.get(event)!.push(payload));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, got };
}

/** Resolves with the next `event` the socket receives. */
const next = <T>(socket: Socket, event: string): Promise<T> => new Promise((resolve) => socket.once(event, resolve));

test('a viewer may ask for its session state (without links) and nothing else of this feature', async () => {
  const h = await startHub();
  const sockets: Socket[] = [];
  try {
    const { socket: operator } = await join(h.url, { token: TOKEN });
    sockets.push(operator);
    const link = await value<ViewerLinkCreated>(operator, 'link:create', { label: 'team', minutes: 30 });
    const { socket: viewer } = await join(h.url, { view: link.token });
    sockets.push(viewer);

    const state = await value<SessionState>(viewer, 'session:state');
    assert.equal(state.role, 'viewer', JSON.stringify(state));
    assert.equal(state.links, undefined, `a viewer got links: ${JSON.stringify(state.links)}`);
    const operatorState = await value<SessionState>(operator, 'session:state');
    assert.deepEqual(operatorState.links?.map((l) => l.id), [link.id]);

    for (const [event, payload] of [
      ['session:list', undefined],
      ['session:create', { name: 'x' }],
      ['session:close', { id: 'main' }],
      ['link:create', { label: 'more' }],
      ['link:revoke', { id: link.id }],
      ['follow:set', FOLLOW_VIEW],
    ] as const) {
      const reply = await ask(viewer, event, payload);
      assert.equal(reply.ok, false, `${event} by a viewer: ${JSON.stringify(reply)}`);
      assert.match((reply as { error: string }).error, /needs an operator/, event);
    }
  } finally {
    for (const socket of sockets) socket.close();
    await h.close();
  }
});

test('sessions open, list and close; main cannot be closed; closing disconnects its connections with the reason', async () => {
  const h = await startHub();
  const sockets: Socket[] = [];
  try {
    const { socket: operator } = await join(h.url, { token: TOKEN });
    sockets.push(operator);
    const created = await value<{ id: string; name: string; path: string }>(operator, 'session:create', { name: 'second' });
    assert.equal(created.path, `/?session=${created.id}`);
    const { socket: inSecond } = await join(h.url, { token: TOKEN, session: created.id });
    sockets.push(inSecond);

    const list = await value<SessionSummary[]>(operator, 'session:list');
    assert.deepEqual(
      list.map((s) => [s.id, s.name, s.connections]).sort(),
      [
        ['main', 'main', 1],
        [created.id, 'second', 1],
      ].sort(),
    );

    const refused = await ask(operator, 'session:close', { id: 'main' });
    assert.equal(refused.ok, false, JSON.stringify(refused));
    assert.match((refused as { error: string }).error, /main session cannot be closed/);

    const closed = next<{ id: string; reason: string }>(inSecond, 'session:closed');
    const gone = next<string>(inSecond, 'disconnect');
    await value(operator, 'session:close', { id: created.id });
    assert.deepEqual(await closed, { id: created.id, reason: 'an operator closed this session' });
    await gone;
    assert.deepEqual((await value<SessionSummary[]>(operator, 'session:list')).map((s) => s.id), ['main']);
    const again = await ask(operator, 'session:close', { id: created.id });
    assert.match((again as { error: string }).error ?? '', new RegExp(`no session ${created.id}`), JSON.stringify(again));
  } finally {
    for (const socket of sockets) socket.close();
    await h.close();
  }
});

test('a hub with a fixed feature list runs main only: session:create is refused', async () => {
  const h = await startTestHub([], TOKEN);
  const { socket } = await join(h.url, { token: TOKEN });
  try {
    const reply = await ask(socket, 'session:create', { name: 'more' });
    assert.equal(reply.ok, false, JSON.stringify(reply));
    assert.match((reply as { error: string }).error, /single session/);
  } finally {
    socket.close();
    await h.close();
  }
});

test('links go to operators as deltas; a revoked link disconnects its viewer at once', async () => {
  const h = await startHub();
  const sockets: Socket[] = [];
  try {
    const { socket: operator, got } = await join(h.url, { token: TOKEN }, ['link:added', 'link:removed']);
    sockets.push(operator);
    const link = await value<ViewerLinkCreated>(operator, 'link:create', { label: 'once', minutes: 5 });
    const { socket: viewer, got: viewerGot } = await join(h.url, { view: link.token }, ['link:added']);
    sockets.push(viewer);
    const secondLink = await value<ViewerLinkCreated>(operator, 'link:create', { label: 'twice', minutes: 5 });
    // Acks and broadcasts travel the same connection in order: the delta is in before the ack.
    assert.deepEqual((got.get('link:added') as { id: string }[]).map((l) => l.id), [link.id, secondLink.id]);
    assert.deepEqual(viewerGot.get('link:added'), [], 'viewers get no link deltas');

    const closed = next<{ reason: string }>(viewer, 'session:closed');
    const removed = next<{ id: string; reason: string }>(operator, 'link:removed');
    await value(operator, 'link:revoke', { id: link.id });
    assert.match((await closed).reason, /was revoked/);
    assert.deepEqual(await removed, { id: link.id, reason: 'revoked' });
  } finally {
    for (const socket of sockets) socket.close();
    await h.close();
  }
});

test('follow:set reaches everyone else in the session, not the presenter, and late joiners find it in session:state', async () => {
  const h = await startHub();
  const sockets: Socket[] = [];
  try {
    const { socket: presenter, got: presenterGot } = await join(h.url, { token: TOKEN }, ['follow:view']);
    const { socket: follower } = await join(h.url, { token: TOKEN });
    sockets.push(presenter, follower);
    const relayed = next<unknown>(follower, 'follow:view');
    await value(presenter, 'follow:set', FOLLOW_VIEW);
    const received = await relayed;
    assert.deepEqual(received, FOLLOW_VIEW);
    assert.deepEqual(presenterGot.get('follow:view'), [], 'the presenter is not sent its own view');

    const { socket: late } = await join(h.url, { token: TOKEN });
    sockets.push(late);
    const state = await value<SessionState>(late, 'session:state');
    assert.deepEqual(state.follow, received, `late joiner's follow ${JSON.stringify(state.follow)}`);
  } finally {
    for (const socket of sockets) socket.close();
    await h.close();
  }
});

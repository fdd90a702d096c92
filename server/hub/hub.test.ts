/**
 * The hub against a real socket.io server on port 0 and real socket.io clients, fed by a
 * replayed recording (no kernel needed): late joiners, flow control, validation, auth, Host/Origin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { startTestHub, type TestHub } from './testing.ts';
import { profileFeature } from './profile.ts';
import { ProfilePipeline } from '../pipeline/profile.ts';
import { ReplayChannel } from '../collectors/replay.ts';
import type { ProfileBatch } from '../collectors/types.ts';
import type { ClientToServerEvents, Hello, ProfileFrame, ServerToClientEvents } from '../../lib/protocol.ts';

type Client = ClientSocket<ServerToClientEvents, ClientToServerEvents>;

const RECORDING: ProfileBatch[] = [
  {
    startMs: 0,
    endMs: 0,
    hz: 99,
    cpus: 2,
    droppedSamples: 0,
    samples: [
      { pid: 4242, comm: 'pb-hub-a', userStack: [], kernelStack: [], count: 5 },
      { pid: 4243, comm: 'pb-hub-b', userStack: [], kernelStack: [], count: 3 },
      { pid: 0, comm: 'swapper/0', userStack: [], kernelStack: [], count: 7 },
    ],
  },
];

interface Harness extends TestHub {
  channel: ReplayChannel;
}

async function startHub(token: string | null = null, intervalMs = 50): Promise<Harness> {
  const channel = new ReplayChannel(RECORDING, { intervalMs });
  const pipeline = new ProfilePipeline(channel);
  const started = await startTestHub([profileFeature(pipeline)], token);
  await pipeline.configure({ running: true });
  return {
    ...started,
    channel,
    close: async () => {
      await started.close();
      await pipeline.close();
    },
  };
}

/** A client that acks every frame at once (as the dashboard does) and keeps them for the test. */
function client(url: string, token?: string): Client {
  const socket: Client = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: token ? { token } : {} });
  return socket;
}

function nextEvent<T>(socket: Client, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    (socket as unknown as { once(e: string, f: (...a: unknown[]) => void): void }).once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    });
  });
}

const waiters = new WeakMap<Client, { frames: ProfileFrame[]; wake: Set<() => void> }>();

/** Starts acking every frame on this socket, the way the dashboard does. */
function autoAck(socket: Client): Client {
  const state = { frames: [] as ProfileFrame[], wake: new Set<() => void>() };
  waiters.set(socket, state);
  socket.on('profile:frame', (frame, ack) => {
    ack();
    state.frames.push(frame);
    for (const wake of [...state.wake]) wake();
  });
  return socket;
}

/** Resolves with the first frame (received after the call) that satisfies `accept`. */
function frameWhere(socket: Client, accept: (frame: ProfileFrame) => boolean, timeoutMs = 5000): Promise<ProfileFrame> {
  const state = waiters.get(socket) ?? waiters.get(autoAck(socket))!;
  const from = state.frames.length;
  return new Promise((resolve, reject) => {
    let seen = from;
    const check = () => {
      for (; seen < state.frames.length; seen++) {
        if (accept(state.frames[seen])) {
          state.wake.delete(check);
          clearTimeout(timer);
          resolve(state.frames[seen]);
          return;
        }
      }
    };
    const timer = setTimeout(() => {
      state.wake.delete(check);
      reject(new Error('no matching frame'));
    }, timeoutMs);
    state.wake.add(check);
    check();
  });
}

test('a late joiner gets hello, status and the current flame graph at once', async () => {
  const h = await startHub();
  try {
    const first = client(h.url);
    await frameWhere(first, (frame) => frame.totalSamples >= 16); // two intervals without idle
    const late = client(h.url);
    const hello = nextEvent<[Hello]>(late, 'hello');
    const status = nextEvent<[{ settings: { running: boolean } }]>(late, 'profile:status');
    const [frame, ack] = await nextEvent<[ProfileFrame, () => void]>(late, 'profile:frame');
    ack();
    assert.equal((await hello)[0].protocol, 1);
    assert.equal((await status)[0].settings.running, true);
    assert.equal(frame.seq, 1);
    assert.ok(frame.totalSamples >= 16, `late joiner's first frame already has the window's samples (got ${frame.totalSamples})`);
    const comms = (frame.tree.c ?? []).map((node) => node.n).sort();
    assert.deepEqual(comms, ['pb-hub-a', 'pb-hub-b'], 'idle hidden by default');
    first.close();
    late.close();
  } finally {
    await h.close();
  }
});

test('view:set changes what one viewer sees, not the others', async () => {
  const h = await startHub();
  try {
    const a = client(h.url);
    const b = client(h.url);
    await frameWhere(a, () => true);
    await frameWhere(b, () => true);
    const [reply] = await new Promise<[{ ok: boolean }]>((resolve) =>
      a.emit('view:set', { window: '60s', stackMode: 'all', hideIdle: false }, (r) => resolve([r])),
    );
    assert.equal(reply.ok, true);
    const withIdle = await frameWhere(a, (frame) => frame.view.hideIdle === false);
    assert.ok(withIdle.tree.c?.some((node) => node.n === 'swapper/0'), `idle shown once asked for (top frames: ${withIdle.tree.c?.map((node) => node.n).join(', ')})`);
    const other = await frameWhere(b, () => true);
    assert.equal(other.view.hideIdle, true);
    assert.ok(!other.tree.c?.some((node) => node.n === 'swapper/0'), `the other viewer still hides idle (top frames: ${other.tree.c?.map((node) => node.n).join(', ')})`);
    a.close();
    b.close();
  } finally {
    await h.close();
  }
});

test('malformed messages get an error reply and the server keeps serving', async () => {
  const h = await startHub();
  try {
    const socket = client(h.url);
    await frameWhere(socket, () => true);
    const bad: unknown[] = [
      { window: 'forever', stackMode: 'all', hideIdle: true },
      { window: '10s', stackMode: 'all', hideIdle: 'yes' },
      { window: '10s', stackMode: 'all', hideIdle: true, extra: 1 },
      'not an object',
      null,
      [1, 2, 3],
    ];
    for (const payload of bad) {
      const errorMessage = nextEvent<[{ event: string; message: string }]>(socket, 'error:message');
      const reply = await new Promise<{ ok: boolean; error?: string }>((resolve) =>
        (socket as unknown as { emit(e: string, p: unknown, a: (r: { ok: boolean; error?: string }) => void): void }).emit('view:set', payload, resolve),
      );
      assert.equal(reply.ok, false, `refused: ${JSON.stringify(payload)}`);
      assert.match(reply.error ?? '', /view/);
      assert.equal((await errorMessage)[0].event, 'view:set');
    }
    const badConfigure = await new Promise<{ ok: boolean; error?: string }>((resolve) =>
      socket.emit('profile:configure', { hz: 1e9 }, resolve as never),
    );
    assert.equal(badConfigure.ok, false);
    assert.match(badConfigure.error ?? '', /^profile:configure: hz must be a whole number of Hz from 1 to 10000, got 1000000000$/);
    const badPid = await new Promise<{ ok: boolean; error?: string }>((resolve) =>
      socket.emit('profile:configure', { target: { kind: 'pid', pid: -3 } }, resolve as never),
    );
    assert.match(badPid.error ?? '', /pid/);
    const unknown = nextEvent<[{ event: string; message: string }]>(socket, 'error:message');
    (socket as unknown as { emit(e: string, p: unknown): void }).emit('probe:explode', { now: true });
    assert.match((await unknown)[0].message, /unknown event/);
    // Still served: a valid request works and frames keep coming.
    const ok = await new Promise<{ ok: boolean }>((resolve) =>
      socket.emit('view:set', { window: '10s', stackMode: 'user', hideIdle: true }, resolve as never),
    );
    assert.equal(ok.ok, true);
    await frameWhere(socket, (frame) => frame.view.stackMode === 'user');
    assert.equal(h.channel.commands.filter((c) => c.type === 'profile.start').length, 1, 'no bad request reached the collector');
    socket.close();
  } finally {
    await h.close();
  }
});

test('a viewer that does not ack gets one frame in flight and only the newest pending', async () => {
  const h = await startHub(null, 20);
  try {
    const slow = client(h.url);
    const received: ProfileFrame[] = [];
    let firstAck: (() => void) | undefined;
    let onSlowFrame: (() => void) | null = null;
    slow.on('profile:frame', (frame, ack) => {
      received.push(frame);
      firstAck ??= ack;
      onSlowFrame?.();
    });
    // An acking viewer beside it: each frame it gets is an interval in which the hub had a new
    // frame for the slow one too (both are sent in the same pass over the sockets).
    const fast = autoAck(client(h.url));
    const intervalsPass = async (count: number) => {
      const seq = (await frameWhere(fast, () => true)).seq;
      await frameWhere(fast, (frame) => frame.seq >= seq + count);
    };
    await frameWhere(fast, () => true);
    if (received.length === 0) await new Promise<void>((resolve) => (onSlowFrame = resolve));
    const droppedBefore = h.hub.droppedFrames();
    await intervalsPass(5);
    assert.deepEqual(received.map((frame) => frame.seq), [1], 'nothing more is sent before the ack, however many intervals pass');
    const dropped = h.hub.droppedFrames() - droppedBefore;
    assert.ok(dropped >= 4, `the frames the slow viewer could not take were dropped (${dropped} over 5 intervals)`);
    const second = new Promise<void>((resolve) => (onSlowFrame = resolve));
    firstAck!();
    await second;
    await intervalsPass(3);
    assert.deepEqual(received.map((frame) => frame.seq), [1, 2], 'after the ack, exactly the newest pending frame arrives, then none until it is acked');
    assert.ok(received[1].windowEndMs > received[0].windowEndMs, `the pending frame is the newest one (window end ${received[1].windowEndMs} ms after ${received[0].windowEndMs} ms)`);
    slow.close();
    fast.close();
  } finally {
    await h.close();
  }
});

test('with a token, the handshake needs it', async () => {
  const h = await startHub('s3cret-token');
  try {
    const none = client(h.url);
    const [noneError] = await nextEvent<[Error]>(none, 'connect_error');
    assert.match(noneError.message, /unauthorized/);
    const wrong = client(h.url, 's3cret-tokeX');
    const [wrongError] = await nextEvent<[Error]>(wrong, 'connect_error');
    assert.match(wrongError.message, /unauthorized/);
    const right = client(h.url, 's3cret-token');
    const [hello] = await nextEvent<[Hello]>(right, 'hello');
    assert.equal(hello.canControl, true);
    right.close();
  } finally {
    await h.close();
  }
});

test('foreign Host and Origin headers are refused (DNS rebinding, cross-site WebSocket)', async () => {
  const h = await startHub();
  try {
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: h.port, path: '/socket.io/?EIO=4&transport=polling', headers }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    assert.equal(await status({ host: `127.0.0.1:${h.port}` }), 200);
    assert.equal(await status({ host: `localhost:${h.port}` }), 200);
    assert.equal(await status({ host: `evil.example:${h.port}` }), 403);
    assert.equal(await status({ host: `127.0.0.1:${h.port}`, origin: 'http://evil.example' }), 403);
    assert.equal(await status({ host: `127.0.0.1:${h.port}`, origin: `http://127.0.0.1:${h.port}` }), 200);
  } finally {
    await h.close();
  }
});

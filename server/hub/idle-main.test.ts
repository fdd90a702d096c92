/**
 * Audit finding 7: an unauthenticated request must not restart the idle `main` session.
 *
 * The whole server (startServer: page handler, export route, socket.io hub) runs with the
 * in-process collector backend; its profile sources are replayed ones that count how often
 * one is opened and started (rebuilding `main` opens one and starts sampling, as root in
 * production). `main` is left to stop after being idle, then every request a stranger (or a
 * foreign web page: an <img>, a form) can make is sent without valid credentials: nothing may
 * be opened. Only a socket.io join with the operator token brings `main` back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { io as connect, type Socket } from 'socket.io-client';
import { startServer } from '../index.ts';
import { inProcessBackend } from '../privileged/in-process.ts';
import { ReplayChannel } from '../collectors/replay.ts';
import type { CollectorCommand } from '../collectors/types.ts';
import type { ViewerLinkCreated } from '../../lib/protocol-session.ts';
import type { Ack } from '../../lib/protocol.ts';

const TOKEN = 'idle-main-operator-token-0123';

/**
 * Profile sources opened by the backend, with the commands each received; `until` waits for a
 * condition, re-checked whenever a source is opened, sent a command or closed (all that
 * starting or stopping `main` does to sources).
 */
function countingBackend() {
  const opened: CollectorCommand[][] = [];
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const check of [...waiters]) check();
  };
  const backend = inProcessBackend({
    openProfile: () => {
      const channel = new ReplayChannel(
        [{ startMs: 0, endMs: 0, hz: 99, cpus: 1, droppedSamples: 0, samples: [{ pid: 7, comm: 'work', userStack: [], kernelStack: [], count: 1 }] }],
        { intervalMs: 50 },
      );
      const request = channel.request.bind(channel);
      const close = channel.close.bind(channel);
      channel.request = async (command) => {
        const done = request(command);
        changed();
        return done;
      };
      channel.close = async () => {
        await close();
        changed();
      };
      opened.push(channel.commands);
      queueMicrotask(changed);
      return channel;
    },
  });
  const until = (condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${opened.length} sources opened: ${JSON.stringify(opened.map((commands) => commands.map((c) => c.type)))})`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { backend, opened, until };
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function client(url: string, auth: Record<string, string>): Socket {
  return connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth });
}

function outcome(socket: Socket): Promise<'connected' | string> {
  return new Promise((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('connect_error', (error) => resolve(error.message));
  });
}

test('with main stopped after idle, unauthenticated HTTP and socket.io requests open nothing; the operator token rebuilds it', async () => {
  const { backend, opened, until } = countingBackend();
  const server = await startServer({ host: '127.0.0.1', port: 0, token: TOKEN, backend, checkBuild: false, dataDir: null, idleStopMs: 200, log: () => undefined });
  const base = `http://127.0.0.1:${server.port}`;
  const sockets: Socket[] = [];
  try {
    await until(() => opened.length === 1 && opened[0].some((c) => c.type === 'profile.start'), 'main to start sampling at startup');

    // An operator shares a viewer link of main, then everyone leaves and main stops.
    const operator = client(base, { token: TOKEN });
    sockets.push(operator);
    assert.equal(await outcome(operator), 'connected');
    const link = await new Promise<Ack<ViewerLinkCreated>>((resolve) => operator.emit('link:create', { label: 'old' }, resolve));
    assert.ok(link.ok, JSON.stringify(link));
    operator.close();
    await until(() => server.hub.session('main') === null, 'main to stop after being idle');
    const openedWhenStopped = opened.length;

    // HTTP, the way an <img> on any web site asks: no token, a wrong one, a stale viewer link.
    const httpStatus: Record<string, number> = {};
    for (const path of [
      '/',
      '/?session=main',
      '/?token=wrong-token-000000000000000',
      `/?session=main&view=${encodeURIComponent(link.value!.token)}`,
      '/api/sessions/main/export?kind=flame&format=folded',
      `/api/sessions/main/export?kind=flame&format=folded&view=${encodeURIComponent(link.value!.token)}`,
      '/api/sessions/main/export?kind=flame&format=folded&token=wrong-token-000000000000000',
    ]) {
      httpStatus[path] = await get(server.port, path);
    }
    for (const [path, status] of Object.entries(httpStatus)) assert.ok(status === 401 || status === 404, `${path} answered ${status}`);
    assert.equal(httpStatus['/'], 401, 'the page without a token');

    // socket.io handshakes without valid credentials.
    const refusals: string[] = [];
    const attempts: Record<string, string>[] = [{}, { token: 'wrong-token-000000000000000' }, { view: link.value!.token }, { view: 'forged.secret' }, { session: 'main' }];
    for (const auth of attempts) {
      const socket = client(base, auth);
      sockets.push(socket);
      refusals.push(await outcome(socket));
    }
    for (const refusal of refusals) assert.match(refusal, /^unauthorized/, `refused: ${refusal}`);
    assert.match(refusals[2], /stopped after being idle/, 'the old link is refused with the reason');

    // Even the operator token over HTTP (the export route) starts nothing: only a join does.
    assert.equal(await get(server.port, '/api/sessions/main/export?kind=flame&format=folded', { authorization: `Bearer ${TOKEN}` }), 404);

    // Every request above was answered, and a rebuild opens its source before the answer (the
    // handshake that rebuilds main builds its features first): nothing can still be on its way.
    assert.equal(opened.length, openedWhenStopped, 'no profile source was opened by any unauthenticated request');
    assert.equal(server.hub.session('main'), null, 'main is still stopped');

    const back = client(base, { token: TOKEN });
    sockets.push(back);
    assert.equal(await outcome(back), 'connected');
    assert.notEqual(server.hub.session('main'), null, 'main is back');
    await until(() => opened.length === openedWhenStopped + 1 && opened.at(-1)!.some((c) => c.type === 'profile.start'), 'the operator join to rebuild main and start sampling');
  } finally {
    for (const socket of sockets) socket.close();
    await server.close();
  }
});

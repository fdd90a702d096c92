/**
 * The encode-once emit against a real socket.io server and client: the client receives exactly
 * what `socket.emit(event, {...payload, seq}, ack)` delivers, the ack comes back, and the fast
 * path (one serialization per payload object) is the one taken.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { io as connect } from 'socket.io-client';
import { emitWithSeq, fastPacketCount, fastPathAvailable, jsonOnce } from './encoded-emit.ts';

test('emitWithSeq delivers the same payload as socket.emit, serializing each payload object once', async () => {
  const http = createServer();
  const io = new Server(http, { connectionStateRecovery: { maxDisconnectionDuration: 1000, skipMiddlewares: false } });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const serverSide = new Promise<Socket>((resolve) => io.once('connection', resolve));
  const client = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    const socket = await serverSide;
    assert.equal(fastPathAvailable(socket), true, 'this socket.io version has the internals the fast path needs');
    const payload = { tree: { n: 'all', v: 3, c: [{ n: 'a "quoted" ☃ name', v: 3 }] }, empty: [], nothing: null };
    const received: unknown[] = [];
    client.on('frame', (value: unknown, ack: () => void) => {
      received.push(value);
      ack();
    });
    client.on('plain', (value: unknown, ack: () => void) => {
      received.push(value);
      ack();
    });
    const before = fastPacketCount();
    const acked = await new Promise<boolean>((resolve) => emitWithSeq(socket, 'frame', payload, 7, () => resolve(true)));
    assert.equal(acked, true, 'the client acknowledged');
    await new Promise<void>((resolve) => socket.emit('plain', { ...payload, seq: 7 }, () => resolve()));
    assert.deepEqual(received[0], received[1], 'the same object as socket.emit delivers');
    assert.deepEqual(received[0], { ...payload, seq: 7 });
    assert.equal(fastPacketCount(), before + 1, 'the fast path was taken');
    assert.equal(jsonOnce(payload), jsonOnce(payload), 'cached');
    const empty = await new Promise<unknown>((resolve) => {
      client.once('frame', (value: unknown, ack: () => void) => {
        ack();
        resolve(value);
      });
      emitWithSeq(socket, 'frame', {}, 1, () => undefined);
    });
    assert.deepEqual(empty, { seq: 1 });
  } finally {
    client.close();
    await new Promise<void>((resolve) => io.close(() => resolve()));
  }
});

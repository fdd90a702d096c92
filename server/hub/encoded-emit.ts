/**
 * Emit one payload to many sockets, each with its own sequence number and acknowledgement, while
 * serializing the payload once.
 *
 * Why: `socket.emit` JSON-encodes its arguments for every socket. A flame graph frame is
 * ~160 KB of JSON; sent to 50 viewers that is 50 encodings of the same object per update
 * (measured ~1.3 ms each here, bench/fanout.ts). Here the payload's JSON is cached per object
 * (WeakMap: it lives as long as the frame does) and each socket's packet is that text with its
 * own `seq` spliced in, written as a pre-encoded socket.io packet — exactly the bytes
 * `socket.emit(event, {...payload, seq}, ack)` would have produced.
 *
 * This uses socket.io internals (namespace ack ids, the socket's ack table, Client#_packet with
 * `preEncoded`, which socket.io's own broadcasts use). `fastPathAvailable` checks they are there;
 * without them it falls back to `socket.emit`, and a test (encoded-emit.test.ts) fails, so a
 * socket.io upgrade that moves them cannot silently make fan-out slower.
 */
import type { Socket } from 'socket.io';

const encodedJson = new WeakMap<object, string>();

/** JSON of `payload`, computed once per object. */
export function jsonOnce(payload: object): string {
  let json = encodedJson.get(payload);
  if (json === undefined) {
    json = JSON.stringify(payload);
    encodedJson.set(payload, json);
  }
  return json;
}

interface SocketInternals {
  nsp: { name: string; _ids: number };
  acks: Map<number, (...args: unknown[]) => void>;
  client: { _packet(packet: unknown, opts: { preEncoded: boolean; compress?: boolean }): void };
}

function internals(socket: Socket): SocketInternals | null {
  const s = socket as unknown as Partial<SocketInternals>;
  if (!s.nsp || typeof s.nsp._ids !== 'number' || typeof s.nsp.name !== 'string') return null;
  if (!(s.acks instanceof Map) || typeof s.client?._packet !== 'function') return null;
  return s as SocketInternals;
}

/** True when this socket.io version offers the internals the fast path writes through. */
export function fastPathAvailable(socket: Socket): boolean {
  return internals(socket) !== null;
}

/** Packets written through the fast path since start (tests check it is taken). */
let fastPackets = 0;
export function fastPacketCount(): number {
  return fastPackets;
}

/**
 * Same as `socket.emit(event, { ...payload, seq }, ack)`, encoding `payload` at most once across
 * every call with the same object. `payload` must be a plain JSON object without `seq` and
 * without binary data.
 */
export function emitWithSeq(socket: Socket, event: string, payload: object, seq: number, ack: () => void): void {
  const inner = internals(socket);
  if (inner === null) {
    socket.emit(event, { ...payload, seq }, ack);
    return;
  }
  const body = jsonOnce(payload);
  const data = body === '{}' ? `{"seq":${seq}}` : `{${body.slice(1, -1)},"seq":${seq}}`;
  const id = inner.nsp._ids++;
  inner.acks.set(id, ack);
  // socket.io-parser's text encoding of an EVENT packet: type 2, namespace (unless "/"), ack id, data.
  const prefix = inner.nsp.name === '/' ? '' : `${inner.nsp.name},`;
  inner.client._packet(`2${prefix}${id}[${JSON.stringify(event)},${data}]`, { preEncoded: true, compress: true });
  fastPackets++;
}

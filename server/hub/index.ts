/**
 * The hub: the only code that speaks socket.io.
 *
 * Guarantees:
 * - Every connection gets `hello` first, then each feature's current state at once.
 * - Flow control per viewer and stream: at most one unacknowledged message in flight and one
 *   pending (the newest; older pending ones are dropped), so a slow browser never makes the
 *   server buffer without bound (see HubContext.sendLatest).
 * - Every client message is validated by the feature that owns it; a bad one, or an unknown
 *   event, gets `error:message` (and a failed ack) and the connection and the server carry on.
 * - With a token configured, the handshake must carry it (auth.token, cookie or bearer).
 * - Host and Origin are checked before the handshake (DNS rebinding, cross-site WebSocket).
 */
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Server } from 'socket.io';
import { PROTOCOL_VERSION, type Ack } from '../../lib/protocol.ts';
import { checkHostAndOrigin, tokenFromRequest, tokenMatches, type HostPolicy } from '../http/security.ts';
import { RequestError, type FeatureFactory, type Handler, type HubContext, type HubFeature, type HubSocket } from './feature.ts';

export interface HubOptions {
  /** Required token, or null when the server is open (loopback only). */
  token: string | null;
  hostPolicy: HostPolicy;
  version: string;
  features: FeatureFactory[];
}

export interface Hub {
  io: Server;
  /** Messages dropped for slow viewers since start (replaced before they could be sent). */
  droppedFrames(): number;
  close(): Promise<void>;
}

/** Longest event name echoed back in an error (client-controlled text). */
const MAX_ECHO = 64;

export function createHub(http: HttpServer, options: HubOptions): Hub {
  const { token } = options;
  const io = new Server(http, {
    serveClient: false,
    // Cap one message from a browser; ours are a few hundred bytes.
    maxHttpBufferSize: 64 * 1024,
    allowRequest: (req: IncomingMessage, callback) => {
      const refusal = checkHostAndOrigin(options.hostPolicy, req);
      callback(refusal, refusal === null);
    },
  });
  let dropped = 0;

  io.use((socket, next) => {
    if (token === null) return next();
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    const given = auth?.token ?? tokenFromRequest(socket.request);
    if (tokenMatches(token, given)) return next();
    next(new Error('unauthorized: this server requires a token (open the URL with ?token=…)'));
  });

  const sockets = () => io.of('/').sockets.values() as Iterable<HubSocket>;

  const sendLatest: HubContext['sendLatest'] = (socket, stream, event, payload) => {
    let state = socket.data.streams.get(stream);
    if (!state) socket.data.streams.set(stream, (state = { inFlight: false, pending: null, seq: 0 }));
    if (state.inFlight) {
      if (state.pending) dropped++;
      state.pending = { event, payload };
      return;
    }
    state.inFlight = true;
    state.seq++;
    const current = state;
    socket.emit(event, { ...payload, seq: state.seq }, () => {
      current.inFlight = false;
      const next = current.pending;
      current.pending = null;
      if (next && socket.connected) sendLatest(socket, stream, next.event, next.payload as object);
    });
  };

  const context: HubContext = {
    sockets,
    sendLatest,
    broadcast: (event, payload) => io.emit(event, payload),
  };
  const features: HubFeature[] = options.features.map((factory) => factory(context));
  const handlers = new Map<string, Handler>();
  for (const feature of features) {
    for (const [event, handler] of Object.entries(feature.handlers)) {
      if (handlers.has(event)) throw new Error(`two hub features handle ${event}`);
      handlers.set(event, handler);
    }
  }

  const refuse = (socket: HubSocket, event: string, message: string, ack?: unknown) => {
    socket.emit('error:message', { event, message });
    if (typeof ack === 'function') (ack as (reply: Ack) => void)({ ok: false, error: message });
  };

  io.on('connection', (raw) => {
    const socket = raw as unknown as HubSocket;
    socket.data = { features: new Map(), streams: new Map() };
    socket.emit('hello', { protocol: PROTOCOL_VERSION, version: options.version, canControl: true });
    for (const feature of features) feature.onConnect?.(socket);

    // One dispatcher for every event: unknown ones are answered, handlers' errors become replies.
    socket.onAny((event: unknown, ...args: unknown[]) => {
      const name = String(event).slice(0, MAX_ECHO);
      const ack = typeof args.at(-1) === 'function' ? args.at(-1) : undefined;
      const handler = handlers.get(String(event));
      if (!handler) return refuse(socket, name, `unknown event ${JSON.stringify(name)}`, ack);
      const payload = args.length > (ack ? 1 : 0) ? args[0] : undefined;
      let result: unknown;
      try {
        result = handler(socket, payload);
      } catch (error) {
        return refuse(socket, name, messageOf(error), ack);
      }
      Promise.resolve(result).then(
        (value) => {
          if (typeof ack === 'function') (ack as (reply: Ack<unknown>) => void)(value === undefined ? { ok: true } : { ok: true, value });
        },
        (error: unknown) => refuse(socket, name, messageOf(error), ack),
      );
    });
    socket.on('disconnect', () => {
      for (const feature of features) feature.onDisconnect?.(socket);
    });
  });

  return {
    io,
    droppedFrames: () => dropped,
    close: async () => {
      for (const feature of features) await feature.close?.();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

function messageOf(error: unknown): string {
  if (error instanceof RequestError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

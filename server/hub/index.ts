/**
 * The hub: the only code that speaks socket.io.
 *
 * Guarantees:
 * - A new viewer gets `hello`, the sampling status and its current flame graph at once.
 * - Each interval, one tree is built per distinct view in use (not per viewer).
 * - Flow control per viewer: at most one unacknowledged `profile:frame` in flight and one
 *   pending (the newest; older pending frames are dropped), so a slow browser never makes
 *   the server buffer without bound.
 * - Every client message is validated; a bad one gets `error:message` (and a failed ack),
 *   and the connection and the server carry on.
 * - With a token configured, the handshake must carry it (auth.token, cookie or bearer).
 */
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Server, type Socket } from 'socket.io';
import {
  DEFAULT_VIEW,
  PROTOCOL_VERSION,
  type Ack,
  type ClientToServerEvents,
  type ProfileFrame,
  type ServerToClientEvents,
  type ViewSettings,
} from '../../lib/protocol.ts';
import { checkProfileChange, checkView } from '../../lib/validate.ts';
import type { ProfilePipeline, ViewFrame } from '../pipeline/profile.ts';
import { checkHostAndOrigin, tokenFromRequest, tokenMatches, type HostPolicy } from '../http/security.ts';

export interface HubOptions {
  pipeline: ProfilePipeline;
  /** Required token, or null when the server is open (loopback only). */
  token: string | null;
  hostPolicy: HostPolicy;
  version: string;
}

interface ViewerState {
  view: ViewSettings;
  seq: number;
  inFlight: boolean;
  pending: ViewFrame | null;
}

type HubSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, ViewerState>;

const KNOWN_EVENTS = new Set(['view:set', 'profile:configure']);

export interface Hub {
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  /** Frames dropped for slow viewers since start (replaced before they could be sent). */
  droppedFrames(): number;
  close(): Promise<void>;
}

export function createHub(http: HttpServer, options: HubOptions): Hub {
  const { pipeline, token } = options;
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, ViewerState>(http, {
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

  const send = (socket: HubSocket, frame: ViewFrame) => {
    const state = socket.data;
    if (state.inFlight) {
      if (state.pending) dropped++;
      state.pending = frame;
      return;
    }
    state.inFlight = true;
    state.seq++;
    const payload: ProfileFrame = { ...frame, seq: state.seq };
    socket.emit('profile:frame', payload, () => {
      state.inFlight = false;
      const next = state.pending;
      state.pending = null;
      if (next && socket.connected) send(socket, next);
    });
  };

  const refuse = (socket: HubSocket, event: string, message: string, ack?: unknown) => {
    socket.emit('error:message', { event, message });
    if (typeof ack === 'function') (ack as (reply: Ack) => void)({ ok: false, error: message });
  };

  io.on('connection', (raw) => {
    const socket = raw as HubSocket;
    socket.data = { view: { ...DEFAULT_VIEW }, seq: 0, inFlight: false, pending: null };
    socket.emit('hello', { protocol: PROTOCOL_VERSION, version: options.version, canControl: true });
    socket.emit('profile:status', pipeline.status());
    send(socket, pipeline.frame(socket.data.view));

    socket.onAny((event: string) => {
      if (!KNOWN_EVENTS.has(event)) refuse(socket, String(event).slice(0, 64), `unknown event ${JSON.stringify(String(event).slice(0, 64))}`);
    });

    socket.on('view:set', (view: unknown, ack?: unknown) => {
      const checked = checkView(view);
      if (!checked.ok) return refuse(socket, 'view:set', checked.error, ack);
      socket.data.view = checked.value;
      socket.data.pending = null;
      if (typeof ack === 'function') (ack as (reply: Ack) => void)({ ok: true });
      send(socket, pipeline.frame(checked.value));
    });

    socket.on('profile:configure', (change: unknown, ack?: unknown) => {
      const checked = checkProfileChange(change);
      if (!checked.ok) return refuse(socket, 'profile:configure', checked.error, ack);
      pipeline.configure(checked.value).then(
        (settings) => {
          if (typeof ack === 'function') ack({ ok: true, value: settings });
        },
        (error: Error) => refuse(socket, 'profile:configure', error.message, ack),
      );
    });
  });

  const stopInterval = pipeline.onInterval(() => {
    // One build per distinct view in use.
    const byView = new Map<string, { view: ViewSettings; sockets: HubSocket[] }>();
    for (const raw of io.of('/').sockets.values()) {
      const socket = raw as HubSocket;
      const key = JSON.stringify(socket.data.view);
      let group = byView.get(key);
      if (!group) byView.set(key, (group = { view: socket.data.view, sockets: [] }));
      group.sockets.push(socket);
    }
    for (const { view, sockets } of byView.values()) {
      const frame = pipeline.frame(view);
      for (const socket of sockets) send(socket, frame);
    }
  });
  const stopStatus = pipeline.onStatus((status) => io.emit('profile:status', status));

  return {
    io,
    droppedFrames: () => dropped,
    close: async () => {
      stopInterval();
      stopStatus();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

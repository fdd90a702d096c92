/**
 * The hub: the only code that speaks socket.io.
 *
 * Guarantees:
 * - Every connection joins one session (handshake `auth.session`, default `main`) with one
 *   role: operator (the server's token) or viewer (a viewer link of that session). A viewer's
 *   control requests are refused here, before any feature sees them, whatever the client sends.
 * - Every connection gets `hello` first, then `session:state`, then each feature's current
 *   state at once (late joiners and reconnects see the live picture without waiting).
 * - Flow control per viewer and stream: at most one unacknowledged message in flight and one
 *   pending (the newest; older pending ones are dropped). A connection that leaves a message
 *   unacknowledged for `stallMs`, or whose transport buffers more than MAX_WRITE_BUFFER packets,
 *   is disconnected: a stalled browser never makes the server buffer without bound.
 * - Every client message is validated by the feature that owns it; a bad one, or an unknown
 *   event, gets `error:message` (and a failed ack) and the connection and the server carry on.
 * - Host and Origin are checked before the handshake (DNS rebinding, cross-site WebSocket);
 *   reconnections with state recovery go through the same auth middleware again.
 * - A session with no connection for `idleStopMs` (and not recording) is stopped: its features
 *   close, which detaches every BPF object they own. `main` is rebuilt on the next socket.io join
 *   that presents the operator token, after the token was checked; nothing else rebuilds it.
 * - Revoked viewer links are disconnected at once, expired ones within one sweep (1 s); either
 *   leaves the session's list (sessions.ts keeps it bounded). Operators get the list in full
 *   when they join and then as deltas (`link:added` / `link:removed`), so creating a link costs
 *   the same whatever the number of links.
 */
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { emitWithSeq } from './encoded-emit.ts';
import { PROTOCOL_VERSION, type Ack } from '../../lib/protocol.ts';
import { MAIN_SESSION } from '../../lib/protocol-session.ts';
import { checkRequest, isRequestName } from '../../lib/schema/messages.ts';
import { checkHostAndOrigin, tokenFromRequest, viewTokenFromRequest, type HostPolicy } from '../http/security.ts';
import { RequestError, type FeatureFactory, type FlowControlledName, type HubContext, type HubFeature, type HubSocket } from './feature.ts';
import { admit, newSessionRecord, sessionIdProblem, SessionInputError, type Admission, type Credentials } from './sessions.ts';
import type { RecordingStore } from '../recording/store.ts';
import type { ReplaySource } from './replay-source.ts';
import { SessionRegistry, type ConnectionInfo } from './session-features/registry.ts';
import type { HubLevelContext, HubLevelFeature, SessionHandler } from './session-features/feature.ts';
import { sessionsFeature } from './session-features/sessions.ts';
import { recordingFeature } from './session-features/recording.ts';
import { snapshotsFeature } from './session-features/snapshots.ts';
import { compareFeature, type CompareFeatureLimits } from './session-features/compare.ts';

export interface HubOptions {
  /** Required operator token, or null when the server is open (loopback only). */
  token: string | null;
  hostPolicy: HostPolicy;
  version: string;
  /**
   * The features of one session. Called once per session (and again when an idle `main` is
   * rebuilt), so each session owns its probes. A hub given only `features` has one session.
   */
  sessionFeatures?: (sessionId: string) => FeatureFactory[];
  /** The features of the single `main` session, when `sessionFeatures` is not given. */
  features?: FeatureFactory[];
  /** ms without connections before a session stops (default 10 min). */
  idleStopMs?: number;
  /** Most sessions at once (default 8). */
  maxSessions?: number;
  /** ms a flow-controlled message may stay unacknowledged before the connection is dropped (default 20 s). */
  stallMs?: number;
  /** The recordings database, opened on first use; absent = recording and replay unavailable. */
  recordings?: () => RecordingStore;
  /** The features of a session that replays a recording (no kernel: fed by `source`). */
  replayFeatures?: (sessionId: string, source: ReplaySource) => FeatureFactory[];
  /** Limits of `compare:windows` (session-features/compare.ts COMPARE_LIMITS by default). */
  compareLimits?: Partial<CompareFeatureLimits>;
  now?: () => number;
}

/** A session as the rest of the server sees it (HTTP export, recording). */
export interface HubSession {
  id: string;
  name: string;
  features: readonly HubFeature[];
}

export interface Hub {
  io: Server;
  /** Messages dropped for slow viewers since start (replaced before they could be sent). */
  droppedFrames(): number;
  /** Connections dropped because they stalled. */
  stalledConnections(): number;
  /**
   * The role these credentials give in a session, or why none (HTTP routes use it). Never has a
   * side effect: a stopped `main` is not rebuilt for an HTTP request.
   */
  admit(sessionId: string, credentials: Credentials): Admission;
  /** True when `view` is a live viewer link of any session (page and asset requests). */
  admitViewer(view: string): boolean;
  session(id: string): HubSession | null;
  close(): Promise<void>;
}

/** Longest event name echoed back in an error (client-controlled text). */
const MAX_ECHO = 64;
/** Packets queued in one connection's transport before it counts as stalled. */
const MAX_WRITE_BUFFER = 256;
const SWEEP_MS = 1000;

/** One hub-level event: its handler, and whether viewers may call it. */
interface HubLevelEvent {
  handler: SessionHandler;
  viewerMay: boolean;
}

export function createHub(http: HttpServer, options: HubOptions): Hub {
  const { token } = options;
  const now = options.now ?? Date.now;
  const idleStopMs = options.idleStopMs ?? 10 * 60_000;
  const maxSessions = options.maxSessions ?? 8;
  const stallMs = options.stallMs ?? 20_000;
  const featuresOf = options.sessionFeatures ?? (() => options.features ?? []);
  const canRebuild = options.sessionFeatures !== undefined;

  const io = new Server(http, {
    serveClient: false,
    // Cap one message from a browser; ours are a few hundred bytes.
    maxHttpBufferSize: 64 * 1024,
    allowRequest: (req: IncomingMessage, callback) => {
      const refusal = checkHostAndOrigin(options.hostPolicy, req);
      callback(refusal, refusal === null);
    },
    // A viewer whose connection drops gets what it missed on return; the auth middleware runs again.
    connectionStateRecovery: { maxDisconnectionDuration: 60_000, skipMiddlewares: false },
  });
  let dropped = 0;
  let stalled = 0;
  const connections = new WeakMap<HubSocket, ConnectionInfo>();

  const sendLatest: HubContext['sendLatest'] = (socket, stream, event, payload) => {
    let state = socket.data.streams.get(stream);
    if (!state) socket.data.streams.set(stream, (state = { inFlight: false, pending: null, seq: 0, sentAtMs: 0 }));
    if (state.inFlight) {
      if (state.pending) dropped++;
      state.pending = { event, payload };
      return;
    }
    state.inFlight = true;
    state.sentAtMs = now();
    state.seq++;
    const current = state;
    // The payload is serialized once for every socket it goes to (encoded-emit.ts).
    emitWithSeq(socket as unknown as Socket, event, payload, state.seq, () => {
      current.inFlight = false;
      const next = current.pending;
      current.pending = null;
      if (next && socket.connected) sendLatest(socket, stream, next.event as FlowControlledName, next.payload as object);
    });
  };

  let openedStore: RecordingStore | null = null;
  const store = (): RecordingStore => {
    if (!options.recordings) throw new RequestError('recording is not available on this server (no data directory)');
    openedStore ??= options.recordings();
    return openedStore;
  };

  const registry = new SessionRegistry({
    io,
    connectionOf: (socket) => connections.get(socket),
    now,
    idleStopMs,
    sendLatest,
    appendToRecording: (recordingId, kind, payload) => store().append(recordingId, { tMs: now(), kind, payload }),
    featuresOf: (id, replay) => (replay ? (options.replayFeatures?.(id, replay) ?? []) : featuresOf(id)),
  });

  const hubContext: HubLevelContext = {
    registry,
    roleOf: (socket) => connections.get(socket)!.role,
    store,
    openedStore: () => openedStore,
    now,
    maxSessions,
    canCreateSessions: canRebuild,
    canReplay: options.replayFeatures !== undefined,
  };
  // The hub-level features (session-features/); each event has one owner.
  const hubLevelFeatures: HubLevelFeature[] = [sessionsFeature, recordingFeature, snapshotsFeature, compareFeature(options.compareLimits)].map((factory) =>
    factory(hubContext),
  );
  const hubLevelEvents = new Map<string, HubLevelEvent>();
  for (const feature of hubLevelFeatures) {
    for (const [event, handler] of Object.entries(feature.handlers)) {
      if (hubLevelEvents.has(event)) throw new Error(`two hub-level features handle ${event}`);
      hubLevelEvents.set(event, { handler: handler as SessionHandler, viewerMay: feature.viewerEvents?.includes(event) ?? false });
    }
    if (feature.onSessionClose) registry.onSessionClose(feature.onSessionClose);
  }

  registry.open(MAIN_SESSION, 'main');

  /**
   * The role `credentials` give in a session, or why none. Credentials are checked before
   * anything else happens: a `main` stopped after being idle is rebuilt (which opens a profile
   * source in the collector, i.e. starts sampling as root) only for the operator token, and only
   * when `rebuild` is set (a socket.io handshake). HTTP requests never rebuild it, so a request a
   * foreign web page can make (an <img>, a form) has no side effect whatever it carries.
   * A stopped `main` has no viewer links: they ended with it, so a viewer link cannot restart it.
   */
  const admitTo = (sessionId: string, credentials: Credentials, rebuild: boolean): Admission => {
    const problem = sessionIdProblem(sessionId);
    if (problem) return { ok: false, error: problem };
    const session = registry.get(sessionId);
    if (session) return admit(session, token, credentials, now());
    if (sessionId !== MAIN_SESSION || !canRebuild) return { ok: false, error: `no session ${sessionId} (it may have stopped after being idle)` };
    // Checked against a session with no links: only the operator token (or an open server) passes.
    const admission = admit(newSessionRecord(MAIN_SESSION, 'main', now()), token, credentials, now());
    if (!admission.ok) {
      return typeof credentials.view === 'string' && credentials.view !== ''
        ? { ok: false, error: 'unauthorized: session main stopped after being idle and its viewer links ended with it; the operator starts it again' }
        : admission;
    }
    if (!rebuild) return { ok: false, error: 'no session main (it stopped after being idle; opening the dashboard as the operator starts it again)' };
    registry.open(MAIN_SESSION, 'main');
    return admission;
  };

  io.use((socket, next) => {
    const auth = (socket.handshake.auth ?? {}) as { token?: unknown; view?: unknown; session?: unknown };
    const sessionId = auth.session === undefined || auth.session === '' ? MAIN_SESSION : auth.session;
    const credentials: Credentials = {
      token: auth.token ?? tokenFromRequest(socket.request),
      view: auth.view ?? viewTokenFromRequest(socket.request),
    };
    const admission = admitTo(String(sessionId), credentials, true);
    if (!admission.ok) return next(new Error(admission.error));
    connections.set(socket as unknown as HubSocket, { session: String(sessionId), role: admission.role, linkId: admission.linkId });
    next();
  });

  const refuse = (socket: HubSocket, event: string, message: string, ack?: unknown) => {
    socket.emit('error:message', { event, message });
    if (typeof ack === 'function') (ack as (reply: Ack) => void)({ ok: false, error: message });
  };

  io.on('connection', (raw) => {
    const socket = raw as unknown as HubSocket;
    const connection = connections.get(socket);
    const session = connection ? registry.get(connection.session) : undefined;
    if (!connection || !session) {
      socket.disconnect(true);
      return;
    }
    // Fresh per-connection state, also after a recovered reconnect (no stale in-flight stream).
    socket.data = { features: new Map(), streams: new Map() };
    socket.join(session.room);
    session.emptySinceMs = null;
    socket.emit('hello', {
      protocol: PROTOCOL_VERSION,
      version: options.version,
      canControl: connection.role === 'operator',
      role: connection.role,
      session: session.id,
    });
    registry.announce(session, socket);
    for (const feature of session.features) feature.onConnect?.(socket);

    // One dispatcher for every event: unknown ones are answered, handlers' errors become replies.
    socket.onAny((event: unknown, ...args: unknown[]) => {
      const name = String(event).slice(0, MAX_ECHO);
      const ack = typeof args.at(-1) === 'function' ? args.at(-1) : undefined;
      const payload = args.length > (ack ? 1 : 0) ? args[0] : undefined;
      const live = registry.get(connection.session);
      if (!live) return refuse(socket, name, 'this session has stopped', ack);
      // Maps, not objects: a client sending "constructor" must not reach Object.prototype.
      const hubLevel = hubLevelEvents.get(String(event));
      const handler = live.handlers.get(String(event));
      if (!hubLevel && !handler) return refuse(socket, name, `unknown event ${JSON.stringify(name)}`, ack);
      const viewerMay = hubLevel ? hubLevel.viewerMay : live.viewerEvents.has(String(event));
      if (connection.role !== 'operator' && !viewerMay) {
        return refuse(socket, name, `${name} needs an operator: this is a read-only viewer link`, ack);
      }
      let result: unknown;
      try {
        // Every request of the protocol is checked against its schema (lib/schema/messages.ts)
        // here, before its handler runs; events outside the protocol (tests' own) go through as sent.
        let checkedPayload: unknown = payload;
        if (isRequestName(String(event))) {
          const checked = checkRequest(String(event) as Parameters<typeof checkRequest>[0], payload);
          if (!checked.ok) return refuse(socket, name, checked.error, ack);
          checkedPayload = checked.value;
        }
        result = hubLevel ? hubLevel.handler(socket, live, checkedPayload) : (handler as (socket: HubSocket, payload: unknown) => unknown)(socket, checkedPayload);
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
      for (const feature of session.features) feature.onDisconnect?.(socket);
      if (!registry.has(session.id)) return;
      if ([...registry.socketsOf(session)].length === 0) session.emptySinceMs = now();
      registry.announce(session);
    });
  });

  /** Once a second: drop stalled connections and dead links; stop idle sessions. */
  const sweep = setInterval(() => {
    const at = now();
    for (const socket of [...registry.allSockets()]) {
      const buffered = (socket.conn as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0;
      let stuck = buffered > MAX_WRITE_BUFFER;
      for (const state of socket.data.streams?.values() ?? []) {
        if (state.inFlight && at - state.sentAtMs > stallMs) stuck = true;
      }
      if (stuck) {
        stalled++;
        socket.disconnect(true);
      }
    }
    for (const session of registry.all()) {
      registry.dropExpiredLinks(session);
      // A recording keeps its session alive: it is watched by the database.
      const idle = session.recording === null && session.emptySinceMs !== null && at - session.emptySinceMs >= idleStopMs;
      if (idle && (session.id !== MAIN_SESSION || canRebuild)) {
        void registry.close(session, 'stopped after being idle');
      }
    }
  }, SWEEP_MS);
  sweep.unref();

  return {
    io,
    droppedFrames: () => dropped,
    stalledConnections: () => stalled,
    admit: (sessionId, credentials) => admitTo(sessionId, credentials, false),
    admitViewer: (view) => registry.all().some((session) => admit(session, token ?? '', { view }, now()).ok),
    session: (id) => registry.get(id) ?? null,
    close: async () => {
      clearInterval(sweep);
      await registry.closeAll();
      for (const feature of hubLevelFeatures) await feature.close?.();
      openedStore?.close();
      openedStore = null;
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

function messageOf(error: unknown): string {
  if (error instanceof RequestError || error instanceof SessionInputError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

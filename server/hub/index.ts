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
import { DEFAULT_VIEW, PROTOCOL_VERSION, type Ack } from '../../lib/protocol.ts';
import { checkView } from '../../lib/validate.ts';
import {
  MAIN_SESSION,
  type FollowView,
  type Role,
  type SessionState,
  type SessionSummary,
  type ViewerLinkRemoved,
} from '../../lib/protocol-session.ts';
import { checkFollowView, checkSessionRequest, checkText } from '../../lib/validate-session.ts';
import { unknownKeys } from '../../lib/validate.ts';
import { checkHostAndOrigin, tokenFromRequest, type HostPolicy } from '../http/security.ts';
import { RequestError, type FeatureFactory, type Handler, type HubContext, type HubFeature, type HubSocket } from './feature.ts';
import {
  admit,
  checkSessionName,
  createLink,
  expireLinks,
  linkInfo,
  newSessionId,
  newSessionRecord,
  revokeLink,
  sessionIdProblem,
  SessionInputError,
  type Admission,
  type Credentials,
  type SessionRecord,
} from './sessions.ts';
import { viewTokenFromRequest } from '../http/security.ts';
import type { RecordingStore } from '../recording/store.ts';
import { ReplaySource } from './replay-source.ts';
import { checkReplayControl, flameOfRecording, recordingRange } from './recording.ts';

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

/** Session-level events any role may send (the rest of the session events need an operator). */
const VIEWER_SESSION_EVENTS = new Set(['session:state', 'snapshots:list', 'snapshot:get']);

interface Session extends SessionRecord {
  room: string;
  features: HubFeature[];
  handlers: Map<string, Handler>;
  viewerEvents: Set<string>;
  follow: FollowView | null;
  /** ms since the epoch when its last connection left (null while anyone is connected). */
  emptySinceMs: number | null;
  recording: { id: string; name: string; startedAtMs: number } | null;
  replay: ReplaySource | null;
}

interface Connection {
  session: string;
  role: Role;
  linkId: string | null;
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
  const sessions = new Map<string, Session>();
  const connections = new WeakMap<HubSocket, Connection>();

  const allSockets = () => io.of('/').sockets.values() as Iterable<HubSocket>;
  const socketsOf = function* (session: Session): Iterable<HubSocket> {
    for (const socket of allSockets()) if (connections.get(socket)?.session === session.id) yield socket;
  };

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
      if (next && socket.connected) sendLatest(socket, stream, next.event, next.payload as object);
    });
  };

  let openedStore: RecordingStore | null = null;
  const store = (): RecordingStore => {
    if (!options.recordings) throw new RequestError('recording is not available on this server (no data directory)');
    openedStore ??= options.recordings();
    return openedStore;
  };
  const stopRecording = (session: Session) => {
    if (!session.recording || !openedStore) return;
    openedStore.stopRecording(session.recording.id, now());
    session.recording = null;
  };

  const openSession = (id: string, name: string, replay: ReplaySource | null = null): Session => {
    const record = newSessionRecord(id, name, now());
    const session: Session = {
      ...record,
      room: `session:${id}`,
      features: [],
      handlers: new Map(),
      viewerEvents: new Set(),
      follow: null,
      emptySinceMs: now(),
      recording: null,
      replay,
    };
    const context: HubContext = {
      sockets: () => socketsOf(session),
      sendLatest,
      broadcast: (event, payload) => io.to(session.room).emit(event, payload),
      record: (kind, payload) => {
        if (session.recording) store().append(session.recording.id, { tMs: now(), kind, payload });
      },
      recording: () => session.recording !== null,
    };
    const factories = replay ? (options.replayFeatures?.(id, replay) ?? []) : featuresOf(id);
    session.features = factories.map((factory) => factory(context));
    for (const feature of session.features) {
      for (const [event, handler] of Object.entries(feature.handlers)) {
        if (session.handlers.has(event)) throw new Error(`two hub features handle ${event}`);
        session.handlers.set(event, handler);
      }
      for (const event of feature.viewerHandlers ?? []) session.viewerEvents.add(event);
    }
    sessions.set(id, session);
    return session;
  };

  const closeSession = async (session: Session, reason: string) => {
    sessions.delete(session.id);
    stopRecording(session);
    session.replay?.stop();
    for (const socket of [...socketsOf(session)]) {
      socket.emit('session:closed', { id: session.id, reason });
      socket.disconnect(true);
    }
    for (const feature of session.features) await feature.close?.();
  };

  openSession(MAIN_SESSION, 'main');

  /** `withLinks`: the full link list, for an operator who joins or asks (later changes go as deltas). */
  const stateFor = (session: Session, role: Role, withLinks: boolean): SessionState => {
    let viewers = 0;
    let operators = 0;
    for (const socket of socketsOf(session)) {
      if (connections.get(socket)?.role === 'viewer') viewers++;
      else operators++;
    }
    return {
      id: session.id,
      name: session.name,
      role,
      createdAtMs: session.createdAtMs,
      viewers,
      operators,
      follow: session.follow,
      recording: session.recording,
      replay: session.replay?.state() ?? null,
      idleStopMs,
      ...(role === 'operator' && withLinks && { links: [...session.links.values()].filter((l) => l.expiresAtMs > now()).map(linkInfo) }),
    };
  };

  /**
   * Sends the session's state to everyone in it. Without the link list (it can be long, and it
   * changes by `link:added` / `link:removed`), except to `joining`, an operator who just joined.
   */
  const announce = (session: Session, joining?: HubSocket) => {
    const operatorState = stateFor(session, 'operator', false);
    const viewerState = stateFor(session, 'viewer', false);
    for (const socket of socketsOf(session)) {
      const role = connections.get(socket)?.role;
      if (socket === joining && role === 'operator') socket.emit('session:state', stateFor(session, 'operator', true));
      else socket.emit('session:state', role === 'operator' ? operatorState : viewerState);
    }
  };

  const toOperators = (session: Session, event: string, payload: unknown) => {
    for (const socket of socketsOf(session)) if (connections.get(socket)?.role === 'operator') socket.emit(event, payload);
  };

  /** Links that left the list: their viewers are told and disconnected; operators get `link:removed`. */
  const linksRemoved = (session: Session, removed: ViewerLinkRemoved[]) => {
    if (removed.length === 0) return;
    const reasons = new Map(removed.map((r) => [r.id, r.reason]));
    for (const socket of [...socketsOf(session)]) {
      const reason = reasons.get(connections.get(socket)?.linkId ?? '');
      if (reason) {
        socket.emit('session:closed', { id: session.id, reason: `this viewer link ${reason === 'revoked' ? 'was revoked' : 'has expired'}` });
        socket.disconnect(true);
      }
    }
    for (const entry of removed) toOperators(session, 'link:removed', entry);
  };

  const dropExpiredLinks = (session: Session) =>
    linksRemoved(session, expireLinks(session, now()).map((id): ViewerLinkRemoved => ({ id, reason: 'expired' })));

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
    const session = sessions.get(sessionId);
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
    openSession(MAIN_SESSION, 'main');
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

  /** A recording or snapshot name: 1-80 printable characters (the store checks it again). */
  const checkedName = (name: unknown): string => {
    const checked = checkText(name, 'name', { min: 1, max: 80 });
    if (!checked.ok) throw new RequestError(checked.error);
    return checked.value;
  };

  /**
   * Session management requests (operators only, except where noted). Their payload arrives
   * checked by checkSessionRequest (a plain object with only the fields the request takes;
   * `{}` when none was sent), except `follow:set`'s, which checkFollowView checks whole.
   */
  const sessionHandlers: Record<string, (socket: HubSocket, session: Session, payload: Record<string, unknown>) => unknown> = {
    'session:state': (socket, session) => stateFor(session, connections.get(socket)!.role, true),
    'session:list': (): SessionSummary[] =>
      [...sessions.values()].map((s) => ({
        id: s.id,
        name: s.name,
        createdAtMs: s.createdAtMs,
        connections: [...socketsOf(s)].length,
        recording: s.recording !== null,
        replay: s.replay !== null,
      })),
    'session:create': (_socket, _session, payload) => {
      if (!canRebuild) throw new RequestError('this server runs a single session');
      if (sessions.size >= maxSessions) throw new RequestError(`at most ${maxSessions} sessions at once: close one first`);
      const name = checkSessionName(payload.name);
      let id = newSessionId();
      while (sessions.has(id)) id = newSessionId();
      const created = openSession(id, name);
      return { id: created.id, name: created.name, path: `/?session=${encodeURIComponent(created.id)}` };
    },
    'session:close': async (_socket, _session, payload) => {
      const id = payload.id;
      const problem = sessionIdProblem(id);
      if (problem) throw new RequestError(problem);
      const target = sessions.get(id as string);
      if (!target) throw new RequestError(`no session ${String(id)}`);
      if (target.id === MAIN_SESSION) throw new RequestError('the main session cannot be closed (stop its probes instead)');
      await closeSession(target, 'an operator closed this session');
      return undefined;
    },
    'link:create': (_socket, session, payload) => {
      dropExpiredLinks(session);
      const created = createLink(session, payload, now());
      // A delta, not the whole state: its cost does not grow with the number of links.
      toOperators(session, 'link:added', linkInfo(created));
      return created;
    },
    'link:revoke': (_socket, session, payload) => {
      const revoked = revokeLink(session, payload.id);
      linksRemoved(session, [{ id: revoked.id, reason: 'revoked' }]);
      return revoked;
    },
    'record:start': (_socket, session, payload) => {
      if (session.replay) throw new RequestError('a replay session cannot be recorded');
      if (session.recording) throw new RequestError(`session ${session.id} is already recording (${session.recording.name})`);
      const name = payload.name === undefined ? `${session.name} ${new Date(now()).toISOString()}` : checkedName(payload.name);
      let info;
      try {
        info = store().startRecording({ sessionId: session.id, name, startedAtMs: now() });
      } catch (error) {
        throw new RequestError((error as Error).message);
      }
      session.recording = { id: info.id, name: info.name, startedAtMs: info.startedAtMs };
      for (const feature of session.features) feature.onRecordingStart?.();
      announce(session);
      return session.recording;
    },
    'record:stop': (_socket, session) => {
      if (!session.recording) throw new RequestError(`session ${session.id} is not recording`);
      const id = session.recording.id;
      stopRecording(session);
      announce(session);
      return store().getRecording(id);
    },
    'recordings:list': () => store().listRecordings(),
    'recording:delete': (_socket, _session, payload) => {
      const id = payload.id;
      if (typeof id !== 'string') throw new RequestError('recording:delete takes {id}');
      for (const s of sessions.values()) {
        if (s.recording?.id === id || s.replay?.recordingId === id) throw new RequestError(`recording ${id} is in use by session ${s.id}`);
      }
      store().deleteRecording(id);
      return undefined;
    },
    'replay:open': (_socket, _session, payload) => {
      const request = payload as { recordingId?: unknown; speed?: unknown };
      if (typeof request.recordingId !== 'string') throw new RequestError('replay:open takes {recordingId, speed?}: recordingId must be a string');
      if (!options.replayFeatures) throw new RequestError('replay is not available on this server');
      if (sessions.size >= maxSessions) throw new RequestError(`at most ${maxSessions} sessions at once: close one first`);
      let source: ReplaySource;
      try {
        const info = store().getRecording(request.recordingId);
        if (info.endedAtMs === null && [...sessions.values()].some((s) => s.recording?.id === info.id)) {
          throw new Error(`recording ${info.name} is still running: stop it first`);
        }
        source = new ReplaySource(store(), request.recordingId, request.speed === undefined ? 1 : (request.speed as number));
      } catch (error) {
        throw new RequestError((error as Error).message);
      }
      let id = newSessionId();
      while (sessions.has(id)) id = newSessionId();
      const recording = store().getRecording(request.recordingId);
      const created = openSession(id, `replay: ${recording.name}`, source);
      source.onStateChange(() => announce(created));
      source.seek(0);
      source.play();
      return { id, name: created.name, path: `/?session=${encodeURIComponent(id)}` };
    },
    'replay:control': (_socket, session, payload) => {
      const checked = checkReplayControl(payload);
      if (!checked.ok) throw new RequestError(checked.error);
      if (!session.replay) throw new RequestError(`session ${session.id} is live, not a replay`);
      const control = checked.value;
      if (control.action === 'play') session.replay.play();
      else if (control.action === 'pause') session.replay.pause();
      else if (control.action === 'seek') session.replay.seek(control.positionMs);
      else session.replay.setSpeed(control.speed);
      return session.replay.state();
    },
    'snapshot:pin': (_socket, session, payload) => {
      const request = payload as { name?: unknown; kind?: unknown; view?: unknown; probe?: unknown };
      const fieldsOfKind: Record<string, string[]> = { flame: ['name', 'kind', 'view'], histogram: ['name', 'kind', 'probe'] };
      const extra = typeof request.kind === 'string' && Object.hasOwn(fieldsOfKind, request.kind) ? unknownKeys(payload, fieldsOfKind[request.kind]) : null;
      if (extra) throw new RequestError(`snapshot:pin of a ${String(request.kind)}: ${extra}`);
      const name = checkedName(request.name);
      let data: unknown;
      if (request.kind === 'flame') {
        const checked = checkView(request.view ?? DEFAULT_VIEW);
        if (!checked.ok) throw new RequestError(checked.error);
        const source = session.features.find((f) => f.exports?.flame)?.exports?.flame;
        if (!source) throw new RequestError('this session has no flame graph');
        data = { view: checked.value, ...source(checked.value) };
      } else if (request.kind === 'histogram') {
        if (typeof request.probe !== 'string') throw new RequestError('a histogram snapshot needs {probe: <latency probe id>}');
        let frame = null;
        for (const feature of session.features) frame ??= feature.exports?.latency?.(request.probe) ?? null;
        if (!frame) throw new RequestError(`no latency probe ${request.probe.slice(0, 40)} in this session`);
        data = frame;
      } else {
        throw new RequestError(`snapshot kind must be flame or histogram, got ${JSON.stringify(request.kind)}`);
      }
      try {
        return store().pinSnapshot({ sessionId: session.id, name, kind: request.kind, takenAtMs: now(), payload: data });
      } catch (error) {
        throw new RequestError((error as Error).message);
      }
    },
    'snapshots:list': (socket, session) =>
      // Viewers see their own session's snapshots; operators see all.
      store().listSnapshots(connections.get(socket)?.role === 'operator' ? undefined : session.id),
    'snapshot:get': (socket, session, payload) => {
      const id = payload.id;
      if (typeof id !== 'string') throw new RequestError('snapshot:get takes {id}');
      const found = store().getSnapshot(id);
      if (!found || (connections.get(socket)?.role !== 'operator' && found.info.sessionId !== session.id)) {
        throw new RequestError(`no snapshot ${id.slice(0, 40)}`);
      }
      return found;
    },
    'snapshot:delete': (_socket, _session, payload) => {
      const id = payload.id;
      if (typeof id !== 'string') throw new RequestError('snapshot:delete takes {id}');
      store().deleteSnapshot(id);
      return undefined;
    },
    'compare:windows': (_socket, _session, payload) => {
      const request = payload as { recordingId?: unknown; before?: unknown; after?: unknown; view?: unknown };
      if (typeof request.recordingId !== 'string') throw new RequestError('compare:windows takes {recordingId, before: {fromMs, toMs}, after: {fromMs, toMs}, view?}');
      const view = checkView(request.view ?? { ...DEFAULT_VIEW, window: 'all' });
      if (!view.ok) throw new RequestError(view.error);
      const before = recordingRange(request.before, 'before');
      const after = recordingRange(request.after, 'after');
      try {
        return {
          before: flameOfRecording(store(), request.recordingId, before, view.value),
          after: flameOfRecording(store(), request.recordingId, after, view.value),
        };
      } catch (error) {
        throw new RequestError((error as Error).message);
      }
    },
    'follow:set': (socket, session, payload) => {
      const checked = checkFollowView(payload);
      if (!checked.ok) throw new RequestError(checked.error);
      session.follow = checked.value;
      // Everyone but the presenter applies it (the presenter already shows it).
      socket.to(session.room).emit('follow:view', checked.value);
      return undefined;
    },
  };

  io.on('connection', (raw) => {
    const socket = raw as unknown as HubSocket;
    const connection = connections.get(socket);
    const session = connection ? sessions.get(connection.session) : undefined;
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
    announce(session, socket);
    for (const feature of session.features) feature.onConnect?.(socket);

    // One dispatcher for every event: unknown ones are answered, handlers' errors become replies.
    socket.onAny((event: unknown, ...args: unknown[]) => {
      const name = String(event).slice(0, MAX_ECHO);
      const ack = typeof args.at(-1) === 'function' ? args.at(-1) : undefined;
      const payload = args.length > (ack ? 1 : 0) ? args[0] : undefined;
      const live = sessions.get(connection.session);
      if (!live) return refuse(socket, name, 'this session has stopped', ack);
      // Own properties only: a client sending "constructor" must not reach Object.prototype.
      const sessionHandler = Object.hasOwn(sessionHandlers, String(event)) ? sessionHandlers[String(event)] : undefined;
      const handler = live.handlers.get(String(event));
      if (!sessionHandler && !handler) return refuse(socket, name, `unknown event ${JSON.stringify(name)}`, ack);
      const viewerMay = sessionHandler ? VIEWER_SESSION_EVENTS.has(String(event)) : live.viewerEvents.has(String(event));
      if (connection.role !== 'operator' && !viewerMay) {
        return refuse(socket, name, `${name} needs an operator: this is a read-only viewer link`, ack);
      }
      let result: unknown;
      try {
        if (sessionHandler) {
          // follow:set's payload is the view itself, checked whole by checkFollowView.
          const checked = event === 'follow:set' ? { ok: true as const, value: payload as Record<string, unknown> } : checkSessionRequest(String(event), payload);
          if (!checked.ok) return refuse(socket, name, checked.error, ack);
          result = sessionHandler(socket, live, checked.value);
        } else {
          result = handler!(socket, payload);
        }
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
      if (!sessions.has(session.id)) return;
      if ([...socketsOf(session)].length === 0) session.emptySinceMs = now();
      announce(session);
    });
  });

  /** Once a second: drop stalled connections and dead links; stop idle sessions. */
  const sweep = setInterval(() => {
    const at = now();
    for (const socket of [...allSockets()]) {
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
    for (const session of [...sessions.values()]) {
      dropExpiredLinks(session);
      // A recording keeps its session alive: it is watched by the database.
      const idle = session.recording === null && session.emptySinceMs !== null && at - session.emptySinceMs >= idleStopMs;
      if (idle && (session.id !== MAIN_SESSION || canRebuild)) {
        void closeSession(session, 'stopped after being idle');
      }
    }
  }, SWEEP_MS);
  sweep.unref();

  return {
    io,
    droppedFrames: () => dropped,
    stalledConnections: () => stalled,
    admit: (sessionId, credentials) => admitTo(sessionId, credentials, false),
    admitViewer: (view) => [...sessions.values()].some((session) => admit(session, token ?? '', { view }, now()).ok),
    session: (id) => sessions.get(id) ?? null,
    close: async () => {
      clearInterval(sweep);
      for (const session of [...sessions.values()]) {
        sessions.delete(session.id);
        stopRecording(session);
        session.replay?.stop();
        for (const feature of session.features) await feature.close?.();
      }
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

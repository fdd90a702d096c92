'use client';
/**
 * useProfileSession: the dashboard's one connection to the hub (server/hub) over socket.io.
 *
 * Speaks lib/protocol.ts and lib/protocol-session.ts. Frames are flow-controlled: the server
 * sends at most one unacknowledged frame per client, so each frame is acknowledged as soon as
 * it has been applied to state (also when it cannot be used), never later.
 *
 * Sessions: the handshake carries `{ token?, view?, session }` (components/session/token.ts);
 * the server answers with `hello.role` and keeps `session:state` current. A dropped connection
 * is retried by socket.io with the same auth object (the server then sends hello, state and
 * frames again), also after the server dropped it (e.g. stalled); `session:closed` (link
 * revoked or expired, session closed) ends it for good: no more retries.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  type Ack,
  type ClientToServerEvents,
  type Hello,
  type ProfileFrame,
  type ProfileSettings,
  type ProfileStatus,
  type ReplyOf,
  type RequestName,
  type RequestPayload,
  type ServerToClientEvents,
  type ViewSettings,
} from '../../lib/protocol.ts';
import { MAIN_SESSION, type FollowView, type Role, type SessionState, type ViewerLinkInfo } from '../../lib/protocol-session.ts';
import { takeCredentials } from './token.ts';
import { deliver, ServerMessageCheck, type MessageHandlers } from './serverMessages.ts';
import { addLink, removeLink, replaceLinks } from './links.ts';

type HubSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** False for a `hello` that names another protocol version (its other fields may have another shape too). */
function compatibleHello(payload: unknown): boolean {
  const protocol = (payload as { protocol?: unknown } | null)?.protocol;
  return typeof protocol !== 'number' || protocol === PROTOCOL_VERSION;
}

/**
 * connecting: first attempt under way; connected; reconnecting: lost or failed, retrying;
 * refused: the server turned the handshake down (no or wrong token, revoked link), no retry;
 * closed: the server ended this page's session (`session:closed`), no retry;
 * disconnected: the connection was closed and is not retried.
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'refused' | 'closed' | 'disconnected';

/** Why the server ended this page's session (`session:closed`). */
export interface SessionClosed {
  id: string;
  reason: string;
}

export interface Notice {
  id: number;
  event: string;
  message: string;
}

export interface ProfileSession {
  connection: ConnectionState;
  /** Why the last connection attempt failed, as the server or transport said it. */
  connectionError: string | null;
  hello: Hello | null;
  /** This connection's role (from hello; null before the first hello). */
  role: Role | null;
  /** The session this page joins (from the URL until the server confirmed it). */
  sessionId: string;
  /**
   * Newest `session:state` (presence, follow view). For operators `links` is the page's own list:
   * the full one from joining, kept current by `link:added` / `link:removed` (components/session/links.ts).
   */
  sessionState: SessionState | null;
  /** Set once the server ended this page's session; the page stays as it was, without retrying. */
  closed: SessionClosed | null;
  /**
   * The presenter's newest view (`follow:view`, or `session:state.follow` on join), as a new
   * object only when it changed; null before any operator shared one.
   */
  presenterView: FollowView | null;
  /** Set when the server speaks another protocol version; frames are then not drawn. */
  protocolMismatch: string | null;
  status: ProfileStatus | null;
  /** Newest frame received (drawn or not: pausing is the view's business). */
  frame: ProfileFrame | null;
  /** Frames received since the page loaded. */
  framesReceived: number;
  /** Requests the server refused (`error:message`), newest last. */
  notices: Notice[];
  dismissNotice(id: number): void;
  /** Changes this viewer's view; resolves with the server's answer. */
  setView(view: ViewSettings): Promise<Ack>;
  /** Changes what is sampled (shared by all viewers); resolves with the server's answer. */
  configure(change: Partial<ProfileSettings>): Promise<Ack<ProfileSettings>>;
  /**
   * For the other features' hooks (latency, events), on this same connection: listen to a
   * server event (an acknowledgement callback comes last, as socket.io passes it). Returns the
   * unsubscribe function. A flow-controlled message nobody listens to is acknowledged anyway.
   */
  subscribe(event: string, listener: EventListener): () => void;
  /**
   * Sends a request of another feature on this connection; resolves with the server's answer.
   * Payload and reply are typed by the request's schema (lib/schema/messages.ts); the server
   * checks the payload against the same schema.
   */
  send<E extends RequestName>(event: E, payload: RequestPayload<E>): Promise<Ack<ReplyOf<E>>>;
}

/** A listener for `subscribe`: the payload has passed its schema (lib/schema/server-messages.ts); the acknowledgement comes last for flow-controlled messages. */
export type EventListener = (...args: unknown[]) => void;

const REQUEST_TIMEOUT_MS = 5000;

function request<T>(socket: HubSocket | null, send: (s: HubSocket, reply: (a: Ack<T>) => void) => void): Promise<Ack<T>> {
  if (!socket || !socket.connected) return Promise.resolve({ ok: false, error: 'not connected to the server' });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, error: 'the server did not answer in time' }), REQUEST_TIMEOUT_MS);
    send(socket, (reply) => {
      clearTimeout(timer);
      resolve(reply && typeof reply === 'object' ? reply : { ok: false, error: 'malformed reply from the server' });
    });
  });
}

export function useProfileSession(): ProfileSession {
  const socketRef = useRef<HubSocket | null>(null);
  const noticeId = useRef(0);
  // Other features' listeners; kept across sockets, so a hook may subscribe before the socket exists.
  const listeners = useRef(new Map<string, Set<EventListener>>());
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [connectionError, setConnectionError] = useState<string | null>(null);
  const [hello, setHello] = useState<Hello | null>(null);
  const [status, setStatus] = useState<ProfileStatus | null>(null);
  const [frame, setFrame] = useState<ProfileFrame | null>(null);
  const [framesReceived, setFramesReceived] = useState(0);
  const [notices, setNotices] = useState<Notice[]>([]);
  const [sessionId, setSessionId] = useState(MAIN_SESSION);
  const [sessionState, setSessionState] = useState<SessionState | null>(null);
  const [links, setLinks] = useState<ViewerLinkInfo[]>([]);
  const [closed, setClosed] = useState<SessionClosed | null>(null);
  const [presenterView, setPresenterView] = useState<FollowView | null>(null);

  useEffect(() => {
    const credentials = takeCredentials();
    setSessionId(credentials.session);
    // One auth object for the socket's life: every reconnection presents the same credentials.
    const auth: Record<string, string> = { session: credentials.session };
    if (credentials.token) auth.token = credentials.token;
    if (credentials.view) auth.view = credentials.view;
    const socket: HubSocket = io({ auth });
    socketRef.current = socket;
    let compatible = true;
    let ended = false;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let lastPresenter = '';
    const presenter = (view: FollowView | null | undefined) => {
      if (!view) return;
      const text = JSON.stringify(view);
      if (text === lastPresenter) return;
      lastPresenter = text;
      setPresenterView(view);
    };

    socket.on('connect', () => {
      setConnection('connected');
      setConnectionError(null);
    });
    socket.on('connect_error', (err) => {
      if (ended) return;
      // `active` is false when the server's middleware refused us: retrying cannot help.
      setConnection(socket.active ? 'reconnecting' : 'refused');
      setConnectionError(err.message);
    });
    socket.on('disconnect', (reason) => {
      if (ended) return;
      if (reason === 'io server disconnect') {
        // The server dropped us without ending the session (a stalled connection, a restart):
        // socket.io does not retry this case by itself.
        setConnection('reconnecting');
        setConnectionError('the server closed the connection');
        retry = setTimeout(() => {
          retry = null;
          if (!ended) socket.connect();
        }, 1000);
        return;
      }
      setConnection(socket.active ? 'reconnecting' : 'disconnected');
      setConnectionError(reason);
    });

    // The one place server messages are received: each is checked against its schema
    // (serverMessages.ts) before any handler or subscriber sees it. A malformed one is dropped,
    // shown once per message name (a notice, and the console) with the reason, and, when
    // flow-controlled, still acknowledged so that the stream goes on.
    const messages = new ServerMessageCheck((event, reason) => {
      console.warn(`probeboard: dropped a malformed ${event} message from the server: ${reason}`);
      if (!compatible) return; // the protocol banner already says why nothing fits
      const id = ++noticeId.current;
      setNotices((list) => [...list.slice(-4), { id, event, message: `dropped a malformed message from the server (later ones are dropped silently): ${reason}` }]);
    });
    const handlers: MessageHandlers = {
      hello: (h) => {
        compatible = h.protocol === PROTOCOL_VERSION;
        setHello(h);
        if (typeof h.session === 'string') setSessionId(h.session);
      },
      'session:state': (state) => {
        setSessionState(state);
        // Only the state sent on joining carries the list; later ones leave it to the deltas.
        if (state.links !== undefined) setLinks((current) => replaceLinks(current, state.links, Date.now()));
        presenter(state.follow);
      },
      'link:added': (link) => setLinks((current) => addLink(current, link)),
      'link:removed': (removed) => setLinks((current) => removeLink(current, removed, Date.now())),
      'follow:view': (view) => presenter(view),
      'session:closed': (info) => {
        ended = true;
        if (retry) clearTimeout(retry);
        setClosed({ id: info.id, reason: info.reason || 'the server ended this session' });
        setConnection('closed');
        setConnectionError(info.reason);
        socket.disconnect(); // no retries: the link or the session is gone
      },
      'profile:status': (s) => setStatus(s),
      'profile:frame': (f, ack) => {
        try {
          if (compatible) {
            setFrame(f);
            setFramesReceived((n) => n + 1);
          }
        } finally {
          ack();
        }
      },
      'error:message': (e) => {
        const id = ++noticeId.current;
        setNotices((list) => [...list.slice(-4), { id, event: e.event, message: e.message }]);
      },
    };
    socket.onAny((event: string, ...args: unknown[]) => {
      if (event === 'hello' && !compatibleHello(args[0])) {
        // Another protocol version: say so (the banner) even if its hello has another shape.
        const other = args[0] as { protocol: number; version?: unknown };
        compatible = false;
        setHello({ protocol: other.protocol, version: String(other.version ?? '?'), canControl: false });
        return;
      }
      const subscribed = listeners.current.get(event);
      deliver(messages, handlers, subscribed ? [...subscribed] : undefined, event, args);
    });

    return () => {
      ended = true;
      if (retry) clearTimeout(retry);
      socket.offAny();
      socket.removeAllListeners();
      socket.disconnect();
      socketRef.current = null;
    };
  }, []);

  const dismissNotice = useCallback((id: number) => setNotices((list) => list.filter((n) => n.id !== id)), []);

  const setView = useCallback(
    (view: ViewSettings) => request<undefined>(socketRef.current, (s, reply) => s.emit('view:set', view, reply)),
    [],
  );

  const configure = useCallback(
    (change: Partial<ProfileSettings>) =>
      request<ProfileSettings>(socketRef.current, (s, reply) => s.emit('profile:configure', change, reply)),
    [],
  );

  const subscribe = useCallback((event: string, listener: EventListener) => {
    let set = listeners.current.get(event);
    if (!set) listeners.current.set(event, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }, []);

  const send = useCallback(
    <E extends RequestName>(event: E, payload: RequestPayload<E>) =>
      request<ReplyOf<E>>(socketRef.current, (s, reply) => {
        // socket.io's emit cannot relate a generic event to its own arguments; E ties them here.
        const args = [payload, reply] as unknown as Parameters<ClientToServerEvents[E]>;
        s.emit(event, ...args);
      }),
    [],
  );

  const stateWithLinks = useMemo(
    () => (sessionState && sessionState.role === 'operator' ? { ...sessionState, links } : sessionState),
    [sessionState, links],
  );

  const protocolMismatch =
    hello && hello.protocol !== PROTOCOL_VERSION
      ? `The server speaks protocol version ${hello.protocol} (probeboard ${hello.version}); this page understands version ${PROTOCOL_VERSION}. Reload the page, or run the same probeboard version on both sides.`
      : null;

  return {
    connection,
    connectionError,
    hello,
    role: hello ? (hello.role ?? (hello.canControl ? 'operator' : 'viewer')) : null,
    sessionId,
    sessionState: stateWithLinks,
    closed,
    presenterView,
    protocolMismatch,
    status,
    frame,
    framesReceived,
    notices,
    dismissNotice,
    setView,
    configure,
    subscribe,
    send,
  };
}

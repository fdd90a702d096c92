/**
 * The sessions of one hub: each with its room, its own feature instances, viewer links, follow
 * view, recording and replay. Opening a session builds its features; closing one runs the
 * hub-level features' close hooks (a recording stops, a replay stops), tells and disconnects its
 * connections, then closes its features (which detaches every BPF object they own).
 *
 * Nothing here parses client input: the hub-level features (./sessions.ts, ./recording.ts, …)
 * do, and call these operations.
 */
import type { Server } from 'socket.io';
import type { FollowView, Role, SessionState, ViewerLinkRemoved } from '../../../lib/protocol-session.ts';
import type { ServerMessage, ServerMessageName, ServerToClientEvents } from '../../../lib/schema/messages.ts';
import type { FeatureFactory, Handler, HubContext, HubFeature, HubSocket } from '../feature.ts';
import { expireLinks, linkInfo, newSessionRecord, type SessionRecord } from '../sessions.ts';
import type { ReplaySource } from '../replay-source.ts';

export interface Session extends SessionRecord {
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

/** What the registry needs to know of a connection (the hub keeps them). */
export interface ConnectionInfo {
  session: string;
  role: Role;
  linkId: string | null;
}

export interface RegistryOptions {
  io: Server;
  connectionOf(socket: HubSocket): ConnectionInfo | undefined;
  now(): number;
  /** Reported in session:state. */
  idleStopMs: number;
  sendLatest: HubContext['sendLatest'];
  /** Appends one update to the session's running recording (the store is opened by then). */
  appendToRecording(recordingId: string, kind: string, payload: unknown): void;
  /** The features of a live session, or of a replay session fed by `replay`. */
  featuresOf(sessionId: string, replay: ReplaySource | null): FeatureFactory[];
}

export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();
  readonly #options: RegistryOptions;
  /** Run for a closing session before its connections are dropped (hub-level features' hooks). */
  readonly #closeHooks: Array<(session: Session) => void> = [];

  constructor(options: RegistryOptions) {
    this.#options = options;
  }

  onSessionClose(hook: (session: Session) => void): void {
    this.#closeHooks.push(hook);
  }

  get size(): number {
    return this.#sessions.size;
  }

  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  has(id: string): boolean {
    return this.#sessions.has(id);
  }

  all(): Session[] {
    return [...this.#sessions.values()];
  }

  *allSockets(): Iterable<HubSocket> {
    yield* this.#options.io.of('/').sockets.values() as Iterable<HubSocket>;
  }

  *socketsOf(session: Session): Iterable<HubSocket> {
    for (const socket of this.allSockets()) if (this.#options.connectionOf(socket)?.session === session.id) yield socket;
  }

  open(id: string, name: string, replay: ReplaySource | null = null): Session {
    const { now, io } = this.#options;
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
      sockets: () => this.socketsOf(session),
      sendLatest: this.#options.sendLatest,
      broadcast: (event, payload) => io.to(session.room).emit(event, payload),
      record: (kind, payload) => {
        if (session.recording) this.#options.appendToRecording(session.recording.id, kind, payload);
      },
      recording: () => session.recording !== null,
    };
    session.features = this.#options.featuresOf(id, replay).map((factory) => factory(context));
    for (const feature of session.features) {
      for (const [event, handler] of Object.entries(feature.handlers)) {
        if (!handler) continue;
        if (session.handlers.has(event)) throw new Error(`two hub features handle ${event}`);
        session.handlers.set(event, handler);
      }
      for (const event of feature.viewerHandlers ?? []) session.viewerEvents.add(event);
    }
    this.#sessions.set(id, session);
    return session;
  }

  async close(session: Session, reason: string): Promise<void> {
    this.#sessions.delete(session.id);
    for (const hook of this.#closeHooks) hook(session);
    for (const socket of [...this.socketsOf(session)]) {
      socket.emit('session:closed', { id: session.id, reason });
      socket.disconnect(true);
    }
    for (const feature of session.features) await feature.close?.();
  }

  /** Closes every session without telling its connections (the whole server closes). */
  async closeAll(): Promise<void> {
    for (const session of this.all()) {
      this.#sessions.delete(session.id);
      for (const hook of this.#closeHooks) hook(session);
      for (const feature of session.features) await feature.close?.();
    }
  }

  /** `withLinks`: the full link list, for an operator who joins or asks (later changes go as deltas). */
  stateFor(session: Session, role: Role, withLinks: boolean): SessionState {
    const { now, connectionOf, idleStopMs } = this.#options;
    let viewers = 0;
    let operators = 0;
    for (const socket of this.socketsOf(session)) {
      if (connectionOf(socket)?.role === 'viewer') viewers++;
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
  }

  /**
   * Sends the session's state to everyone in it. Without the link list (it can be long, and it
   * changes by `link:added` / `link:removed`), except to `joining`, an operator who just joined.
   */
  announce(session: Session, joining?: HubSocket): void {
    const operatorState = this.stateFor(session, 'operator', false);
    const viewerState = this.stateFor(session, 'viewer', false);
    for (const socket of this.socketsOf(session)) {
      const role = this.#options.connectionOf(socket)?.role;
      if (socket === joining && role === 'operator') socket.emit('session:state', this.stateFor(session, 'operator', true));
      else socket.emit('session:state', role === 'operator' ? operatorState : viewerState);
    }
  }

  toOperators<E extends ServerMessageName>(session: Session, event: E, payload: ServerMessage<E>): void {
    for (const socket of this.socketsOf(session)) if (this.#options.connectionOf(socket)?.role === 'operator') socket.emit(event, ...([payload] as Parameters<ServerToClientEvents[E]>));
  }

  /** Links that left the list: their viewers are told and disconnected; operators get `link:removed`. */
  linksRemoved(session: Session, removed: ViewerLinkRemoved[]): void {
    if (removed.length === 0) return;
    const reasons = new Map(removed.map((r) => [r.id, r.reason]));
    for (const socket of [...this.socketsOf(session)]) {
      const reason = reasons.get(this.#options.connectionOf(socket)?.linkId ?? '');
      if (reason) {
        socket.emit('session:closed', { id: session.id, reason: `this viewer link ${reason === 'revoked' ? 'was revoked' : 'has expired'}` });
        socket.disconnect(true);
      }
    }
    for (const entry of removed) this.toOperators(session, 'link:removed', entry);
  }

  dropExpiredLinks(session: Session): void {
    this.linksRemoved(session, expireLinks(session, this.#options.now()).map((id): ViewerLinkRemoved => ({ id, reason: 'expired' })));
  }
}

/**
 * What a hub-level feature (sessions and links, recording and replay, snapshots, compare) plugs
 * into the hub with.
 *
 * A session feature (server/hub/feature.ts: profile, latency, events) lives inside one session
 * and sees only its own sockets. A hub-level feature sees the whole server: the session
 * registry, the role of the connection that asks, the recordings store and the clock. Its
 * handlers get the asking socket, the session that socket joined, and the payload already
 * checked by the hub against the request's schema (lib/schema/messages.ts), typed; they return
 * the reply's value. Whatever a handler throws becomes an error reply; nothing else stops.
 */
import type { Role } from '../../../lib/protocol-session.ts';
import type { CheckedPayload, ReplyOf, RequestName } from '../../../lib/schema/messages.ts';
import type { RecordingStore } from '../../recording/store.ts';
import type { HubSocket } from '../feature.ts';
import type { Session, SessionRegistry } from './registry.ts';

/** The handler of hub-level request `E` (payload checked, reply typed by lib/schema/messages.ts). */
export type SessionRequestHandler<E extends RequestName> = (socket: HubSocket, session: Session, payload: CheckedPayload<E>) => ReplyOf<E> | Promise<ReplyOf<E>>;
/** A hub-level handler as the hub's dispatcher holds it (it checked the payload for the event). */
export type SessionHandler = (socket: HubSocket, session: Session, payload: unknown) => unknown;

export interface HubLevelContext {
  /** Every session of the server, and the operations on them (open, close, announce, links). */
  readonly registry: SessionRegistry;
  /** The role of a connected socket (decided once, in the handshake). */
  roleOf(socket: HubSocket): Role;
  /** The recordings database, opened on first use; throws a RequestError when the server has none. */
  store(): RecordingStore;
  /** The store if it was opened already, else null (closing needs no database). */
  openedStore(): RecordingStore | null;
  /** ms since the epoch (the hub's injected clock). */
  now(): number;
  /** Most sessions at once. */
  readonly maxSessions: number;
  /** False for a hub built with a fixed feature list: it runs only `main`. */
  readonly canCreateSessions: boolean;
  /** True when the server can build replay sessions (`HubOptions.replayFeatures`). */
  readonly canReplay: boolean;
}

export interface HubLevelFeature {
  /** Events handled, by name. The return value (awaited) is the ack's `value`. */
  handlers: { [E in RequestName]?: SessionRequestHandler<E> };
  /** The handlers a read-only viewer may call; every other one needs an operator. */
  viewerEvents?: readonly string[];
  /**
   * A session is closing (closed by an operator, stopped after being idle, or the hub closes):
   * called before its connections are told and its features close.
   */
  onSessionClose?(session: Session): void;
  /** The hub closes (after every session closed, before the store closes). */
  close?(): Promise<void>;
}

export type HubLevelFeatureFactory = (context: HubLevelContext) => HubLevelFeature;

/**
 * Sessions, roles, viewer links and follow mode on the wire (docs/protocol.md, "Sessions"), and
 * recording, replay, snapshots and compare. The messages are defined in lib/schema/session.ts
 * and lib/schema/recording.ts; this module re-exports their types and limits under the names
 * the code uses.
 *
 * A session is a named set of running probes (profile, latency, events) with its own URL
 * (`/?session=ID`). Each connection belongs to one session, chosen in the handshake
 * (`auth.session`, default `main`), with one role:
 * - operator: presented the server's token; may start and stop probes and manage the session;
 * - viewer: presented a viewer link (`auth.view`) of that session; read-only. Every control
 *   request from a viewer is refused by the server, whatever the client sends.
 *
 * Isomorphic: no Node or DOM APIs.
 */

/** The session every server starts with, and the one a URL without `?session=` joins. */
export const MAIN_SESSION = 'main';
/** Most live (not revoked, not expired) viewer links of one session; `link:create` is refused beyond. */
export const MAX_LIVE_LINKS = 1000;

export {
  MAX_FOLLOW_NAME,
  MAX_FOLLOW_PATH,
  MAX_LINK_LABEL,
  MAX_LINK_MINUTES,
  MAX_SEARCH,
  MAX_SESSION_NAME,
  SESSION_ID_PATTERN,
} from './schema/session.ts';
export type {
  FollowView,
  ReplayState,
  Role,
  SessionClosed,
  SessionState,
  SessionSummary,
  ViewerLinkCreated,
  ViewerLinkInfo,
  ViewerLinkRemoved,
} from './schema/session.ts';
export type {
  ComparedWindow,
  CompareWindowsReply,
  FlameSnapshotPayload,
  RecordingSummary,
  ReplayOpened,
  SnapshotKind,
  SnapshotRecord,
  SnapshotSummary,
} from './schema/recording.ts';

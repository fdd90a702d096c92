/**
 * Sessions, roles, viewer links and follow mode on the wire (docs/protocol.md, "Sessions").
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
import type { TimeWindow, StackMode } from './protocol.ts';

/** The session every server starts with, and the one a URL without `?session=` joins. */
export const MAIN_SESSION = 'main';

/** Session ids: letters, digits, `-` and `_`, 1..32 chars (they appear in URLs). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
export const MAX_SESSION_NAME = 80;
export const MAX_LINK_LABEL = 80;
/** Longest viewer link life a client may ask for (7 days), in minutes. */
export const MAX_LINK_MINUTES = 7 * 24 * 60;
/** Most live (not revoked, not expired) viewer links of one session; `link:create` is refused beyond. */
export const MAX_LIVE_LINKS = 1000;

export type Role = 'operator' | 'viewer';

/** Server -> client `session:state`: sent on join and on every change. */
export interface SessionState {
  id: string;
  name: string;
  /** This connection's role. */
  role: Role;
  createdAtMs: number;
  /** Connections in this session, by role (the presenter's audience). */
  viewers: number;
  operators: number;
  /** The presenter's current view, or null before any operator shared one. */
  follow: FollowView | null;
  /** Recording in progress, or null. */
  recording: { id: string; name: string; startedAtMs: number } | null;
  /** Set for a session that replays a recording instead of the kernel. */
  replay: ReplayState | null;
  /**
   * Operators only, and only in the state a connection gets when it joins (and in the reply to
   * the `session:state` request): the session's live viewer links, never their secrets. Absent
   * from later announcements: the list then changes by `link:added` / `link:removed`.
   */
  links?: ViewerLinkInfo[];
  /** ms with no connection after which the session stops (every probe detached). */
  idleStopMs: number;
}

export interface ReplayState {
  recordingId: string;
  speed: 1 | 2 | 4;
  playing: boolean;
  /** ms since the start of the recording. */
  positionMs: number;
  durationMs: number;
}

export interface ViewerLinkInfo {
  id: string;
  label: string;
  createdAtMs: number;
  expiresAtMs: number;
  revoked: boolean;
}

/**
 * Server -> operators `link:removed`: a link left the session's list (revoked by an operator, or
 * expired). `link:added` carries the new link's ViewerLinkInfo. Both are deltas on the list that
 * `session:state.links` gave in full on join.
 */
export interface ViewerLinkRemoved {
  id: string;
  reason: 'revoked' | 'expired';
}

/** Reply to `link:create`: the only time the secret (`token`) is sent. */
export interface ViewerLinkCreated extends ViewerLinkInfo {
  /** Goes into the viewer URL as `?session=ID&view=TOKEN`. */
  token: string;
  /** Path and query of the viewer URL (the page prefixes its own origin). */
  path: string;
}

/** Server -> client `session:list` reply (operators only). */
export interface SessionSummary {
  id: string;
  name: string;
  createdAtMs: number;
  connections: number;
  recording: boolean;
  replay: boolean;
}

/**
 * What a follower copies from the presenter (`follow:set` from an operator, `follow:view` to
 * everyone in the session). Zoom is a path of frame names from the root, so it survives tree
 * updates; `selected` likewise.
 */
export interface FollowView {
  window: TimeWindow;
  stackMode: StackMode;
  hideIdle: boolean;
  /** Stacks rooted at `comm-tid` (ViewSettings.perThread); absent = false. */
  perThread?: boolean;
  /** Frame names from the root (exclusive) to the zoomed frame; empty = not zoomed. */
  zoom: string[];
  search: string;
  /** Frame names from the root to the selected frame, or null. */
  selected: string[] | null;
  /** Which probe panel is in focus (`profile`, a latency id `lat-3`, an events id), or null. */
  focus: string | null;
  icicle: boolean;
}

export const MAX_FOLLOW_PATH = 128;
export const MAX_FOLLOW_NAME = 512;
export const MAX_SEARCH = 200;

/*
 * Recording, replay, snapshots, compare (docs/protocol.md, "Recording, replay, snapshots,
 * compare, exports"). Wire shapes of the replies as the hub sends them; times are ms since the
 * epoch unless named otherwise.
 */

/**
 * `recordings:list` item and `record:stop` reply; also the recordings store's own description
 * of a recording (server/recording/store.ts uses this type).
 */
export interface RecordingSummary {
  /** Random, url-safe (22 characters of base64url, never starting with `-`). */
  id: string;
  /** The session that was recorded. */
  sessionId: string;
  name: string;
  startedAtMs: number;
  /** null while recording. */
  endedAtMs: number | null;
  /** Updates stored (including those still buffered, for a recording in progress). */
  updates: number;
  /** Bytes stored: payloads as stored (after compression) plus kinds; SQLite's own overhead not counted. */
  bytes: number;
  /** Time of the latest update stored, or null when there is none. */
  lastUpdateAtMs: number | null;
  /**
   * Why the store stopped the recording itself (size limit, write failure, interrupted by a
   * crash or by close); null while recording or when stopped on request.
   */
  stoppedReason: string | null;
}

/** `replay:open` reply (like `session:create`'s). */
export interface ReplayOpened {
  id: string;
  name: string;
  /** `/?session=ID` */
  path: string;
}

export type SnapshotKind = 'flame' | 'histogram';

/** `snapshots:list` item, `snapshot:pin` reply. */
export interface SnapshotSummary {
  id: string;
  sessionId: string;
  name: string;
  kind: SnapshotKind;
  takenAtMs: number;
  /** Payload bytes as stored. */
  bytes: number;
}

/** `snapshot:get` reply: for `flame`, payload is FlameSnapshotPayload; for `histogram`, a LatencyProbeFrame. */
export interface SnapshotRecord {
  info: SnapshotSummary;
  payload: unknown;
}

/** Payload of a flame snapshot: the view it was taken with and the picture (server/hub `exports.flame`). */
export interface FlameSnapshotPayload {
  view: import('./protocol.ts').ViewSettings;
  tree: import('./protocol.ts').FlameNode;
  totalSamples: number;
  windowStartMs: number;
  windowEndMs: number;
  /** Sampling rate, Hz. */
  hz: number;
  /** What widths count: absent (snapshots from before profile types) means cpu, in samples; offcpu and wall count µs. */
  type?: import('./protocol.ts').ProfileType;
}

/** One side of a `compare:windows` reply. */
export interface ComparedWindow {
  tree: import('./protocol.ts').FlameNode;
  totalSamples: number;
  /** Profile intervals that ended inside the range. */
  intervals: number;
}

export interface CompareWindowsReply {
  before: ComparedWindow;
  after: ComparedWindow;
}

/**
 * Sessions, roles, viewer links and follow mode on the wire (docs/protocol.md, "Sessions"):
 * the session requests (`session:*`, `link:*`, `follow:set`) and what the server sends for them
 * (`session:state`, `link:added`, `link:removed`, `follow:view`, `session:closed`).
 * lib/protocol-session.ts re-exports the types and says what sessions and roles are.
 */
import * as v from 'valibot';
import { record } from './core.ts';
import { StackModeSchema, TimeWindowSchema } from './view.ts';

/** Session ids: letters, digits, `-` and `_`, 1..32 chars (they appear in URLs). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
export const MAX_SESSION_NAME = 80;
export const MAX_LINK_LABEL = 80;
/** Longest viewer link life a client may ask for (7 days), in minutes. */
export const MAX_LINK_MINUTES = 7 * 24 * 60;
export const MAX_FOLLOW_PATH = 128;
export const MAX_FOLLOW_NAME = 512;
export const MAX_SEARCH = 200;

/*
 * Text a person types (session names, link labels, recording and snapshot names) is shown to
 * other people, in the dashboard and in terminals: it must be printable. Refused: C0 and C1
 * controls (NUL, ESC, …) and DEL, the line and paragraph separators U+2028/U+2029, the
 * bidirectional embeddings and overrides U+202A–U+202E and isolates U+2066–U+2069 (they make
 * text read differently from how it is stored), and unpaired surrogates (not text at all).
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udfff]/u;

/** Why `text` is not printable (naming the character and where), or null when it is. */
export function unprintableProblem(text: string): string | null {
  const match = UNPRINTABLE.exec(text);
  if (!match) return null;
  const code = match[0].codePointAt(0)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  const what = code >= 0xd800 && code <= 0xdfff ? 'an unpaired surrogate' : code >= 0x2028 ? 'a line separator or bidirectional control' : 'a control character';
  return `${hex} at character ${match.index + 1} is ${what}`;
}

/**
 * A name or label: a string, trimmed, from `min` to `max` characters (code points), printable.
 * The value is the trimmed text.
 */
export function printableText(min: number, max: number) {
  const length = min === 0 ? `at most ${max} characters` : `${min} to ${max} characters`;
  return v.pipe(
    v.string('must be a string'),
    v.transform((text: string) => text.trim()),
    v.check((text: string) => [...text].length >= min && [...text].length <= max, (issue) => `must be ${length} (it has ${[...(issue.input as string)].length})`),
    v.rawCheck<string>(({ dataset, addIssue }) => {
      const problem = dataset.typed ? unprintableProblem(dataset.value) : null;
      if (problem) addIssue({ message: `must be printable text: ${problem}` });
    }),
  );
}

/** No payload (absent or null), or `{}`. */
export const NoPayloadSchema = v.nullish(record({}, 'takes no payload'), {});

/** An id the server handed out (session, link, recording, snapshot): a string; unknown ones are refused by the handler. */
export const IdSchema = v.pipe(v.string('must be a string'), v.maxLength(200, 'is longer than 200 characters'));

/**
 * What a follower copies from the presenter (`follow:set` from an operator, `follow:view` to
 * everyone in the session). Zoom is a path of frame names from the root, so it survives tree
 * updates; `selected` likewise.
 */
const framePath = v.pipe(
  v.array(v.pipe(v.string('must hold frame names'), v.maxLength(MAX_FOLLOW_NAME, `must hold frame names of at most ${MAX_FOLLOW_NAME} characters`)), 'must be an array of frame names'),
  v.maxLength(MAX_FOLLOW_PATH, `is deeper than ${MAX_FOLLOW_PATH} frames`),
);
export const FollowViewSchema = record({
  window: TimeWindowSchema,
  stackMode: StackModeSchema,
  hideIdle: v.boolean('must be true or false'),
  /** Stacks rooted at `comm-tid` (ViewSettings.perThread); absent = false. */
  perThread: v.optional(v.boolean('must be true or false')),
  /** Frame names from the root (exclusive) to the zoomed frame; empty = not zoomed. */
  zoom: framePath,
  search: v.pipe(v.string('must be a string'), v.maxLength(MAX_SEARCH, `must be at most ${MAX_SEARCH} characters`)),
  /** Frame names from the root to the selected frame, or null. */
  selected: v.nullable(framePath),
  /** Which probe panel is in focus (`profile`, a latency id `lat-3`, an events id), or null. */
  focus: v.nullable(v.pipe(v.string('must be null or a probe id'), v.maxLength(64, 'must be null or a probe id'))),
  icicle: v.boolean('must be true or false'),
}, 'takes a follow view {window, stackMode, hideIdle, perThread?, zoom, search, selected, focus, icicle}');
export type FollowView = v.InferOutput<typeof FollowViewSchema>;

export const SessionNameSchema = printableText(1, MAX_SESSION_NAME);

/** `session:create`. */
export const SessionCreateRequestSchema = record({ name: SessionNameSchema }, 'takes {name}');
/** `session:close`. */
export const SessionCloseRequestSchema = record({ id: IdSchema }, 'takes {id}');
/** `link:create`: `label` may be empty; `minutes` of life, default 60. */
export const LinkCreateRequestSchema = v.nullish(
  record({
    label: v.optional(printableText(0, MAX_LINK_LABEL)),
    minutes: v.optional(
      v.pipe(
        v.number('must be a number of minutes'),
        v.check((minutes) => Number.isFinite(minutes) && minutes > 0 && minutes <= MAX_LINK_MINUTES, `must be a number of minutes, more than 0 and at most ${MAX_LINK_MINUTES}`),
      ),
    ),
  }, 'takes {label?, minutes?}'),
  {},
);
/** `link:revoke`. */
export const LinkRevokeRequestSchema = record({ id: IdSchema }, 'takes {id}');

export type Role = 'operator' | 'viewer';
export const RoleSchema = v.picklist(['operator', 'viewer']);

export const ReplayStateSchema = v.object({
  recordingId: v.string(),
  speed: v.picklist([1, 2, 4]),
  playing: v.boolean(),
  /** ms since the start of the recording. */
  positionMs: v.number(),
  durationMs: v.number(),
});
export type ReplayState = v.InferOutput<typeof ReplayStateSchema>;

export const ViewerLinkInfoSchema = v.object({
  id: v.string(),
  label: v.string(),
  createdAtMs: v.number(),
  expiresAtMs: v.number(),
  revoked: v.boolean(),
});
export type ViewerLinkInfo = v.InferOutput<typeof ViewerLinkInfoSchema>;

/** `link:removed`: a link left the session's list (revoked by an operator, or expired). */
export const ViewerLinkRemovedSchema = v.object({ id: v.string(), reason: v.picklist(['revoked', 'expired']) });
export type ViewerLinkRemoved = v.InferOutput<typeof ViewerLinkRemovedSchema>;

/** Reply to `link:create`: the only time the secret (`token`) is sent. */
export const ViewerLinkCreatedSchema = v.object({
  ...ViewerLinkInfoSchema.entries,
  /** Goes into the viewer URL as `?session=ID&view=TOKEN`. */
  token: v.string(),
  /** Path and query of the viewer URL (the page prefixes its own origin). */
  path: v.string(),
});
export type ViewerLinkCreated = v.InferOutput<typeof ViewerLinkCreatedSchema>;

/** `session:list` reply item (operators only). */
export const SessionSummarySchema = v.object({
  id: v.string(),
  name: v.string(),
  createdAtMs: v.number(),
  connections: v.number(),
  recording: v.boolean(),
  replay: v.boolean(),
});
export type SessionSummary = v.InferOutput<typeof SessionSummarySchema>;

/** `session:create` and `replay:open` reply: the new session, `path` = `/?session=ID`. */
export const SessionOpenedSchema = v.object({ id: v.string(), name: v.string(), path: v.string() });
export type SessionOpened = v.InferOutput<typeof SessionOpenedSchema>;

/** `session:state`: sent on join and on every change. */
export const SessionStateSchema = v.object({
  id: v.string(),
  name: v.string(),
  /** This connection's role. */
  role: RoleSchema,
  createdAtMs: v.number(),
  /** Connections in this session, by role (the presenter's audience). */
  viewers: v.number(),
  operators: v.number(),
  /** The presenter's current view, or null before any operator shared one. */
  follow: v.nullable(FollowViewSchema),
  /** Recording in progress, or null. */
  recording: v.nullable(v.object({ id: v.string(), name: v.string(), startedAtMs: v.number() })),
  /** Set for a session that replays a recording instead of the kernel. */
  replay: v.nullable(ReplayStateSchema),
  /**
   * Operators only, and only in the state a connection gets when it joins (and in the reply to
   * the `session:state` request): the session's live viewer links, never their secrets.
   */
  links: v.optional(v.array(ViewerLinkInfoSchema)),
  /** ms with no connection after which the session stops (every probe detached). */
  idleStopMs: v.number(),
});
export type SessionState = v.InferOutput<typeof SessionStateSchema>;

/** `session:closed`: the server ends this page's session (link revoked or expired, session closed). */
export const SessionClosedSchema = v.object({ id: v.string(), reason: v.string() });
export type SessionClosed = v.InferOutput<typeof SessionClosedSchema>;

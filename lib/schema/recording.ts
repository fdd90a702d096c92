/**
 * Recording, replay, snapshots and compare: the requests and replies on the wire
 * (docs/protocol.md, "Recording, replay, snapshots, compare, exports"), and the records the
 * recordings store (server/recording/store.ts) takes and gives back. Times are ms since the
 * epoch unless named otherwise. lib/protocol-session.ts re-exports the types.
 */
import * as v from 'valibot';
import { record, variant } from './core.ts';
import { FlameNodeSchema, ProfileTypeSchema, ViewSettingsSchema } from './view.ts';
import { IdSchema, printableText } from './session.ts';

/** Longest recording or snapshot name, in characters (Unicode code points), after trimming. */
export const MAX_NAME_CHARS = 80;
/** Longest session id the store takes, in characters. */
export const MAX_SESSION_ID_CHARS = 200;
/** Update kinds: 1 to 64 of `A-Z a-z 0-9 . _ : -` (e.g. 'profile.interval'). */
export const KIND_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
export const SNAPSHOT_KINDS = ['flame', 'histogram'] as const;
export const REPLAY_SPEEDS = [1, 2, 4] as const;

/** A recording or snapshot name: 1 to 80 printable characters after trimming. */
export const RecordingNameSchema = printableText(1, MAX_NAME_CHARS);
const speed = v.picklist(REPLAY_SPEEDS, 'must be 1, 2 or 4');
/** A number of ms from the start of a recording. */
const offsetMs = v.pipe(v.number('must be a number of ms from the start (>= 0)'), v.finite('must be a number of ms from the start (>= 0)'), v.minValue(0, 'must be a number of ms from the start (>= 0)'));

/** `record:start`: the name defaults to `<session name> <ISO time>`. */
export const RecordStartRequestSchema = v.nullish(record({ name: v.optional(RecordingNameSchema) }, 'takes {name?}'), {});
/** `recording:delete`. */
export const RecordingDeleteRequestSchema = record({ id: IdSchema }, 'takes {id}');
/** `replay:open`: speed default 1. */
export const ReplayOpenRequestSchema = record({ recordingId: IdSchema, speed: v.optional(speed) }, 'takes {recordingId, speed?}');
/** `replay:control`. */
export const ReplayControlSchema = variant(
  'action',
  [
    v.strictObject({ action: v.literal('play') }),
    v.strictObject({ action: v.literal('pause') }),
    v.strictObject({ action: v.literal('seek'), positionMs: offsetMs }),
    v.strictObject({ action: v.literal('speed'), speed }),
  ],
  'must be play, pause, seek or speed',
  'takes {action, …}',
);
export type ReplayControl = v.InferOutput<typeof ReplayControlSchema>;

/** A time range inside a recording, in ms from its start (inclusive bounds, fromMs <= toMs). */
export const RecordingRangeSchema = v.pipe(
  record({ fromMs: offsetMs, toMs: offsetMs }),
  v.forward(
    v.check((range) => range.fromMs <= range.toMs, 'must not be before fromMs'),
    ['toMs'],
  ),
);
export type RecordingRange = v.InferOutput<typeof RecordingRangeSchema>;

/** `snapshot:pin`: a flame graph of a view (default 60s, all stacks, idle hidden), or a latency probe's histogram. */
export const SnapshotPinRequestSchema = variant(
  'kind',
  [
    v.strictObject({ name: RecordingNameSchema, kind: v.literal('flame'), view: v.optional(ViewSettingsSchema) }),
    v.strictObject({ name: RecordingNameSchema, kind: v.literal('histogram'), probe: v.pipe(v.string('must be a latency probe id'), v.maxLength(64, 'must be a latency probe id')) }),
  ],
  'must be flame or histogram',
  'takes {name, kind, view?} or {name, kind, probe}',
);
export type SnapshotPinRequest = v.InferOutput<typeof SnapshotPinRequestSchema>;
/** `snapshot:get`, `snapshot:delete`. */
export const SnapshotIdRequestSchema = record({ id: IdSchema }, 'takes {id}');
/** `compare:windows`: two ranges of one recording; the view's window is ignored. */
export const CompareWindowsRequestSchema = record({
  recordingId: IdSchema,
  before: RecordingRangeSchema,
  after: RecordingRangeSchema,
  view: v.optional(ViewSettingsSchema),
}, 'takes {recordingId, before, after, view?}');
export type CompareWindowsRequest = v.InferOutput<typeof CompareWindowsRequestSchema>;

// ---------------------------------------------------------------------------------------
// Replies, and the store's descriptions

/** `recordings:list` item and `record:stop` reply; also the recordings store's own description of a recording. */
export const RecordingSummarySchema = v.object({
  /** Random, url-safe (22 characters of base64url, never starting with `-`). */
  id: v.string(),
  /** The session that was recorded. */
  sessionId: v.string(),
  name: v.string(),
  startedAtMs: v.number(),
  /** null while recording. */
  endedAtMs: v.nullable(v.number()),
  /** Updates stored (including those still buffered, for a recording in progress). */
  updates: v.number(),
  /** Bytes stored: payloads as stored (after compression) plus kinds; SQLite's own overhead not counted. */
  bytes: v.number(),
  /** Time of the latest update stored, or null when there is none. */
  lastUpdateAtMs: v.nullable(v.number()),
  /** Why the store stopped the recording itself (size limit, write failure, crash, close); null otherwise. */
  stoppedReason: v.nullable(v.string()),
});
export type RecordingSummary = v.InferOutput<typeof RecordingSummarySchema>;

/** `record:start` reply: the new `SessionState.recording`. */
export const RecordingStartedSchema = v.object({ id: v.string(), name: v.string(), startedAtMs: v.number() });

/** `replay:open` reply (like `session:create`'s). */
export const ReplayOpenedSchema = v.object({ id: v.string(), name: v.string(), /** `/?session=ID` */ path: v.string() });
export type ReplayOpened = v.InferOutput<typeof ReplayOpenedSchema>;

export const SnapshotKindSchema = v.picklist(SNAPSHOT_KINDS);
export type SnapshotKind = v.InferOutput<typeof SnapshotKindSchema>;

/** `snapshots:list` item, `snapshot:pin` reply. */
export const SnapshotSummarySchema = v.object({
  /** Random, url-safe (22 characters of base64url). */
  id: v.string(),
  sessionId: v.string(),
  name: v.string(),
  kind: SnapshotKindSchema,
  takenAtMs: v.number(),
  /** Payload bytes as stored (after compression). */
  bytes: v.number(),
});
export type SnapshotSummary = v.InferOutput<typeof SnapshotSummarySchema>;

/** `snapshot:get` reply: for `flame`, payload is a FlameSnapshotPayload; for `histogram`, a LatencyProbeFrame. */
export const SnapshotRecordSchema = v.object({ info: SnapshotSummarySchema, payload: v.unknown() });
export type SnapshotRecord = v.InferOutput<typeof SnapshotRecordSchema>;

/** Payload of a flame snapshot: the view it was taken with and the picture. */
export const FlameSnapshotPayloadSchema = v.object({
  view: ViewSettingsSchema,
  tree: FlameNodeSchema,
  totalSamples: v.number(),
  windowStartMs: v.number(),
  windowEndMs: v.number(),
  /** Sampling rate, Hz. */
  hz: v.number(),
  /** What widths count: absent (snapshots from before profile types) means cpu, in samples; offcpu and wall count µs. */
  type: v.optional(ProfileTypeSchema),
});
export type FlameSnapshotPayload = v.InferOutput<typeof FlameSnapshotPayloadSchema>;

/** One side of a `compare:windows` reply. */
export const ComparedWindowSchema = v.object({
  tree: FlameNodeSchema,
  totalSamples: v.number(),
  /** Profile intervals that ended inside the range. */
  intervals: v.number(),
});
export type ComparedWindow = v.InferOutput<typeof ComparedWindowSchema>;
export const CompareWindowsReplySchema = v.object({ before: ComparedWindowSchema, after: ComparedWindowSchema });
export type CompareWindowsReply = v.InferOutput<typeof CompareWindowsReplySchema>;

/** `compare:progress`: defined in server-messages.ts (the dashboard checks it without bundling this file's request schemas). */
export { CompareProgressSchema, type CompareProgress } from './server-messages.ts';

// ---------------------------------------------------------------------------------------
// Stored records (server/recording/store.ts): what a caller hands the store

/** A time in ms since the epoch: a finite number >= 0 (the store truncates it to whole ms). */
export const EpochMsSchema = v.pipe(
  v.number('must be a time in ms since the epoch (a finite number >= 0)'),
  v.finite('must be a time in ms since the epoch (a finite number >= 0)'),
  v.minValue(0, 'must be a time in ms since the epoch (a finite number >= 0)'),
  v.maxValue(Number.MAX_SAFE_INTEGER, 'must be a time in ms since the epoch (a finite number >= 0)'),
  v.transform(Math.trunc),
);
export const StoreSessionIdSchema = v.pipe(
  v.string(`must be a string of 1 to ${MAX_SESSION_ID_CHARS} characters`),
  v.minLength(1, `must be a string of 1 to ${MAX_SESSION_ID_CHARS} characters`),
  v.maxLength(MAX_SESSION_ID_CHARS, `must be a string of 1 to ${MAX_SESSION_ID_CHARS} characters`),
);
export const UpdateKindSchema = v.pipe(v.string('must be 1 to 64 of A-Z a-z 0-9 . _ : -'), v.regex(KIND_PATTERN, 'must be 1 to 64 of A-Z a-z 0-9 . _ : -'));

/** A recording to start. */
export const StartRecordingRequestSchema = record({ sessionId: StoreSessionIdSchema, name: RecordingNameSchema, startedAtMs: EpochMsSchema });
export type StartRecordingRequest = v.InferOutput<typeof StartRecordingRequestSchema>;

/** One update of a session, as appended (payload: any JSON-serialisable value) and as read back. */
export const RecordedUpdateSchema = record({ tMs: EpochMsSchema, kind: UpdateKindSchema, payload: v.unknown() });
export interface RecordedUpdate {
  /** When the update was sent, ms since the epoch (stored as whole ms; fractions are truncated). */
  tMs: number;
  /** What it is: 'profile.interval', 'latency.frame', 'events.batch', … (see KIND_PATTERN). */
  kind: string;
  /** Any JSON-serialisable value; read back as JSON.parse gives it. */
  payload: unknown;
}

/** Which updates to read: at or after `fromMs`, at or before `toMs` (ms since the epoch), of these kinds (empty: none). */
export const ReadUpdatesOptionsSchema = record({
  fromMs: v.optional(v.number('must be a number (ms since the epoch)')),
  toMs: v.optional(v.number('must be a number (ms since the epoch)')),
  kinds: v.optional(v.array(UpdateKindSchema, 'must be an array of strings')),
});
export interface ReadUpdatesOptions {
  fromMs?: number;
  toMs?: number;
  kinds?: readonly string[];
}

/** A snapshot to pin (payload: any JSON-serialisable value). */
export const PinSnapshotRequestSchema = record({
  sessionId: StoreSessionIdSchema,
  name: RecordingNameSchema,
  kind: v.picklist(SNAPSHOT_KINDS, `must be one of ${SNAPSHOT_KINDS.join(', ')}`),
  takenAtMs: EpochMsSchema,
  payload: v.unknown(),
});
export type PinSnapshotRequest = v.InferOutput<typeof PinSnapshotRequestSchema>;

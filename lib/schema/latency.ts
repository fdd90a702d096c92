/**
 * The latency part of the wire protocol (hub feature server/hub/latency.ts <-> the dashboard's
 * latency section): `latency:add`, `latency:remove`, `latency:probes`, `latency:frame`.
 * lib/protocol-latency.ts re-exports the types. All durations are nanoseconds.
 *
 * A spec is parsed with the grammar the collector uses (lib/probe-spec.ts), so a malformed one
 * is refused with the parser's message before anything touches the kernel; what only the server
 * can know (missing binary, symbol, pid, kernel feature) is checked when the probe is opened.
 */
import { formatProbeSpec, parseProbeSpec } from '../probe-spec.ts';
import { MAX_SUB_BUCKETS, MIN_SUB_BUCKETS } from '../histogram.ts';
import type { LatencyProbeFrame } from '../latency-view.ts';
import * as v from 'valibot';
import { isPlainObject, PROBE_ID, record, wholeMessage, wholeNumber } from './core.ts';
import { commSchema, PidSchema } from './view.ts';

/** Most latency probes live at once on one server (a further add is refused). */
export const MAX_LATENCY_PROBES = 16;
/** Longest spec text accepted, characters. */
export const MAX_SPEC_LENGTH = 512;

/** A probe spec text, checked by the probe grammar and given back in canonical form. */
export const ProbeSpecTextSchema = v.pipe(
  v.string('must be a non-empty string, e.g. uprobe:c:malloc'),
  v.check((spec: string) => spec.trim() !== '', 'must be a non-empty string, e.g. uprobe:c:malloc'),
  v.check((spec: string) => spec.length <= MAX_SPEC_LENGTH, `is longer than ${MAX_SPEC_LENGTH} characters`),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const text = dataset.value.trim();
    const parsed = parseProbeSpec(text);
    if (parsed.ok) return formatProbeSpec(parsed.spec);
    addIssue({ message: wholeMessage(`bad probe spec "${text}": ${parsed.error.message} (at character ${parsed.error.position + 1})`) });
    return NEVER;
  }),
);

/** Linear parts per log2 bucket: percentiles within 1/N of the truth. */
export const SubBucketsSchema = wholeNumber(MIN_SUB_BUCKETS, MAX_SUB_BUCKETS);

/** `latency:add`. Absent, null (and for comm '') filters mean none; `spec` comes back canonical. */
export const LatencyAddRequestSchema = v.pipe(
  record({
    /** A probe spec (lib/probe-spec.ts grammar), e.g. `uprobe:c:malloc`. */
    spec: ProbeSpecTextSchema,
    /** Only this process (tgid); it must exist. */
    pid: v.nullish(PidSchema),
    /** Only threads with this command name (at most 15 bytes). */
    comm: v.nullish(commSchema({ emptyAllowed: true })),
    /** Linear parts per log2 bucket, 1..16 (default 8). */
    subBuckets: v.nullish(SubBucketsSchema),
  }, 'takes {spec, pid?, comm?, subBuckets?}'),
  v.transform(({ spec, pid, comm, subBuckets }) => ({
    spec,
    ...(pid != null && { pid }),
    ...(comm != null && comm !== '' && { comm }),
    ...(subBuckets != null && { subBuckets }),
  })),
);
export type LatencyAddRequest = v.InferOutput<typeof LatencyAddRequestSchema>;

/** `latency:remove`. */
export const LatencyRemoveRequestSchema = record({ id: v.pipe(v.string('must be a probe id such as "lat-1"'), v.regex(PROBE_ID, 'must be a probe id such as "lat-1"')) }, 'takes {id}');
export type LatencyRemoveRequest = v.InferOutput<typeof LatencyRemoveRequestSchema>;

/** Value of a successful `latency:add` acknowledgement. */
export const LatencyAddedSchema = v.object({ id: v.string(), /** Canonical spec text. */ spec: v.string() });
export type LatencyAdded = v.InferOutput<typeof LatencyAddedSchema>;

/**
 * running: attached and read every interval.
 * stale: still attached, but the traced binary was deleted or replaced (it watches the old file).
 * ended: detached by the server (the traced process exited, or reading failed); `error` says why.
 *        Its last frame stays visible until a viewer removes it.
 */
export const LatencyProbeStateSchema = v.picklist(['running', 'stale', 'ended']);
export type LatencyProbeState = v.InferOutput<typeof LatencyProbeStateSchema>;

/** One probe in `latency:probes`. */
export const LatencyProbeInfoSchema = v.object({
  /** Server-assigned id (`lat-N`), stable while the probe is listed. */
  id: v.string(),
  /** Canonical spec text. */
  spec: v.string(),
  /** The `--pid` filter, or null. */
  pid: v.nullable(v.number()),
  /** The `--comm` filter, or null. */
  comm: v.nullable(v.string()),
  /** Linear parts per log2 bucket the probe counts; absent in recordings made before it existed. */
  subBuckets: v.optional(v.number()),
  state: LatencyProbeStateSchema,
  /** Why the probe is stale or ended; null while running. */
  error: v.nullable(v.string()),
  /** Wall-clock ms since the epoch when it was added. */
  addedAtMs: v.number(),
});
export type LatencyProbeInfo = v.InferOutput<typeof LatencyProbeInfoSchema>;

/** `latency:probes`: the whole list, sent on connection and on every change. */
export const LatencyProbeListSchema = v.object({
  probes: v.array(LatencyProbeInfoSchema),
  /** Most live (running or stale) probes at once. */
  max: v.number(),
});
export type LatencyProbeList = v.InferOutput<typeof LatencyProbeListSchema>;

/**
 * One probe's picture. Its fields (histograms, heatmap columns, misses) are built by the
 * aggregator and typed in lib/latency-view.ts, which the aggregator and the UI share; on the
 * wire it is checked to be an object with an id (the server is its only sender).
 */
export const LatencyProbeFrameSchema = v.custom<LatencyProbeFrame>(
  (value) => isPlainObject(value) && typeof value.id === 'string' && typeof value.spec === 'string',
  'must be a latency probe frame {id, spec, …}',
);

/** `latency:frame`: one probe's picture, flow-controlled per probe; `seq` 1, 2, 3… per connection and probe. */
export const LatencyFrameMessageSchema = v.intersect([LatencyProbeFrameSchema, v.object({ seq: v.number() })]);
export type LatencyFrameMessage = LatencyProbeFrame & { seq: number };

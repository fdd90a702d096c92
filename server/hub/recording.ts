/**
 * What recordings hold and how a flame graph is rebuilt from them (hub, HTTP and CLI share it).
 *
 * A session's recording stores, in time order:
 * - `profile.interval`: one interval per sampling interval (names, not addresses), so a replay
 *   or a compare needs neither root nor the processes that were sampled; stored interned
 *   (RecordedInterval, server/aggregator/interned.ts: each frame and stack once per interval),
 *   read with intervalOfRecord (which also reads the plain SymbolizedInterval of older recordings);
 * - `profile.status`: the sampling settings whenever they change;
 * - `latency.probes` / `latency.frame`: the probe list on change and each probe's frame;
 * - `events.probes` / `events.rows`: the probe list on change and each batch of new rows.
 */
import type { FlameNode, ViewSettings } from '../../lib/protocol.ts';
import type { RecordingRange } from '../../lib/schema/recording.ts';
import { ProfileWindow } from '../aggregator/profile-window.ts';
import { intervalOfRecord } from '../symbolizer/interned.ts';
import type { RecordingStore } from '../recording/store.ts';
import { RequestError } from './feature.ts';

export const PROFILE_INTERVAL = 'profile.interval';
export const PROFILE_STATUS = 'profile.status';
export const LATENCY_PROBES = 'latency.probes';
export const LATENCY_FRAME = 'latency.frame';
export const EVENTS_PROBES = 'events.probes';
export const EVENTS_ROWS = 'events.rows';

export type { RecordingRange, ReplayControl } from '../../lib/schema/recording.ts';

/** What a caller that must bound the work (the hub's compare worker) adds to flameOfRecording. */
export interface FlameOfRecordingLimits {
  /**
   * Called after each profile interval read, with the update's time (ms since the epoch). It may
   * throw to stop the build (e.g. past a limit of intervals); the error goes to the caller.
   */
  onInterval?(tMs: number): void;
  /**
   * Refuse, with a RequestError naming the limit, a tree that would hold more than this many
   * nodes (root included) instead of pruning it to `maxNodes`.
   */
  maxResultNodes?: number;
}

/**
 * The flame graph of the profile intervals recorded in `range` (intervals that ended inside it),
 * for one view (its window is ignored: the range is the window). Totals are exact (no pruning
 * unless `maxNodes` is given).
 */
export function flameOfRecording(
  store: RecordingStore,
  recordingId: string,
  range: RecordingRange | null,
  view: ViewSettings,
  maxNodes = 1_000_000,
  limits: FlameOfRecordingLimits = {},
): { tree: FlameNode; totalSamples: number; intervals: number; windowStartMs: number; windowEndMs: number } {
  const info = store.getRecording(recordingId);
  // Exact for every stack of the range (no folding of older stacks): this window lives for one request.
  const window = new ProfileWindow({ maxColdStacks: Infinity });
  let intervals = 0;
  let lastEndMs = info.startedAtMs;
  const bounds = range === null ? {} : { fromMs: info.startedAtMs + range.fromMs, toMs: info.startedAtMs + range.toMs };
  for (const update of store.readUpdates(recordingId, { ...bounds, kinds: [PROFILE_INTERVAL] })) {
    const interval = intervalOfRecord(update.payload);
    window.push(interval);
    lastEndMs = Math.max(lastEndMs, interval.endMs);
    intervals++;
    limits.onInterval?.(update.tMs);
  }
  const nodeLimit = limits.maxResultNodes;
  const built = window.build({ ...view, window: 'all' }, lastEndMs, { maxNodes: nodeLimit ?? maxNodes, minFraction: 0 });
  // Pruning happens only when the whole tree would not fit in the node budget.
  if (nodeLimit !== undefined && built.prunedSamples > 0) {
    throw new RequestError(`this flame graph would hold more than ${nodeLimit} nodes (the limit of one compared window): choose shorter windows or a view that merges more (e.g. without per-thread stacks)`);
  }
  // Bounds of the intervals read (ms since the epoch): pprof's time and duration.
  return { tree: built.tree, totalSamples: built.totalSamples, intervals, windowStartMs: built.windowStartMs, windowEndMs: built.windowEndMs };
}

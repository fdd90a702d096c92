/**
 * One `compare:windows` job as the compare worker runs it (./compare-worker.ts is the thread's
 * entry; this module is plain code so tests can also run a job in process).
 *
 * Guarantees:
 * - The trees are exactly flameOfRecording's (server/hub/recording.ts) for the same ranges and
 *   view: the job calls it, adding only a count of intervals and a node limit.
 * - Bounded: more than `maxIntervals` profile intervals (both windows together) stop the read at
 *   the first interval past the limit; a tree of more than `maxResultNodes` nodes is refused
 *   rather than sent. Either refusal is one line naming the limit.
 * - Progress is reported in ms of recording time read, over both windows (each clipped to the
 *   part of the recording that exists): first `done: 0`, then at most every `progressEveryMs`
 *   ms, then `done: total` once everything is read (the trees are built after that).
 */
import type { ViewSettings } from '../../../lib/protocol.ts';
import type { CompareWindowsReply } from '../../../lib/protocol-session.ts';
import type { RecordingStore } from '../../recording/store.ts';
import { RequestError } from '../feature.ts';
import { flameOfRecording, type RecordingRange } from '../recording.ts';

export interface CompareLimits {
  /** Most profile intervals read for one comparison, both windows together. */
  maxIntervals: number;
  /** Most nodes in one compared tree, root included. */
  maxResultNodes: number;
}

export interface CompareJob extends CompareLimits {
  /** Path of the recordings database (the worker opens it read-only). */
  databaseFile: string;
  recordingId: string;
  before: RecordingRange;
  after: RecordingRange;
  view: ViewSettings;
  /** Least ms between two progress messages (wall clock, in the worker). */
  progressEveryMs: number;
}

/** Progress in ms of recording time read (both windows together). */
export interface CompareProgress {
  done: number;
  total: number;
}

export type CompareWorkerMessage =
  | ({ type: 'progress' } & CompareProgress)
  /**
   * The reply as JSON text: the hub parses it once (JSON.parse of the text costs the event loop
   * about half what receiving the same trees as a structured clone does, measured at 100k-270k
   * nodes).
   */
  | { type: 'result'; json: string }
  | { type: 'refused'; error: string };

/** The refusal of a comparison that reads too many intervals. */
export function tooManyIntervals(maxIntervals: number): string {
  return `this comparison reads more than ${maxIntervals} profile intervals (the limit, both windows together; one interval per second by default): choose shorter windows`;
}

/**
 * Runs `job` against `store` (opened by the caller), calling `progress` as it reads. Throws a
 * RequestError for a refusal, or the store's error (e.g. an unknown recording).
 */
export function runCompareJob(
  store: RecordingStore,
  job: Omit<CompareJob, 'databaseFile'>,
  progress: (update: CompareProgress) => void,
  clockMs: () => number = () => performance.now(),
): CompareWindowsReply {
  const info = store.getRecording(job.recordingId);
  // ms from the recording's start to its newest update: the part of a range that can hold data.
  const lengthMs = Math.max(0, (info.lastUpdateAtMs ?? info.startedAtMs) - info.startedAtMs);
  const span = (range: RecordingRange) => Math.max(0, Math.min(range.toMs, lengthMs) - range.fromMs);
  const total = span(job.before) + span(job.after);
  let intervals = 0;
  let lastReportMs = clockMs();
  progress({ done: 0, total });
  const side = (range: RecordingRange, doneBefore: number) =>
    flameOfRecording(store, job.recordingId, range, job.view, undefined, {
      maxResultNodes: job.maxResultNodes,
      onInterval: (tMs) => {
        if (++intervals > job.maxIntervals) throw new RequestError(tooManyIntervals(job.maxIntervals));
        const at = clockMs();
        if (at - lastReportMs < job.progressEveryMs) return;
        lastReportMs = at;
        const into = Math.min(span(range), Math.max(0, tMs - info.startedAtMs - range.fromMs));
        progress({ done: doneBefore + into, total });
      },
    });
  const before = side(job.before, 0);
  const after = side(job.after, span(job.before));
  progress({ done: total, total });
  return { before, after };
}

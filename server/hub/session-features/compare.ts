/**
 * Window comparison as a hub-level feature: `compare:windows` (operator-only) returns the flame
 * graphs of two time ranges of one recording, built from its profile intervals.
 *
 * Guarantees:
 * - Off the event loop: the read and both builds run in a worker thread (./compare-worker.ts)
 *   that opens the database read-only; every other session keeps being served meanwhile. The
 *   trees are exactly what flameOfRecording builds synchronously (./compare-job.ts).
 * - Bounded: at most `maxIntervals` profile intervals read (both windows together) and
 *   `maxResultNodes` nodes per tree, `maxWorkerHeapMb` MB of heap per worker, else a one-line
 *   refusal naming the limit; at most `maxRunning` comparisons at once on the server (each
 *   holds a thread and its trees).
 * - Progress: while it works the requesting socket gets `compare:progress {requestId, done,
 *   total}` (ms of recording time read, both windows together; at most one per
 *   PROGRESS_EVERY_MS, plus the first and the last); `requestId` numbers this hub's comparisons
 *   (1, 2, …). The final ack carries the result, as before.
 * - Closing the hub answers every running comparison with the reason, then stops its worker.
 */
import { Worker } from 'node:worker_threads';
import { DEFAULT_VIEW } from '../../../lib/protocol.ts';
import type { CompareWindowsReply } from '../../../lib/protocol-session.ts';
import { BUNDLED } from '../../bundled.ts';
import { RequestError } from '../feature.ts';
import type { CompareJob, CompareLimits, CompareProgress, CompareWorkerMessage } from './compare-job.ts';
import type { HubLevelFeatureFactory } from './feature.ts';

export interface CompareFeatureLimits extends CompareLimits {
  /** Most comparisons running at once on the server (one worker thread each). */
  maxRunning: number;
  /** MB of JavaScript heap (V8's old generation) one worker may use; past it the comparison is refused. */
  maxWorkerHeapMb: number;
}

/**
 * Defaults. 20,000 intervals is 5.5 hours of recording at the default read interval (1 s),
 * both windows together. 100,000 nodes per tree (about 6 MB of JSON) is ten times what the
 * dashboard's live trees are pruned to (10,000) and still bounds what stays on the event loop:
 * parsing the worker's reply and socket.io encoding it are O(nodes) on the main thread (about
 * 0.4 s each for 100k nodes on this 2-CPU machine under a load of 19; 270k nodes took twice that).
 */
export const COMPARE_LIMITS: CompareFeatureLimits = { maxIntervals: 20_000, maxResultNodes: 100_000, maxRunning: 2, maxWorkerHeapMb: 512 };

/** Least ms between two `compare:progress` messages to one socket. */
export const PROGRESS_EVERY_MS = 100;

/**
 * Bundled (dist/, what users run): dist/compare-worker.js, an entry of scripts/build.mjs, plain
 * JavaScript. From the sources (tests): the TypeScript entry under the tsx loader.
 */
const WORKER_ENTRY = BUNDLED ? new URL('../../../dist/compare-worker.js', import.meta.url) : new URL('./compare-worker.ts', import.meta.url);

/**
 * A worker for the entry. Under tsx, a worker's `--import tsx` does not register the loader on
 * Node 20 (the entry fails with 'Unknown file extension ".ts"'), so a small script registers
 * tsx's ESM hooks in the thread first, then imports the entry.
 */
function startWorker(job: CompareJob, maxHeapMb: number): Worker {
  // A heap of many stacks (before the node limit can be checked) ends this thread, not the server.
  const resourceLimits = { maxOldGenerationSizeMb: maxHeapMb };
  if (BUNDLED) return new Worker(WORKER_ENTRY, { workerData: job, resourceLimits });
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER_ENTRY.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: job, resourceLimits });
}

export function compareFeature(limits: Partial<CompareFeatureLimits> = {}): HubLevelFeatureFactory {
  const { maxIntervals, maxResultNodes, maxRunning, maxWorkerHeapMb } = { ...COMPARE_LIMITS, ...limits };
  return (hub) => {
    /** Running workers, each with the refusal of its request (used when the hub closes). */
    const running = new Map<Worker, (reason: string) => void>();
    let lastRequestId = 0;

    const runInWorker = (job: CompareJob, progress: (update: CompareProgress) => void): Promise<CompareWindowsReply> =>
      new Promise((resolve, reject) => {
        const worker = startWorker(job, maxWorkerHeapMb);
        let settled = false;
        // A worker counts as running until its answer is in (its thread then exits on its own).
        const settle = (outcome: () => void) => {
          if (settled) return;
          settled = true;
          running.delete(worker);
          outcome();
        };
        running.set(worker, (reason) => settle(() => reject(new RequestError(reason))));
        worker.on('message', (message: CompareWorkerMessage) => {
          if (message.type === 'progress') {
            if (!settled) progress({ done: message.done, total: message.total });
          } else if (message.type === 'result') settle(() => resolve(JSON.parse(message.json) as CompareWindowsReply));
          else settle(() => reject(new RequestError(message.error)));
        });
        worker.on('error', (error: Error & { code?: string }) => {
          const reason =
            error.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? `the comparison needed more than ${maxWorkerHeapMb} MB of memory (the limit of one comparison): choose shorter windows`
              : `the comparison failed: ${error.message}`;
          settle(() => reject(new RequestError(reason)));
        });
        worker.on('exit', (code) => {
          settle(() => reject(new RequestError(`the comparison stopped before it finished (worker exit code ${code})`)));
        });
      });

    return {
      close: async () => {
        const workers = [...running];
        // Answered before the connections close (the hub closes them after its features).
        for (const [, refuse] of workers) refuse('the comparison stopped: the server is closing');
        await Promise.all(workers.map(([worker]) => worker.terminate()));
      },
      handlers: {
        'compare:windows': (socket, _session, payload) => {
          // Checked by the hub against lib/schema/recording.ts CompareWindowsRequestSchema.
          const request = payload;
          const view = request.view ?? { ...DEFAULT_VIEW, window: 'all' as const };
          const { before, after } = request;
          let databaseFile: string;
          try {
            const store = hub.store();
            // An unknown recording is refused here, at once; the worker reads what is flushed.
            store.getRecording(request.recordingId);
            store.flush();
            databaseFile = store.file;
          } catch (error) {
            throw new RequestError((error as Error).message);
          }
          if (running.size >= maxRunning) throw new RequestError(`at most ${maxRunning} comparisons run at once on this server: try again when one has finished`);
          const requestId = ++lastRequestId;
          const job: CompareJob = { databaseFile, recordingId: request.recordingId, before, after, view, maxIntervals, maxResultNodes, progressEveryMs: PROGRESS_EVERY_MS };
          return runInWorker(job, (progress) => socket.emit('compare:progress', { requestId, ...progress }));
        },
      },
    };
  };
}

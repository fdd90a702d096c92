/**
 * The compare worker thread's entry: runs one CompareJob (workerData) against the recordings
 * database opened read-only by path, posts CompareWorkerMessages, and exits.
 *
 * Why by path rather than rows sent by the hub: reading the rows (SQLite pages, inflate,
 * JSON.parse) is much of a compare's cost; here all of it happens off the event loop, and no
 * row is copied between threads. SQLite's WAL lets this reader run beside the hub's writer; the
 * hub flushes its buffered rows before it starts the worker, so a running recording is read
 * up to the request.
 *
 * Built as its own entry (scripts/build.mjs: dist/compare-worker.js); under tsx it runs as
 * TypeScript (./compare.ts starts it with the tsx loader).
 */
import { parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';
import { RecordingStore } from '../../recording/store.ts';
import { runCompareJob, type CompareJob, type CompareWorkerMessage } from './compare-job.ts';

const job = workerData as CompareJob;
const post = (message: CompareWorkerMessage) => parentPort!.postMessage(message);

let store: RecordingStore | null = null;
try {
  store = RecordingStore.open(path.dirname(job.databaseFile), { readOnly: true });
  const reply = runCompareJob(store, job, (progress) => post({ type: 'progress', ...progress }));
  post({ type: 'result', json: JSON.stringify(reply) });
} catch (error) {
  post({ type: 'refused', error: error instanceof Error ? error.message : String(error) });
} finally {
  store?.close();
}

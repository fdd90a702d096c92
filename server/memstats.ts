/**
 * Memory diagnostics for benchmarks: with PROBEBOARD_MEMSTATS=1 in the environment, a process
 * writes one line of process.memoryUsage() (MB) to stderr every 10 s, named by its role
 * (`web`, `collector`), so bench/steady can tell which process holds what. With
 * PROBEBOARD_MEMSTATS=gc it first runs a full garbage collection (through the inspector
 * protocol, no V8 flag needed), so heapUsed is the live set rather than live + garbage.
 * With PROBEBOARD_HEAPSNAPSHOT_DIR=DIR as well, it writes DIR/ROLE-PID-SECONDS.heapsnapshot
 * after 60 s and after 240 s (what grew in between: compare the two). Off by default.
 */
import { Session } from 'node:inspector';
import path from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

const INTERVAL_MS = 10_000;

/** Starts the periodic line when PROBEBOARD_MEMSTATS is 1 or gc; the timer never keeps the process alive. */
export function startMemStats(role: string): void {
  const mode = process.env.PROBEBOARD_MEMSTATS;
  if (mode !== '1' && mode !== 'gc') return;
  const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
  let session: Session | null = null;
  if (mode === 'gc') {
    session = new Session();
    session.connect();
  }
  const write = () => {
    const m = process.memoryUsage();
    process.stderr.write(
      `memstats ${role} pid ${process.pid}: rss ${mb(m.rss)} heapUsed ${mb(m.heapUsed)} heapTotal ${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} MB\n`,
    );
  };
  const timer = setInterval(() => (session ? session.post('HeapProfiler.collectGarbage', write) : write()), INTERVAL_MS);
  const snapshotDir = process.env.PROBEBOARD_HEAPSNAPSHOT_DIR;
  if (snapshotDir) {
    for (const seconds of [60, 240]) {
      setTimeout(() => writeHeapSnapshot(path.join(snapshotDir, `${role}-${process.pid}-${seconds}.heapsnapshot`)), seconds * 1000).unref();
    }
  }
  timer.unref();
}

/**
 * Memory diagnostics for benchmarks: with PROBEBOARD_MEMSTATS=1 in the environment, a process
 * writes one line of process.memoryUsage() (MB) to stderr every 10 s, named by its role
 * (`web`, `collector`), so bench/steady can tell which process holds what. Off by default.
 */
const INTERVAL_MS = 10_000;

/** Starts the periodic line when PROBEBOARD_MEMSTATS=1; the timer never keeps the process alive. */
export function startMemStats(role: string): void {
  if (process.env.PROBEBOARD_MEMSTATS !== '1') return;
  const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    process.stderr.write(
      `memstats ${role} pid ${process.pid}: rss ${mb(m.rss)} heapUsed ${mb(m.heapUsed)} heapTotal ${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} MB\n`,
    );
  }, INTERVAL_MS);
  timer.unref();
}

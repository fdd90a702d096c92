/**
 * How a CLI command that runs until told to stop waits (profile, events): resolves after
 * `durationS` seconds (if given), on the first SIGINT/SIGTERM, or when `stopped` resolves,
 * whichever comes first; its signal handlers and timer are gone by then.
 */
export function untilStopped(durationS: number | undefined, stopped?: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = durationS === undefined ? undefined : setTimeout(done, durationS * 1000);
    function done() {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    }
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    void stopped?.then(done);
  });
}

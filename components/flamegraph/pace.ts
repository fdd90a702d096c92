/**
 * Pacing of live updates. Drawing every frame at least 1 px wide (budget.ts) can take longer than
 * the interval between live updates (about 1 s) on a busy machine: 2,500 SVG frames took 1.3 to
 * 2.8 s per update in the e2e run under a load average of 10. Drawn back to back, the page's main
 * thread never idles and clicks wait for seconds. So after a draw that took P ms, the next live
 * update waits until P ms have passed since it painted (the newest tree wins; the ones between are
 * skipped): drawing takes at most about half of the main thread. Under 1 s intervals and draws of
 * tens of ms this never delays anything. Zoom, search and orientation changes are not paced.
 */

/** The last live update drawn: when its paint ended and how long it took, ms (performance.now()). */
export interface LastDraw {
  paintedAtMs: number;
  paintMs: number;
}

/** How long to wait before drawing the next live update, ms (0: draw now). */
export function paceDelayMs(last: LastDraw | null, nowMs: number): number {
  if (last === null) return 0;
  return Math.max(0, last.paintedAtMs + last.paintMs - nowMs);
}

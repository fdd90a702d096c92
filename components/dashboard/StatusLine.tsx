'use client';
/** One line on how complete and how fresh the picture is. Lost stacks are shown, not hidden. */
import { formatClock, formatCount, formatPercent, formatRate } from '../../lib/format.ts';
import type { ProfileFrame, StackErrorCounts } from '../../lib/protocol.ts';
import { TEST_IDS } from '../../lib/test-ids.ts';
import { SVG_MIN_PX } from '../flamegraph/budget.ts';
import { formatMicros } from '../../lib/profile-units.ts';

const sum = (c: StackErrorCounts) => c.collision + c.fault + c.other;
const describe = (c: StackErrorCounts) => `${c.collision} collisions (-EEXIST), ${c.fault} faults (-EFAULT), ${c.other} other`;

function Item({ label, testId, title, warn, children }: { label: string; testId: string; title?: string; warn?: boolean; children: React.ReactNode }) {
  return (
    <span className="whitespace-nowrap" title={title}>
      <span className="text-slate-500">{label} </span>
      <span data-testid={testId} className={warn ? 'text-amber-300' : 'text-slate-200'}>
        {children}
      </span>
    </span>
  );
}

export function StatusLine({
  frame,
  cpus,
  shownSeq,
  drawn,
  paintMs,
}: {
  frame: ProfileFrame | null;
  cpus: number | null;
  shownSeq: number | null;
  /** Frames on screen, SVG + canvas (frames under 1 px are left out: components/flamegraph/budget.ts). */
  drawn: number | null;
  /** Time the last update took to reach the screen, ms. */
  paintMs: number | null;
}) {
  if (!frame) {
    return (
      <div data-testid={TEST_IDS.statusLine} className="text-xs text-slate-500">
        No data yet.
      </div>
    );
  }
  const seconds = Math.max(0.001, (frame.windowEndMs - frame.windowStartMs) / 1000);
  const h = frame.health;
  const userLost = sum(h.userStackErrors);
  const kernelLost = sum(h.kernelStackErrors);
  const lost = userLost + kernelLost + h.droppedSamples;
  // offcpu and wall widths are µs of time: the total is time, and time per second of window
  // is how many threads were (on average) blocked, or running and blocked, at once.
  const time = frame.unit === 'us';
  const type = frame.settings.type ?? 'cpu';
  const amount = (v: number) => (time ? formatMicros(v) : formatCount(v));
  return (
    <div data-testid={TEST_IDS.statusLine} data-unit={frame.unit} className="flex flex-wrap gap-x-5 gap-y-1 font-mono text-xs">
      {time ? (
        <Item label={type === 'offcpu' ? 'off-CPU time' : 'time'} testId={TEST_IDS.totalSamples} title={`${type === 'offcpu' ? 'blocked time' : 'on- and off-CPU time'} of the threads sampled, summed, in the window (${seconds.toFixed(1)} s)`}>
          {formatMicros(frame.totalSamples)}
        </Item>
      ) : (
        <Item label="samples" testId={TEST_IDS.totalSamples} title={`in the window (${seconds.toFixed(1)} s)`}>
          {formatCount(frame.totalSamples)}
        </Item>
      )}
      {time ? (
        <Item label="threads" testId={TEST_IDS.sampleRate} title="time per second of window: the average number of threads counted at once">
          {(frame.totalSamples / 1e6 / seconds).toFixed(2)}
        </Item>
      ) : (
        <Item label="rate" testId={TEST_IDS.sampleRate} title="samples per second over the window">
          {formatRate(frame.totalSamples / seconds)}
        </Item>
      )}
      <Item label="CPUs" testId={TEST_IDS.cpus}>
        {cpus ?? '–'}
      </Item>
      <Item
        label="lost stacks"
        testId={TEST_IDS.lostStacks}
        warn={lost > 0}
        title={`user stacks: ${describe(h.userStackErrors)}\nkernel stacks: ${describe(h.kernelStackErrors)}\nsamples dropped in the kernel (counts map full): ${h.droppedSamples}\nframes with no symbol: ${h.unknownFrames}`}
      >
        user {formatCount(userLost)} · kernel {formatCount(kernelLost)} · dropped {formatCount(h.droppedSamples)}
      </Item>
      <Item
        label="pruned"
        testId={TEST_IDS.prunedSamples}
        title={`${time ? 'time' : 'samples'} in frames too narrow to draw, folded into [pruned]`}
      >
        {amount(frame.prunedSamples)} ({formatPercent(frame.prunedSamples, frame.totalSamples)})
      </Item>
      <Item
        label="nodes"
        testId={TEST_IDS.nodeCount}
        title={`nodes received in this update; drawn: frames on screen, every frame at least 1 px wide (d3-flame-graph's SVG for frames of ${SVG_MIN_PX} px and more, a canvas under it for the thinner ones); frames under 1 px are not drawn`}
      >
        {formatCount(frame.nodeCount)}
        {drawn !== null && drawn < frame.nodeCount ? ` (${formatCount(drawn)} drawn)` : ''}
      </Item>
      <Item label="updated" testId={TEST_IDS.lastUpdate} title={`frame #${frame.seq}`}>
        {formatClock(frame.sampledAtMs)}
      </Item>
      {paintMs !== null && (
        <Item label="drawn in" testId={TEST_IDS.drawTime} title="time to apply the last update and paint it">
          {Math.round(paintMs)} ms
        </Item>
      )}
      <span className="sr-only" data-testid={TEST_IDS.frameSeq}>
        {shownSeq ?? ''}
      </span>
    </div>
  );
}

'use client';
/**
 * Hover card for a frame: name, kind, width and share of the whole window. Widths are samples
 * (cpu) or µs of time (offcpu, wall), shown as µs/ms/s; off-CPU frames also show how many
 * blocking events (switch-out to switch-in) make up their blocked time.
 */
import { formatCount, formatPercent } from '../../lib/format.ts';
import { formatMicros } from '../../lib/profile-units.ts';
import type { FrameKind, ProfileUnit } from '../../lib/protocol.ts';
import { TEST_IDS } from '../../lib/test-ids.ts';
import type { HoverInfo } from './chart.ts';

const KIND_LABEL: Record<FrameKind, string> = {
  u: 'user',
  k: 'kernel',
  j: 'JIT',
  p: 'process',
  x: 'synthetic',
  o: 'off-CPU',
};

export function FlameTooltip({ info, x, y, unit = 'samples' }: { info: HoverInfo; x: number; y: number; unit?: ProfileUnit }) {
  const amount = unit === 'us' ? formatMicros : formatCount;
  // Keep the card inside the viewport: flip to the left/top near the right/bottom edge.
  const vw = typeof window === 'undefined' ? 1920 : window.innerWidth;
  const vh = typeof window === 'undefined' ? 1080 : window.innerHeight;
  const style: React.CSSProperties = {
    left: x + 14 + 360 > vw ? undefined : x + 14,
    right: x + 14 + 360 > vw ? vw - x + 14 : undefined,
    top: y + 16 + 110 > vh ? undefined : y + 16,
    bottom: y + 16 + 110 > vh ? vh - y + 8 : undefined,
  };
  return (
    <div
      data-testid={TEST_IDS.tooltip}
      role="tooltip"
      style={style}
      className="pointer-events-none fixed z-50 max-w-[360px] rounded-md border border-slate-600 bg-slate-900/95 px-3 py-2 text-xs text-slate-100 shadow-xl"
    >
      <div className="break-all font-mono text-[12px] font-semibold">{info.name}</div>
      <div className="mt-1 grid grid-cols-[auto_1fr] gap-x-3 text-slate-300">
        {info.kind && (
          <>
            <span className="text-slate-400">kind</span>
            <span>{KIND_LABEL[info.kind]}</span>
          </>
        )}
        <span className="text-slate-400">{unit === 'us' ? 'time' : 'samples'}</span>
        <span data-testid={TEST_IDS.tooltipValue} data-unit={unit}>
          {amount(info.samples)} ({formatPercent(info.samples, info.totalSamples)} of all)
        </span>
        <span className="text-slate-400">self</span>
        <span>
          {amount(info.selfSamples)} ({formatPercent(info.selfSamples, info.totalSamples)})
        </span>
        {unit === 'us' && info.events !== undefined && info.events > 0 && (
          <>
            <span className="text-slate-400">blocked</span>
            <span data-testid={TEST_IDS.tooltipEvents} data-events={info.events}>
              {formatCount(info.events)} blocking event{info.events === 1 ? '' : 's'}
            </span>
          </>
        )}
      </div>
    </div>
  );
}

'use client';
/**
 * The dashboard's latency section: add a probe (spec checked as you type; the server's refusal
 * shows next to the field), then one panel per shared probe with its live histogram,
 * percentiles and heatmap. Probes are shared by every viewer.
 */
import type { ProfileSession } from '../session/useProfileSession.ts';
import { useLatencyProbes } from '../session/useLatencyProbes.ts';
import { emptyProbeFrame, type LatencyProbeFrame } from '../../lib/latency-view.ts';
import type { LatencyProbeInfo } from '../../lib/protocol-latency.ts';
import { LATENCY_TEST_IDS, SESSION_TEST_IDS } from '../../lib/test-ids.ts';
import { LatencyPanel } from './LatencyPanel.tsx';
import { ProbeSpecInput } from './ProbeSpecInput.tsx';

/** What a probe shows before its first read arrives. */
function emptyFrame(info: LatencyProbeInfo): LatencyProbeFrame {
  return emptyProbeFrame(info.id, info.spec);
}

export function LatencySection({
  session,
  connected,
  canControl = true,
  sessionId,
  canPin = false,
}: {
  session: Pick<ProfileSession, 'subscribe' | 'send'>;
  connected: boolean;
  /** False for a read-only viewer link: probes are shown, not added or removed. */
  canControl?: boolean;
  /** The session, for each probe's exports. */
  sessionId?: string;
  /** Operators (also in a replay): pin histograms as snapshots. */
  canPin?: boolean;
}) {
  const { list, frames, add, remove } = useLatencyProbes(session);
  const probes = list?.probes ?? [];
  const live = probes.filter((p) => p.state !== 'ended').length;

  return (
    <section aria-label="Latency probes" data-testid={LATENCY_TEST_IDS.section} className="flex flex-col gap-4 rounded-lg border border-slate-700 bg-slate-900/40 p-4">
      <div className="flex items-baseline gap-3">
        <h2 className="text-sm font-semibold text-slate-100">Latency</h2>
        <span data-testid={LATENCY_TEST_IDS.probeCount} data-count={live} className="text-xs text-slate-500">
          {list ? `${live} of ${list.max} probes live · shared with every viewer` : 'probes shared with every viewer'}
        </span>
      </div>
      {canControl ? (
        <ProbeSpecInput onAdd={add} disabled={!connected} />
      ) : (
        <p data-testid={SESSION_TEST_IDS.readOnly} className="text-xs text-slate-400">
          Read-only viewer link: the operator adds and removes latency probes.
        </p>
      )}
      {probes.length === 0 ? (
        <p data-testid={LATENCY_TEST_IDS.empty} className="text-xs text-slate-500">
          No latency probes yet.{' '}
          {canControl && (
            <>
              Add one above, e.g. <code className="text-slate-300">syscall:read</code> or{' '}
              <code className="text-slate-300">uprobe:c:malloc</code> with a pid.
            </>
          )}
        </p>
      ) : (
        probes.map((info) => {
          const frame = frames[info.id];
          return <LatencyPanel key={info.id} frame={frame && frame.spec === info.spec ? frame : emptyFrame(info)} info={info} onRemove={canControl ? remove : undefined} sessionId={sessionId} send={session.send} canPin={canPin} />;
        })
      )}
    </section>
  );
}

/** Scenes of the latency panel for LatencyPanel.ct.ts (rendered by components/ui/testing/render.tsx). */
import type { LatencyProbeFrame } from '../../lib/latency-view.ts';
import { LatencyPanel } from './LatencyPanel.tsx';

/** One probe's panel as the latency section shows it, read-only (no remove, no exports). */
export function Panel({ frame }: { frame: LatencyProbeFrame }) {
  return (
    <div style={{ width: 1000 }}>
      <LatencyPanel frame={frame} />
    </div>
  );
}

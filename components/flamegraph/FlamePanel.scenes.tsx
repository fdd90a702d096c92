/** Scenes of the flame graph panel for FlamePanel.ct.ts (rendered by components/ui/testing/render.tsx). */
import { useCallback, useMemo, useState } from 'react';
import { DEFAULT_PROFILE_SETTINGS, DEFAULT_VIEW, type FlameNode, type ProfileFrame, type ProfileType } from '../../lib/protocol.ts';
import { profileUnit } from '../../lib/protocol.ts';
import { useEventLog } from '../ui/testing/render.tsx';
import { FlamePanel, type ZoomCause } from './FlamePanel.tsx';
import type { ZoomStep } from './zoom.ts';

function countNodes(node: FlameNode): number {
  return 1 + (node.c ?? []).reduce((sum, child) => sum + countNodes(child), 0);
}

/** A frame as the hub sends it, around `tree` (10 s window, healthy stacks). */
function frameOf(tree: FlameNode, type: ProfileType): ProfileFrame {
  const none = { collision: 0, fault: 0, other: 0 };
  return {
    seq: 1,
    view: DEFAULT_VIEW,
    settings: { ...DEFAULT_PROFILE_SETTINGS, type },
    tree,
    unit: profileUnit(type),
    totalSamples: tree.v,
    prunedSamples: 0,
    nodeCount: countNodes(tree),
    windowStartMs: 1_700_000_000_000,
    windowEndMs: 1_700_000_010_000,
    sampledAtMs: 1_700_000_010_000,
    health: { userStackErrors: none, kernelStackErrors: none, droppedSamples: 0, unknownFrames: 0 },
  };
}

/**
 * The panel as the dashboard holds it: search, zoom and orientation in the owner's state; the
 * owner adopts every zoom the panel reports. Clicked zooms are logged as `zoom a/b/c`.
 * With `exportSession`, the panel has its export menu for that session (default view).
 */
export function Panel({ tree, type = 'cpu', exportSession }: { tree: FlameNode | null; type?: ProfileType; exportSession?: string }) {
  const [log, add] = useEventLog();
  const [search, setSearch] = useState('');
  const [zoom, setZoom] = useState<readonly ZoomStep[]>([]);
  const [icicle, setIcicle] = useState(false);
  const frame = useMemo(() => (tree ? frameOf(tree, type) : null), [tree, type]);
  const onZoomChange = useCallback(
    (path: ZoomStep[], cause: ZoomCause) => {
      if (cause === 'click') add(`zoom ${path.map((step) => step.name).join('/')}`);
      setZoom(path);
    },
    [add],
  );
  return (
    <div style={{ width: 1000 }}>
      <FlamePanel
        frame={frame}
        framesReceived={frame ? 1 : 0}
        cpus={2}
        emptyMessage="No samples in this window."
        search={search}
        onSearchChange={setSearch}
        zoom={zoom}
        onZoomChange={onZoomChange}
        icicle={icicle}
        onIcicleChange={setIcicle}
        {...(exportSession !== undefined && { sessionId: exportSession, view: DEFAULT_VIEW })}
      />
      {log}
    </div>
  );
}

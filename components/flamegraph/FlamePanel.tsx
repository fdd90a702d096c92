'use client';
/**
 * The flame graph panel: toolbar (search, zoom, pause, orientation, export), status line and
 * the graph. Pausing freezes the drawing only: frames keep arriving (and being acknowledged
 * by the session hook); resuming draws the newest.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { searchShare } from '../../lib/flame/search.ts';
import { formatCount, formatPercent } from '../../lib/format.ts';
import { frameColor } from '../../lib/flame/colors.ts';
import { formatMicros, profileTitle } from '../../lib/profile-units.ts';
import type { ProfileFrame, ViewSettings } from '../../lib/protocol.ts';
import { TEST_IDS } from '../../lib/test-ids.ts';
import { buttonClass, inputClass } from '../controls/Field.tsx';
import { StatusLine } from '../dashboard/StatusLine.tsx';
import { downloadSvg } from './export.ts';
import { ExportMenu } from './ExportMenu.tsx';
import { PinButton } from '../snapshots/PinButton.tsx';
import type { ProfileSession } from '../session/useProfileSession.ts';
import { FlameGraph, type PaintTiming } from './FlameGraph.tsx';
import { samePath, type ZoomStep } from './zoom.ts';

/** One drawn frame, for benchmarks (sample-to-screen) and debugging: `window.__pbPaintLog`. */
export interface PaintRecord {
  seq: number;
  /** When the newest interval in the frame was read from the kernel (server clock, ms). */
  sampledAtMs: number;
  /** When the browser had painted it (page clock, ms). */
  paintedAtMs: number;
  updateMs: number;
  paintMs: number;
}

declare global {
  interface Window {
    __pbPaintLog?: PaintRecord[];
  }
}

function recordPaint(frame: ProfileFrame, timing: PaintTiming): void {
  const log = (window.__pbPaintLog ??= []);
  log.push({ seq: frame.seq, sampledAtMs: frame.sampledAtMs, paintedAtMs: timing.paintedAtMs, updateMs: timing.updateMs, paintMs: timing.paintMs });
  if (log.length > 200) log.splice(0, log.length - 200);
}

/** Why the zoom changed: a click (or Reset zoom), or the graph following a new tree. */
export type ZoomCause = 'click' | 'update';

export function FlamePanel({
  frame,
  framesReceived,
  cpus,
  emptyMessage,
  search,
  onSearchChange,
  zoom,
  onZoomChange,
  icicle,
  onIcicleChange,
  marked = null,
  onPointAt,
  highlightSearch = false,
  sessionId,
  view,
  send,
  canPin = false,
}: {
  /** Newest frame received. */
  frame: ProfileFrame | null;
  framesReceived: number;
  cpus: number | null;
  emptyMessage: string;
  /** Search box text (controlled: the dashboard shares or follows it). */
  search: string;
  onSearchChange(text: string): void;
  /** Requested zoom. A path without kinds matches frames by name; the graph shows the deepest prefix present. */
  zoom: readonly ZoomStep[];
  onZoomChange(path: ZoomStep[], cause: ZoomCause): void;
  icicle: boolean;
  onIcicleChange(icicle: boolean): void;
  /** A frame to outline (the presenter's pointer), or null. */
  marked?: readonly ZoomStep[] | null;
  /** The frame under this page's pointer (null when it left the graph). */
  onPointAt?(path: ZoomStep[] | null): void;
  /** Outline the search box (it was set by the presenter). */
  highlightSearch?: boolean;
  /** This page's session and view (the export menu asks the server for this view). */
  sessionId?: string;
  view?: ViewSettings;
  send?: ProfileSession['send'];
  /** Operators: show "Pin" (`snapshot:pin` of this view). */
  canPin?: boolean;
}) {
  const [paused, setPaused] = useState<{ frame: ProfileFrame | null; atCount: number } | null>(null);
  // The graph re-colours every frame on a search change: follow the typing, not every key.
  const [appliedSearch, setAppliedSearch] = useState(search);
  useEffect(() => {
    const timer = setTimeout(() => setAppliedSearch(search), search === '' ? 0 : 150);
    return () => clearTimeout(timer);
  }, [search]);
  // What the graph shows (the requested zoom, or its deepest prefix in this tree).
  const [zoomPath, setZoomPath] = useState<ZoomStep[]>([]);
  const [drawn, setDrawn] = useState<number | null>(null);
  const [paint, setPaint] = useState<PaintTiming | null>(null);

  const shown = paused ? paused.frame : frame;
  const waiting = paused ? framesReceived - paused.atCount : 0;
  const share = useMemo(
    () => (shown && appliedSearch ? searchShare(shown.tree, appliedSearch) : null),
    [shown, appliedSearch],
  );
  const onGraphZoom = useCallback(
    (path: ZoomStep[], cause: ZoomCause) => {
      setZoomPath((previous) => (samePath(previous, path) ? previous : path));
      onZoomChange(path, cause);
    },
    [onZoomChange],
  );
  const onPainted = useCallback(
    (timing: PaintTiming) => {
      setPaint(timing);
      if (shown && timing.tree === shown.tree) recordPaint(shown, timing);
    },
    [shown],
  );

  const type = shown?.settings.type ?? frame?.settings.type ?? 'cpu';
  const unit = shown?.unit ?? 'samples';
  const title = profileTitle(type);
  return (
    <section aria-label={title} data-focus-panel="profile" data-profile-type={type} className="flex min-w-0 flex-col gap-3 rounded-lg border border-slate-700 bg-slate-900/60 p-4">
      <div className="flex flex-wrap items-center gap-2">
        <h2 className="mr-2 text-sm font-semibold text-slate-100">{title}</h2>
        <div className="flex items-center gap-2">
          <input
            type="search"
            aria-label="Search frames"
            placeholder="Search: text or /regex/"
            data-testid={TEST_IDS.searchInput}
            value={search}
            onChange={(e) => onSearchChange(e.target.value)}
            className={inputClass + ' w-64' + (highlightSearch && search ? ' border-fuchsia-400/70' : '')}
          />
          {share && (
            <span data-testid={TEST_IDS.searchShare} data-percent={share.percent} className="whitespace-nowrap text-xs text-fuchsia-300">
              {unit === 'us'
                ? `${formatPercent(share.matchedSamples, share.totalSamples)} of time (${formatMicros(share.matchedSamples)})`
                : `${formatPercent(share.matchedSamples, share.totalSamples)} of samples (${formatCount(share.matchedSamples)})`}
            </span>
          )}
        </div>
        <div className="ml-auto flex flex-wrap items-center gap-2">
          <button
            type="button"
            data-testid={TEST_IDS.resetZoom}
            disabled={zoomPath.length === 0 && zoom.length === 0}
            onClick={() => onGraphZoom([], 'click')}
            className={buttonClass}
          >
            Reset zoom
          </button>
          <button
            type="button"
            data-testid={TEST_IDS.pauseView}
            aria-pressed={paused !== null}
            onClick={() => setPaused(paused ? null : { frame, atCount: framesReceived })}
            className={buttonClass + (paused ? ' border-amber-400/70 text-amber-200' : '')}
          >
            {paused ? '▶ Resume view' : '❚❚ Pause view'}
          </button>
          {paused && (
            <span data-testid={TEST_IDS.pendingUpdates} data-count={waiting} className="text-xs text-amber-300">
              {waiting} update{waiting === 1 ? '' : 's'} waiting
            </span>
          )}
          <div role="group" aria-label="Orientation" data-testid={TEST_IDS.orientation} className="flex overflow-hidden rounded-md border border-slate-600">
            {(['flame', 'icicle'] as const).map((mode) => (
              <button
                key={mode}
                type="button"
                aria-pressed={(mode === 'icicle') === icicle}
                onClick={() => onIcicleChange(mode === 'icicle')}
                className={
                  'px-3 py-1 text-sm ' +
                  ((mode === 'icicle') === icicle ? 'bg-sky-700 text-white' : 'bg-slate-800 text-slate-300 hover:bg-slate-700')
                }
              >
                {mode === 'flame' ? 'Flame' : 'Icicle'}
              </button>
            ))}
          </div>
          <button
            type="button"
            data-testid={TEST_IDS.exportSvg}
            disabled={!shown}
            onClick={() => shown && downloadSvg(shown, { icicle, search, zoomPath })}
            className={buttonClass}
          >
            Export SVG
          </button>
          {sessionId !== undefined && view && <ExportMenu sessionId={sessionId} view={view} shown={shown} paused={paused !== null} />}
          {canPin && send && view && (
            <PinButton
              send={send}
              request={{ kind: 'flame', view }}
              defaultName={() => `flame ${new Date().toLocaleTimeString()}`}
              disabled={!shown}
            />
          )}
        </div>
      </div>

      <StatusLine frame={shown} cpus={cpus} shownSeq={shown?.seq ?? null} drawn={drawn} paintMs={paint?.paintMs ?? null} />

      {zoomPath.length > 0 && (
        <nav aria-label="Zoomed frame" data-testid={TEST_IDS.zoomPath} className="truncate font-mono text-xs text-slate-400">
          zoomed: {['all', ...zoomPath.map((s) => s.name)].join(' › ')}
        </nav>
      )}

      <FlameGraph
        tree={shown?.tree ?? null}
        zoomPath={zoom}
        onZoomChange={onGraphZoom}
        inverted={icicle}
        search={appliedSearch}
        marked={marked}
        onPointAt={onPointAt}
        emptyMessage={emptyMessage}
        onDrawn={setDrawn}
        onPainted={onPainted}
        unit={unit}
      />
      {type === 'wall' && <WallLegend />}
      <p className="text-[11px] text-slate-500">
        {type === 'cpu'
          ? 'Click a frame to zoom into it; hover for samples.'
          : type === 'offcpu'
            ? 'Widths are time spent blocked (switched out), by the stack that blocked. Click a frame to zoom into it; hover for time.'
            : 'Widths are time, running (on-CPU samples at the sample rate) and blocked (off-CPU) on one axis. Click a frame to zoom into it; hover for time.'}{' '}
        Colours: red–yellow = user code, blue = kernel, green = JIT, tan = process, grey = lost/pruned/unknown{type === 'wall' ? ', violet = off-CPU' : ''}.
      </p>
    </section>
  );
}

/**
 * Hot/cold legend of a wall profile: on-CPU stacks keep the usual colours (user warm, kernel
 * blue); each off-CPU stack ends in a frame of kind 'o' (`_[o]`), drawn in its own colour.
 */
function WallLegend() {
  const swatch = (fill: string) => <span aria-hidden className="inline-block h-3 w-5 rounded-sm" style={{ background: fill }} />;
  return (
    <div data-testid={TEST_IDS.wallLegend} role="note" aria-label="Wall legend" className="flex flex-wrap items-center gap-4 text-xs text-slate-300">
      <span className="flex items-center gap-1.5">
        {swatch(frameColor('on-cpu', 'u'))}
        {swatch(frameColor('on-cpu', 'k'))}
        <span data-legend="on-cpu">on-CPU (running: user, kernel)</span>
      </span>
      <span className="flex items-center gap-1.5">
        {swatch(frameColor('off-cpu', 'o'))}
        <span data-legend="off-cpu">off-CPU (blocked: the leaf where the thread waited)</span>
      </span>
    </div>
  );
}

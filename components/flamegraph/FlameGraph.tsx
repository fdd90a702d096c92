'use client';
/**
 * The live flame graph as a React component. Creates one FlameChart for its lifetime and
 * updates it in place; width follows the container (ResizeObserver).
 *
 * Controlled zoom: `zoomPath` says what to zoom; a click reports the new path through
 * `onZoomChange(path, 'click')`, and every change of what is shown (the zoomed frame left the
 * picture, a path given by names got its kinds) through `onZoomChange(path, 'update')`.
 *
 * Live updates are paced (pace.ts): after a slow draw the next new tree waits as long as that
 * draw took, and then the newest tree is drawn.
 */
import { useEffect, useRef, useState } from 'react';
import type { FlameNode, ProfileUnit } from '../../lib/protocol.ts';
import { TEST_IDS } from '../../lib/test-ids.ts';
import { FlameChart, type HoverInfo } from './chart.ts';
import { FlameTooltip } from './FlameTooltip.tsx';
import { samePath, type ZoomPath, type ZoomStep } from './zoom.ts';
import { paceDelayMs, type LastDraw } from './pace.ts';
// d3-flame-graph's ES build imports its own stylesheet (d3-flamegraph.css); app/globals.css adapts it.

export interface FlameGraphProps {
  /** Tree to draw; null while no frame has arrived. */
  tree: FlameNode | null;
  zoomPath: ZoomPath;
  onZoomChange(path: ZoomStep[], cause: 'click' | 'update'): void;
  /** Icicle (root on top) instead of flame (root at the bottom). */
  inverted: boolean;
  search: string;
  /** A frame to outline (by path), or null. */
  marked?: ZoomPath | null;
  /** The frame under the pointer, or null when it left. */
  onPointAt?(path: ZoomStep[] | null): void;
  /** Shown instead of the graph when `tree` is null or empty. */
  emptyMessage?: string;
  /** Frames drawn after each update (fewer than the tree's nodes: see budget.ts). */
  onDrawn?(drawn: number): void;
  /** After a new tree is on screen: the time to apply it and until the browser painted it. */
  onPainted?(timing: PaintTiming): void;
  /** data-testid of the graph's container (default TEST_IDS.flameGraph, the live graph). */
  testId?: string;
  /** What widths count (ProfileFrame.unit): hover shows samples, or time for 'us'. Default samples. */
  unit?: ProfileUnit;
}

export interface PaintTiming {
  tree: FlameNode;
  /** The synchronous update (layout and DOM), ms. */
  updateMs: number;
  /** From the start of the update until after the next paint, ms. */
  paintMs: number;
  /** Wall clock (ms since the epoch) after the paint. */
  paintedAtMs: number;
}

export function FlameGraph({ tree, zoomPath, onZoomChange, inverted, search, marked = null, onPointAt, emptyMessage, onDrawn, onPainted, testId = TEST_IDS.flameGraph, unit = 'samples' }: FlameGraphProps) {
  const containerRef = useRef<HTMLDivElement>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  // Deep stacks make the graph taller than its panel. The root is what matters: keep the view
  // on it (bottom for a flame graph, top for an icicle) unless the user scrolled away.
  const pinned = useRef(true);
  const pin = () => {
    const el = scrollRef.current;
    if (!el || !pinned.current) return;
    el.scrollTop = inverted ? 0 : el.scrollHeight;
  };
  const chartRef = useRef<FlameChart | null>(null);
  const onZoomRef = useRef(onZoomChange);
  const onDrawnRef = useRef(onDrawn);
  const onPaintedRef = useRef(onPainted);
  const onPointAtRef = useRef(onPointAt);
  // The zoom last reported as shown (a report goes out only when it changes).
  const shownZoom = useRef<ZoomStep[]>([]);
  const [hover, setHover] = useState<{ info: HoverInfo; x: number; y: number } | null>(null);
  // Pacing (pace.ts): the props to draw next, the tree on screen, the last live draw, a draw due.
  const latest = useRef({ tree, zoomPath });
  const drawnTree = useRef<FlameNode | null>(null);
  const lastDraw = useRef<LastDraw | null>(null);
  const pacedDraw = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    onZoomRef.current = onZoomChange;
    onDrawnRef.current = onDrawn;
    onPaintedRef.current = onPainted;
    onPointAtRef.current = onPointAt;
  }, [onZoomChange, onDrawn, onPainted, onPointAt]);

  useEffect(() => {
    const container = containerRef.current;
    if (!container) return;
    const chart = new FlameChart(container, {
      onZoom: (path) => {
        shownZoom.current = path;
        onZoomRef.current(path, 'click');
      },
      onHover: (info, at) => {
        setHover(info && at ? { info, x: at.x, y: at.y } : null);
        onPointAtRef.current?.(info ? info.path : null);
      },
      onDrawn: (drawn) => onDrawnRef.current?.(drawn),
    });
    chartRef.current = chart;
    const observer = new ResizeObserver((entries) => {
      const width = entries[0]?.contentRect.width;
      if (width) chart.setWidth(width);
    });
    observer.observe(container);
    return () => {
      observer.disconnect();
      if (pacedDraw.current !== null) clearTimeout(pacedDraw.current);
      pacedDraw.current = null;
      chart.destroy();
      chartRef.current = null;
    };
  }, []);

  useEffect(() => {
    chartRef.current?.setInverted(inverted);
    pinned.current = true;
    pin();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [inverted]);

  useEffect(() => {
    chartRef.current?.setSearch(search);
  }, [search]);

  useEffect(() => {
    chartRef.current?.setUnit(unit);
  }, [unit]);

  useEffect(() => {
    chartRef.current?.setMarked(marked);
  }, [marked]);

  /** Draws the newest props (latest.current) now. */
  const draw = () => {
    const chart = chartRef.current;
    const { tree: next, zoomPath: zoom } = latest.current;
    if (!chart || !next) return;
    const live = next !== drawnTree.current;
    drawnTree.current = next;
    const t0 = performance.now();
    const shown = chart.render(next, zoom);
    const updateMs = performance.now() - t0;
    pin();
    if (!samePath(shown, shownZoom.current)) {
      shownZoom.current = shown;
      onZoomRef.current(shown, 'update');
    }
    // After the next frame's paint (rAF callbacks run before paint; a task queued there runs after).
    requestAnimationFrame(() =>
      setTimeout(() => {
        const paintedAt = performance.now();
        const paintMs = paintedAt - t0;
        if (live) lastDraw.current = { paintedAtMs: paintedAt, paintMs };
        onPaintedRef.current?.({ tree: next, updateMs, paintMs, paintedAtMs: Date.now() });
      }, 0),
    );
  };
  const drawRef = useRef(draw);
  useEffect(() => {
    drawRef.current = draw;
  });

  useEffect(() => {
    latest.current = { tree, zoomPath };
    if (!chartRef.current || !tree) return;
    // Same tree, new zoom (a click, reset zoom): at once.
    if (tree === drawnTree.current) return drawRef.current();
    // A paced draw is due: it will draw this newest tree.
    if (pacedDraw.current !== null) return;
    const delay = paceDelayMs(lastDraw.current, performance.now());
    if (delay === 0) return drawRef.current();
    pacedDraw.current = setTimeout(() => {
      pacedDraw.current = null;
      drawRef.current();
    }, delay);
  }, [tree, zoomPath]);

  const empty = !tree || tree.v === 0;
  return (
    <div className="relative">
      <div
        ref={scrollRef}
        className="max-h-[70vh] min-h-[240px] overflow-auto rounded-md bg-slate-950/60"
        onScroll={(e) => {
          const el = e.currentTarget;
          pinned.current = inverted ? el.scrollTop < 4 : el.scrollHeight - el.scrollTop - el.clientHeight < 4;
        }}
      >
        <div
          ref={containerRef}
          data-testid={testId}
          data-inverted={inverted ? 'true' : 'false'}
          className="pb-flame w-full"
          onMouseLeave={() => {
            setHover(null);
            onPointAtRef.current?.(null);
          }}
        />
      </div>
      {empty && (
        <div
          data-testid={TEST_IDS.flameEmpty}
          className="pointer-events-none absolute inset-0 flex items-center justify-center text-sm text-slate-400"
        >
          {emptyMessage ?? 'Waiting for samples…'}
        </div>
      )}
      {hover && <FlameTooltip {...hover} unit={unit} />}
    </div>
  );
}

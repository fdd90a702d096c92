'use client';
/**
 * Rendering benchmark page body: the dashboard's own flame graph wrapper (FlameChart, the code
 * behind <FlameGraph>) in the dashboard's container, fed live-like updates of a synthetic tree.
 *
 * Per update it records:
 * - `updateMs`: the synchronous `render()` call (hierarchy, layout, DOM join);
 * - `frameMs`: from the call until the browser has painted the result (the next animation
 *   frame, where d3 applies the zero-length transitions, then layout and paint). This includes
 *   waiting for the frame boundary (up to one vsync), so it is the honest "update to screen" time.
 * Results go to `window.__pbRenderBench` for bench/render.ts, with the frames drawn and the
 * frames at least 1 px wide in the last update (the dashboard must draw all of those).
 *
 * `?renderer=`: `svg` (default) is the dashboard's flame graph (FlameChart, d3-flame-graph);
 * `canvas` and `hybrid` are the alternatives measured against it (canvas-flame.ts): a canvas
 * painting every frame, or d3-flame-graph for frames of `svgMinPx` and more over a canvas
 * painting the narrower ones. `?svgMinPx=` also narrows what `svg` draws (to see the cost per frame).
 */
import { useEffect, useRef, useState } from 'react';
import type { FlameNode } from '../../lib/protocol.ts';
import { countNodes } from '../../lib/flame/tree.ts';
import { FlameChart } from '../flamegraph/chart.ts';
import { countFramesAtLeast, MIN_FRAME_PX } from '../flamegraph/budget.ts';
import { CanvasFlame } from './canvas-flame.ts';
import { UPDATE_END_MARK, UPDATE_START_MARK } from './marks.ts';
import { jitter, rng, syntheticTree } from './synthetic.ts';

export type BenchRenderer = 'svg' | 'canvas' | 'hybrid';

export interface RenderBenchResult {
  nodes: number;
  width: number;
  renderer: BenchRenderer;
  /** d3-flame-graph draws frames at least this wide (px); with `hybrid` the canvas paints the narrower ones. */
  svgMinPx: number;
  updates: number;
  updateMs: number[];
  frameMs: number[];
  /** Frames on screen after the last update: SVG frames (g elements in the DOM) + canvas frames. */
  drawnFrames: number;
  svgFrames: number;
  canvasFrames: number;
  /** Frames of the last update at least 1 px wide (budget.ts): all of them should be drawn. */
  framesAtLeast1px: number;
  done: boolean;
  error?: string;
}

declare global {
  interface Window {
    __pbRenderBench?: RenderBenchResult;
  }
}

const nextPaint = () =>
  new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

export function RenderBench() {
  const ref = useRef<HTMLDivElement>(null);
  const [summary, setSummary] = useState('running…');

  useEffect(() => {
    let cancelled = false;
    const params = new URLSearchParams(window.location.search);
    const nodes = Number(params.get('nodes') ?? 10_000);
    const updates = Number(params.get('updates') ?? 30);
    const renderer = (params.get('renderer') ?? 'svg') as BenchRenderer;
    const svgMinPx = Number(params.get('svgMinPx') ?? (renderer === 'hybrid' ? 8 : MIN_FRAME_PX));
    const stack = ref.current!;
    const width = stack.clientWidth;
    // `svg`: the graph alone, as in the dashboard. Otherwise layers bottom-aligned (a flame graph
    // grows up from its root), the canvas under the SVG.
    const layered = renderer !== 'svg';
    const canvasLayer = layered ? layer(stack, true) : null;
    const svgLayer = renderer !== 'canvas' ? layer(stack, layered) : null;
    const canvas = canvasLayer ? new CanvasFlame(canvasLayer) : null;
    const chart = svgLayer ? new FlameChart(svgLayer, { onZoom: () => undefined, onHover: () => undefined }, { minFramePx: svgMinPx }) : null;
    chart?.setWidth(width);
    let canvasFrames = 0;
    const draw = (tree: FlameNode) => {
      chart?.render(tree, []);
      if (!canvas) return;
      const painted = canvas.draw(tree, width, { minPx: MIN_FRAME_PX, maxPx: chart ? svgMinPx : Infinity });
      canvasFrames = painted.frames;
      // Heights from attributes, not from layout (reading offsetHeight would force a layout here).
      const svgHeight = Number(svgLayer?.querySelector('svg')?.getAttribute('height') ?? 0);
      stack.style.height = `${Math.max(svgHeight, painted.heightPx)}px`;
    };
    const random = rng(42);
    const base = syntheticTree(nodes, 7);
    const result: RenderBenchResult = {
      nodes: countNodes(base),
      width,
      renderer,
      svgMinPx,
      updates,
      updateMs: [],
      frameMs: [],
      drawnFrames: 0,
      svgFrames: 0,
      canvasFrames: 0,
      framesAtLeast1px: 0,
      done: false,
    };
    window.__pbRenderBench = result;

    (async () => {
      // First draw creates the DOM; it is not a live update and is not counted.
      draw(base);
      await nextPaint();
      let tree = base;
      for (let i = 0; i < updates && !cancelled; i++) {
        // A fresh object per update, as socket.io hands the page (parse time is not UI time).
        tree = JSON.parse(JSON.stringify(jitter(base, random))) as FlameNode;
        // Let the page settle between updates (live updates come about once a second); the
        // update then starts a task of its own, so a trace can attribute its CPU time.
        await new Promise((r) => setTimeout(r, 30));
        performance.mark(UPDATE_START_MARK);
        const t0 = performance.now();
        draw(tree);
        const t1 = performance.now();
        await nextPaint();
        const t2 = performance.now();
        performance.mark(UPDATE_END_MARK);
        result.updateMs.push(t1 - t0);
        result.frameMs.push(t2 - t0);
      }
      result.svgFrames = stack.querySelectorAll('g.frame').length;
      result.canvasFrames = canvasFrames;
      result.drawnFrames = result.svgFrames + result.canvasFrames;
      result.framesAtLeast1px = countFramesAtLeast(tree, [], width);
      result.done = true;
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
      setSummary(`${result.nodes} nodes: median update ${med(result.updateMs).toFixed(1)} ms, to paint ${med(result.frameMs).toFixed(1)} ms`);
    })().catch((error: Error) => {
      result.error = error.message;
      result.done = true;
      setSummary(`error: ${error.message}`);
    });
    return () => {
      cancelled = true;
      chart?.destroy();
    };
  }, []);

  return (
    <div className="flex flex-col gap-3 p-4">
      <p id="bench-summary" className="font-mono text-sm">
        {summary}
      </p>
      <div className="max-h-[80vh] overflow-auto rounded-md bg-slate-950/60">
        <div ref={ref} className="relative w-full" />
      </div>
    </div>
  );
}

/** A full-width layer in `stack` (bottom-aligned when `overlaid`; later layers paint over earlier ones). */
function layer(stack: HTMLElement, overlaid: boolean): HTMLDivElement {
  const div = document.createElement('div');
  div.className = 'pb-flame w-full';
  if (overlaid) div.style.cssText = 'position:absolute;left:0;right:0;bottom:0';
  stack.appendChild(div);
  return div;
}

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
 * `?renderer=`: `hybrid` (default) is the dashboard's flame graph as it is (FlameChart:
 * d3-flame-graph for frames of SVG_MIN_PX and more, its canvas layer under them for the thinner
 * ones); `svg` is the same FlameChart with every frame in d3-flame-graph's SVG (the dashboard before
 * the canvas layer); `canvas` paints every frame on a canvas alone (canvas-flame.ts, no SVG).
 * `?svgMinPx=` moves the SVG/canvas cut of `hybrid` (or narrows what `svg` draws).
 */
import { useEffect, useRef, useState } from 'react';
import type { FlameNode } from '../../lib/protocol.ts';
import { countNodes } from '../../lib/flame/tree.ts';
import { FlameChart } from '../flamegraph/chart.ts';
import { countFramesAtLeast, MIN_FRAME_PX, SVG_MIN_PX } from '../flamegraph/budget.ts';
import { CanvasFlame } from './canvas-flame.ts';
import { UPDATE_END_MARK, UPDATE_START_MARK } from './marks.ts';
import { jitter, rng, syntheticTree } from './synthetic.ts';

export type BenchRenderer = 'svg' | 'canvas' | 'hybrid';

export interface RenderBenchResult {
  nodes: number;
  width: number;
  renderer: BenchRenderer;
  /** d3-flame-graph draws frames at least this wide (px); with `hybrid` FlameChart's canvas layer paints the narrower ones. */
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
    const renderer = (params.get('renderer') ?? 'hybrid') as BenchRenderer;
    const svgMinPx = Number(params.get('svgMinPx') ?? (renderer === 'hybrid' ? SVG_MIN_PX : MIN_FRAME_PX));
    const stack = ref.current!;
    const width = stack.clientWidth;
    // The graph in a container of its own, as in the dashboard (FlameGraph.tsx).
    const graph = document.createElement('div');
    graph.className = 'pb-flame w-full';
    stack.appendChild(graph);
    const canvas = renderer === 'canvas' ? new CanvasFlame(graph) : null;
    const chart = renderer !== 'canvas' ? new FlameChart(graph, { onZoom: () => undefined, onHover: () => undefined }, { svgMinPx }) : null;
    chart?.setWidth(width);
    let canvasFrames = 0;
    const draw = (tree: FlameNode) => {
      if (chart) {
        chart.render(tree, []);
        canvasFrames = chart.canvasFrames();
      } else if (canvas) {
        canvasFrames = canvas.draw(tree, width, { minPx: MIN_FRAME_PX }).frames;
      }
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
      result.svgFrames = graph.querySelectorAll('g.frame').length;
      result.canvasFrames = canvasFrames;
      // What the dashboard's status line shows (FlameChart's count), checked against the DOM's.
      result.drawnFrames = chart ? chart.drawn() : result.canvasFrames;
      if (result.drawnFrames !== result.svgFrames + result.canvasFrames) {
        throw new Error(`drawn count ${result.drawnFrames} is not SVG ${result.svgFrames} + canvas ${result.canvasFrames}`);
      }
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

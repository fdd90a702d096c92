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
 * Results go to `window.__pbRenderBench` for bench/render.ts.
 */
import { useEffect, useRef, useState } from 'react';
import type { FlameNode } from '../../lib/protocol.ts';
import { countNodes } from '../../lib/flame/tree.ts';
import { FlameChart } from '../flamegraph/chart.ts';
import { DEFAULT_DRAW_BUDGET } from '../flamegraph/budget.ts';
import { jitter, rng, syntheticTree } from './synthetic.ts';

export interface RenderBenchResult {
  nodes: number;
  width: number;
  /** Most frames drawn (budget.ts). */
  budget: number;
  updates: number;
  updateMs: number[];
  frameMs: number[];
  /** Frames (g elements) in the DOM after the last update. */
  drawnFrames: number;
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
    const budget = Number(params.get('budget') ?? DEFAULT_DRAW_BUDGET);
    const container = ref.current!;
    const chart = new FlameChart(container, { onZoom: () => undefined, onHover: () => undefined }, budget);
    chart.setWidth(container.clientWidth);
    const random = rng(42);
    const base = syntheticTree(nodes, 7);
    const result: RenderBenchResult = {
      nodes: countNodes(base),
      width: container.clientWidth,
      budget,
      updates,
      updateMs: [],
      frameMs: [],
      drawnFrames: 0,
      done: false,
    };
    window.__pbRenderBench = result;

    (async () => {
      // First draw creates the DOM; it is not a live update and is not counted.
      chart.render(base, []);
      await nextPaint();
      for (let i = 0; i < updates && !cancelled; i++) {
        // A fresh object per update, as socket.io hands the page (parse time is not UI time).
        const tree: FlameNode = JSON.parse(JSON.stringify(jitter(base, random)));
        const t0 = performance.now();
        chart.render(tree, []);
        const t1 = performance.now();
        await nextPaint();
        const t2 = performance.now();
        result.updateMs.push(t1 - t0);
        result.frameMs.push(t2 - t0);
        // Let the page settle between updates (live updates come about once a second).
        await new Promise((r) => setTimeout(r, 30));
      }
      result.drawnFrames = container.querySelectorAll('g.frame').length;
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
      chart.destroy();
    };
  }, []);

  return (
    <div className="flex flex-col gap-3 p-4">
      <p id="bench-summary" className="font-mono text-sm">
        {summary}
      </p>
      <div className="max-h-[80vh] overflow-auto rounded-md bg-slate-950/60">
        <div ref={ref} className="pb-flame w-full" />
      </div>
    </div>
  );
}

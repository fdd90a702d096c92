/**
 * How many frames to draw. d3-flame-graph keeps one SVG group (g, rect, foreignObject, div) per
 * drawn frame and rewrites all of them on every update, so the cost of a live update grows with
 * the frames on screen, not with the tree. Frames narrower than a pixel are never drawn; beyond
 * that, when more than `budget` frames would be drawn, only the widest `budget` are (the
 * threshold is a width in px, so what is left out is the thinnest slivers). The status line
 * shows drawn vs. received nodes, so the cut is visible.
 */
import type { FlameNode } from '../../lib/protocol.ts';
import { findByPath, type ZoomPath } from './zoom.ts';

/**
 * Default most frames drawn at once. bench/render (10,000-node tree, 1368 px): 600 frames apply
 * and paint in a median 39 ms, 1000 frames in 65 ms; the target is under 50 ms.
 */
export const DEFAULT_DRAW_BUDGET = 600;
/** Frames narrower than this (CSS px) are never drawn. */
export const MIN_FRAME_PX = 1;

export interface DrawPlan {
  /** Pass to d3-flame-graph's minFrameSize: frames must be wider than this (px). */
  minFramePx: number;
  /** Frames that will be drawn (ancestors of a zoomed frame included). */
  drawn: number;
}

export function planDraw(tree: FlameNode, zoom: ZoomPath, widthPx: number, budget = DEFAULT_DRAW_BUDGET): DrawPlan {
  const focus = findByPath(tree, zoom) ?? tree;
  if (focus.v <= 0) return { minFramePx: MIN_FRAME_PX, drawn: zoom.length + 1 };
  const scale = widthPx / focus.v;
  const widths: number[] = [];
  const stack: FlameNode[] = [focus];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const w = node.v * scale;
    if (w <= MIN_FRAME_PX) continue; // children are never wider than their parent
    widths.push(w);
    if (node.c) for (const child of node.c) stack.push(child);
  }
  const ancestors = zoom.length;
  const room = Math.max(1, budget - ancestors);
  if (widths.length <= room) return { minFramePx: MIN_FRAME_PX, drawn: widths.length + ancestors };
  widths.sort((a, b) => b - a);
  const cut = widths[room - 1];
  let drawn = 0;
  for (const w of widths) if (w > cut) drawn++;
  return { minFramePx: cut, drawn: drawn + ancestors };
}

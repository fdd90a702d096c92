/**
 * Which frames are drawn: a pixel-width budget. Every frame at least MIN_FRAME_PX wide at the
 * current width and zoom is drawn (frames of SVG_MIN_PX and more by d3-flame-graph as SVG, the
 * thinner ones on a canvas under it); narrower ones are not (they would be sub-pixel slivers). There
 * is no cap on the count: a frame many pixels wide is never hidden to save time, however many
 * frames the tree has. The status line shows drawn vs. received nodes, so the cut is visible.
 *
 * Labels: d3-flame-graph 5 shows a frame's name only from LABEL_MIN_PX; narrower frames carry no
 * label element at all (chart.ts), which is most of them.
 */
import type { FlameNode } from '../../lib/protocol.ts';
import { findByPath, type ZoomPath } from './zoom.ts';

/** Frames narrower than this (CSS px) are not drawn; frames this wide or wider always are. */
export const MIN_FRAME_PX = 1;

/**
 * Frames at least this wide (CSS px) are d3-flame-graph's SVG frames; the thinner ones (down to
 * MIN_FRAME_PX) are painted on the canvas layer under the SVG (canvas.ts), with the same colours,
 * search highlight, hover and click. About 3,270 frames of >= 1 px in the 10,000-node bench tree
 * at 1,368 px, of which only a few hundred are this wide: the SVG's cost is per element.
 */
export const SVG_MIN_PX = 10;

/**
 * The `minFrameSize` that makes d3-flame-graph draw every frame at least `minPx` wide: it draws
 * frames strictly wider than its setting, so this is just under `minPx` (1e-6 px: below what
 * floating-point layout error could move a frame across, far below anything visible).
 */
export function d3MinFrameSize(minPx = MIN_FRAME_PX): number {
  return minPx - 1e-6;
}

/** d3-flame-graph 5 hides the label of frames narrower than this (CSS px); so do we. */
export const LABEL_MIN_PX = 35;

/**
 * Frames at least `minPx` wide when `tree` is drawn `widthPx` wide zoomed at `zoom` (the zoomed
 * frame spans the width; its ancestors, drawn faded, count too). The drawn count the status line
 * and bench/render.ts compare with.
 */
export function countFramesAtLeast(tree: FlameNode, zoom: ZoomPath, widthPx: number, minPx = MIN_FRAME_PX): number {
  const focus = findByPath(tree, zoom) ?? tree;
  const ancestors = focus === tree ? 0 : zoom.length;
  if (focus.v <= 0) return ancestors + 1;
  const scale = widthPx / focus.v;
  let count = 0;
  const stack: FlameNode[] = [focus];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.v * scale < minPx) continue; // children are never wider than their parent
    count++;
    if (node.c) for (const child of node.c) stack.push(child);
  }
  return count + ancestors;
}

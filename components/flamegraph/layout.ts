/**
 * Flame graph layout for the benchmark's canvas renderer (canvas-flame.ts), as d3-flame-graph lays
 * frames out (a d3-hierarchy partition): children side by side from the parent's left edge in the
 * order given, self time left over on the right, one row per depth.
 */
import type { FlameNode } from '../../lib/protocol.ts';
import { MIN_FRAME_PX } from './budget.ts';

export interface LaidOutFrame {
  /** Left edge, CSS px from the left of the graph. */
  x: number;
  /** Width, CSS px. */
  width: number;
  /** 0 for the root. */
  depth: number;
  node: FlameNode;
}

/**
 * The frames of `tree` drawn `widthPx` wide that are at least `minPx` and less than `maxPx` wide
 * (wider ones are walked through, not returned), in depth-first order.
 */
export function layoutFrames(tree: FlameNode, widthPx: number, minPx = MIN_FRAME_PX, maxPx = Infinity): LaidOutFrame[] {
  const frames: LaidOutFrame[] = [];
  if (tree.v <= 0) return frames;
  const scale = widthPx / tree.v;
  const walk = (node: FlameNode, x: number, depth: number): void => {
    const width = node.v * scale;
    if (width < minPx) return; // children are never wider than their parent
    if (width < maxPx) frames.push({ x, width, depth, node });
    if (!node.c) return;
    let left = x;
    for (const child of node.c) {
      walk(child, left, depth + 1);
      left += child.v * scale;
    }
  };
  walk(tree, 0, 0);
  return frames;
}

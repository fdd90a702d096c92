/**
 * Flame graph layout, as d3-flame-graph 5 lays frames out (a d3-hierarchy partition over its
 * `reappraiseNode` values): children side by side from the parent's left edge in the order given,
 * self time left over on the right, one row per depth. Zoomed at a path, the zoomed frame spans
 * the width and its ancestors (faded by d3-flame-graph) span it too, one row each.
 *
 * Pure: no DOM. The dashboard's flame graph (chart.ts) uses it for the canvas layer under
 * d3-flame-graph's SVG (frames thinner than the SVG's cut: drawing, hover and click), and the
 * bench's canvas renderer (components/bench/canvas-flame.ts) for every frame.
 */
import type { FlameNode } from '../../lib/protocol.ts';
import { MIN_FRAME_PX } from './budget.ts';
import { findByPath, type ZoomPath, type ZoomStep } from './zoom.ts';

export interface LaidOutFrame {
  /** Left edge, CSS px from the left of the graph. */
  x: number;
  /** Width, CSS px. */
  width: number;
  /** 0 for the root. */
  depth: number;
  node: FlameNode;
  /** The frame's parent in the picture (a zoomed frame's parent is its faded ancestor); null for the root. */
  parent: LaidOutFrame | null;
}

export interface FlameLayout {
  /** Frames at least `minPx` and less than `splitPx` wide, depth-first (the canvas layer's frames). */
  thin: LaidOutFrame[];
  /** `thin` by depth: rows[d] holds the thin frames of depth d, left to right (for hit-testing). */
  rows: LaidOutFrame[][];
  /** Frames of `splitPx` or more (d3-flame-graph's SVG frames), zoomed frame's ancestors included. */
  wideCount: number;
  /** Deepest frame drawn (thin or wide); -1 when nothing is drawn. */
  maxDepth: number;
}

export interface LayoutOptions {
  /** Zoomed frame, a path of names (and kinds) from the root's child; empty or absent: not zoomed. */
  zoom?: ZoomPath;
  /** Frames narrower than this (CSS px) are not drawn at all. */
  minPx?: number;
  /** Frames at least this wide are the SVG's: counted in `wideCount`, walked through, not in `thin`. */
  splitPx?: number;
}

/**
 * Lays out `tree` drawn `widthPx` wide. A zoom path that is not in `tree` lays out the root
 * (the chart applies zoom with applyZoomFlags first, which keeps only the part that exists).
 */
export function layoutFlame(tree: FlameNode, widthPx: number, { zoom = [], minPx = MIN_FRAME_PX, splitPx = Infinity }: LayoutOptions = {}): FlameLayout {
  const layout: FlameLayout = { thin: [], rows: [], wideCount: 0, maxDepth: -1 };
  // The zoomed frame and its ancestors: each spans the whole width (d3-flame-graph fades the ancestors).
  let focus: LaidOutFrame | null = null;
  if (zoom.length > 0 && findByPath(tree, zoom) !== null) {
    let node = tree;
    focus = { x: 0, width: widthPx, depth: 0, node, parent: null };
    for (const step of zoom) {
      node = node.c!.find((child) => child.n === step.name && (step.kind === undefined || child.k === step.kind))!;
      focus = { x: 0, width: widthPx, depth: focus.depth + 1, node, parent: focus };
    }
  }
  const top = focus?.node ?? tree;
  if (top.v <= 0 || widthPx <= 0) return layout;
  const scale = widthPx / top.v;
  const walk = (node: FlameNode, x: number, depth: number, parent: LaidOutFrame | null): void => {
    const width = node.v * scale;
    if (width < minPx) return; // children are never wider than their parent
    const frame: LaidOutFrame = { x, width, depth, node, parent };
    if (depth > layout.maxDepth) layout.maxDepth = depth;
    if (width < splitPx) {
      layout.thin.push(frame);
      (layout.rows[depth] ??= []).push(frame);
    } else {
      layout.wideCount++;
    }
    if (!node.c) return;
    let left = x;
    for (const child of node.c) {
      walk(child, left, depth + 1, frame);
      left += child.v * scale;
    }
  };
  walk(top, 0, focus?.depth ?? 0, focus?.parent ?? null);
  // The ancestors of the zoomed frame: full width, so never thinner than a sensible split.
  if (focus !== null) layout.wideCount += focus.depth;
  return layout;
}

/**
 * The frames of `tree` drawn `widthPx` wide that are at least `minPx` and less than `maxPx` wide
 * (wider ones are walked through, not returned), in depth-first order, not zoomed.
 */
export function layoutFrames(tree: FlameNode, widthPx: number, minPx = MIN_FRAME_PX, maxPx = Infinity): LaidOutFrame[] {
  return layoutFlame(tree, widthPx, { minPx, splitPx: maxPx }).thin;
}

/** Height of the graph, CSS px, as d3-flame-graph sizes its SVG: three rows of room above the deepest frame. */
export function graphHeightPx(maxDepth: number, cellHeightPx: number, minHeightPx: number): number {
  return Math.max(minHeightPx, (Math.max(0, maxDepth) + 3) * cellHeightPx);
}

/** Top edge of a row, CSS px: the root's row at the bottom (flame) or at the top (icicle, `inverted`). */
export function rowTopPx(depth: number, heightPx: number, cellHeightPx: number, inverted: boolean): number {
  return inverted ? depth * cellHeightPx : heightPx - (depth + 1) * cellHeightPx;
}

/**
 * The thin frame under the point (`x`, `y`), CSS px from the graph's top-left corner, or null.
 * Rows are `cellHeightPx` tall (rowTopPx); a frame covers [x, x + width) of its row.
 */
export function hitTest(layout: FlameLayout, x: number, y: number, heightPx: number, cellHeightPx: number, inverted: boolean): LaidOutFrame | null {
  if (y < 0 || y >= heightPx) return null;
  const depth = inverted ? Math.floor(y / cellHeightPx) : Math.floor((heightPx - y) / cellHeightPx);
  const row = layout.rows[depth];
  if (!row || row.length === 0) return null;
  // The last frame whose left edge is at or left of x (rows are sorted by x, frames do not overlap).
  let lo = 0;
  let hi = row.length - 1;
  if (x < row[0].x) return null;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (row[mid].x <= x) lo = mid;
    else hi = mid - 1;
  }
  const frame = row[lo];
  return x < frame.x + frame.width ? frame : null;
}

/** A laid-out frame's path from the root (root excluded): what zoom and the tooltip use. */
export function pathOfFrame(frame: LaidOutFrame): ZoomStep[] {
  const steps: ZoomStep[] = [];
  for (let cur: LaidOutFrame | null = frame; cur !== null && cur.parent !== null; cur = cur.parent) {
    steps.push({ name: cur.node.n, kind: cur.node.k });
  }
  return steps.reverse();
}

/** True when `frame` is the frame at `path` (names; kinds when given). */
export function frameIsAt(frame: LaidOutFrame, path: ZoomPath): boolean {
  if (frame.depth !== path.length) return false;
  let cur: LaidOutFrame | null = frame;
  for (let i = path.length - 1; i >= 0; i--) {
    if (cur === null) return false;
    const step = path[i];
    if (cur.node.n !== step.name || (step.kind !== undefined && cur.node.k !== step.kind)) return false;
    cur = cur.parent;
  }
  return cur !== null && cur.parent === null;
}

/** A node of the tree handed to d3-flame-graph (svgTree): `src` is the node of the received tree it stands for. */
export type SvgTreeNode = FlameNode & { src?: FlameNode; fade?: boolean; c?: SvgTreeNode[] };

/** Space-holders are kept this far under the cut (CSS px), far above floating-point layout error. */
const HOLDER_MARGIN_PX = 0.01;

/**
 * The tree d3-flame-graph is given: only the frames it draws (at least `splitPx` wide at this
 * width and zoom), so its per-update work (hierarchy, partition, filtering) runs over a few hundred
 * nodes instead of every node received. Laid out by d3-flame-graph, every kept frame lands exactly
 * where it lands in the full tree:
 * - the thinner children before a kept child are replaced by space-holders (name '', no kind) of
 *   the same total samples, each narrower than `splitPx - HOLDER_MARGIN_PX`, so d3-flame-graph
 *   (which draws frames of `splitPx` and more) lays them out but never draws them; thinner
 *   children after the last kept child are self time to the layout and are left out;
 * - zoomed: the zoomed frame's ancestors keep only the child on the path and are flagged `fade`,
 *   as d3-flame-graph's zoom flags them (full width, drawn faded).
 * Each kept node has its own `v`, `n`, `k` and `src` (the received node: tooltips count its self
 * samples from its real children). A zoom path that is not in `tree` gives the whole tree.
 */
export function svgTree(tree: FlameNode, widthPx: number, { zoom = [], splitPx = MIN_FRAME_PX }: Pick<LayoutOptions, 'zoom' | 'splitPx'> = {}): SvgTreeNode {
  const copy = (node: FlameNode): SvgTreeNode => (node.k === undefined ? { n: node.n, v: node.v, src: node } : { n: node.n, k: node.k, v: node.v, src: node });
  const root = copy(tree);
  let top = root;
  let focus = tree;
  if (zoom.length > 0 && findByPath(tree, zoom) !== null) {
    for (const step of zoom) {
      const next = focus.c!.find((child) => child.n === step.name && (step.kind === undefined || child.k === step.kind))!;
      const kept = copy(next);
      top.fade = true;
      top.c = [kept];
      top = kept;
      focus = next;
    }
  }
  if (focus.v <= 0 || widthPx <= 0) return root;
  const scale = widthPx / focus.v;
  const holderMaxPx = Math.max(0, splitPx - HOLDER_MARGIN_PX);
  const stack: Array<[FlameNode, SvgTreeNode]> = [[focus, top]];
  while (stack.length > 0) {
    const [node, kept] = stack.pop()!;
    if (!node.c) continue;
    const children: SvgTreeNode[] = [];
    let pending = 0; // samples of thin children not yet given a space-holder
    for (const child of node.c) {
      if (child.v * scale >= splitPx) {
        pushHolders(children, pending, scale, holderMaxPx);
        pending = 0;
        const keptChild = copy(child);
        children.push(keptChild);
        stack.push([child, keptChild]);
      } else {
        pending += child.v;
      }
    }
    if (children.length > 0) kept.c = children;
  }
  return root;
}

/** Space-holders for `samples` (thin children side by side), each at most `maxPx` wide at `scale` px per sample. */
function pushHolders(into: SvgTreeNode[], samples: number, scale: number, maxPx: number): void {
  if (samples <= 0) return;
  const count = maxPx > 0 ? Math.ceil((samples * scale) / maxPx) : 1;
  for (let i = 0; i < count; i++) into.push({ n: '', v: samples / count });
}

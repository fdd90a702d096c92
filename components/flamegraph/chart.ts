/**
 * The d3-flame-graph wrapper: one chart per container, created once and updated in place.
 *
 * - Reads our short-key nodes directly (d3-flame-graph 5 understands `n`/`v`/`c` natively).
 * - Transitions off: duration 0, and applied synchronously (immediate.ts), so a live update is
 *   one layout and one DOM join, drawn in the next frame.
 * - Search highlighting is done in the colour mapper, so a new tree needs no second pass
 *   through `chart.search()` (which would lay the graph out twice per update).
 * - Zoom is re-applied to each new tree before layout (see zoom.ts).
 * No React here; FlameGraph.tsx owns the lifecycle.
 */
import flamegraph, { type FlameGraph, type FlameGraphNode } from 'd3-flame-graph';
import { select } from 'd3-selection';
import type { FlameNode } from '../../lib/protocol.ts';
import { frameColor } from '../../lib/flame/colors.ts';
import { applyZoomFlags, pathOfNode, samePath, type ZoomPath, type ZoomStep } from './zoom.ts';
import { frameMatcher, HIGHLIGHT_COLOR } from './search.ts';
import { IMMEDIATE_CLASS, installImmediateTransitions } from './immediate.ts';
import { DEFAULT_DRAW_BUDGET, MIN_FRAME_PX, planDraw } from './budget.ts';

installImmediateTransitions();

export const CELL_HEIGHT = 18;
/** The graph is at least this tall, so a shallow flame graph still stands on the panel's floor. */
export const MIN_HEIGHT_PX = 240;

/** What the pointer is over, in samples and as a share of the whole window. */
export interface HoverInfo {
  name: string;
  kind: FlameNode['k'];
  samples: number;
  selfSamples: number;
  totalSamples: number;
  /** The frame's path from the root (root excluded). */
  path: ZoomStep[];
}

export interface FlameChartCallbacks {
  /** The user clicked a frame (or zoom fell back because the frame vanished). */
  onZoom(path: ZoomStep[]): void;
  /** Pointer over a frame (viewport coordinates of the pointer), or null when it left. */
  onHover(info: HoverInfo | null, at?: { x: number; y: number }): void;
  /** After each draw: frames drawn (see budget.ts). */
  onDrawn?(drawn: number): void;
}

type Node = FlameGraphNode<FlameNode>;

export class FlameChart {
  private readonly chart: FlameGraph<FlameNode>;
  private readonly container: HTMLElement;
  private tree: FlameNode | null = null;
  private zoom: ZoomStep[] = [];
  private match: ((name: string) => boolean) | null = null;
  private marked: ZoomPath | null = null;
  private mounted = false;
  private minFramePx = MIN_FRAME_PX;

  constructor(
    container: HTMLElement,
    private readonly callbacks: FlameChartCallbacks,
    private readonly drawBudget = DEFAULT_DRAW_BUDGET,
  ) {
    this.container = container;
    container.classList.add(IMMEDIATE_CLASS);
    this.chart = flamegraph<FlameNode>()
      .width(Math.max(100, Math.floor(container.clientWidth)))
      .cellHeight(CELL_HEIGHT)
      .minHeight(MIN_HEIGHT_PX)
      .transitionDuration(0)
      // Which frames are drawn: see budget.ts (set for every update in plan()).
      .minFrameSize(MIN_FRAME_PX)
      .sort(false) // the server sends children sorted by name: stable layout between updates
      .resetHeightOnZoom(true) // recompute the height on every update: depth changes live
      .setColorMapper((d) => this.color(d))
      .setLabelHandler((d) => this.label(d))
      // Our own tooltip (drawn by React): d3-flame-graph calls show(event, d) / hide().
      // Setting one also spares a <title> per frame on every update.
      .tooltip(this.tooltipBridge())
      .onClick((d) => {
        // d3-flame-graph has already zoomed the drawing; remember where, for later updates.
        this.zoom = pathOfNode(d as unknown as Parameters<typeof pathOfNode>[0]);
        // The zoomed view has other frames wide enough to draw: redo the plan if it changed.
        if (this.tree && this.plan()) this.chart.update();
        this.mark();
        this.callbacks.onZoom(this.zoom);
      });
  }

  /**
   * Draws `tree` (a new live update) zoomed at `zoom`. Returns the zoom actually shown,
   * shorter than `zoom` when the zoomed frame is not in this tree.
   */
  render(tree: FlameNode, zoom: ZoomPath): ZoomStep[] {
    if (tree === this.tree && samePath(zoom, this.zoom)) return this.zoom;
    this.zoom = applyZoomFlags(tree, zoom);
    this.tree = tree;
    this.plan();
    if (!this.mounted) {
      select(this.container).datum(tree).call(this.chart as never);
      this.mounted = true;
    } else {
      this.chart.update(tree);
    }
    this.mark();
    return this.zoom;
  }

  /** Width in CSS pixels (from the container's ResizeObserver). */
  setWidth(px: number): void {
    const width = Math.max(100, Math.floor(px));
    if (width === this.chart.width()) return;
    this.chart.width(width);
    if (this.tree) this.plan();
    if (this.mounted) this.chart.update();
    this.mark();
  }

  setInverted(inverted: boolean): void {
    if (inverted === this.chart.inverted()) return;
    this.chart.inverted(inverted);
    if (this.mounted) this.chart.update();
    this.mark();
  }

  /** Highlights frames matching `query` (same matching as lib/flame/search.ts). */
  setSearch(query: string): void {
    this.match = frameMatcher(query);
    if (this.mounted) this.chart.update();
    this.mark();
  }

  /** Outlines the frame at `path` (names; kinds when given), on this and later updates; null: none. */
  setMarked(path: ZoomPath | null): void {
    this.marked = path && path.length > 0 ? path : null;
    this.mark();
  }

  destroy(): void {
    this.chart.destroy();
    this.mounted = false;
    this.tree = null;
  }

  /** Applies the outline of `marked` to the drawn frames (drawn frames only: at most the budget). */
  private mark(): void {
    if (!this.mounted) return;
    const target = this.marked;
    select(this.container)
      .selectAll<SVGGElement, Node>('g.frame')
      .classed('pb-marked', (d) => target !== null && d.depth === target.length && isAt(d, target));
  }

  /** Sets minFrameSize for the current tree, zoom and width; true when it changed. */
  private plan(): boolean {
    const { minFramePx, drawn } = planDraw(this.tree!, this.zoom, this.chart.width(), this.drawBudget);
    this.callbacks.onDrawn?.(drawn);
    if (minFramePx === this.minFramePx) return false;
    this.minFramePx = minFramePx;
    this.chart.minFrameSize(minFramePx);
    return true;
  }

  private tooltipBridge() {
    const tip = () => undefined;
    tip.show = (event: MouseEvent, d: Node) => {
      this.callbacks.onHover(this.hoverInfo(d), { x: event.clientX, y: event.clientY });
      return tip;
    };
    tip.hide = () => {
      this.callbacks.onHover(null);
      return tip;
    };
    return tip;
  }

  private color(d: Node): string {
    if (this.match && d.parent && this.match(d.data.n)) return HIGHLIGHT_COLOR;
    return frameColor(d.data.n, d.data.k);
  }

  private hoverInfo(d: Node): HoverInfo {
    const data = d.data;
    let childSamples = 0;
    if (data.c) for (const child of data.c) childSamples += child.v;
    return {
      name: data.n,
      kind: data.k,
      samples: data.v,
      selfSamples: data.v - childSamples,
      totalSamples: this.tree?.v ?? data.v,
      path: pathOfNode(d as unknown as Parameters<typeof pathOfNode>[0]),
    };
  }

  private label(d: Node): string {
    const total = this.tree?.v ?? 0;
    const pct = total > 0 ? ((100 * d.data.v) / total).toFixed(2) : '0';
    return `${d.data.n}\n${d.data.v} samples (${pct}%)`;
  }
}

/** True when laid-out node `d` is the frame at `path` (walked up from the node). */
function isAt(d: Node, path: ZoomPath): boolean {
  let node: Node | null = d;
  for (let i = path.length - 1; i >= 0; i--) {
    if (!node) return false;
    const step = path[i];
    if (node.data.n !== step.name || (step.kind !== undefined && node.data.k !== step.kind)) return false;
    node = node.parent;
  }
  return node !== null && node.parent === null;
}

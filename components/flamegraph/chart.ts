/**
 * The d3-flame-graph wrapper: one chart per container, created once and updated in place.
 *
 * - Reads our short-key nodes directly (d3-flame-graph 5 understands `n`/`v`/`c` natively).
 * - Transitions off: duration 0, and applied synchronously (immediate.ts), so a live update is
 *   one layout and one DOM join, drawn in the next frame.
 * - Search highlighting is done in the colour mapper, so a new tree needs no second pass
 *   through `chart.search()` (which would lay the graph out twice per update).
 * - Zoom is re-applied to each new tree before layout (see zoom.ts).
 * - Every frame at least 1 px wide is drawn (budget.ts): d3-flame-graph draws the frames of
 *   SVG_MIN_PX and more; the thinner ones are painted on a canvas under its SVG (canvas.ts) in the
 *   same coordinate system, laid out by layout.ts as d3-flame-graph lays them out (zoom included).
 *   The SVG is sized for the deepest frame of either layer (its `minHeight`, set before each update).
 *   d3-flame-graph is given only the frames it draws (layout.ts svgTree: space-holders keep their
 *   places), so its per-update hierarchy and layout run over hundreds of nodes, not every node.
 *   Hover and click on a thin frame hit-test that layout and give the same tooltip and zoom.
 * - Only frames wide enough for a label (LABEL_MIN_PX) keep d3-flame-graph's label element, so
 *   most SVG frames are a <g> and a <rect>.
 * No React here; FlameGraph.tsx owns the lifecycle.
 */
import flamegraph, { type FlameGraph, type FlameGraphNode } from 'd3-flame-graph';
import { select } from 'd3-selection';
import type { FlameNode, ProfileUnit } from '../../lib/protocol.ts';
import { formatMicros } from '../../lib/profile-units.ts';
import { applyZoomFlags, pathOfNode, samePath, type ZoomPath, type ZoomStep } from './zoom.ts';
import { frameFill, frameMatcher } from './search.ts';
import { IMMEDIATE_CLASS, installImmediateTransitions } from './immediate.ts';
import { d3MinFrameSize, LABEL_MIN_PX, MIN_FRAME_PX, SVG_MIN_PX } from './budget.ts';
import { frameIsAt, graphHeightPx, hitTest, layoutFlame, pathOfFrame, svgTree, type FlameLayout, type LaidOutFrame, type SvgTreeNode } from './layout.ts';
import { FlameCanvas } from './canvas.ts';

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
  /** Off-CPU time: blocking events behind `samples` (FlameNode.e), when known. */
  events?: number;
  /** The frame's path from the root (root excluded). */
  path: ZoomStep[];
}

export interface FlameChartCallbacks {
  /** The user clicked a frame (or zoom fell back because the frame vanished). */
  onZoom(path: ZoomStep[]): void;
  /** Pointer over a frame (viewport coordinates of the pointer), or null when it left. */
  onHover(info: HoverInfo | null, at?: { x: number; y: number }): void;
  /** After each draw: frames drawn, SVG and canvas (every frame at least 1 px wide: see budget.ts). */
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
  /** What widths count: samples, or µs (offcpu and wall), for frame labels. */
  private unit: ProfileUnit = 'samples';
  private mounted = false;
  /** Frames on screen after the last draw (SVG + canvas). */
  private drawnFrames = 0;
  /** SVG frames are at least this wide (CSS px); the canvas paints the thinner ones. */
  private readonly svgMinPx: number;
  private readonly canvas: FlameCanvas;
  /** The picture as last laid out (what the canvas shows and hover/click hit-test), and its height (CSS px). */
  private layout: FlameLayout | null = null;
  private heightPx = MIN_HEIGHT_PX;
  /** The thin (canvas) frame under the pointer, or null. */
  private hoveredThin: LaidOutFrame | null = null;
  /** What d3-flame-graph is given for the current tree, zoom and width (layout.ts svgTree). */
  private svgData: SvgTreeNode | null = null;

  /**
   * `svgMinPx`: d3-flame-graph draws the frames at least this wide (CSS px), the canvas the ones
   * from MIN_FRAME_PX up to it. The dashboard keeps SVG_MIN_PX; bench/render.ts sets MIN_FRAME_PX
   * (`--renderer svg`: every frame in the SVG, no canvas frames) or others to compare.
   */
  constructor(
    container: HTMLElement,
    private readonly callbacks: FlameChartCallbacks,
    { svgMinPx = SVG_MIN_PX }: { svgMinPx?: number } = {},
  ) {
    this.container = container;
    this.svgMinPx = Math.max(MIN_FRAME_PX, svgMinPx);
    container.classList.add(IMMEDIATE_CLASS);
    // The canvas is positioned at the container's top-left corner, under the SVG.
    container.style.position = 'relative';
    this.canvas = new FlameCanvas(container);
    container.addEventListener('mousemove', this.onPointerMove);
    container.addEventListener('mouseleave', this.onPointerLeave);
    container.addEventListener('click', this.onCanvasClick);
    this.chart = flamegraph<FlameNode>()
      .width(Math.max(100, Math.floor(container.clientWidth)))
      .cellHeight(CELL_HEIGHT)
      .minHeight(MIN_HEIGHT_PX)
      .transitionDuration(0)
      // The SVG's frames: every frame at least svgMinPx wide (the canvas paints the thinner ones: budget.ts).
      .minFrameSize(d3MinFrameSize(this.svgMinPx))
      .sort(false) // the server sends children sorted by name: stable layout between updates
      .resetHeightOnZoom(true) // recompute the height on every update: depth changes live
      .setColorMapper((d) => this.color(d))
      .setLabelHandler((d) => this.label(d))
      // Our own tooltip (drawn by React): d3-flame-graph calls show(event, d) / hide().
      // Setting one also spares a <title> per frame on every update.
      .tooltip(this.tooltipBridge())
      .onClick((d) => {
        // d3-flame-graph has zoomed its tree; remember where, for later updates. Its tree holds only
        // the frames wide enough before the zoom: lay out again and give it the tree for the new zoom.
        this.zoom = pathOfNode(d as unknown as Parameters<typeof pathOfNode>[0]);
        if (this.tree !== null) this.zoom = applyZoomFlags(this.tree, this.zoom);
        this.relayout();
        this.chart.update(this.svgData ?? undefined);
        this.afterDraw();
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
    this.relayout();
    if (!this.mounted) {
      select(this.container).datum(this.svgData).call(this.chart as never);
      this.mounted = true;
      // Positioned, so it paints over the canvas (positioned before it); a block, so its top-left
      // corner is the container's, where the canvas sits.
      const svg = this.container.querySelector('svg');
      if (svg) svg.style.cssText += ';position:relative;display:block';
    } else {
      this.chart.update(this.svgData!);
    }
    this.afterDraw();
    return this.zoom;
  }

  /** Width in CSS pixels (from the container's ResizeObserver). */
  setWidth(px: number): void {
    const width = Math.max(100, Math.floor(px));
    if (width === this.chart.width()) return;
    this.chart.width(width);
    this.relayout();
    if (this.mounted) this.chart.update(this.svgData ?? undefined);
    this.afterDraw();
  }

  setInverted(inverted: boolean): void {
    if (inverted === this.chart.inverted()) return;
    this.chart.inverted(inverted);
    if (this.mounted) this.chart.update();
    this.afterDraw();
  }

  /** Highlights frames matching `query` (same matching as lib/flame/search.ts), in both layers. */
  setSearch(query: string): void {
    this.match = frameMatcher(query);
    if (this.mounted) this.chart.update();
    this.afterDraw();
  }

  /** Outlines the frame at `path` (names; kinds when given), on this and later updates; null: none. */
  setMarked(path: ZoomPath | null): void {
    this.marked = path && path.length > 0 ? path : null;
    this.mark();
    this.paintCanvas();
  }

  destroy(): void {
    this.container.removeEventListener('mousemove', this.onPointerMove);
    this.container.removeEventListener('mouseleave', this.onPointerLeave);
    this.container.removeEventListener('click', this.onCanvasClick);
    this.canvas.destroy();
    this.chart.destroy();
    this.mounted = false;
    this.tree = null;
    this.layout = null;
    this.svgData = null;
  }

  /** Frames on screen after the last draw: SVG frames (the g elements d3-flame-graph keeps) + canvas frames. */
  drawn(): number {
    return this.drawnFrames;
  }

  /** Frames on the canvas layer after the last draw. */
  canvasFrames(): number {
    return this.layout?.thin.length ?? 0;
  }

  /**
   * Lays out the current tree, zoom and width for the canvas and hit-testing, and sizes the SVG
   * for the deepest frame of both layers (d3-flame-graph takes the larger of its own height and
   * `minHeight`). Before every `chart.update()` that changes what is laid out.
   */
  private relayout(): void {
    this.hoveredThin = null;
    if (this.tree === null) return;
    const width = this.chart.width();
    this.layout = layoutFlame(this.tree, width, { zoom: this.zoom, minPx: MIN_FRAME_PX, splitPx: this.svgMinPx });
    this.svgData = svgTree(this.tree, width, { zoom: this.zoom, splitPx: this.svgMinPx });
    this.heightPx = graphHeightPx(this.layout.maxDepth, CELL_HEIGHT, MIN_HEIGHT_PX);
    this.chart.minHeight(this.heightPx);
  }

  /** After d3-flame-graph drew: labels only where they fit, the outline, the canvas layer, the drawn count. */
  private afterDraw(): void {
    if (!this.mounted) return;
    const svgFrames = this.fitLabels();
    this.mark();
    this.paintCanvas();
    this.drawnFrames = svgFrames + this.canvasFrames();
    this.callbacks.onDrawn?.(this.drawnFrames);
  }

  /** Paints the thin frames of the current layout (fills as the SVG's colour mapper gives them). */
  private paintCanvas(): void {
    const layout = this.layout;
    if (!this.mounted || layout === null) return;
    if (layout.thin.length === 0) {
      this.canvas.clear();
      return;
    }
    const match = this.match;
    const target = this.marked;
    this.canvas.paint({
      layout,
      widthPx: this.chart.width(),
      heightPx: this.heightPx,
      cellHeightPx: CELL_HEIGHT,
      inverted: this.chart.inverted(),
      fill: (frame) => frameFill(frame.node, frame.parent === null, match),
      marked: target === null ? null : (layout.rows[target.length]?.find((frame) => frameIsAt(frame, target)) ?? null),
    });
  }

  /** The thin frame at a pointer position (viewport coordinates), or null (over an SVG frame, or nothing). */
  private thinFrameAt(event: MouseEvent): LaidOutFrame | null {
    const layout = this.layout;
    if (!this.mounted || layout === null || layout.thin.length === 0) return null;
    // SVG frames handle their own events (d3-flame-graph's listeners).
    if (event.target instanceof Element && event.target.closest('g.frame') !== null) return null;
    const svg = this.container.querySelector('svg');
    if (!svg) return null;
    const box = svg.getBoundingClientRect();
    return hitTest(layout, event.clientX - box.left, event.clientY - box.top, this.heightPx, CELL_HEIGHT, this.chart.inverted());
  }

  private readonly onPointerMove = (event: MouseEvent): void => {
    if (event.target instanceof Element && event.target.closest('g.frame') !== null) {
      // Onto an SVG frame: its mouseover has shown its own tooltip already; keep it.
      this.hoveredThin = null;
      return;
    }
    const frame = this.thinFrameAt(event);
    if (frame === this.hoveredThin) return;
    const left = this.hoveredThin;
    this.hoveredThin = frame;
    this.container.style.cursor = frame ? 'pointer' : '';
    if (frame) this.callbacks.onHover(this.hoverInfo(frame.node, pathOfFrame(frame)), { x: event.clientX, y: event.clientY });
    // Only hide what a thin frame showed: an SVG frame's tooltip is d3-flame-graph's to hide.
    else if (left) this.callbacks.onHover(null);
  };

  private readonly onPointerLeave = (): void => {
    if (this.hoveredThin === null) return;
    this.hoveredThin = null;
    this.container.style.cursor = '';
    this.callbacks.onHover(null);
  };

  /** A click on a thin frame zooms into it, as a click on an SVG frame does (d3-flame-graph's zoom). */
  private readonly onCanvasClick = (event: MouseEvent): void => {
    const frame = this.thinFrameAt(event);
    if (frame === null || this.tree === null) return;
    this.callbacks.onHover(null);
    this.container.style.cursor = '';
    this.zoom = applyZoomFlags(this.tree, pathOfFrame(frame));
    this.relayout();
    this.chart.update(this.svgData ?? undefined);
    this.afterDraw();
    this.callbacks.onZoom(this.zoom);
  };

  /**
   * d3-flame-graph gives every frame a label (foreignObject + div) and updates all of them on every
   * update, though it shows the text only from LABEL_MIN_PX. Most frames are narrower: their label
   * element is removed (d3-flame-graph's update skips frames without one), and a frame that grew
   * wide enough gets one back, built as d3-flame-graph builds it. Returns the frames drawn.
   */
  private fitLabels(): number {
    const svg = this.container.querySelector('svg');
    if (!svg) return 0;
    const width = this.chart.width();
    let frames = 0;
    for (let g = svg.firstElementChild; g !== null; g = g.nextElementSibling) {
      const d = (g as Element & { __data__?: Node }).__data__;
      if (g.localName !== 'g' || !d) continue;
      frames++;
      const last = g.lastElementChild;
      const label = last !== null && last.localName === 'foreignObject' ? last : null;
      // d3-flame-graph's layout spans [0, 1] (its partition's size), so a frame is (x1 - x0) * width px.
      const px = (d.x1 - d.x0) * width;
      if (px < LABEL_MIN_PX) label?.remove();
      else if (label === null) g.appendChild(labelElement(d.data.n, px));
    }
    return frames;
  }

  /** Applies the outline of `marked` to the drawn frames. */
  private mark(): void {
    if (!this.mounted) return;
    const target = this.marked;
    if (target === null) {
      for (const frame of this.container.querySelectorAll('g.pb-marked')) frame.classList.remove('pb-marked');
      return;
    }
    select(this.container)
      .selectAll<SVGGElement, Node>('g.frame')
      .classed('pb-marked', (d) => target !== null && d.depth === target.length && isAt(d, target));
  }

  private tooltipBridge() {
    const tip = () => undefined;
    tip.show = (event: MouseEvent, d: Node) => {
      this.callbacks.onHover(this.hoverInfo((d.data as SvgTreeNode).src ?? d.data, pathOfNode(d as unknown as Parameters<typeof pathOfNode>[0])), { x: event.clientX, y: event.clientY });
      return tip;
    };
    tip.hide = () => {
      this.callbacks.onHover(null);
      return tip;
    };
    return tip;
  }

  private color(d: Node): string {
    return frameFill(d.data, d.parent === null, this.match);
  }

  private hoverInfo(data: FlameNode, path: ZoomStep[]): HoverInfo {
    let childSamples = 0;
    if (data.c) for (const child of data.c) childSamples += child.v;
    return {
      name: data.n,
      kind: data.k,
      samples: data.v,
      selfSamples: data.v - childSamples,
      totalSamples: this.tree?.v ?? data.v,
      ...(data.e !== undefined && { events: data.e }),
      path,
    };
  }

  private label(d: Node): string {
    const total = this.tree?.v ?? 0;
    const pct = total > 0 ? ((100 * d.data.v) / total).toFixed(2) : '0';
    return `${d.data.n}\n${this.unit === 'us' ? formatMicros(d.data.v) : `${d.data.v} samples`} (${pct}%)`;
  }

  /** Widths count samples or µs (ProfileFrame.unit): frame labels say which. Takes effect at the next draw. */
  setUnit(unit: ProfileUnit): void {
    this.unit = unit;
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const XHTML_NS = 'http://www.w3.org/1999/xhtml';

/** A frame's label as d3-flame-graph 5 builds and updates it (foreignObject > div, text = name). */
function labelElement(name: string, widthPx: number): SVGForeignObjectElement {
  const label = document.createElementNS(SVG_NS, 'foreignObject');
  label.setAttribute('width', String(widthPx));
  label.setAttribute('height', String(CELL_HEIGHT));
  label.style.setProperty('pointer-events', 'none');
  const div = document.createElementNS(XHTML_NS, 'div') as HTMLDivElement;
  div.setAttribute('class', 'd3-flame-graph-label');
  div.style.setProperty('display', 'block');
  div.textContent = name;
  label.appendChild(div);
  return label;
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

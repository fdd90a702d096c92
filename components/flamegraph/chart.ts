/**
 * The d3-flame-graph wrapper: one chart per container, created once and updated in place.
 *
 * - Reads our short-key nodes directly (d3-flame-graph 5 understands `n`/`v`/`c` natively).
 * - Transitions off: duration 0, and applied synchronously (immediate.ts), so a live update is
 *   one layout and one DOM join, drawn in the next frame.
 * - Search highlighting is done in the colour mapper, so a new tree needs no second pass
 *   through `chart.search()` (which would lay the graph out twice per update).
 * - Zoom is re-applied to each new tree before layout (see zoom.ts).
 * - Every frame at least 1 px wide is drawn (budget.ts); only frames wide enough for a label
 *   (LABEL_MIN_PX) keep d3-flame-graph's label element, so most frames are a <g> and a <rect>.
 * No React here; FlameGraph.tsx owns the lifecycle.
 */
import flamegraph, { type FlameGraph, type FlameGraphNode } from 'd3-flame-graph';
import { select } from 'd3-selection';
import type { FlameNode } from '../../lib/protocol.ts';
import { frameColor } from '../../lib/flame/colors.ts';
import { applyZoomFlags, pathOfNode, samePath, type ZoomPath, type ZoomStep } from './zoom.ts';
import { frameMatcher, HIGHLIGHT_COLOR } from './search.ts';
import { IMMEDIATE_CLASS, installImmediateTransitions } from './immediate.ts';
import { d3MinFrameSize, LABEL_MIN_PX, MIN_FRAME_PX } from './budget.ts';

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
  /** After each draw: frames drawn (every frame at least 1 px wide: see budget.ts). */
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
  /** Frames on screen after the last draw. */
  private drawnFrames = 0;

  /**
   * `minFramePx`: draw frames at least this wide (CSS px). The dashboard keeps MIN_FRAME_PX (every
   * frame of 1 px or more); bench/render.ts sets more to measure what fewer SVG frames cost.
   */
  constructor(
    container: HTMLElement,
    private readonly callbacks: FlameChartCallbacks,
    { minFramePx = MIN_FRAME_PX }: { minFramePx?: number } = {},
  ) {
    this.container = container;
    container.classList.add(IMMEDIATE_CLASS);
    this.chart = flamegraph<FlameNode>()
      .width(Math.max(100, Math.floor(container.clientWidth)))
      .cellHeight(CELL_HEIGHT)
      .minHeight(MIN_HEIGHT_PX)
      .transitionDuration(0)
      // Which frames are drawn: every frame at least minFramePx wide (1 px in the dashboard: budget.ts).
      .minFrameSize(d3MinFrameSize(minFramePx))
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
    if (!this.mounted) {
      select(this.container).datum(tree).call(this.chart as never);
      this.mounted = true;
    } else {
      this.chart.update(tree);
    }
    this.afterDraw();
    return this.zoom;
  }

  /** Width in CSS pixels (from the container's ResizeObserver). */
  setWidth(px: number): void {
    const width = Math.max(100, Math.floor(px));
    if (width === this.chart.width()) return;
    this.chart.width(width);
    if (this.mounted) this.chart.update();
    this.afterDraw();
  }

  setInverted(inverted: boolean): void {
    if (inverted === this.chart.inverted()) return;
    this.chart.inverted(inverted);
    if (this.mounted) this.chart.update();
    this.afterDraw();
  }

  /** Highlights frames matching `query` (same matching as lib/flame/search.ts). */
  setSearch(query: string): void {
    this.match = frameMatcher(query);
    if (this.mounted) this.chart.update();
    this.afterDraw();
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

  /** Frames on screen after the last draw (the g elements d3-flame-graph keeps). */
  drawn(): number {
    return this.drawnFrames;
  }

  /** After d3-flame-graph drew: labels only where they fit, the outline, the drawn count. */
  private afterDraw(): void {
    if (!this.mounted) return;
    this.drawnFrames = this.fitLabels();
    this.mark();
    this.callbacks.onDrawn?.(this.drawnFrames);
  }

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

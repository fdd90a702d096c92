/**
 * The canvas layer of the live flame graph: the frames thinner than d3-flame-graph's cut
 * (budget.ts SVG_MIN_PX) and at least 1 px wide, painted under the SVG in the same coordinate
 * system (same width, same height, same rows: layout.ts rowTopPx). Thousands of thin frames cost
 * a few milliseconds here; as SVG elements they cost most of an update (bench/render.ts).
 *
 * It only paints. What is painted (layout.ts layoutFlame), the fills (search.ts frameFill) and
 * hover/click (layout.ts hitTest) are decided by chart.ts.
 */
import type { FlameLayout, LaidOutFrame } from './layout.ts';
import { rowTopPx } from './layout.ts';

/** Gap between neighbouring frames, CSS px (the SVG rects' 0.5 px dark stroke in app/globals.css). */
const GAP_PX = 0.5;
/** The SVG rects' fill-opacity (app/globals.css), so a colour looks the same in both layers. */
const FILL_OPACITY = 0.92;
/** Outline of the marked frame (follow mode), as `g.frame.pb-marked rect` in app/globals.css. */
const MARK_STROKE = '#f0abfc';

export interface CanvasPaint {
  layout: FlameLayout;
  widthPx: number;
  heightPx: number;
  cellHeightPx: number;
  inverted: boolean;
  fill(frame: LaidOutFrame): string;
  /** A thin frame to outline, or null. */
  marked: LaidOutFrame | null;
}

export class FlameCanvas {
  readonly canvas: HTMLCanvasElement;
  private readonly context: CanvasRenderingContext2D;

  /** Puts the canvas first in `container` (positioned at its top-left corner; the SVG paints over it). */
  constructor(container: HTMLElement) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'pb-flame-canvas';
    // Under the SVG (which chart.ts positions too, later in the DOM); the SVG and the container get the pointer.
    this.canvas.style.cssText = 'position:absolute;left:0;top:0;pointer-events:none';
    container.prepend(this.canvas);
    this.context = this.canvas.getContext('2d')!;
  }

  paint({ layout, widthPx, heightPx, cellHeightPx, inverted, fill, marked }: CanvasPaint): void {
    const ratio = window.devicePixelRatio || 1;
    const pixelWidth = Math.round(widthPx * ratio);
    const pixelHeight = Math.round(heightPx * ratio);
    if (this.canvas.width !== pixelWidth || this.canvas.height !== pixelHeight) {
      this.canvas.width = pixelWidth;
      this.canvas.height = pixelHeight;
      this.canvas.style.width = `${widthPx}px`;
      this.canvas.style.height = `${heightPx}px`;
    }
    const ctx = this.context;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, widthPx, heightPx);
    ctx.globalAlpha = FILL_OPACITY;
    let lastFill = '';
    for (const frame of layout.thin) {
      const color = fill(frame);
      if (color !== lastFill) ctx.fillStyle = lastFill = color;
      ctx.fillRect(frame.x, rowTopPx(frame.depth, heightPx, cellHeightPx, inverted), Math.max(GAP_PX, frame.width - GAP_PX), cellHeightPx - GAP_PX);
    }
    ctx.globalAlpha = 1;
    if (marked !== null) {
      ctx.strokeStyle = MARK_STROKE;
      ctx.lineWidth = 2;
      ctx.strokeRect(marked.x, rowTopPx(marked.depth, heightPx, cellHeightPx, inverted), marked.width, cellHeightPx);
    }
  }

  /** Nothing painted (an empty tree). */
  clear(): void {
    this.context.setTransform(1, 0, 0, 1, 0, 0);
    this.context.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  destroy(): void {
    this.canvas.remove();
  }
}

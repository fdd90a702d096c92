/**
 * A canvas flame graph, for the rendering benchmark only: `--renderer canvas` of bench/render.ts
 * paints every frame here, with no SVG at all (the dashboard's own flame graph is the hybrid in
 * components/flamegraph/: d3-flame-graph for readable frames, its canvas layer for the thin ones).
 * Same layout (components/flamegraph/layout.ts), same colours (lib/flame/colors.ts), labels where
 * d3-flame-graph would; no hover, zoom or search.
 */
import type { FlameNode } from '../../lib/protocol.ts';
import { frameColor } from '../../lib/flame/colors.ts';
import { LABEL_MIN_PX, MIN_FRAME_PX } from '../flamegraph/budget.ts';
import { CELL_HEIGHT } from '../flamegraph/chart.ts';
import { layoutFrames } from '../flamegraph/layout.ts';

/** Gap between neighbouring frames, CSS px (the SVG's 0.5 px stroke in app/globals.css). */
const GAP_PX = 0.5;

export class CanvasFlame {
  readonly canvas: HTMLCanvasElement;
  private readonly context: CanvasRenderingContext2D;
  private charWidth = 0;

  constructor(container: HTMLElement) {
    this.canvas = document.createElement('canvas');
    this.canvas.style.display = 'block';
    container.appendChild(this.canvas);
    this.context = this.canvas.getContext('2d', { alpha: true })!;
  }

  /**
   * Paints the frames of `tree` from `minPx` to under `maxPx` wide, the root's row at the bottom
   * (a flame graph). `minHeightPx`: the canvas is at least this tall (to share rows with an SVG
   * of that height drawn over it). Returns the frames painted and the canvas height (CSS px).
   */
  draw(tree: FlameNode, widthPx: number, options: { minPx?: number; maxPx?: number; minHeightPx?: number } = {}): { frames: number; heightPx: number } {
    const frames = layoutFrames(tree, widthPx, options.minPx ?? MIN_FRAME_PX, options.maxPx ?? Infinity);
    let maxDepth = 0;
    for (const frame of frames) if (frame.depth > maxDepth) maxDepth = frame.depth;
    const heightPx = Math.max(options.minHeightPx ?? 0, (maxDepth + 3) * CELL_HEIGHT);
    const ratio = window.devicePixelRatio || 1;
    const ctx = this.context;
    if (this.canvas.width !== Math.round(widthPx * ratio) || this.canvas.height !== Math.round(heightPx * ratio)) {
      this.canvas.width = Math.round(widthPx * ratio);
      this.canvas.height = Math.round(heightPx * ratio);
      this.canvas.style.width = `${widthPx}px`;
      this.canvas.style.height = `${heightPx}px`;
      this.charWidth = 0;
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, widthPx, heightPx);
    for (const frame of frames) {
      ctx.fillStyle = frameColor(frame.node.n, frame.node.k);
      ctx.fillRect(frame.x, heightPx - (frame.depth + 1) * CELL_HEIGHT, Math.max(GAP_PX, frame.width - GAP_PX), CELL_HEIGHT - GAP_PX);
    }
    ctx.font = '11px ui-monospace, "DejaVu Sans Mono", monospace';
    ctx.fillStyle = '#111';
    ctx.textBaseline = 'middle';
    if (this.charWidth === 0) this.charWidth = ctx.measureText('MMMMMMMMMM').width / 10;
    for (const frame of frames) {
      if (frame.width < LABEL_MIN_PX) continue;
      const room = Math.floor((frame.width - 8) / this.charWidth);
      if (room < 1) continue;
      const name = frame.node.n;
      const text = name.length <= room ? name : `${name.slice(0, Math.max(0, room - 1))}…`;
      ctx.fillText(text, frame.x + 4, heightPx - (frame.depth + 0.5) * CELL_HEIGHT);
    }
    return { frames: frames.length, heightPx };
  }
}

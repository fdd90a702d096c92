// Types for the parts of d3-flame-graph 5 (dist/d3-flamegraph.es.js) that probeboard uses.
// The package ships no typings. Checked against the v5.0.0 source: the default export is
// `flamegraph()`; nodes handed to callbacks are d3-hierarchy nodes wrapping our data.
declare module 'd3-flame-graph' {
  import type { HierarchyRectangularNode } from 'd3-hierarchy';
  import type { Selection } from 'd3-selection';

  /** A laid-out node: `data` is the input object, `x0`/`x1` its span as a fraction of the root. */
  export type FlameGraphNode<T> = HierarchyRectangularNode<T> & { id: number; highlight?: boolean };

  export interface FlameGraph<T> {
    (selection: Selection<HTMLElement, T, null, undefined>): void;
    width(): number;
    width(px: number): FlameGraph<T>;
    height(px: number | null): FlameGraph<T>;
    minHeight(px: number): FlameGraph<T>;
    cellHeight(px: number): FlameGraph<T>;
    minFrameSize(px: number): FlameGraph<T>;
    title(text: string): FlameGraph<T>;
    transitionDuration(ms: number): FlameGraph<T>;
    sort(enabled: boolean | ((a: FlameGraphNode<T>, b: FlameGraphNode<T>) => number)): FlameGraph<T>;
    inverted(): boolean;
    inverted(enabled: boolean): FlameGraph<T>;
    selfValue(enabled: boolean): FlameGraph<T>;
    resetHeightOnZoom(enabled: boolean): FlameGraph<T>;
    setLabelHandler(fn: (d: FlameGraphNode<T>) => string): FlameGraph<T>;
    setColorMapper(fn: (d: FlameGraphNode<T>, originalColor: string) => string): FlameGraph<T>;
    setDetailsHandler(fn: (text: string | null) => void): FlameGraph<T>;
    setSearchHandler(fn: (results: FlameGraphNode<T>[], sum: number, total: number) => void): FlameGraph<T>;
    onClick(fn: (d: FlameGraphNode<T>) => void): FlameGraph<T>;
    onHover(fn: (d: FlameGraphNode<T>) => void): FlameGraph<T>;
    tooltip(tip: unknown): FlameGraph<T>;
    update(data?: T): FlameGraph<T>;
    resetZoom(): void;
    zoomTo(d: FlameGraphNode<T>): void;
    findById(id: number): FlameGraphNode<T> | null;
    search(term: string): void;
    clear(): void;
    destroy(): FlameGraph<T>;
  }

  export default function flamegraph<T = unknown>(): FlameGraph<T>;
}

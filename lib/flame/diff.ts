/**
 * Differential flame graphs: what changed between two profiles ("before" and "after").
 * Isomorphic, pure.
 *
 * - Shape and widths come from "after": the diff tree is the after tree, each node carrying
 *   its "before" samples. Frames (name + kind, same path) found only in "before" have no
 *   width; they are counted in the summary (`removedSamples`, `removed`).
 * - `delta` is inclusive: after samples minus before samples of the frame and everything under
 *   it (`v - b`). `selfDelta` is the same for the frame's own (self) samples. Colours
 *   (lib/flame/diff-colors.ts) use the inclusive values: a frame is red when it and its
 *   callees together grew, blue when they shrank.
 * - `normalize: true` first scales "before" by afterTotal / beforeTotal, so the picture shows
 *   changes in share rather than in sample count (two profiles of different lengths or rates).
 *   Scaled values may be fractional.
 */
import type { FlameNode } from '../protocol.ts';
import { diffColor } from './diff-colors.ts';
import { formatPercent, formatSamples, renderFlameSvg, type FlameSvgOptions } from './svg.ts';
import { compareStrings, foldedFrame, selfValue, treeFromFolded } from './tree.ts';

/** One frame of a diff tree: `v` (after samples, inclusive) gives its width. */
export interface DiffNode extends FlameNode {
  c?: DiffNode[];
  /** Samples of the same frame in "before", inclusive (scaled when normalized). */
  b: number;
  /** v - b: inclusive change in samples. */
  delta: number;
  /** self(after) - self(before): change in the frame's own samples. */
  selfDelta: number;
}

export interface DiffOptions {
  /** Scale "before" to the after total first. Default false. */
  normalize?: boolean;
}

export interface DiffSummary {
  /** Samples in "before" as read (not scaled). */
  beforeTotal: number;
  /** Samples in "after". */
  afterTotal: number;
  /** Factor applied to "before" values: afterTotal / beforeTotal when normalized, else 1. */
  scale: number;
  normalized: boolean;
  /** Before samples (scaled) in frames absent from "after", counted at the outermost absent frame. */
  removedSamples: number;
  /** After samples in frames absent from "before", counted at the outermost new frame. */
  addedSamples: number;
  /** Frames drawn with more samples than before / fewer (inclusive values). */
  grewFrames: number;
  shrankFrames: number;
}

/** A frame found only in "before": its folded path (root excluded) and before samples (scaled). */
export interface RemovedFrame {
  path: string;
  before: number;
}

export interface DiffTree {
  tree: DiffNode;
  summary: DiffSummary;
  /** Outermost frames absent from "after", widest first. */
  removed: RemovedFrame[];
}

function childKey(node: FlameNode): string {
  return `${node.k ?? ''}\u0000${node.n}`;
}

/** The diff of two trees (see the module comment). The inputs are not modified. */
export function diffTrees(before: FlameNode, after: FlameNode, options: DiffOptions = {}): DiffTree {
  const normalized = options.normalize === true;
  const scale = normalized && before.v > 0 ? after.v / before.v : 1;
  const summary: DiffSummary = {
    beforeTotal: before.v,
    afterTotal: after.v,
    scale,
    normalized,
    removedSamples: 0,
    addedSamples: 0,
    grewFrames: 0,
    shrankFrames: 0,
  };
  const removed: RemovedFrame[] = [];
  const path: string[] = [];

  const build = (a: FlameNode, old: FlameNode | undefined): DiffNode => {
    const b = old ? old.v * scale : 0;
    const node: DiffNode = { n: a.n, v: a.v, b, delta: a.v - b, selfDelta: selfValue(a) - (old ? selfValue(old) * scale : 0) };
    if (a.k !== undefined) node.k = a.k;
    if (node.delta > 0) summary.grewFrames++;
    else if (node.delta < 0) summary.shrankFrames++;
    const olds = new Map<string, FlameNode>();
    for (const child of old?.c ?? []) olds.set(childKey(child), child);
    if (a.c && a.c.length > 0) {
      node.c = a.c.map((child) => {
        const key = childKey(child);
        const match = olds.get(key);
        olds.delete(key);
        if (!match && old) summary.addedSamples += child.v;
        path.push(foldedFrame(child.n, child.k));
        const built = build(child, match);
        path.pop();
        return built;
      });
    }
    for (const gone of olds.values()) {
      if (!(gone.v > 0)) continue;
      summary.removedSamples += gone.v * scale;
      removed.push({ path: [...path, foldedFrame(gone.n, gone.k)].join(';'), before: gone.v * scale });
    }
    return node;
  };

  const tree = build(after, before);
  removed.sort((x, y) => y.before - x.before || compareStrings(x.path, y.path));
  return { tree, summary, removed };
}

/** diffTrees on two folded texts (lib/flame/tree.ts treeFromFolded rules). */
export function diffFromFolded(beforeText: string, afterText: string, options: DiffOptions = {}): DiffTree {
  return diffTrees(treeFromFolded(beforeText), treeFromFolded(afterText), options);
}

/** Self samples per folded stack. */
function foldedCounts(tree: FlameNode): Map<string, number> {
  const counts = new Map<string, number>();
  const path: string[] = [];
  const walk = (node: FlameNode): void => {
    const self = selfValue(node);
    if (self > 0 && path.length > 0) counts.set(path.join(';'), self);
    for (const child of node.c ?? []) {
      path.push(foldedFrame(child.n, child.k));
      walk(child);
      path.pop();
    }
  };
  walk(tree);
  return counts;
}

/**
 * The two-column folded text flamegraph.pl reads for differential graphs (difffolded.pl's
 * output): `stack BEFORE AFTER` per stack found in either tree, lines sorted. With
 * `normalize`, BEFORE is scaled to the after total and rounded to a whole number.
 */
export function diffToFolded(before: FlameNode, after: FlameNode, options: DiffOptions = {}): string {
  const scale = options.normalize === true && before.v > 0 ? after.v / before.v : 1;
  const b = foldedCounts(before);
  const a = foldedCounts(after);
  const stacks = [...new Set([...b.keys(), ...a.keys()])].sort(compareStrings);
  const count = (value: number) => String(options.normalize === true ? Math.round(value) : value);
  return stacks.map((s) => `${s} ${count((b.get(s) ?? 0) * scale)} ${a.get(s) ?? 0}\n`).join('');
}

export type DiffSvgOptions = Omit<FlameSvgOptions, 'frameFill' | 'frameTitle'>;

function signed(value: number): string {
  return (value > 0 ? '+' : value < 0 ? '−' : '±') + formatSamples(Math.abs(Math.round(value * 100) / 100));
}

/** `name (after N samples, P%; before M; +D, +R%)`: the tooltip of one diff frame. */
export function diffTooltip(node: DiffNode, afterTotal: number): string {
  const change = node.b > 0 ? `${node.delta >= 0 ? '+' : '−'}${formatPercent(Math.abs(node.delta), node.b)}%` : 'new';
  return `${node.n} (${formatSamples(node.v)} samples, ${formatPercent(node.v, afterTotal)}%; before ${formatSamples(Math.round(node.b * 100) / 100)}; ${signed(node.delta)}, ${change})`;
}

/** One line under the title: totals, scaling, frames that only "before" had, the colour key. */
export function diffSubtitle(summary: DiffSummary): string {
  const parts = [`before ${formatSamples(summary.beforeTotal)} samples`];
  if (summary.normalized && summary.scale !== 1) parts.push(`scaled ×${Number(summary.scale.toPrecision(4))}`);
  parts.push(`after ${formatSamples(summary.afterTotal)}`);
  if (summary.removedSamples > 0) parts.push(`only before (not drawn): ${formatSamples(Math.round(summary.removedSamples * 100) / 100)}`);
  if (summary.addedSamples > 0) parts.push(`new: ${formatSamples(summary.addedSamples)}`);
  parts.push('red grew, blue shrank');
  return parts.join(' · ');
}

/**
 * A standalone differential flame graph SVG: renderFlameSvg (interactive by default) with
 * widths from "after", diff colours and diff tooltips. The subtitle defaults to diffSubtitle.
 */
export function renderDiffSvg(diff: DiffTree, options: DiffSvgOptions): string {
  const afterTotal = diff.tree.v;
  return renderFlameSvg(diff.tree, {
    ...options,
    subtitle: options.subtitle ?? diffSubtitle(diff.summary),
    frameFill: (node) => diffColor((node as DiffNode).b, node.v),
    frameTitle: (node) => diffTooltip(node as DiffNode, afterTotal),
  });
}

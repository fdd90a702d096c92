/**
 * Zoom that survives live updates.
 *
 * d3-flame-graph zooms by flagging the input objects (`hide` on the siblings of the zoomed
 * frame and of each of its ancestors, `fade` on the ancestors). Every live update brings a
 * new tree, so the zoom is kept as a path of frames from the root and re-applied to each
 * new tree *before* it is handed to the chart: one layout per update, no zoom flicker.
 *
 * A path step names a frame by name and kind (siblings are unique by both). When the
 * zoomed frame is absent from a new tree (the function stopped running, the window slid
 * past it), the zoom falls back to its deepest ancestor that still exists.
 */
import type { FlameNode, FrameKind } from '../../lib/protocol.ts';

export interface ZoomStep {
  name: string;
  kind?: FrameKind;
}

/** Frames from the root's child down to the zoomed frame; empty = not zoomed. */
export type ZoomPath = readonly ZoomStep[];

type Flagged = FlameNode & { hide?: boolean; fade?: boolean; c?: Flagged[] };

/** Removes zoom flags left on a tree by an earlier zoom. */
export function clearZoomFlags(tree: FlameNode): void {
  const stack: Flagged[] = [tree];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.hide) node.hide = false;
    if (node.fade) node.fade = false;
    if (node.c) for (const child of node.c) stack.push(child);
  }
}

function findChild(node: FlameNode, step: ZoomStep): FlameNode | undefined {
  return node.c?.find((child) => child.n === step.name && (step.kind === undefined || child.k === step.kind));
}

/**
 * Flags `tree` the way d3-flame-graph's own zoom would for `path` and returns the part of
 * `path` that exists in this tree (shorter than `path` when the zoomed frame is gone).
 */
export function applyZoomFlags(tree: FlameNode, path: ZoomPath): ZoomStep[] {
  clearZoomFlags(tree);
  const applied: ZoomStep[] = [];
  let node: Flagged = tree;
  for (const step of path) {
    const next = findChild(node, step) as Flagged | undefined;
    if (!next) break;
    node.fade = true;
    for (const sibling of node.c ?? []) if (sibling !== next) sibling.hide = true;
    applied.push({ name: next.n, kind: next.k });
    node = next;
  }
  return applied;
}

/** The frame `path` leads to, or null when it does not exist in `tree`. */
export function findByPath(tree: FlameNode, path: ZoomPath): FlameNode | null {
  let node: FlameNode | undefined = tree;
  for (const step of path) {
    node = findChild(node, step);
    if (!node) return null;
  }
  return node;
}

/** Path of a laid-out node (anything with `data` and `parent`), root excluded. */
export function pathOfNode(d: { data: FlameNode; parent: { data: FlameNode; parent: unknown } | null }): ZoomStep[] {
  const steps: ZoomStep[] = [];
  let cur: { data: FlameNode; parent: unknown } | null = d;
  while (cur && (cur as { parent: unknown }).parent) {
    steps.push({ name: cur.data.n, kind: cur.data.k });
    cur = (cur as { parent: { data: FlameNode; parent: unknown } | null }).parent;
  }
  return steps.reverse();
}

export function samePath(a: ZoomPath, b: ZoomPath): boolean {
  return a.length === b.length && a.every((step, i) => step.name === b[i].name && step.kind === b[i].kind);
}

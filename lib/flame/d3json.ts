/**
 * d3-flame-graph's default long-key JSON tree (`name`, `value`, `children`), the CLI's
 * `--format json`. `value` is inclusive (the frame's samples plus its children's), as
 * d3-flame-graph expects by default. `libtype` ('kernel' | 'jit') lets d3-flame-graph's own
 * colour mapper tell them apart; `kind` keeps probeboard's FrameKind.
 */
import type { FlameNode, FrameKind } from '../protocol.ts';
import { libtypeOf } from './colors.ts';

export interface D3FlameNode {
  name: string;
  /** Samples, inclusive of children. */
  value: number;
  /** Always present; empty for leaves. Sorted by name like the source tree. */
  children: D3FlameNode[];
  libtype?: 'kernel' | 'jit';
  kind?: FrameKind;
}

export function toD3Json(tree: FlameNode): D3FlameNode {
  const node: D3FlameNode = { name: tree.n, value: tree.v, children: (tree.c ?? []).map(toD3Json) };
  const libtype = libtypeOf(tree.k);
  if (libtype) node.libtype = libtype;
  if (tree.k !== undefined) node.kind = tree.k;
  return node;
}

/** Back to the short-key form (kind kept when present). */
export function fromD3Json(tree: D3FlameNode): FlameNode {
  const node: FlameNode = { n: tree.name, v: tree.value };
  if (tree.kind !== undefined) node.k = tree.kind;
  else if (tree.libtype === 'kernel') node.k = 'k';
  else if (tree.libtype === 'jit') node.k = 'j';
  if (tree.children && tree.children.length > 0) node.c = tree.children.map(fromD3Json);
  return node;
}

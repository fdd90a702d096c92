/**
 * Helpers over the one flame graph model, `FlameNode` (lib/protocol.ts), shared by the
 * exporters in lib/flame and by the aggregator. Isomorphic, pure.
 *
 * Folded stacks (Brendan Gregg's format, as bcc `profile -f -a` prints it) are the common
 * currency of the tests: `comm;user frames…;kernel frames_[k] COUNT`, one line per distinct
 * stack, root first, lines sorted.
 */
import type { FlameNode, FrameKind } from '../protocol.ts';

/** Suffix that marks a kernel frame in folded text (bcc, flamegraph.pl). */
export const KERNEL_SUFFIX = '_[k]';
/** Suffix flamegraph.pl uses for JIT frames; accepted when parsing, written only on request. */
export const JIT_SUFFIX = '_[j]';
/** Suffix of the off-CPU leaf of a wall (hot/cold) profile in folded text, as `_[k]` marks kernel frames. */
export const OFFCPU_SUFFIX = '_[o]';

/** Name and kind of one frame on a stack. */
export interface FramePathEntry {
  name: string;
  kind: FrameKind;
}

/** Code-unit order on names, then on kind: deterministic and locale independent. */
export function compareFrames(a: { n: string; k?: FrameKind }, b: { n: string; k?: FrameKind }): number {
  if (a.n < b.n) return -1;
  if (a.n > b.n) return 1;
  const ak = a.k ?? '';
  const bk = b.k ?? '';
  return ak < bk ? -1 : ak > bk ? 1 : 0;
}

/** Number of nodes in the tree, the root included. */
export function countNodes(tree: FlameNode): number {
  let count = 0;
  const stack: FlameNode[] = [tree];
  while (stack.length > 0) {
    const node = stack.pop()!;
    count++;
    if (node.c) for (const child of node.c) stack.push(child);
  }
  return count;
}

/** Depth of the deepest node: 0 for a lone root. */
export function maxDepth(tree: FlameNode): number {
  let best = 0;
  const walk = (node: FlameNode, depth: number): void => {
    if (depth > best) best = depth;
    if (node.c) for (const child of node.c) walk(child, depth + 1);
  };
  walk(tree, 0);
  return best;
}

/** Samples in the node itself, not in its children (>= 0 for a consistent tree). */
export function selfValue(node: FlameNode): number {
  let children = 0;
  if (node.c) for (const child of node.c) children += child.v;
  return node.v - children;
}

/**
 * The nodes along `path` (names below the root, e.g. `['node', 'main', 'run']`), root first,
 * root included. When a name is ambiguous (same name, different kinds) the widest child wins.
 * Returns undefined when some name on the path is not found.
 */
export function findPath(tree: FlameNode, path: readonly string[]): FlameNode[] | undefined {
  const chain: FlameNode[] = [tree];
  let node = tree;
  for (const name of path) {
    let next: FlameNode | undefined;
    for (const child of node.c ?? []) {
      if (child.n === name && (!next || child.v > next.v)) next = child;
    }
    if (!next) return undefined;
    chain.push(next);
    node = next;
  }
  return chain;
}

/** One step of a path: a name, or a name and kind (siblings are unique by both). */
export type PathStep = string | { name: string; kind?: FrameKind };

/**
 * The nodes along the longest prefix of `path` that exists in the tree, root first, root
 * included: a zoom that survives the zoomed frame disappearing falls back to its deepest
 * remaining ancestor. A step without a kind takes the widest child of that name.
 */
export function findPathPrefix(tree: FlameNode, path: readonly PathStep[]): FlameNode[] {
  const chain: FlameNode[] = [tree];
  let node = tree;
  for (const step of path) {
    const name = typeof step === 'string' ? step : step.name;
    const kind = typeof step === 'string' ? undefined : step.kind;
    let next: FlameNode | undefined;
    for (const child of node.c ?? []) {
      if (child.n === name && (kind === undefined || child.k === kind) && (!next || child.v > next.v)) next = child;
    }
    if (!next) break;
    chain.push(next);
    node = next;
  }
  return chain;
}

/** The subtree at `path` (see findPath), or undefined. */
export function findSubtree(tree: FlameNode, path: readonly string[]): FlameNode | undefined {
  const chain = findPath(tree, path);
  return chain ? chain[chain.length - 1] : undefined;
}

/** A deep copy. */
export function cloneTree(tree: FlameNode): FlameNode {
  const copy: FlameNode = { n: tree.n, v: tree.v };
  if (tree.k !== undefined) copy.k = tree.k;
  if (tree.m !== undefined) copy.m = tree.m;
  if (tree.modules !== undefined) copy.modules = tree.modules.map((m) => ({ ...m }));
  if (tree.c) copy.c = tree.c.map(cloneTree);
  return copy;
}

/**
 * Merges trees into a new one: nodes with the same name and kind under the same parent are
 * added up. Children stay sorted by name. The inputs are not modified.
 */
export function mergeTrees(...trees: FlameNode[]): FlameNode {
  const root: FlameNode = { n: trees[0]?.n ?? 'all', v: 0 };
  for (const tree of trees) mergeInto(root, tree);
  return root;
}

function mergeInto(target: FlameNode, source: FlameNode): void {
  target.v += source.v;
  if (!source.c || source.c.length === 0) return;
  const children = target.c ?? (target.c = []);
  for (const child of source.c) {
    const index = searchChild(children, child.n, child.k);
    if (index >= 0) {
      mergeInto(children[index], child);
    } else {
      const node: FlameNode = { n: child.n, v: 0 };
      if (child.k !== undefined) node.k = child.k;
      children.splice(-index - 1, 0, node);
      mergeInto(node, child);
    }
  }
}

/** Binary search in children sorted by compareFrames: index, or -(insertion point) - 1. */
function searchChild(children: FlameNode[], n: string, k: FrameKind | undefined): number {
  let lo = 0;
  let hi = children.length - 1;
  const probe = { n, k };
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = compareFrames(children[mid], probe);
    if (cmp < 0) lo = mid + 1;
    else if (cmp > 0) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

/**
 * Builds a tree (root `all`) from stacks, root first. Each stack adds `count` samples to every
 * node along it; children are sorted by name then kind.
 */
export function treeFromStacks(stacks: Iterable<{ frames: readonly FramePathEntry[]; count: number }>, rootName = 'all'): FlameNode {
  const root: FlameNode = { n: rootName, v: 0 };
  for (const { frames, count } of stacks) {
    if (!(count > 0)) continue;
    root.v += count;
    let node = root;
    for (const frame of frames) {
      const children = node.c ?? (node.c = []);
      let index = searchChild(children, frame.name, frame.kind);
      if (index < 0) {
        index = -index - 1;
        children.splice(index, 0, { n: frame.name, v: 0, k: frame.kind });
      }
      node = children[index];
      node.v += count;
    }
  }
  return root;
}

/** Replaces the characters folded text cannot carry in a frame name (`;` and line breaks). */
export function foldedName(name: string): string {
  return /[;\r\n]/.test(name) ? name.replace(/;/g, ':').replace(/[\r\n]/g, ' ') : name;
}

/**
 * The folded-text spelling of a frame: kernel frames get `_[k]`, the off-CPU leaf of a wall
 * profile `_[o]` (JIT `_[j]` if asked).
 */
export function foldedFrame(name: string, kind: FrameKind | undefined, annotateJit = false): string {
  const base = foldedName(name);
  if (kind === 'k') return base + KERNEL_SUFFIX;
  if (kind === 'o') return base + OFFCPU_SUFFIX;
  if (kind === 'j' && annotateJit) return base + JIT_SUFFIX;
  return base;
}

export interface FoldedOptions {
  /** Suffix JIT frames with `_[j]` (flamegraph.pl's convention). Default false (bcc prints none). */
  annotateJit?: boolean;
}

/**
 * Folded text of a tree: one line per node with self samples, frames below the root joined by
 * `;`, then a space and the count; lines sorted (code-unit order), each ending in `\n`.
 * An empty tree gives ''.
 */
export function treeToFolded(tree: FlameNode, options: FoldedOptions = {}): string {
  // Keyed by stack: siblings of one name in different binaries (FlameNode.m) fold to one line.
  const selves = new Map<string, number>();
  const path: string[] = [];
  const walk = (node: FlameNode): void => {
    const self = selfValue(node);
    if (self > 0 && path.length > 0) {
      const key = path.join(';');
      selves.set(key, (selves.get(key) ?? 0) + self);
    }
    if (node.c) {
      for (const child of node.c) {
        path.push(foldedFrame(child.n, child.k, options.annotateJit));
        walk(child);
        path.pop();
      }
    }
  };
  walk(tree);
  const lines = [...selves].map(([key, self]) => `${key} ${self}`);
  lines.sort(compareStrings);
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The kind of a frame read back from folded text. Depth 1 is the process (comm); `_[k]` is
 * kernel, `_[j]` JIT, `_[o]` an off-CPU leaf; a name in square brackets (`[unknown]`, `[lost stack: …]`, `[pruned]`) is
 * synthetic; anything else user code.
 */
export function parseFoldedFrame(text: string, depth: number): FramePathEntry {
  if (text.endsWith(KERNEL_SUFFIX)) return { name: text.slice(0, -KERNEL_SUFFIX.length), kind: 'k' };
  if (text.endsWith(JIT_SUFFIX)) return { name: text.slice(0, -JIT_SUFFIX.length), kind: 'j' };
  if (text.endsWith(OFFCPU_SUFFIX)) return { name: text.slice(0, -OFFCPU_SUFFIX.length), kind: 'o' };
  if (depth === 1) return { name: text, kind: 'p' };
  if (text.startsWith('[')) return { name: text, kind: 'x' };
  return { name: text, kind: 'u' };
}

/**
 * Parses folded text (`a;b;c 12` per line) into a tree with root `all`. Blank lines and lines
 * starting with `#` are skipped; a line without a trailing count is an error (thrown, with its
 * line number). Counts may be fractional.
 */
export function treeFromFolded(text: string): FlameNode {
  const stacks: { frames: FramePathEntry[]; count: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const count = space > 0 ? Number(line.slice(space + 1)) : NaN;
    if (!Number.isFinite(count) || count < 0) {
      throw new Error(`folded text line ${i + 1}: expected "frame;frame;… COUNT", got ${JSON.stringify(line)}`);
    }
    const frames = line
      .slice(0, space)
      .split(';')
      .map((part, index) => parseFoldedFrame(part, index + 1));
    stacks.push({ frames, count });
  }
  return treeFromStacks(stacks);
}

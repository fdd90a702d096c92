/**
 * Synthetic flame graph trees for the rendering benchmark: a fixed node count, realistic
 * shape (a few wide processes, deep narrow stacks, long symbol names), seeded so every run
 * draws the same picture. `jitter` makes the next live update: same frames, new sample counts.
 */
import type { FlameNode, FrameKind } from '../../lib/protocol.ts';
import { seededRandom as rng } from '../../lib/random.ts';

export { rng };

const MODULES = ['std::vector', 'tokio::runtime', 'v8::internal', 'node', 'libc', 'ext4', 'tcp', 'mm', 'sched', 'http::server'];
const VERBS = ['poll', 'read', 'write', 'parse', 'alloc', 'free', 'handle', 'dispatch', 'compute', 'flush', 'encode', 'hash'];

interface Mutable {
  n: string;
  v: number;
  k?: FrameKind;
  c?: Mutable[];
  depth: number;
}

/** A tree of exactly `nodes` nodes (root included). */
export function syntheticTree(nodes: number, seed = 1): FlameNode {
  const random = rng(seed);
  const root: Mutable = { n: 'all', v: 0, depth: 0 };
  const all: Mutable[] = [root];
  let id = 0;
  const add = (parent: Mutable): Mutable => {
    const depth = parent.depth + 1;
    const kind: FrameKind = depth === 1 ? 'p' : depth > 12 && random() < 0.5 ? 'k' : 'u';
    const name =
      depth === 1
        ? `proc-${id}`
        : kind === 'k'
          ? `${VERBS[id % VERBS.length]}_kernel_${id}`
          : `${MODULES[id % MODULES.length]}::${VERBS[(id * 7) % VERBS.length]}_${id}`;
    id++;
    const child: Mutable = { n: name, v: 0, k: kind, depth };
    (parent.c ??= []).push(child);
    all.push(child);
    return child;
  };
  for (let i = 0; i < 24 && all.length < nodes; i++) add(root);
  while (all.length < nodes) {
    // Mostly extend a recent frame (deep stacks), sometimes branch off anywhere.
    const pick = random() < 0.7 ? all[all.length - 1 - Math.floor(random() * Math.min(all.length - 1, 40))] : all[1 + Math.floor(random() * (all.length - 1))];
    if (pick.depth >= 60) continue;
    add(pick);
  }
  // Leaves get samples (heavy-tailed); inner frames some self time.
  const fill = (node: Mutable): number => {
    let sum = 0;
    if (node.c) {
      node.c.sort((a, b) => (a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
      for (const child of node.c) sum += fill(child);
      if (random() < 0.2) sum += Math.floor(random() * 20);
    } else sum = 1 + Math.floor(200 * random() ** 3);
    node.v = sum;
    return sum;
  };
  fill(root);
  const strip = (node: Mutable): FlameNode => {
    const out: FlameNode = { n: node.n, v: node.v };
    if (node.k) out.k = node.k;
    if (node.c) out.c = node.c.map(strip);
    return out;
  };
  return strip(root);
}

/** A fresh copy of `tree` with every leaf's samples changed by up to ±50% (at least 1). */
export function jitter(tree: FlameNode, random: () => number): FlameNode {
  const walk = (node: FlameNode): FlameNode => {
    if (!node.c) {
      const out: FlameNode = { n: node.n, v: Math.max(1, Math.round(node.v * (0.5 + random()))) };
      if (node.k) out.k = node.k;
      return out;
    }
    const c = node.c.map(walk);
    let sum = 0;
    for (const child of c) sum += child.v;
    const own = node.v - node.c.reduce((s, ch) => s + ch.v, 0);
    const out: FlameNode = { n: node.n, v: sum + Math.max(0, own), c };
    if (node.k) out.k = node.k;
    return out;
  };
  return walk(tree);
}

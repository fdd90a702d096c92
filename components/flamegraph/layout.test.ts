import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FlameNode } from '../../lib/protocol.ts';
import { countFramesAtLeast } from './budget.ts';
import { layoutFrames } from './layout.ts';
import { syntheticTree } from '../bench/synthetic.ts';

// all 100 = a 60 (f 50 (g 20, h 30)) + b 40; a has 10 samples of its own.
const tree = (): FlameNode => ({
  n: 'all',
  v: 100,
  c: [
    { n: 'a', v: 60, c: [{ n: 'f', v: 50, c: [{ n: 'g', v: 20 }, { n: 'h', v: 30 }] }] },
    { n: 'b', v: 40 },
  ],
});

test('children sit side by side from the parent\'s left edge; self time stays on the right', () => {
  const frames = layoutFrames(tree(), 200);
  const at = (name: string) => frames.find((f) => f.node.n === name)!;
  assert.deepEqual(
    frames.map((f) => [f.node.n, f.x, f.width, f.depth]),
    [
      ['all', 0, 200, 0],
      ['a', 0, 120, 1],
      ['f', 0, 100, 2],
      ['g', 0, 40, 3],
      ['h', 40, 60, 3],
      ['b', 120, 80, 1],
    ],
  );
  assert.ok(at('a').x + at('a').width > at('f').x + at('f').width, 'a keeps 20 px of self time right of f');
});

test('frames under minPx are left out with their subtrees; frames of maxPx or more are walked through', () => {
  // At 10 px: all 10, a 6, f 5, g 2, h 3, b 4. minPx 3 drops g only.
  assert.deepEqual(layoutFrames(tree(), 10, 3).map((f) => f.node.n), ['all', 'a', 'f', 'h', 'b']);
  // Slivers for a hybrid: 1 <= w < 5 px at 10 px wide.
  assert.deepEqual(layoutFrames(tree(), 10, 1, 5).map((f) => f.node.n), ['g', 'h', 'b']);
  assert.deepEqual(layoutFrames({ n: 'all', v: 0 }, 100), [], 'an empty tree draws nothing');
});

test('on a 10,000-node tree it returns exactly the frames budget.ts counts as at least 1 px wide', () => {
  const big = syntheticTree(10_000, 7);
  const frames = layoutFrames(big, 1368);
  assert.equal(frames.length, countFramesAtLeast(big, [], 1368));
  assert.ok(frames.length > 2000 && frames.length < 10_000, `a few thousand frames of >= 1 px, got ${frames.length}`);
  // SVG part + sliver part of a hybrid = every frame.
  const wide = countFramesAtLeast(big, [], 1368, 8);
  assert.equal(layoutFrames(big, 1368, 1, 8).length + wide, frames.length);
});

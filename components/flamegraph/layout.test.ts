import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FlameNode } from '../../lib/protocol.ts';
import { countFramesAtLeast } from './budget.ts';
import { hierarchy, partition } from 'd3-hierarchy';
import { frameIsAt, graphHeightPx, hitTest, layoutFlame, layoutFrames, pathOfFrame, rowTopPx, svgTree, type SvgTreeNode } from './layout.ts';
import { frameFill, frameMatcher } from './search.ts';
import { frameColor, SEARCH_HIGHLIGHT } from '../../lib/flame/colors.ts';
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

// ---- the dashboard's hybrid: SVG frames of splitPx and more, canvas frames under, zoom, hit-testing ----

test('split: thin frames are the canvas\'s, wide ones only counted; together they are every frame of >= 1 px', () => {
  // At 10 px: all 10, a 6, f 5, g 2, h 3, b 4.
  const layout = layoutFlame(tree(), 10, { minPx: 1, splitPx: 5 });
  assert.deepEqual(layout.thin.map((f) => f.node.n), ['g', 'h', 'b']);
  assert.equal(layout.wideCount, 3, 'all, a and f are the SVG\'s');
  assert.equal(layout.maxDepth, 3, 'the deepest frame of either layer');
  assert.deepEqual(layout.rows[3].map((f) => [f.node.n, f.x]), [['g', 0], ['h', 2]], 'rows hold thin frames left to right');
  assert.deepEqual(layout.rows[1].map((f) => f.node.n), ['b']);
  // A frame exactly splitPx wide is an SVG frame (d3-flame-graph draws it: d3MinFrameSize), not painted twice.
  assert.deepEqual(layoutFlame(tree(), 10, { splitPx: 5 }).thin.map((f) => f.node.n).filter((n) => n === 'f'), [], 'f, exactly splitPx wide, is not on the canvas layer');
  // Nothing under 1 px: at 40 px g is 8, at 4 px it is 0.8 and gone from both layers.
  assert.deepEqual(layoutFlame(tree(), 4, { splitPx: 3 }).thin.map((f) => f.node.n).filter((n) => n === 'g'), [], 'g, under 1 px, is not on the canvas layer');
  // On the bench tree: SVG + canvas = every frame of >= 1 px, for several cuts.
  const big = syntheticTree(10_000, 7);
  for (const split of [1, 8, 10, 12]) {
    const l = layoutFlame(big, 1368, { splitPx: split });
    assert.equal(l.thin.length + l.wideCount, countFramesAtLeast(big, [], 1368), `split ${split}`);
    assert.equal(l.wideCount, countFramesAtLeast(big, [], 1368, split), `split ${split}: wide = frames of >= ${split} px`);
  }
});

test('zoomed: the zoomed frame spans the width at its own depth, ancestors count as full-width SVG frames', () => {
  // Zoomed at a > f: f is 100 px wide at depth 2, g 40 and h 60 at depth 3; b (a sibling of a) is hidden.
  const layout = layoutFlame(tree(), 100, { zoom: [{ name: 'a' }, { name: 'f' }], splitPx: 50 });
  assert.deepEqual(layout.thin.map((f) => [f.node.n, f.x, f.width, f.depth]), [['g', 0, 40, 3]]);
  assert.equal(layout.wideCount, 4, 'all and a (faded ancestors), f and h');
  assert.deepEqual(pathOfFrame(layout.thin[0]), [{ name: 'a', kind: undefined }, { name: 'f', kind: undefined }, { name: 'g', kind: undefined }], 'the path runs through the ancestors');
  assert.equal(layout.maxDepth, 3);
  // Agrees with the count of budget.ts for the same zoom.
  const zoom = [{ name: 'a' }];
  const all = layoutFlame(tree(), 100, { zoom });
  assert.equal(all.thin.length + all.wideCount, countFramesAtLeast(tree(), zoom, 100));
  // A zoom path that is not in the tree lays out the whole tree.
  assert.equal(layoutFlame(tree(), 10, { zoom: [{ name: 'nope' }] }).thin.length, 6);
});

test('hit-testing finds the thin frame under the point in flame and icicle orientation, nothing elsewhere', () => {
  const cell = 18;
  const height = graphHeightPx(3, cell, 0); // (3 + 3) rows = 108 px
  assert.equal(height, 108);
  const layout = layoutFlame(tree(), 10, { splitPx: 5 }); // thin: g [0,2) and h [2,5) at depth 3, b [6,10) at depth 1
  // Flame: depth 3 is the row from 108 - 4 * 18 = 36 to 54.
  assert.equal(rowTopPx(3, height, cell, false), 36);
  assert.equal(hitTest(layout, 1, 40, height, cell, false)?.node.n, 'g');
  assert.equal(hitTest(layout, 2, 40, height, cell, false)?.node.n, 'h', 'a frame covers [x, x + width)');
  assert.equal(hitTest(layout, 4.9, 53.9, height, cell, false)?.node.n, 'h');
  assert.equal(hitTest(layout, 5, 40, height, cell, false), null, 'right of h: a\'s self time, drawn by no thin frame');
  assert.equal(hitTest(layout, 7, 108 - 2 * cell + 1, height, cell, false)?.node.n, 'b');
  assert.equal(hitTest(layout, 1, 108 - cell + 1, height, cell, false), null, 'the root row holds an SVG frame only');
  assert.equal(hitTest(layout, 1, 10, height, cell, false), null, 'above the deepest row');
  assert.equal(hitTest(layout, 1, -1, height, cell, false), null);
  assert.equal(hitTest(layout, -1, 40, height, cell, false), null);
  // Icicle: depth 3 is the row from 54 to 72, depth 1 from 18 to 36.
  assert.equal(rowTopPx(3, height, cell, true), 54);
  assert.equal(hitTest(layout, 1, 60, height, cell, true)?.node.n, 'g');
  assert.equal(hitTest(layout, 3, 71, height, cell, true)?.node.n, 'h');
  assert.equal(hitTest(layout, 9, 20, height, cell, true)?.node.n, 'b');
  assert.equal(hitTest(layout, 1, 40, height, cell, true), null);
  // Every thin frame of the bench tree is found at its own centre.
  const big = syntheticTree(10_000, 7);
  const bigLayout = layoutFlame(big, 1368, { splitPx: 10 });
  const bigHeight = graphHeightPx(bigLayout.maxDepth, cell, 240);
  for (const inverted of [false, true]) {
    for (const frame of bigLayout.thin) {
      const y = rowTopPx(frame.depth, bigHeight, cell, inverted) + cell / 2;
      assert.equal(hitTest(bigLayout, frame.x + frame.width / 2, y, bigHeight, cell, inverted), frame);
    }
  }
});

test('the marked frame is found by path; the graph is at least the minimum height', () => {
  const layout = layoutFlame(tree(), 10, { splitPx: 5 });
  const h = layout.thin.find((f) => f.node.n === 'h')!;
  assert.equal(frameIsAt(h, [{ name: 'a' }, { name: 'f' }, { name: 'h' }]), true, 'its own path a;f;h');
  assert.equal(frameIsAt(h, [{ name: 'b' }, { name: 'f' }, { name: 'h' }]), false, 'another parent b;f;h');
  assert.equal(frameIsAt(h, [{ name: 'f' }, { name: 'h' }]), false, 'a suffix of its path');
  assert.equal(graphHeightPx(2, 18, 240), 240);
  assert.equal(graphHeightPx(20, 18, 240), 23 * 18);
});

test('canvas fills: the frame\'s own colour, the search highlight for matches, never for the root', () => {
  const match = frameMatcher('main');
  assert.equal(frameFill({ n: 'main', k: 'u' }, false, match), SEARCH_HIGHLIGHT);
  assert.equal(frameFill({ n: 'do_main_loop', k: 'u' }, false, match), SEARCH_HIGHLIGHT, 'substring, as lib/flame/search.ts');
  assert.equal(frameFill({ n: 'schedule', k: 'k' }, false, match), frameColor('schedule', 'k'));
  assert.equal(frameFill({ n: 'main', k: 'u' }, false, null), frameColor('main', 'u'), 'no search: own colour');
  // Colours are remembered by name and kind: the same name as a kernel frame keeps the kernel palette.
  assert.equal(frameFill({ n: 'main', k: 'k' }, false, null), frameColor('main', 'k'));
  assert.notEqual(frameColor('main', 'k'), frameColor('main', 'u'));
  assert.equal(frameFill({ n: 'main' }, true, match), frameColor('main', undefined), 'the root is never highlighted');
  assert.equal(frameFill({ n: 'Main', k: 'u' }, false, frameMatcher('/^ma/')), SEARCH_HIGHLIGHT, 'a /regex/ query, case-insensitive as lib/flame/search.ts');
  assert.equal(frameFill({ n: 'do_main', k: 'u' }, false, frameMatcher('/^ma/')), frameColor('do_main', 'u'));
});

/**
 * d3-flame-graph's layout of a tree (as in its update(): values from reappraiseNode — a faded node
 * counts only its children — then a d3-hierarchy partition), returning the frames it draws
 * (wider than its minFrameSize, here `splitPx - 1e-6`): name, x, width, depth, faded.
 */
function d3Drawn(root: SvgTreeNode, widthPx: number, splitPx: number) {
  const h = hierarchy<SvgTreeNode>(root, (d) => d.c);
  h.eachAfter((node) => {
    const children = node.children?.reduce((sum, child) => sum + child.value!, 0) ?? 0;
    (node as { value: number }).value = node.data.fade ? children : node.data.v;
  });
  const laid = partition<SvgTreeNode>()(h);
  const kx = widthPx / (laid.x1 - laid.x0);
  return laid
    .descendants()
    .filter((d) => (d.x1 - d.x0) * kx > splitPx - 1e-6)
    .map((d) => ({ n: d.data.n, x: d.x0 * kx, width: (d.x1 - d.x0) * kx, depth: d.depth, fade: d.data.fade === true, src: d.data.src }));
}

test('svgTree: d3-flame-graph, given only the wide frames and space-holders, draws them where the full tree puts them', () => {
  const big = syntheticTree(10_000, 7);
  const width = 1368;
  for (const zoom of [[], [{ name: big.c![0].n, kind: big.c![0].k }], [{ name: big.c![1].n }, { name: big.c![1].c![0].n }]]) {
    const pruned = svgTree(big, width, { zoom, splitPx: 10 });
    let nodes = 0;
    const count = (n: SvgTreeNode): void => {
      nodes++;
      n.c?.forEach(count);
    };
    count(pruned);
    const drawn = d3Drawn(pruned, width, 10);
    const full = layoutFlame(big, width, { zoom, minPx: 10 }); // every frame of >= 10 px is in `thin` here
    assert.equal(drawn.filter((d) => d.fade).length, zoom.length, 'the zoomed frame\'s ancestors, faded');
    // d3 lists breadth-first, the layout depth-first: compare row by row, left to right.
    const byRow = (a: { depth: number; x: number }, b: { depth: number; x: number }) => a.depth - b.depth || a.x - b.x;
    const frames = drawn.filter((d) => !d.fade).sort(byRow);
    full.thin.sort(byRow);
    assert.equal(frames.length, full.thin.length, `zoom ${JSON.stringify(zoom)}: the same frames`);
    assert.equal(frames.length + zoom.length, full.wideCount + full.thin.length);
    frames.forEach((d, i) => {
      const expected = full.thin[i];
      assert.equal(d.src, expected.node, 'each drawn frame stands for its received node');
      assert.ok(Math.abs(d.x - expected.x) < 1e-6 && Math.abs(d.width - expected.width) < 1e-6 && d.depth === expected.depth, `${d.n} at ${d.x}/${d.width}/${d.depth}, expected ${expected.x}/${expected.width}/${expected.depth}`);
    });
    assert.ok(!drawn.some((d) => d.n === ''), 'space-holders are never drawn');
    assert.ok(nodes < 2_000, `d3-flame-graph gets a small tree (${nodes} nodes of 10,000)`);
  }
  // With a cut of 1 px (bench --renderer svg) every frame of >= 1 px is drawn.
  assert.equal(d3Drawn(svgTree(big, width, { splitPx: 1 }), width, 1).length, countFramesAtLeast(big, [], width));
});

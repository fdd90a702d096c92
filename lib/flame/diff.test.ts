import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffFromFolded, diffToFolded, diffTooltip, diffTrees, renderDiffSvg, type DiffNode } from './diff.ts';
import { DIFF_GREW, DIFF_NEUTRAL, DIFF_SHRANK, diffColor, diffIntensity } from './diff-colors.ts';
import { treeFromFolded } from './tree.ts';
import { checkXml } from './xml-check.ts';
import { assertIncludes, assertExcludes } from '../../test/assert-text.ts';

const BEFORE = `app;main;a 10
app;main;b 20
app;old 5
`;
const AFTER = `app;main;a 30
app;main;b 10
app;main;c 5
app 2
`;

/** `path: v b delta selfDelta` for every node, root first, depth first. */
function dump(node: DiffNode, path: string[] = []): string[] {
  const here = path.length ? path.join(';') : '(root)';
  const line = `${here}: ${node.v} ${node.b} ${node.delta} ${node.selfDelta}`;
  return [line, ...(node.c ?? []).flatMap((child) => dump(child, [...path, child.n]))];
}

test('widths from after, before values and deltas per frame (hand computed)', () => {
  const diff = diffFromFolded(BEFORE, AFTER);
  assert.deepEqual(dump(diff.tree), [
    '(root): 47 35 12 0',
    'app: 47 35 12 2',
    'app;main: 45 30 15 0',
    'app;main;a: 30 10 20 20',
    'app;main;b: 10 20 -10 -10',
    'app;main;c: 5 0 5 5',
  ]);
  assert.deepEqual(diff.summary, {
    beforeTotal: 35,
    afterTotal: 47,
    scale: 1,
    normalized: false,
    removedSamples: 5,
    addedSamples: 5,
    grewFrames: 5,
    shrankFrames: 1,
  });
  assert.deepEqual(diff.removed, [{ path: 'app;old', before: 5 }]);
});

test('normalize scales before to the after total', () => {
  const diff = diffFromFolded('x;y 5\nx;z 15\n', 'x;y 20\nx;z 20\n', { normalize: true });
  assert.equal(diff.summary.scale, 2);
  assert.deepEqual(dump(diff.tree), ['(root): 40 40 0 0', 'x: 40 40 0 0', 'x;y: 20 10 10 10', 'x;z: 20 30 -10 -10']);
  assert.equal(diff.summary.grewFrames, 1);
  assert.equal(diff.summary.shrankFrames, 1);
  // Without normalize, everything grew.
  assert.deepEqual(dump(diffFromFolded('x;y 5\nx;z 15\n', 'x;y 20\nx;z 20\n').tree).slice(2), ['x;y: 20 5 15 15', 'x;z: 20 15 5 5']);
});

test('frames match by name and kind on the same path', () => {
  // vfs_read as a kernel frame before, a user frame after: not the same frame.
  const diff = diffFromFolded('p;vfs_read_[k] 4\n', 'p;vfs_read 4\n');
  assert.deepEqual(dump(diff.tree).slice(2), ['p;vfs_read: 4 0 4 4']);
  assert.deepEqual(diff.removed, [{ path: 'p;vfs_read_[k]', before: 4 }]);
  // An empty "before": everything is new.
  const fresh = diffTrees({ n: 'all', v: 0 }, treeFromFolded('a 3\n'), { normalize: true });
  assert.equal(fresh.summary.scale, 1);
  assert.equal(fresh.tree.c![0].delta, 3);
});

test('two-column folded text (stack before after)', () => {
  assert.equal(
    diffToFolded(treeFromFolded(BEFORE), treeFromFolded(AFTER)),
    'app 0 2\napp;main;a 10 30\napp;main;b 20 10\napp;main;c 0 5\napp;old 5 0\n',
  );
  assert.equal(diffToFolded(treeFromFolded('x;y 5\nx;z 15\n'), treeFromFolded('x;y 20\nx;z 20\n'), { normalize: true }), 'x;y 10 20\nx;z 30 20\n');
  assert.equal(diffToFolded(treeFromFolded('a 1\n'), treeFromFolded('a 2\n'), { normalize: true }), 'a 2 2\n');
});

test('colours: neutral when equal, red grew, blue shrank, stronger for bigger changes', () => {
  assert.equal(diffColor(10, 10), `rgb(${DIFF_NEUTRAL.join(',')})`);
  assert.equal(diffColor(0, 0), `rgb(${DIFF_NEUTRAL.join(',')})`);
  assert.equal(diffColor(0, 5), `rgb(${DIFF_GREW.join(',')})`);
  assert.equal(diffColor(5, 0), `rgb(${DIFF_SHRANK.join(',')})`);
  assert.equal(diffIntensity(10, 40), diffIntensity(40, 10));
  const intensities = [diffIntensity(10, 11), diffIntensity(10, 20), diffIntensity(10, 40)];
  assert.ok(intensities[0] > 0 && intensities[0] < intensities[1] && intensities[1] < intensities[2], `intensity grows with the change, from above 0 (10 to 11, 20, 40: ${intensities.join(', ')})`);
  assert.equal(diffIntensity(10, 20), Math.sqrt(0.5));
  const [r, g, b] = diffColor(10, 20).match(/\d+/g)!.map(Number);
  assert.ok(r > g && r > b, `grown is reddish (rgb ${r}, ${g}, ${b})`);
  const [r2, , b2] = diffColor(20, 10).match(/\d+/g)!.map(Number);
  assert.ok(b2 > r2, `shrunk is bluish (${diffColor(20, 10)})`);
});

test('renderDiffSvg: after widths, diff colours and tooltips, summary line', () => {
  const diff = diffFromFolded(BEFORE, AFTER);
  const svg = renderDiffSvg(diff, { title: 'before vs after' });
  assert.equal(checkXml(svg), null);
  assertIncludes(svg, '<title>a (30 samples, 63.83%; before 10; +20, +200.00%)</title>');
  assertIncludes(svg, '<title>b (10 samples, 21.28%; before 20; −10, −50.00%)</title>');
  assertIncludes(svg, '<title>c (5 samples, 10.64%; before 0; +5, new)</title>');
  assertExcludes(svg, '<title>old', 'frames only in before are not drawn');
  const fillOf = (name: string) => new RegExp(`<title>${name} \\([^<]*</title><rect [^>]*fill="([^"]*)"`).exec(svg)![1];
  assert.equal(fillOf('a'), diffColor(10, 30));
  assert.equal(fillOf('b'), diffColor(20, 10));
  assert.equal(fillOf('c'), diffColor(0, 5));
  assert.match(svg, /before 35 samples · after 47 · only before \(not drawn\): 5 · new: 5 · red grew, blue shrank/);
  assert.match(svg, /<script/, 'interactive like the flame graph');
  const normalized = renderDiffSvg(diffFromFolded('x;y 5\nx;z 15\n', 'x;y 20\nx;z 21\n', { normalize: true }), { title: 't', interactive: false });
  assert.equal(checkXml(normalized), null);
  assert.match(normalized, /before 20 samples · scaled ×2\.05 · after 41/);
  assert.doesNotMatch(normalized, /<script/);
  assert.equal(diffTooltip({ n: 'f', v: 2, b: 1.333333, delta: 0.666667, selfDelta: 0 }, 4), 'f (2 samples, 50.00%; before 1.33; +0.67, +50.00%)');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FlameNode } from '../../lib/protocol.ts';
import { countFramesAtLeast, d3MinFrameSize, MIN_FRAME_PX } from './budget.ts';

// all 100 = a 60 (f 60 (g 20, h 40)) + b 40 (f 40)
const tree = (): FlameNode => ({
  n: 'all',
  v: 100,
  c: [
    { n: 'a', v: 60, k: 'p', c: [{ n: 'f', v: 60, k: 'u', c: [{ n: 'g', v: 20, k: 'u' }, { n: 'h', v: 40, k: 'u' }] }] },
    { n: 'b', v: 40, k: 'p', c: [{ n: 'f', v: 40, k: 'u' }] },
  ],
});

test('every frame at least 1 px wide counts, however many; narrower ones do not', () => {
  const t = tree();
  assert.equal(countFramesAtLeast(t, [], 100), 7, 'at 100 px every frame is >= 20 px');
  // At 5 px, g (20 of 100 samples) is exactly 1 px: drawn. At 4 px it is 0.8 px: not drawn.
  assert.equal(countFramesAtLeast(t, [], 5), 7);
  assert.equal(countFramesAtLeast(t, [], 4), 6);
  // A wide tree: no count cap, 5,001 frames of 1 px each are all counted.
  const wide: FlameNode = { n: 'all', v: 5000, c: Array.from({ length: 5000 }, (_, i) => ({ n: `f${i}`, v: 1 })) };
  assert.equal(countFramesAtLeast(wide, [], 5000), 5001);
  assert.equal(countFramesAtLeast(wide, [], 4999), 1, 'at 4999 px each leaf is just under 1 px');
});

test('zoomed: widths are relative to the zoomed frame, and its ancestors count', () => {
  const t = tree();
  // Zoomed on b (40 samples over 10 px): b and its f are 10 px, plus the root.
  assert.equal(countFramesAtLeast(t, [{ name: 'b', kind: 'p' }], 10), 3);
  // Zoomed on a > f at 3 px: f 3 px, h 2 px, g 1 px; ancestors all and a.
  assert.equal(countFramesAtLeast(t, [{ name: 'a', kind: 'p' }, { name: 'f', kind: 'u' }], 3), 5);
  // A path that is not in the tree counts the whole tree.
  assert.equal(countFramesAtLeast(t, [{ name: 'zzz' }], 100), 7);
});

test('a custom threshold (bench --svg-min-px) and the d3-flame-graph setting', () => {
  assert.equal(countFramesAtLeast(tree(), [], 100, 30), 6, 'at least 30 px: all but g (20 px)');
  const setting = d3MinFrameSize();
  assert.ok(setting < MIN_FRAME_PX && MIN_FRAME_PX - setting < 1e-3, `just under 1 px (d3-flame-graph draws frames strictly wider), got ${setting}`);
  assert.ok(d3MinFrameSize(8) < 8 && d3MinFrameSize(8) > 7.999, 'just under 8 px');
});

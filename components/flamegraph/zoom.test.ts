import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FlameNode } from '../../lib/protocol.ts';
import { applyZoomFlags, clearZoomFlags, findByPath, pathOfNode, samePath } from './zoom.ts';
import { planDraw } from './budget.ts';

const tree = (): FlameNode => ({
  n: 'all',
  v: 100,
  c: [
    { n: 'a', v: 60, k: 'p', c: [{ n: 'f', v: 60, k: 'u', c: [{ n: 'g', v: 20, k: 'u' }, { n: 'h', v: 40, k: 'u' }] }] },
    { n: 'b', v: 40, k: 'p', c: [{ n: 'f', v: 40, k: 'u' }] },
  ],
});
type Flags = { hide?: boolean; fade?: boolean };
const flags = (node: FlameNode) => node as FlameNode & Flags;

test('zoom flags: ancestors fade, their other children hide, the subtree stays', () => {
  const t = tree();
  const applied = applyZoomFlags(t, [{ name: 'a', kind: 'p' }, { name: 'f', kind: 'u' }]);
  assert.deepEqual(applied, [{ name: 'a', kind: 'p' }, { name: 'f', kind: 'u' }]);
  const [a, b] = t.c!;
  assert.equal(flags(t).fade, true);
  assert.equal(flags(a).fade, true);
  assert.equal(flags(b).hide, true);
  assert.ok(!flags(a.c![0]).fade && !flags(a.c![0]).hide, '!flags(a.c![0]).fade && !flags(a.c![0]).hide');
  assert.ok(!flags(a.c![0].c![0]).hide, '!flags(a.c![0].c![0]).hide');
});

test('zoom falls back to the deepest ancestor still in the tree, and flags are cleared', () => {
  const t = tree();
  applyZoomFlags(t, [{ name: 'a', kind: 'p' }, { name: 'gone', kind: 'u' }]);
  assert.deepEqual(applyZoomFlags(t, [{ name: 'a', kind: 'p' }, { name: 'gone', kind: 'u' }]), [{ name: 'a', kind: 'p' }]);
  assert.deepEqual(applyZoomFlags(t, []), []);
  clearZoomFlags(t);
  const anyFlag = (n: FlameNode): boolean => !!(flags(n).hide || flags(n).fade) || (n.c ?? []).some(anyFlag);
  assert.equal(anyFlag(t), false);
});

test('paths: find, compare, and from a laid-out node', () => {
  const t = tree();
  assert.equal(findByPath(t, [{ name: 'b' }, { name: 'f' }])?.v, 40);
  assert.equal(findByPath(t, [{ name: 'b', kind: 'u' }]), null);
  assert.ok(samePath([{ name: 'a', kind: 'p' }], [{ name: 'a', kind: 'p' }]), 'samePath([{ name: \'a\', kind: \'p\' }], [{ name: \'a\', kind: \'p\' }])');
  assert.ok(!samePath([{ name: 'a', kind: 'p' }], [{ name: 'a', kind: 'u' }]), '!samePath([{ name: \'a\', kind: \'p\' }], [{ name: \'a\', kind: \'u\' }])');
  const root = { data: t, parent: null };
  const a = { data: t.c![0], parent: root };
  const f = { data: t.c![0].c![0], parent: a };
  assert.deepEqual(pathOfNode(f), [{ name: 'a', kind: 'p' }, { name: 'f', kind: 'u' }]);
  assert.deepEqual(pathOfNode(root), []);
});

test('draw plan: sub-pixel frames are never drawn; beyond the budget the thinnest go', () => {
  const t = tree();
  // 100 px wide: every frame is >= 20 px.
  assert.deepEqual(planDraw(t, [], 100, 1000), { minFramePx: 1, drawn: 7 });
  // 4 px wide: g (20 of 100 samples) is 0.8 px and is not drawn.
  assert.equal(planDraw(t, [], 4, 1000).drawn, 6);
  // A budget of 4: the widest frames only, never more than the budget.
  const plan = planDraw(t, [], 100, 4);
  assert.ok(plan.drawn <= 4, `drew ${plan.drawn}`);
  assert.ok(plan.minFramePx >= 40, 'plan.minFramePx >= 40');
  // Zoomed on b: ancestors count, widths are relative to b.
  assert.deepEqual(planDraw(t, [{ name: 'b', kind: 'p' }], 100, 1000), { minFramePx: 1, drawn: 3 });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FlameNode } from '../../lib/protocol.ts';
import { applyZoomFlags, clearZoomFlags, findByPath, pathOfNode, samePath } from './zoom.ts';

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
  assert.deepEqual([Boolean(flags(a.c![0]).fade), Boolean(flags(a.c![0]).hide)], [false, false], 'the zoomed frame is neither faded nor hidden');
  assert.equal(Boolean(flags(a.c![0].c![0]).hide), false, 'a child of the zoomed frame is shown');
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
  assert.equal(samePath([{ name: 'a', kind: 'p' }], [{ name: 'a', kind: 'p' }]), true, 'the same names and kinds');
  assert.equal(samePath([{ name: 'a', kind: 'p' }], [{ name: 'a', kind: 'u' }]), false, 'the same name, another kind');
  const root = { data: t, parent: null };
  const a = { data: t.c![0], parent: root };
  const f = { data: t.c![0].c![0], parent: a };
  assert.deepEqual(pathOfNode(f), [{ name: 'a', kind: 'p' }, { name: 'f', kind: 'u' }]);
  assert.deepEqual(pathOfNode(root), []);
});

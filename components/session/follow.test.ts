import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check } from '../../lib/schema/core.ts';
import { FollowViewSchema } from '../../lib/schema/session.ts';

/** The check the server runs on `follow:set`. */
const checkFollowView = (view: unknown) => check(FollowViewSchema, view, { root: 'follow' });
import { MAX_FOLLOW_PATH } from '../../lib/protocol-session.ts';
import { applyZoomFlags } from '../flamegraph/zoom.ts';
import type { FlameNode } from '../../lib/protocol.ts';
import { followViewOf, namesOf, pageViewOf, sameFollowView, stepsOf, type PageView } from './follow.ts';

const page: PageView = {
  view: { window: '60s', stackMode: 'user', hideIdle: false },
  zoom: [{ name: 'spin', kind: 'p' }, { name: 'main', kind: 'u' }],
  search: 'work',
  icicle: true,
  selected: [{ name: 'spin', kind: 'p' }],
  focus: 'lat-2',
};

test('a presenter view is what the server accepts, and a follower gets the same page view back', () => {
  const shared = followViewOf(page);
  const checked = checkFollowView(shared);
  assert.ok(checked.ok, JSON.stringify(checked));
  assert.deepEqual(shared.zoom, ['spin', 'main']);
  const back = pageViewOf(shared);
  assert.deepEqual(back.view, page.view);
  assert.deepEqual(namesOf(back.zoom), ['spin', 'main']);
  assert.equal(back.search, 'work');
  assert.equal(back.icicle, true);
  assert.equal(back.focus, 'lat-2');
  assert.equal(sameFollowView(followViewOf(back), shared), true, `the view read back is the shared one: ${JSON.stringify(followViewOf(back))} vs ${JSON.stringify(shared)}`);
  assert.equal(sameFollowView({ ...shared, zoom: ['spin'] }, shared), false, 'another zoom path');
  assert.equal(sameFollowView({ ...shared, selected: null }, shared), false, 'no selection');
});

test("a presenter's per-thread view is followed, and a bad perThread is refused", () => {
  const shared = followViewOf({ ...page, view: { ...page.view, perThread: true } });
  assert.equal(shared.perThread, true);
  const checked = checkFollowView(shared);
  assert.ok(checked.ok && checked.value.perThread === true, JSON.stringify(checked));
  assert.deepEqual(pageViewOf(shared).view, { ...page.view, perThread: true });
  assert.ok(!sameFollowView(followViewOf(page), shared), 'per thread and merged are different views');
  const bad = checkFollowView({ ...shared, perThread: 'yes' });
  assert.deepEqual(bad, { ok: false, error: 'follow.perThread must be true or false, got "yes"' });
});

test('over-long paths and searches are cut to what the server accepts', () => {
  const deep = Array.from({ length: MAX_FOLLOW_PATH + 10 }, (_, i) => ({ name: `f${i}` }));
  const shared = followViewOf({ ...page, zoom: deep, search: 'x'.repeat(500), focus: 'y'.repeat(100) });
  assert.equal(checkFollowView(shared).ok, true, `a capped view passes the check: ${JSON.stringify(checkFollowView(shared))}`);
  assert.equal(shared.zoom.length, MAX_FOLLOW_PATH);
  assert.equal(shared.focus, null);
});

test('a zoom given by names finds the frames (any kind), or the deepest prefix present', () => {
  const tree: FlameNode = {
    n: 'all',
    v: 10,
    c: [{ n: 'spin', v: 10, k: 'p', c: [{ n: 'main', v: 10, k: 'u', c: [{ n: 'work', v: 10, k: 'u' }] }] }],
  };
  assert.deepEqual(applyZoomFlags(tree, stepsOf(['spin', 'main'])), [{ name: 'spin', kind: 'p' }, { name: 'main', kind: 'u' }]);
  assert.deepEqual(applyZoomFlags(tree, stepsOf(['spin', 'gone', 'work'])), [{ name: 'spin', kind: 'p' }]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matches, searchShare } from './search.ts';
import { treeFromFolded } from './tree.ts';

const tree = treeFromFolded(`app;main;parse;parse_expr 10
app;main;parse 5
app;main;render 20
app;Parser::run 5
other;PARSE_ALL 10
`);

test('substring, case insensitive, nested matches counted once', () => {
  const share = searchShare(tree, 'parse');
  // app;main;parse (15, includes nested parse_expr), Parser::run 5, PARSE_ALL 10
  assert.equal(share.matchedSamples, 30);
  assert.equal(share.totalSamples, 50);
  assert.equal(share.percent, 60);
});

test('regex when wrapped in slashes', () => {
  assert.equal(searchShare(tree, '/^parse$/').matchedSamples, 15);
  assert.equal(searchShare(tree, '/::run$/').matchedSamples, 5);
  assert.equal(matches('do_sys_open', '/^DO_/'), true, 'a /regex/ search is case-insensitive');
});

test('invalid regex is searched as text', () => {
  assert.equal(matches('a/(b/c', '/(b/'), true);
  assert.equal(matches('abc', '/(b/'), false);
  assert.equal(searchShare(tree, '/[/').matchedSamples, 0);
});

test('empty query and empty tree', () => {
  assert.deepEqual(searchShare(tree, ''), { matchedSamples: 0, totalSamples: 50, percent: 0 });
  assert.deepEqual(searchShare({ n: 'all', v: 0 }, 'x'), { matchedSamples: 0, totalSamples: 0, percent: 0 });
});

test('the root is not a frame', () => {
  assert.equal(searchShare(tree, 'all').matchedSamples, 10); // PARSE_ALL only
});

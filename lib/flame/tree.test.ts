import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countNodes, findPath, findSubtree, maxDepth, mergeTrees, selfValue, treeFromFolded, treeToFolded } from './tree.ts';

const FOLDED = `bash;main;execute_command;do_syscall_64_[k];ksys_write_[k] 3
bash;main;readline 2
node;LazyCompile:*fib /app/x.js:3;LazyCompile:*fib /app/x.js:3 10
node;[unknown] 1
swapper/0;secondary_startup_64_[k];cpu_idle_[k] 40
`;

test('folded -> tree -> folded is identical', () => {
  assert.equal(treeToFolded(treeFromFolded(FOLDED)), FOLDED);
});

test('unsorted, duplicated input comes back sorted and merged', () => {
  const input = 'b;x 1\na;y 2\nb;x 4\n\n# comment\n';
  assert.equal(treeToFolded(treeFromFolded(input)), 'a;y 2\nb;x 5\n');
});

test('tree shape: kinds, inclusive values, children sorted by name', () => {
  const tree = treeFromFolded(FOLDED);
  assert.equal(tree.n, 'all');
  assert.equal(tree.k, undefined);
  assert.equal(tree.v, 56);
  assert.deepEqual(tree.c!.map((c) => [c.n, c.k, c.v]), [
    ['bash', 'p', 5],
    ['node', 'p', 11],
    ['swapper/0', 'p', 40],
  ]);
  const bash = tree.c![0];
  assert.deepEqual(bash.c![0].c!.map((c) => [c.n, c.k]), [
    ['execute_command', 'u'],
    ['readline', 'u'],
  ]);
  assert.equal(findSubtree(tree, ['bash', 'main', 'execute_command', 'do_syscall_64'])!.k, 'k');
  assert.equal(findSubtree(tree, ['node', '[unknown]'])!.k, 'x');
  assert.equal(selfValue(bash), 0);
  assert.equal(selfValue(findSubtree(tree, ['bash', 'main', 'readline'])!), 2);
});

test('countNodes, maxDepth, findPath', () => {
  const tree = treeFromFolded('a;b;c 1\na;d 1\n');
  assert.equal(countNodes(tree), 5);
  assert.equal(maxDepth(tree), 3);
  assert.deepEqual(findPath(tree, ['a', 'b'])!.map((n) => n.n), ['all', 'a', 'b']);
  assert.equal(findPath(tree, ['a', 'zzz']), undefined);
  assert.deepEqual(findPath(tree, [])!.map((n) => n.n), ['all']);
});

test('merge adds up equal paths and keeps order', () => {
  const merged = mergeTrees(treeFromFolded('a;b 1\nc 2\n'), treeFromFolded('a;b 3\nb 1\n'));
  assert.equal(treeToFolded(merged), 'a;b 4\nb 1\nc 2\n');
});

test('self samples on inner nodes become their own line', () => {
  assert.equal(treeToFolded(treeFromFolded('a 2\na;b 3\n')), 'a 2\na;b 3\n');
});

test('a line without a count is an error naming the line', () => {
  assert.throws(() => treeFromFolded('a;b 1\na;b\n'), /line 2/);
});

test('semicolons and newlines in names do not break folded text', () => {
  const tree = { n: 'all', v: 1, c: [{ n: 'p', v: 1, k: 'p' as const, c: [{ n: 'x;y\nz', v: 1, k: 'u' as const }] }] };
  assert.equal(treeToFolded(tree), 'p;x:y z 1\n');
});

test('findPathPrefix stops at the deepest existing frame and honours kinds', async () => {
  const { findPathPrefix } = await import('./tree.ts');
  const tree = treeFromFolded('a;f;g 1\na;f_[k] 5\n');
  assert.deepEqual(findPathPrefix(tree, ['a', 'f', 'zz']).map((n) => [n.n, n.k]), [['all', undefined], ['a', 'p'], ['f', 'k']]);
  assert.deepEqual(findPathPrefix(tree, ['a', { name: 'f', kind: 'u' }, 'g']).map((n) => n.n), ['all', 'a', 'f', 'g']);
  assert.deepEqual(findPathPrefix(tree, ['x']).map((n) => n.n), ['all']);
});

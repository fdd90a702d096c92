import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromD3Json, toD3Json } from './d3json.ts';
import { treeFromFolded } from './tree.ts';

test('long-key tree shape', () => {
  const tree = treeFromFolded('sh;main;sys_read_[k] 3\nsh;main 1\nnode;fn_[j] 2\n');
  const json = toD3Json(tree);
  assert.deepEqual(json, {
    name: 'all',
    value: 6,
    children: [
      { name: 'node', value: 2, kind: 'p', children: [{ name: 'fn', value: 2, kind: 'j', libtype: 'jit', children: [] }] },
      {
        name: 'sh',
        value: 4,
        kind: 'p',
        children: [
          { name: 'main', value: 4, kind: 'u', children: [{ name: 'sys_read', value: 3, kind: 'k', libtype: 'kernel', children: [] }] },
        ],
      },
    ],
  });
  assert.deepEqual(fromD3Json(JSON.parse(JSON.stringify(json))), tree);
});

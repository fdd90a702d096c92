import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldedSampleCount } from './profile.ts';
import { parseFolded } from '../aggregator/folded.ts';

test('foldedSampleCount: the samples the tree would count, without building the tree', () => {
  const folded = 'bash;main;read 3\nnode;uv_run;epoll_wait_[k] 12\nspin;pb_work_alpha 1000\nweird name;with spaces 7\n';
  assert.equal(foldedSampleCount(folded), 1022);
  assert.equal(foldedSampleCount(folded), parseFolded(folded).v);
  assert.equal(foldedSampleCount(''), 0);
});

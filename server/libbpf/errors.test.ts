import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfError, errnoMessage, errnoName, privilegeHint } from './errors.ts';

test('errno names and messages, either sign', () => {
  assert.equal(errnoName(13), 'EACCES');
  assert.equal(errnoName(-17), 'EEXIST');
  assert.equal(errnoMessage(-1), 'Operation not permitted');
  assert.equal(errnoMessage(524), 'Operation not supported by this kernel');
  assert.equal(errnoName(61), 'ENODATA'); // from Node's table
  assert.match(errnoMessage(100000), /errno 100000/);
});

test('BpfError says what failed, why, and what to do', () => {
  const error = new BpfError('perf_event_open on CPU 0', -13, privilegeHint(13), ['libbpf: something']);
  assert.equal(error.message, 'perf_event_open on CPU 0 failed: Permission denied (EACCES) — run as root (or grant CAP_BPF and CAP_PERFMON)');
  assert.equal(error.errno, 13);
  assert.deepEqual(error.log, ['libbpf: something']);
  assert.equal(privilegeHint(2), undefined);
});

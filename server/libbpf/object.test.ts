import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfObject } from './object.ts';
import { PROFILE_OBJECT_PATH } from '../collectors/profile.ts';
import { FEATURES_OBJECT_PATH } from './features.ts';

// Opening parses the ELF only: no kernel objects, no privileges needed.

test('a missing object file says how to build it', () => {
  assert.throws(() => BpfObject.open('/nonexistent/x.bpf.o'), /not found \(run npm run build:bpf\)/);
});

test('committed objects open and name their programs', () => {
  const profile = BpfObject.open(PROFILE_OBJECT_PATH);
  try {
    assert.deepEqual(profile.programNames(), ['pb_profile']);
    assert.throws(() => profile.program('nope'), /has no program named nope/);
    assert.throws(() => profile.map('pb_counts0'), /load before using map/);
  } finally {
    profile.close();
  }
  const features = BpfObject.open(FEATURES_OBJECT_PATH);
  try {
    assert.deepEqual(features.programNames().sort(), ['pb_feat_fentry', 'pb_feat_kprobe', 'pb_feat_perf_event', 'pb_feat_tracepoint', 'pb_feat_uprobe']);
  } finally {
    features.close();
  }
});

test('rodata is written by name and checked against BTF sizes', () => {
  const profile = BpfObject.open(PROFILE_OBJECT_PATH);
  try {
    profile.setRodata({ targ_pid: 1234, filter_pid: true, targ_comm: 'busy', filter_comm: false });
    assert.throws(() => profile.setRodata({ no_such_var: 1 }), /no const volatile variable named no_such_var/);
    assert.throws(() => profile.setRodata({ targ_comm: 'sixteen-chars-xx' }), /do not fit in 16/);
    assert.throws(() => profile.setRodata({ targ_pid: 2 ** 32 }), /does not fit in 4 bytes/);
  } finally {
    profile.close();
  }
  assert.throws(() => profile.program('pb_profile'), /is closed/);
  profile.close(); // idempotent
});

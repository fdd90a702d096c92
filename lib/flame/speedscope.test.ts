import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SPEEDSCOPE_SCHEMA, speedscopeFromFolded, type SpeedscopeFile } from './speedscope.ts';

/** The fields and rules of speedscope's file-format-spec.ts (FileFormat.File, SampledProfile). */
function validate(file: SpeedscopeFile): void {
  assert.equal(file.$schema, SPEEDSCOPE_SCHEMA);
  assert.ok(Array.isArray(file.shared.frames), `shared.frames is an array (${JSON.stringify(file.shared.frames)?.slice(0, 200)})`);
  for (const frame of file.shared.frames) assert.equal(typeof frame.name, 'string');
  assert.ok(Array.isArray(file.profiles) && file.profiles.length > 0, `at least one profile (${JSON.stringify(file.profiles)?.slice(0, 200)})`);
  if (file.activeProfileIndex !== undefined) assert.ok(file.activeProfileIndex < file.profiles.length, `activeProfileIndex ${file.activeProfileIndex} names one of the ${file.profiles.length} profiles`);
  for (const profile of file.profiles) {
    assert.equal(profile.type, 'sampled');
    assert.equal(typeof profile.name, 'string');
    assert.ok(['none', 'nanoseconds', 'microseconds', 'milliseconds', 'seconds', 'bytes'].includes(profile.unit), `a speedscope unit (${profile.unit})`);
    assert.ok(profile.endValue >= profile.startValue, `the profile ends after it starts (${profile.startValue} to ${profile.endValue})`);
    assert.equal(profile.samples.length, profile.weights.length);
    for (const stack of profile.samples) {
      for (const index of stack) assert.ok(Number.isInteger(index) && index >= 0 && index < file.shared.frames.length, `frame index ${index} within the ${file.shared.frames.length} shared frames`);
    }
    for (const weight of profile.weights) assert.ok(weight > 0, `weights are positive (${weight})`);
  }
}

test('sampled profile from folded stacks', () => {
  const file = speedscopeFromFolded('sh;main;sys_read_[k] 3\nsh;main 1\nnode;main 2\n', { name: 'test', exporter: 'probeboard@test' });
  validate(file);
  const names = file.shared.frames.map((f) => f.name);
  assert.deepEqual(names, ['node', 'main', 'sh', 'sys_read_[k]']);
  const profile = file.profiles[0];
  const stacks = profile.samples.map((s, i) => `${s.map((f) => names[f]).join(';')} ${profile.weights[i]}`);
  assert.deepEqual(stacks, ['node;main 2', 'sh;main 1', 'sh;main;sys_read_[k] 3']);
  assert.equal(profile.endValue, 6);
  assert.equal(file.exporter, 'probeboard@test');
  // Survives a JSON round trip unchanged (what the CLI writes).
  assert.deepEqual(JSON.parse(JSON.stringify(file)), file);
});

test('empty profile is still a valid file', () => {
  const file = speedscopeFromFolded('');
  validate(file);
  assert.equal(file.profiles[0].samples.length, 0);
});

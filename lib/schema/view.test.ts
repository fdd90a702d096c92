/**
 * The profile messages' schemas (view:set, profile:configure): the cases lib/validate.test.ts had,
 * every refusal naming the field and the value. Run: node --import tsx --test lib/schema/view.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check } from './core.ts';
import { checkRequest } from './messages.ts';
import { OffCpuSettingsSchema, profileCombinationProblem, ProfileTargetSchema } from './view.ts';
import { DEFAULT_OFFCPU_SETTINGS, MAX_BLOCK_US } from '../protocol.ts';

/** The one-line refusal of a request, or a failure showing what was accepted. */
function refusal(event: Parameters<typeof checkRequest>[0], payload: unknown): string {
  const checked = checkRequest(event, payload);
  assert.equal(checked.ok, false, `${event} ${JSON.stringify(payload)} was accepted as ${JSON.stringify(checked)}`);
  const error = checked.ok ? '' : checked.error;
  assert.equal(error.includes('\n'), false, `one line: ${JSON.stringify(error)}`);
  return error;
}

test('views: valid ones pass unchanged, every bad field is named', () => {
  const view = { window: '60s', stackMode: 'kernel', hideIdle: false };
  assert.deepEqual(checkRequest('view:set', view), { ok: true, value: view });
  for (const perThread of [true, false]) {
    const checked = checkRequest('view:set', { window: '10s', stackMode: 'all', hideIdle: true, perThread });
    assert.deepEqual(checked, { ok: true, value: { window: '10s', stackMode: 'all', hideIdle: true, perThread } }, `perThread ${perThread} kept: ${JSON.stringify(checked)}`);
  }
  const cases: [unknown, RegExp][] = [
    [undefined, /^view:set must be an object, got undefined$/],
    [42, /^view:set must be an object, got 42$/],
    [[], /^view:set must be an object, got \[\]$/],
    [{ window: '5m', stackMode: 'all', hideIdle: true }, /^view:set: window must be one of 10s, 60s, all, got "5m"$/],
    [{ window: '10s', stackMode: 'both', hideIdle: true }, /^view:set: stackMode must be one of all, user, kernel, got "both"$/],
    [{ window: '10s', stackMode: 'all', hideIdle: 1 }, /^view:set: hideIdle must be true or false, got 1$/],
    [{ window: '10s', stackMode: 'all' }, /^view:set: hideIdle must be true or false, got undefined$/],
    [{ window: '10s', stackMode: 'all', hideIdle: true, __proto__x: 1 }, /^view:set: unknown field "__proto__x"$/],
    [{ window: '10s', stackMode: 'all', hideIdle: true, perThread: 'yes' }, /^view:set: perThread must be true or false, got "yes"$/],
    [{ window: '10s', stackMode: 'all', hideIdle: true, perThread: null }, /^view:set: perThread must be true or false, got null$/],
  ];
  for (const [input, reason] of cases) assert.match(refusal('view:set', input), reason);
});

test('prototype keys are refused as unknown fields, never copied', () => {
  const polluted = JSON.parse('{"window":"10s","stackMode":"all","hideIdle":true,"__proto__":{"polluted":1}}');
  assert.match(refusal('view:set', polluted), /^view:set: unknown field "__proto__"$/);
  assert.match(refusal('view:set', { window: '10s', stackMode: 'all', hideIdle: true, constructor: 1 }), /^view:set: unknown field "constructor"$/);
  assert.match(refusal('profile:configure', JSON.parse('{"target":{"kind":"all","__proto__":{"x":1}}}')), /^profile:configure: target: unknown field "__proto__"$/);
  assert.equal(({} as { polluted?: number }).polluted, undefined, 'Object.prototype untouched');
  const checked = checkRequest('view:set', { window: '10s', stackMode: 'all', hideIdle: true });
  assert.ok(checked.ok && Object.getPrototypeOf(checked.value) === Object.prototype, `a plain copy: ${JSON.stringify(checked)}`);
});

test('profile changes: rate, target and running are checked field by field', () => {
  assert.deepEqual(checkRequest('profile:configure', { hz: 49 }), { ok: true, value: { hz: 49 } });
  assert.deepEqual(checkRequest('profile:configure', { running: false, target: { kind: 'comm', comm: 'node' } }), {
    ok: true,
    value: { running: false, target: { kind: 'comm', comm: 'node' } },
  });
  const bad: [unknown, RegExp][] = [
    [{ hz: 0 }, /^profile:configure: hz must be a whole number of Hz from 1 to 10000, got 0$/],
    [{ hz: 99.5 }, /^profile:configure: hz must be a whole number of Hz from 1 to 10000, got 99\.5$/],
    [{ hz: '99' }, /^profile:configure: hz must be a whole number of Hz from 1 to 10000, got "99"$/],
    [{ running: 'yes' }, /^profile:configure: running must be true or false, got "yes"$/],
    [{ target: { kind: 'pid', pid: 0 } }, /^profile:configure: target\.pid must be a whole number from 1 to 4194304, got 0$/],
    [{ target: { kind: 'pid', pid: '12' } }, /^profile:configure: target\.pid must be a whole number from 1 to 4194304, got "12"$/],
    [{ target: { kind: 'comm', comm: 'a-very-long-command-name' } }, /^profile:configure: target\.comm is longer than the kernel's 15 bytes, got "a-very-long-command-name"$/],
    [{ target: { kind: 'comm', comm: 'x\ny' } }, /^profile:configure: target\.comm must not contain control characters/],
    [{ target: { kind: 'cgroup' } }, /^profile:configure: target\.kind must be all, pid or comm, got "cgroup"$/],
    [{ target: { kind: 'all', pid: 3 } }, /^profile:configure: target: unknown field "pid"$/],
    [{ load: '/tmp/evil.o' }, /^profile:configure: unknown field "load"$/],
  ];
  for (const [input, reason] of bad) assert.match(refusal('profile:configure', input), reason);
  assert.equal(check(ProfileTargetSchema, { kind: 'pid', pid: 1 }).ok, true);
});

test('profile changes: type and off-CPU settings are checked, each bad field named', () => {
  const offcpu = { wakers: true, minBlockUs: 100, maxBlockUs: 5000, state: 'uninterruptible' };
  const good = checkRequest('profile:configure', { type: 'offcpu', offcpu });
  assert.deepEqual(good, { ok: true, value: { type: 'offcpu', offcpu } }, `got ${JSON.stringify(good)}`);
  const defaults = check(OffCpuSettingsSchema, DEFAULT_OFFCPU_SETTINGS);
  assert.deepEqual(defaults, { ok: true, value: DEFAULT_OFFCPU_SETTINGS }, `the defaults must pass, got ${JSON.stringify(defaults)}`);
  // null max: no limit; equal bounds and the largest value pass.
  for (const ok of [{ ...offcpu, maxBlockUs: null }, { ...offcpu, minBlockUs: 0, maxBlockUs: 0 }, { ...offcpu, minBlockUs: MAX_BLOCK_US, maxBlockUs: MAX_BLOCK_US }]) {
    const result = check(OffCpuSettingsSchema, ok);
    assert.equal(result.ok, true, `${JSON.stringify(ok)} -> ${JSON.stringify(result)}`);
  }
  const bad: [unknown, RegExp][] = [
    [{ type: 'oncpu' }, /^profile:configure: type must be one of cpu, offcpu, wall, got "oncpu"$/],
    [{ type: 'wall', target: { kind: 'all' } }, /^profile:configure: type wall needs a target: a pid or a command name/],
    [{ offcpu: { ...offcpu, minBlockUs: 6000 } }, /^profile:configure: offcpu\.minBlockUs \(6000 µs\) must not exceed offcpu\.maxBlockUs \(5000 µs\)$/],
    [{ offcpu: { ...offcpu, minBlockUs: -1 } }, /^profile:configure: offcpu\.minBlockUs must be a whole number of µs from 0 to 86400000000, got -1$/],
    [{ offcpu: { ...offcpu, minBlockUs: 1.5 } }, /offcpu\.minBlockUs must be a whole number of µs .*, got 1\.5$/],
    [{ offcpu: { ...offcpu, minBlockUs: '5' } }, /offcpu\.minBlockUs must be a whole number of µs .*, got "5"$/],
    [{ offcpu: { ...offcpu, maxBlockUs: MAX_BLOCK_US + 1 } }, /offcpu\.maxBlockUs must be null \(no limit\) or a whole number of µs from 0 to 86400000000, got 86400000001$/],
    [{ offcpu: { ...offcpu, maxBlockUs: -3 } }, /offcpu\.maxBlockUs must be null \(no limit\) or a whole number .*, got -3$/],
    [{ offcpu: { ...offcpu, state: 'zombie' } }, /^profile:configure: offcpu\.state must be one of all, uninterruptible, interruptible, got "zombie"$/],
    [{ offcpu: { ...offcpu, wakers: 1 } }, /offcpu\.wakers must be true or false, got 1$/],
    [{ offcpu: { ...offcpu, program: 'x' } }, /^profile:configure: offcpu: unknown field "program"$/],
    [{ offcpu: { wakers: false } }, /offcpu\.minBlockUs must be a whole number of µs .*, got undefined$/],
    [{ offcpu: [] }, /^profile:configure: offcpu must be an object, got \[\]$/],
  ];
  for (const [input, reason] of bad) assert.match(refusal('profile:configure', input), reason);
  // Whole settings: wall needs a pid or a comm; cpu and offcpu take all.
  const cases: [Parameters<typeof profileCombinationProblem>[0], boolean][] = [
    [{ type: 'wall', target: { kind: 'all' } }, false],
    [{ type: 'wall', target: { kind: 'pid', pid: 1 } }, true],
    [{ type: 'wall', target: { kind: 'comm', comm: 'node' } }, true],
    [{ type: 'offcpu', target: { kind: 'all' } }, true],
    [{ target: { kind: 'all' } }, true],
  ];
  for (const [settings, ok] of cases) {
    const problem = profileCombinationProblem(settings);
    assert.equal(problem === null, ok, `${JSON.stringify(settings)} -> ${problem}`);
  }
});

test('a received value is shown cut to 80 characters', () => {
  const error = refusal('view:set', { window: 'x'.repeat(500), stackMode: 'all', hideIdle: true });
  assert.match(error, /^view:set: window must be one of 10s, 60s, all, got "x{76}\.\.\.$/, `cut: ${error}`);
});

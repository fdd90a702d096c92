import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkOffCpu, checkProfileChange, checkProfileCombination, checkTarget, checkView } from './validate.ts';
import { DEFAULT_OFFCPU_SETTINGS, MAX_BLOCK_US } from './protocol.ts';

test('views: valid ones pass unchanged, every bad field is named', () => {
  assert.deepEqual(checkView({ window: '60s', stackMode: 'kernel', hideIdle: false }), {
    ok: true,
    value: { window: '60s', stackMode: 'kernel', hideIdle: false },
  });
  for (const perThread of [true, false]) {
    const checked = checkView({ window: '10s', stackMode: 'all', hideIdle: true, perThread });
    assert.deepEqual(checked, { ok: true, value: { window: '10s', stackMode: 'all', hideIdle: true, perThread } }, `perThread ${perThread} kept: ${JSON.stringify(checked)}`);
  }
  const cases: [unknown, RegExp][] = [
    [undefined, /object/],
    [42, /object/],
    [[], /object/],
    [{ window: '5m', stackMode: 'all', hideIdle: true }, /view\.window/],
    [{ window: '10s', stackMode: 'both', hideIdle: true }, /view\.stackMode/],
    [{ window: '10s', stackMode: 'all', hideIdle: 1 }, /view\.hideIdle/],
    [{ window: '10s', stackMode: 'all', hideIdle: true, __proto__x: 1 }, /unknown field/],
    [{ window: '10s', stackMode: 'all', hideIdle: true, perThread: 'yes' }, /view\.perThread must be true or false, got "yes"/],
    [{ window: '10s', stackMode: 'all', hideIdle: true, perThread: null }, /view\.perThread/],
  ];
  for (const [input, reason] of cases) {
    const result = checkView(input);
    assert.equal(result.ok, false, JSON.stringify(input));
    if (!result.ok) assert.match(result.error, reason);
  }
});

test('profile changes: rate, target and running are checked field by field', () => {
  assert.deepEqual(checkProfileChange({ hz: 49 }), { ok: true, value: { hz: 49 } });
  assert.deepEqual(checkProfileChange({ running: false, target: { kind: 'comm', comm: 'node' } }), {
    ok: true,
    value: { running: false, target: { kind: 'comm', comm: 'node' } },
  });
  const bad: [unknown, RegExp][] = [
    [{ hz: 0 }, /sample rate/],
    [{ hz: 99.5 }, /sample rate/],
    [{ hz: '99' }, /sample rate/],
    [{ running: 'yes' }, /running/],
    [{ target: { kind: 'pid', pid: 0 } }, /pid/],
    [{ target: { kind: 'pid', pid: '12' } }, /pid/],
    [{ target: { kind: 'comm', comm: 'a-very-long-command-name' } }, /15 bytes/],
    [{ target: { kind: 'comm', comm: 'x\ny' } }, /control/],
    [{ target: { kind: 'cgroup' } }, /target\.kind/],
    [{ target: { kind: 'all', pid: 3 } }, /unknown field/],
    [{ load: '/tmp/evil.o' }, /unknown field "load"/],
  ];
  for (const [input, reason] of bad) {
    const result = checkProfileChange(input);
    assert.equal(result.ok, false, JSON.stringify(input));
    if (!result.ok) assert.match(result.error, reason);
  }
  assert.equal(checkTarget({ kind: 'pid', pid: 1 }).ok, true);
});

test('profile changes: type and off-CPU settings are checked, each bad field named', () => {
  const offcpu = { wakers: true, minBlockUs: 100, maxBlockUs: 5000, state: 'uninterruptible' };
  const good = checkProfileChange({ type: 'offcpu', offcpu });
  assert.deepEqual(good, { ok: true, value: { type: 'offcpu', offcpu } }, `got ${JSON.stringify(good)}`);
  const defaults = checkOffCpu(DEFAULT_OFFCPU_SETTINGS);
  assert.deepEqual(defaults, { ok: true, value: DEFAULT_OFFCPU_SETTINGS }, `the defaults must pass, got ${JSON.stringify(defaults)}`);
  // null max: no limit; equal bounds and the largest value pass.
  for (const ok of [{ ...offcpu, maxBlockUs: null }, { ...offcpu, minBlockUs: 0, maxBlockUs: 0 }, { ...offcpu, minBlockUs: MAX_BLOCK_US, maxBlockUs: MAX_BLOCK_US }]) {
    const result = checkOffCpu(ok);
    assert.equal(result.ok, true, `${JSON.stringify(ok)} -> ${JSON.stringify(result)}`);
  }
  const bad: [unknown, RegExp][] = [
    [{ type: 'oncpu' }, /^type must be one of cpu, offcpu, wall, got "oncpu"$/],
    [{ type: 'wall', target: { kind: 'all' } }, /type wall needs a target/],
    [{ offcpu: { ...offcpu, minBlockUs: 6000 } }, /^offcpu\.minBlockUs \(6000 µs\) must not exceed offcpu\.maxBlockUs \(5000 µs\)$/],
    [{ offcpu: { ...offcpu, minBlockUs: -1 } }, /^offcpu\.minBlockUs must be a whole number of µs from 0 to 86400000000, got -1$/],
    [{ offcpu: { ...offcpu, minBlockUs: 1.5 } }, /offcpu\.minBlockUs must be a whole number/],
    [{ offcpu: { ...offcpu, minBlockUs: '5' } }, /offcpu\.minBlockUs must be a whole number/],
    [{ offcpu: { ...offcpu, maxBlockUs: MAX_BLOCK_US + 1 } }, /offcpu\.maxBlockUs must be a whole number .* \(or null: no limit\)/],
    [{ offcpu: { ...offcpu, maxBlockUs: -3 } }, /offcpu\.maxBlockUs must be/],
    [{ offcpu: { ...offcpu, state: 'zombie' } }, /^offcpu\.state must be one of all, uninterruptible, interruptible, got "zombie"$/],
    [{ offcpu: { ...offcpu, wakers: 1 } }, /offcpu\.wakers must be true or false/],
    [{ offcpu: { ...offcpu, program: 'x' } }, /offcpu: unknown field "program"/],
    [{ offcpu: { wakers: false } }, /offcpu\.minBlockUs/],
    [{ offcpu: [] }, /offcpu must be an object/],
  ];
  for (const [input, reason] of bad) {
    const result = checkProfileChange(input);
    assert.equal(result.ok, false, `${JSON.stringify(input)} was accepted: ${JSON.stringify(result)}`);
    if (!result.ok) assert.match(result.error, reason, `${JSON.stringify(input)} -> ${result.error}`);
    if (!result.ok) assert.equal(result.error.includes('\n'), false, `one line: ${JSON.stringify(result.error)}`);
  }
  // Whole settings: wall needs a pid or a comm; cpu and offcpu take all.
  const cases: [Parameters<typeof checkProfileCombination>[0], boolean][] = [
    [{ type: 'wall', target: { kind: 'all' } }, false],
    [{ type: 'wall', target: { kind: 'pid', pid: 1 } }, true],
    [{ type: 'wall', target: { kind: 'comm', comm: 'node' } }, true],
    [{ type: 'offcpu', target: { kind: 'all' } }, true],
    [{ target: { kind: 'all' } }, true],
  ];
  for (const [settings, ok] of cases) {
    const problem = checkProfileCombination(settings);
    assert.equal(problem === null, ok, `${JSON.stringify(settings)} -> ${problem}`);
  }
});

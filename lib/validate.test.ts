import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkProfileChange, checkTarget, checkView } from './validate.ts';

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

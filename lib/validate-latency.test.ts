import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLatencyAdd, checkLatencyRemove } from './validate-latency.ts';

test('latency:add: a good request comes back canonical', () => {
  assert.deepEqual(checkLatencyAdd({ spec: '  uprobe:c:malloc ' }), { ok: true, value: { spec: 'uprobe:c:malloc' } });
  assert.deepEqual(checkLatencyAdd({ spec: 'syscall:read', pid: 42, comm: 'nginx' }), { ok: true, value: { spec: 'syscall:read', pid: 42, comm: 'nginx' } });
  assert.deepEqual(checkLatencyAdd({ spec: 'runq', pid: null, comm: '' }), { ok: true, value: { spec: 'runq' } });
});

test('latency:add: each bad field is named', () => {
  const error = (input: unknown) => {
    const r = checkLatencyAdd(input);
    assert.equal(r.ok, false, JSON.stringify(input));
    return r.ok ? '' : r.error;
  };
  assert.match(error('uprobe:c:malloc'), /object/);
  assert.match(error(null), /object/);
  assert.match(error({}), /spec must be/);
  assert.match(error({ spec: '' }), /spec must be/);
  assert.match(error({ spec: 'x'.repeat(600) }), /longer than 512/);
  assert.match(error({ spec: 'bogus:thing' }), /^bad probe spec "bogus:thing": .*\(at character \d+\)$/);
  assert.match(error({ spec: 'uprobe:c' }), /bad probe spec/);
  assert.match(error({ spec: 'runq', pid: -1 }), /pid/);
  assert.match(error({ spec: 'runq', pid: '12' }), /pid/);
  assert.match(error({ spec: 'runq', comm: 'a-very-long-command-name' }), /command name/);
  assert.match(error({ spec: 'runq', extra: 1 }), /unknown field "extra"/);
});

test('latency:remove', () => {
  assert.deepEqual(checkLatencyRemove({ id: 'lat-3' }), { ok: true, value: { id: 'lat-3' } });
  assert.equal(checkLatencyRemove({ id: 3 }).ok, false);
  assert.equal(checkLatencyRemove({ id: 'lat-3', x: 1 }).ok, false);
  assert.equal(checkLatencyRemove('lat-3').ok, false);
  assert.equal(checkLatencyRemove({ id: '../../etc' }).ok, false);
});

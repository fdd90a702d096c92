/**
 * The latency requests' schemas: the cases lib/validate-latency.test.ts had.
 * Run: node --import tsx --test lib/schema/latency.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRequest } from './messages.ts';

test('latency:add: a good request comes back canonical', () => {
  assert.deepEqual(checkRequest('latency:add', { spec: '  uprobe:c:malloc ' }), { ok: true, value: { spec: 'uprobe:c:malloc' } });
  assert.deepEqual(checkRequest('latency:add', { spec: 'syscall:read', pid: 42, comm: 'nginx' }), { ok: true, value: { spec: 'syscall:read', pid: 42, comm: 'nginx' } });
  assert.deepEqual(checkRequest('latency:add', { spec: 'runq', pid: null, comm: '' }), { ok: true, value: { spec: 'runq' } });
  assert.deepEqual(checkRequest('latency:add', { spec: 'runq', subBuckets: 16 }), { ok: true, value: { spec: 'runq', subBuckets: 16 } });
});

test('latency:add: each bad field is named', () => {
  const error = (input: unknown) => {
    const r = checkRequest('latency:add', input);
    assert.equal(r.ok, false, `${JSON.stringify(input)} was accepted as ${JSON.stringify(r)}`);
    return r.ok ? '' : r.error;
  };
  assert.match(error('uprobe:c:malloc'), /^latency:add takes \{spec, pid\?, comm\?, subBuckets\?\}, got "uprobe:c:malloc"$/);
  assert.match(error(null), /^latency:add takes .*, got null$/);
  assert.match(error({}), /^latency:add: spec must be a non-empty string, e\.g\. uprobe:c:malloc, got undefined$/);
  assert.match(error({ spec: '' }), /^latency:add: spec must be a non-empty string/);
  assert.match(error({ spec: 'x'.repeat(600) }), /^latency:add: spec is longer than 512 characters/);
  assert.match(error({ spec: 'bogus:thing' }), /^bad probe spec "bogus:thing": .*\(at character \d+\)$/);
  assert.match(error({ spec: 'uprobe:c' }), /^bad probe spec "uprobe:c"/);
  assert.match(error({ spec: 'runq', pid: -1 }), /^latency:add: pid must be a whole number from 1 to 4194304, got -1$/);
  assert.match(error({ spec: 'runq', pid: '12' }), /^latency:add: pid must be a whole number from 1 to 4194304, got "12"$/);
  assert.match(error({ spec: 'runq', comm: 'a-very-long-command-name' }), /^latency:add: comm is longer than the kernel's 15 bytes/);
  assert.match(error({ spec: 'runq', subBuckets: 17 }), /^latency:add: subBuckets must be a whole number from 1 to 16, got 17$/);
  assert.match(error({ spec: 'runq', extra: 1 }), /^latency:add: unknown field "extra"$/);
});

test('latency:remove', () => {
  assert.deepEqual(checkRequest('latency:remove', { id: 'lat-3' }), { ok: true, value: { id: 'lat-3' } });
  const refused: [unknown, RegExp][] = [
    [{ id: 3 }, /^latency:remove: id must be a probe id such as "lat-1", got 3$/],
    [{ id: 'lat-3', x: 1 }, /^latency:remove: unknown field "x"$/],
    ['lat-3', /^latency:remove takes \{id\}, got "lat-3"$/],
    [{ id: '../../etc' }, /^latency:remove: id must be a probe id/],
  ];
  for (const [input, reason] of refused) {
    const r = checkRequest('latency:remove', input);
    assert.match(r.ok ? `accepted: ${JSON.stringify(r.value)}` : r.error, reason);
  }
});

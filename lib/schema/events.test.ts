/**
 * The events and discovery requests' schemas: the cases lib/validate-events.test.ts had.
 * Run: node --import tsx --test lib/schema/events.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRequest, type RequestName } from './messages.ts';

function refusal(event: RequestName, payload: unknown): string {
  const checked = checkRequest(event, payload);
  assert.equal(checked.ok, false, `${event} ${JSON.stringify(payload)} was accepted as ${JSON.stringify(checked)}`);
  return checked.ok ? '' : checked.error;
}

test('events:add: canonical spec, optional pid; malformed specs and payloads refused with a reason', () => {
  assert.deepEqual(checkRequest('events:add', { spec: ' tp:sched:sched_switch ' }), { ok: true, value: { spec: 'tracepoint:sched:sched_switch' } });
  assert.deepEqual(checkRequest('events:add', { spec: 'exec', pid: 12 }), { ok: true, value: { spec: 'exec', pid: 12 } });
  assert.deepEqual(checkRequest('events:add', { spec: 'exec', pid: null }), { ok: true, value: { spec: 'exec' } });
  assert.match(refusal('events:add', 'exec'), /^events:add takes \{spec, pid\?\}, got "exec"$/);
  assert.match(refusal('events:add', { spec: '' }), /^events:add: spec must be a non-empty string, e\.g\. exec or tracepoint:sched:sched_switch, got ""$/);
  assert.match(refusal('events:add', { spec: 'x'.repeat(600) }), /^events:add: spec is longer than 512 characters/);
  assert.match(refusal('events:add', { spec: 'uprobe:' }), /^bad spec "uprobe:" at character \d+: /);
  assert.match(refusal('events:add', { spec: 'kprobe:x' }), /unknown event type "kprobe"/);
  assert.match(refusal('events:add', { spec: 'exec', pid: 0 }), /^events:add: pid must be a whole number from 1 to 4194304, got 0$/);
  assert.match(refusal('events:add', { spec: 'exec', pid: '1' }), /^events:add: pid must be a whole number from 1 to 4194304, got "1"$/);
  assert.match(refusal('events:add', { spec: 'exec', comm: 'x' }), /^events:add: unknown field "comm"$/);
});

test('events:remove', () => {
  assert.deepEqual(checkRequest('events:remove', { id: 'ev-1' }), { ok: true, value: { id: 'ev-1' } });
  assert.match(refusal('events:remove', { id: '../x' }), /^events:remove: id must be a probe id such as "ev-1", got "\.\.\/x"$/);
  assert.match(refusal('events:remove', null), /^events:remove takes \{id\}, got null$/);
});

test('discover:* payloads', () => {
  assert.deepEqual(checkRequest('discover:tracepoints', undefined), { ok: true, value: {} });
  assert.deepEqual(checkRequest('discover:tracepoints', { glob: '  ' }), { ok: true, value: {} });
  assert.deepEqual(checkRequest('discover:tracepoints', { glob: 'sched:*' }), { ok: true, value: { glob: 'sched:*' } });
  assert.match(refusal('discover:tracepoints', { glob: 1 }), /^discover:tracepoints: glob must be a string, got 1$/);
  assert.match(refusal('discover:tracepoints', { glob: 'a\nb' }), /^discover:tracepoints: glob contains control characters/);
  assert.match(refusal('discover:tracepoints', []), /^discover:tracepoints takes \{glob\?\}, got \[\]$/);
  assert.deepEqual(checkRequest('discover:processes', { query: 'py' }), { ok: true, value: { query: 'py' } });
  assert.match(refusal('discover:processes', { query: 'x'.repeat(300) }), /^discover:processes: query is longer than 256 characters/);
  assert.deepEqual(checkRequest('discover:objects', { pid: 1 }), { ok: true, value: { pid: 1 } });
  assert.match(refusal('discover:objects', {}), /^discover:objects: pid must be a whole number from 1 to 4194304, got undefined$/);
  assert.deepEqual(checkRequest('discover:symbols', { binary: 'c', glob: 'mall*' }), { ok: true, value: { binary: 'c', glob: 'mall*' } });
  assert.match(refusal('discover:symbols', { binary: '' }), /^discover:symbols: binary is required \(e\.g\. \/usr\/bin\/bash or c\)/);
  assert.deepEqual(checkRequest('discover:usdt', { pid: 5 }), { ok: true, value: { pid: 5 } });
  assert.deepEqual(checkRequest('discover:usdt', { binary: '/usr/bin/python3' }), { ok: true, value: { binary: '/usr/bin/python3' } });
  assert.match(refusal('discover:usdt', {}), /exactly one of binary or pid/);
  assert.match(refusal('discover:usdt', { binary: 'x', pid: 1 }), /exactly one of binary or pid/);
  assert.match(refusal('discover:usdt', { binary: 'x', extra: 1 }), /^discover:usdt: unknown field "extra"$/);
});

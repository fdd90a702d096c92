import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkDiscoverObjects,
  checkDiscoverProcesses,
  checkDiscoverSymbols,
  checkDiscoverTracepoints,
  checkDiscoverUsdt,
  checkEventsAdd,
  checkEventsRemove,
} from './validate-events.ts';

const error = (r: { ok: boolean; error?: string }) => (r.ok ? '' : (r as { error: string }).error);

test('events:add: canonical spec, optional pid; malformed specs and payloads refused with a reason', () => {
  assert.deepEqual(checkEventsAdd({ spec: ' tp:sched:sched_switch ' }), { ok: true, value: { spec: 'tracepoint:sched:sched_switch' } });
  assert.deepEqual(checkEventsAdd({ spec: 'exec', pid: 12 }), { ok: true, value: { spec: 'exec', pid: 12 } });
  assert.deepEqual(checkEventsAdd({ spec: 'exec', pid: null }), { ok: true, value: { spec: 'exec' } });
  assert.match(error(checkEventsAdd('exec')), /needs an object/);
  assert.match(error(checkEventsAdd({ spec: '' })), /non-empty/);
  assert.match(error(checkEventsAdd({ spec: 'x'.repeat(600) })), /longer than 512/);
  assert.match(error(checkEventsAdd({ spec: 'uprobe:' })), /bad spec "uprobe:" at character/);
  assert.match(error(checkEventsAdd({ spec: 'kprobe:x' })), /unknown event type "kprobe"/);
  assert.match(error(checkEventsAdd({ spec: 'exec', pid: 0 })), /pid/);
  assert.match(error(checkEventsAdd({ spec: 'exec', pid: '1' })), /pid/);
  assert.match(error(checkEventsAdd({ spec: 'exec', comm: 'x' })), /unknown field "comm"/);
});

test('events:remove', () => {
  assert.deepEqual(checkEventsRemove({ id: 'ev-1' }), { ok: true, value: { id: 'ev-1' } });
  assert.match(error(checkEventsRemove({ id: '../x' })), /probe id/);
  assert.match(error(checkEventsRemove(null)), /needs an object/);
});

test('discover:* payloads', () => {
  assert.deepEqual(checkDiscoverTracepoints(undefined), { ok: true, value: {} });
  assert.deepEqual(checkDiscoverTracepoints({ glob: '  ' }), { ok: true, value: {} });
  assert.deepEqual(checkDiscoverTracepoints({ glob: 'sched:*' }), { ok: true, value: { glob: 'sched:*' } });
  assert.match(error(checkDiscoverTracepoints({ glob: 1 })), /glob must be a string/);
  assert.match(error(checkDiscoverTracepoints({ glob: 'a\nb' })), /control characters/);
  assert.match(error(checkDiscoverTracepoints([])), /needs an object/);
  assert.deepEqual(checkDiscoverProcesses({ query: 'py' }), { ok: true, value: { query: 'py' } });
  assert.match(error(checkDiscoverProcesses({ query: 'x'.repeat(300) })), /longer than 256/);
  assert.deepEqual(checkDiscoverObjects({ pid: 1 }), { ok: true, value: { pid: 1 } });
  assert.match(error(checkDiscoverObjects({})), /pid must be a whole number/);
  assert.deepEqual(checkDiscoverSymbols({ binary: 'c', glob: 'mall*' }), { ok: true, value: { binary: 'c', glob: 'mall*' } });
  assert.match(error(checkDiscoverSymbols({ binary: '' })), /binary is required/);
  assert.deepEqual(checkDiscoverUsdt({ pid: 5 }), { ok: true, value: { pid: 5 } });
  assert.deepEqual(checkDiscoverUsdt({ binary: '/usr/bin/python3' }), { ok: true, value: { binary: '/usr/bin/python3' } });
  assert.match(error(checkDiscoverUsdt({})), /exactly one of binary or pid/);
  assert.match(error(checkDiscoverUsdt({ binary: 'x', pid: 1 })), /exactly one/);
  assert.match(error(checkDiscoverUsdt({ binary: 'x', extra: 1 })), /unknown field "extra"/);
});

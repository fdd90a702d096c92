import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuClockAttr, onlineCpus, parseCpuList, possibleCpuCount } from './perf-event.ts';

test('parses kernel CPU lists', () => {
  assert.deepEqual(parseCpuList('0-3,5,7-8\n'), [0, 1, 2, 3, 5, 7, 8]);
  assert.deepEqual(parseCpuList('0'), [0]);
  assert.deepEqual(parseCpuList(''), []);
  assert.deepEqual(parseCpuList('2,0-1'), [0, 1, 2]);
  assert.throws(() => parseCpuList('0-'), /malformed CPU list/);
  assert.throws(() => parseCpuList('3-1'), /malformed CPU list/);
});

test('this machine has online CPUs within the possible ones', () => {
  const online = onlineCpus();
  assert.ok(online.length >= 1, `at least one online CPU (${JSON.stringify(online)})`);
  assert.ok(online[online.length - 1] < possibleCpuCount(), `online CPUs ${JSON.stringify(online)} within the ${possibleCpuCount()} possible`);
});

test('perf_event_attr for a cpu-clock sampler at a frequency', () => {
  const attr = cpuClockAttr(99);
  assert.equal(attr.length, 128);
  assert.equal(attr.readUInt32LE(0), 1); // PERF_TYPE_SOFTWARE
  assert.equal(attr.readUInt32LE(4), 128); // size
  assert.equal(attr.readBigUInt64LE(8), 0n); // PERF_COUNT_SW_CPU_CLOCK
  assert.equal(attr.readBigUInt64LE(16), 99n); // sample_freq
  assert.equal(attr.readBigUInt64LE(40), (1n << 10n) | 1n); // freq, disabled
});

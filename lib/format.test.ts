import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileTimestamp, formatCount, formatDuration, formatPercent, formatRate } from './format.ts';

test('counts and rates', () => {
  assert.equal(formatCount(0), '0');
  assert.equal(formatCount(1234567), '1,234,567');
  assert.equal(formatCount(NaN), '–');
  assert.equal(formatRate(197.4), '197/s');
  assert.equal(formatRate(1234.5), '1,235/s');
  assert.equal(formatRate(9.54), '9.5/s');
});

test('percentages never round a part up to the whole or down to nothing', () => {
  assert.equal(formatPercent(1, 0), '–');
  assert.equal(formatPercent(0, 10), '0%');
  assert.equal(formatPercent(1, 1_000_000), '<0.01%');
  assert.equal(formatPercent(5, 1000), '0.50%');
  assert.equal(formatPercent(123, 1000), '12.3%');
  assert.equal(formatPercent(9999, 10000), '99.9%');
  assert.equal(formatPercent(10, 10), '100.0%');
});

test('durations and file timestamps', () => {
  assert.equal(formatDuration(850), '850 ms');
  assert.equal(formatDuration(12_340), '12.3 s');
  assert.equal(formatDuration(245_000), '4 min 5 s');
  assert.equal(fileTimestamp(Date.UTC(2026, 10, 26, 4, 5, 9, 123)), '2026-11-26T04-05-09Z');
});

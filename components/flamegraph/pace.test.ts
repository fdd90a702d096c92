import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paceDelayMs } from './pace.ts';

test('the first update and updates after quick draws are drawn at once', () => {
  assert.equal(paceDelayMs(null, 1000), 0);
  // A 40 ms draw that painted at 1000: the next update, a second later, is not delayed.
  assert.equal(paceDelayMs({ paintedAtMs: 1000, paintMs: 40 }, 2000), 0);
});

test('after a slow draw the next update waits as long as the draw took, counted from its paint', () => {
  // Painted at 5000 after 1500 ms of drawing: the main thread gets 1500 ms before the next draw.
  assert.equal(paceDelayMs({ paintedAtMs: 5000, paintMs: 1500 }, 5200), 1300);
  assert.equal(paceDelayMs({ paintedAtMs: 5000, paintMs: 1500 }, 6500), 0);
  assert.equal(paceDelayMs({ paintedAtMs: 5000, paintMs: 1500 }, 9000), 0);
});

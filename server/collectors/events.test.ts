/**
 * EventsCollector's checks that need no kernel: a ring buffer size outside the cap is refused
 * before anything is loaded, with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventsCollector, EventsInputError, MAX_RING_BYTES } from './events.ts';

test('ring buffer sizes are capped: a power of two from 4 KiB to 64 MiB', () => {
  const open = (ringBytes: number) => new EventsCollector('exec', { onEvent: () => undefined, ringBytes });
  for (const bad of [0, 1000, 4095, 3 * 4096, MAX_RING_BYTES * 2, 2 ** 40, 1.5, Number.NaN]) {
    assert.throws(() => open(bad), (error: unknown) => error instanceof EventsInputError && /ring buffer size .*: must be a power of two from 4 KiB to 64 MiB/.test((error as Error).message), String(bad));
  }
  for (const good of [4096, 1 << 22, MAX_RING_BYTES]) assert.doesNotThrow(() => open(good), String(good));
});

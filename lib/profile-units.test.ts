import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMicros, formatWidth, profileTitle } from './profile-units.ts';

test('µs widths read as µs, ms or s; samples stay samples', () => {
  const cases: [number, string][] = [
    [0, '0 µs'],
    [850, '850 µs'],
    [999.4, '999 µs'],
    [1000, '1.00 ms'],
    [12_345, '12.3 ms'],
    [250_000, '250 ms'],
    [4_560_000, '4.56 s'],
    [123_400_000, '123 s'],
  ];
  for (const [us, text] of cases) assert.equal(formatMicros(us), text, `${us} µs`);
  assert.equal(formatMicros(-1), '–', 'negative is not a time');
  assert.equal(formatWidth(1234, 'samples'), '1,234 samples');
  assert.equal(formatWidth(1234, undefined), '1,234 samples', 'no unit: samples (frames from before profile types)');
  assert.equal(formatWidth(1234, 'us'), '1.23 ms');
  assert.deepEqual([profileTitle('cpu'), profileTitle(undefined), profileTitle('offcpu'), profileTitle('wall')], [
    'CPU flame graph',
    'CPU flame graph',
    'Off-CPU flame graph',
    'Wall-clock (hot/cold) flame graph',
  ]);
});

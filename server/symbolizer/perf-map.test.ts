import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePerfMap, PerfMap } from './perf-map.ts';
import { FIXTURES } from './testing.ts';

test('fixture: hex with and without 0x, names with spaces, bad lines skipped', () => {
  const { entries, badLines } = parsePerfMap(readFileSync(join(FIXTURES, 'perf-1234.map'), 'utf8'));
  assert.equal(badLines, 4); // garbage, bad size, no name, zero size
  assert.equal(entries.length, 6);
  assert.deepEqual(entries[0], { start: 0x3ef4c8a40n, size: 0x1c0n, name: 'LazyCompile:*fib /app/fib.js:3:13' });
  assert.equal(entries[1].name, 'Builtin:ArgumentsAdaptorTrampoline');
});

test('lookup: ranges, later line wins at one start, nested entries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-pm-'));
  const path = join(dir, 'perf-1234.map');
  copyFileSync(join(FIXTURES, 'perf-1234.map'), path);
  const m = new PerfMap(path);
  assert.equal(m.refresh(), true);
  assert.equal(m.lookup(0x3ef4c8a40n)?.name, 'LazyCompile:*fib /app/fib.js:3:13');
  assert.equal(m.lookup(0x3ef4c8bffn)?.name, 'LazyCompile:*fib /app/fib.js:3:13');
  assert.equal(m.lookup(0x3ef4c8c00n - 0x40n + 0x40n)?.name, 'Builtin:ArgumentsAdaptorTrampoline');
  assert.equal(m.lookup(0x3ef4c8c80n), undefined, 'gap after an entry');
  assert.equal(m.lookup(0x3ef4c9010n)?.name, 'JS:*main /app/main.js:1:1', 'the optimized re-compile replaced the entry');
  assert.equal(m.lookup(0x3ef4c9290n)?.name, 'Function:inner');
  assert.equal(m.lookup(0x3ef4c9300n)?.name, 'Function:outer with spaces', 'outer range around a nested entry');
  assert.equal(m.lookup(0x1n), undefined);
  assert.equal(m.badLines, 4);
});

test('refresh: re-reads only when the file grows; partial lines wait; replaced file is read anew', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-pm-'));
  const path = join(dir, 'perf-9.map');
  const m = new PerfMap(path);
  assert.equal(m.refresh(), false, 'missing file: no entries, no throw');
  writeFileSync(path, '1000 10 first\n');
  assert.equal(m.refresh(), true);
  assert.equal(m.refresh(), false, 'unchanged');
  appendFileSync(path, '2000 10 second\n3000 10 thi');
  assert.equal(m.refresh(), true);
  assert.equal(m.lookup(0x2005n)?.name, 'second');
  assert.equal(m.lookup(0x3005n), undefined, 'unterminated line not used yet');
  appendFileSync(path, 'rd\n');
  assert.equal(m.refresh(), true);
  assert.equal(m.lookup(0x3005n)?.name, 'third');
  assert.equal(m.size, 3);
  const other = join(dir, 'new.map');
  writeFileSync(other, 'a000 10 replaced\n');
  renameSync(other, path);
  assert.equal(m.refresh(), true);
  assert.equal(m.lookup(0x1005n), undefined);
  assert.equal(m.lookup(0xa005n)?.name, 'replaced');
});

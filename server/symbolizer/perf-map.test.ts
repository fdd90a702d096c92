import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
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

test('refused without blocking: a FIFO, a symlink, a file of another owner; the error says which', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-pm-'));
  const fifo = join(dir, 'perf-1.map');
  execFileSync('mkfifo', [fifo]);
  const t0 = performance.now();
  const m = new PerfMap(fifo, { within: dir, ownerUid: process.getuid!() });
  assert.equal(m.refresh(), false);
  const tookMs = performance.now() - t0;
  assert.ok(tookMs < 1000, `no blocking open (${tookMs.toFixed(0)} ms)`);
  assert.match(m.error ?? '', /perf-1\.map: refused: a FIFO, not a regular file/);

  const real = join(dir, 'real.map');
  writeFileSync(real, '1000 10 f\n');
  const link = join(dir, 'perf-2.map');
  symlinkSync(real, link);
  const viaLink = new PerfMap(link, { within: dir, ownerUid: process.getuid!() });
  assert.equal(viaLink.refresh(), false);
  assert.match(viaLink.error ?? '', /symbolic link/);
  assert.equal(new PerfMap(link).refresh(), false, 'the default options do not follow a symlink either');

  const other = new PerfMap(real, { within: dir, ownerUid: process.getuid!() + 1 });
  assert.equal(other.refresh(), false);
  assert.match(other.error ?? '', new RegExp(`owned by uid ${process.getuid!()}, expected uid ${process.getuid!() + 1}`));
  const mine = new PerfMap(real, { within: dir, ownerUid: process.getuid!() });
  assert.equal(mine.refresh(), true, 'the same file with the right owner is read');
  assert.equal(mine.lookup(0x1005n)?.name, 'f');
});

test('bounded: no more than maxBytes of a huge map are read, and the map says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-pm-'));
  const path = join(dir, 'perf-3.map');
  const lines = Array.from({ length: 1000 }, (_, i) => `${(0x1000 + i * 0x10).toString(16)} 10 fn${i}\n`).join('');
  writeFileSync(path, lines);
  const m = new PerfMap(path, { noFollow: true }, 1000);
  assert.equal(m.refresh(), true);
  assert.ok(m.size > 0 && m.size < 100, `only the first 1000 bytes' lines: ${m.size}`);
  assert.match(m.error ?? '', /larger than 1000 bytes/);
  assert.equal(m.lookup(0x1005n)?.name, 'fn0');
  assert.equal(m.lookup(0x1000n + 999n * 0x10n + 5n), undefined, 'the tail past the limit is not read');
});

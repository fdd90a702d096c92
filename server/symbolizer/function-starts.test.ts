/**
 * Function starts from .eh_frame_hdr: the same set of FDE starts `readelf --debug-dump=frames`
 * lists, on this machine's libc; lookups at, inside and below them; broken input gives null.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfFile } from './elf.ts';
import { functionStartAt, functionStartsOf } from './function-starts.ts';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

/** FDE starts as readelf prints them (`FDE cie=… pc=START..END`), distinct and sorted. */
function readelfFdeStarts(path: string): number[] {
  // readelf exits 1 on libc with nothing on stderr (it looks for a separate debug file): its output is what counts.
  const out = spawnSync('readelf', ['--debug-dump=frames', path], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout;
  const starts = new Set<number>();
  for (const m of out.matchAll(/ FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\./g)) starts.add(Number.parseInt(m[1], 16));
  return [...starts].sort((a, b) => a - b);
}

function startsOf(path: string): Float64Array | null {
  const elf = ElfFile.open(path);
  try {
    return functionStartsOf(elf);
  } finally {
    elf.close();
  }
}

test("libc's function starts are the FDE starts readelf lists (.eh_frame; libc has no .debug_frame)", () => {
  const starts = startsOf(LIBC);
  assert.ok(starts, 'libc has an .eh_frame_hdr');
  const expected = readelfFdeStarts(LIBC);
  assert.ok(expected.length > 1000, `readelf lists ${expected.length} FDEs`);
  assert.deepEqual([...starts], expected);
});

test('functionStartAt: the greatest start at or below, undefined below the first', () => {
  const starts = Float64Array.from([0x1000, 0x1040, 0x2000]);
  assert.equal(functionStartAt(starts, 0xfff), undefined);
  assert.equal(functionStartAt(starts, 0x1000), 0x1000);
  assert.equal(functionStartAt(starts, 0x103f), 0x1000);
  assert.equal(functionStartAt(starts, 0x1040), 0x1040);
  assert.equal(functionStartAt(starts, 0x5000), 0x2000);
  assert.equal(functionStartAt(new Float64Array(0), 0x1000), undefined);
});

test('a broken .eh_frame_hdr gives null, never an exception', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-starts-'));
  try {
    const copy = join(dir, 'libc-broken.so');
    copyFileSync(LIBC, copy);
    const hdr = execFileSync('readelf', ['-SW', LIBC], { encoding: 'utf8' })
      .split('\n')
      .find((line) => line.includes('.eh_frame_hdr'))!;
    // Columns after the name: type, address, offset, size.
    const columns = hdr.trim().split(/\s+/);
    const offset = Number.parseInt(columns[columns.indexOf('.eh_frame_hdr') + 3], 16);
    const bytes = readFileSync(copy);
    bytes[offset] = 7; // an unknown version
    writeFileSync(copy, bytes);
    assert.equal(startsOf(copy), null);
    // And a count that does not fit: version 1, then fde_count made huge.
    bytes[offset] = 1;
    bytes.writeUInt32LE(0x7fffffff, offset + 8);
    writeFileSync(copy, bytes);
    assert.equal(startsOf(copy), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

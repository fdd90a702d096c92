import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HIST_KEY,
  HIST_VALUE,
  BUCKET_KEY,
  START_VALUE,
  LAT_SUB_MAX,
  LAT_SUB_SHIFT,
  LAT_SUB_LAST_SLOT,
  LAT_BUCKET_MAX_ENTRIES,
  LAT_SYSCALL_SLOTS,
  decodeBucketKey,
  decodeBucketValue,
  syscallBitmap,
  LAT_SLOTS,
  LAT_COMM_LEN,
  LAT_STAT,
  LAT_STAT_MAX,
  LAT_HIST_MAX_ENTRIES,
  LAT_START_MAX_ENTRIES,
  decodeHistKey,
  encodeHistKey,
  decodeHistValue,
  ALL_LATENCY_PROGRAMS,
} from './latency.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('layouts match bpf/latency.h as compiled by the C compiler', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-abi-lat-'));
  try {
    const src = `
#include <stdio.h>
#include <stddef.h>
#include <linux/types.h>
#include "latency.h"
#define O(t, f) printf("\\"%s.%s\\": %zu,", #t, #f, offsetof(struct t, f))
int main(void) {
  printf("{");
  printf("\\"key.size\\": %zu,", sizeof(struct lat_hist_key));
  O(lat_hist_key, probe); O(lat_hist_key, pid); O(lat_hist_key, id); O(lat_hist_key, comm);
  printf("\\"value.size\\": %zu,", sizeof(struct lat_hist));
  O(lat_hist, count); O(lat_hist, sum); O(lat_hist, min_inverted); O(lat_hist, max);
  printf("\\"bucket.size\\": %zu,", sizeof(struct lat_bucket_key));
  O(lat_bucket_key, hist); O(lat_bucket_key, bucket);
  printf("\\"sub_max\\": %d, \\"sub_shift\\": %d, \\"sub_last\\": %d, \\"bucket_max\\": %d, \\"syscalls\\": %d,", LAT_SUB_MAX, LAT_SUB_SHIFT, LAT_SUB_LAST_SLOT, LAT_BUCKET_MAX_ENTRIES, LAT_SYSCALL_SLOTS);
  printf("\\"start.size\\": %zu,", sizeof(struct lat_start));
  O(lat_start, ts); O(lat_start, pid); O(lat_start, id); O(lat_start, comm);
  printf("\\"slots\\": %d, \\"comm\\": %d, \\"hist_max\\": %d, \\"start_max\\": %d,", LAT_SLOTS, LAT_COMM_LEN, LAT_HIST_MAX_ENTRIES, LAT_START_MAX_ENTRIES);
  printf("\\"stat.no_entry\\": %d, \\"stat.start_full\\": %d, \\"stat.hist_full\\": %d, \\"stat.max\\": %d", LAT_STAT_NO_ENTRY, LAT_STAT_START_FULL, LAT_STAT_HIST_FULL, LAT_STAT_MAX);
  printf("}\\n");
  return 0;
}`;
    writeFileSync(join(dir, 'layout.c'), src);
    execFileSync('cc', ['-I', join(root, 'bpf'), '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
    const c = JSON.parse(execFileSync(join(dir, 'layout')).toString());
    assert.deepEqual(c, {
      'key.size': HIST_KEY.size,
      'lat_hist_key.probe': HIST_KEY.probe,
      'lat_hist_key.pid': HIST_KEY.pid,
      'lat_hist_key.id': HIST_KEY.id,
      'lat_hist_key.comm': HIST_KEY.comm,
      'value.size': HIST_VALUE.size,
      'lat_hist.count': HIST_VALUE.count,
      'lat_hist.sum': HIST_VALUE.sum,
      'lat_hist.min_inverted': HIST_VALUE.minInverted,
      'lat_hist.max': HIST_VALUE.max,
      'bucket.size': BUCKET_KEY.size,
      'lat_bucket_key.hist': BUCKET_KEY.hist,
      'lat_bucket_key.bucket': BUCKET_KEY.bucket,
      sub_max: LAT_SUB_MAX,
      sub_shift: LAT_SUB_SHIFT,
      sub_last: LAT_SUB_LAST_SLOT,
      bucket_max: LAT_BUCKET_MAX_ENTRIES,
      syscalls: LAT_SYSCALL_SLOTS,
      'start.size': START_VALUE.size,
      'lat_start.ts': START_VALUE.ts,
      'lat_start.pid': START_VALUE.pid,
      'lat_start.id': START_VALUE.id,
      'lat_start.comm': START_VALUE.comm,
      slots: LAT_SLOTS,
      comm: LAT_COMM_LEN,
      hist_max: LAT_HIST_MAX_ENTRIES,
      start_max: LAT_START_MAX_ENTRIES,
      'stat.no_entry': LAT_STAT.NO_ENTRY,
      'stat.start_full': LAT_STAT.START_FULL,
      'stat.hist_full': LAT_STAT.HIST_FULL,
      'stat.max': LAT_STAT_MAX,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('key round-trip and value decoding', () => {
  const key = { probe: 3, pid: 1234, id: (8 << 20) | 16, comm: 'workload' };
  assert.deepEqual(decodeHistKey(encodeHistKey(key)), key);
  const v = Buffer.alloc(HIST_VALUE.size);
  v.writeBigUInt64LE(5n, 0);
  v.writeBigUInt64LE(12345n, 8);
  v.writeBigUInt64LE(~2000n & 0xffffffffffffffffn, HIST_VALUE.minInverted); // the kernel keeps ~min
  v.writeBigUInt64LE(3000n, HIST_VALUE.max);
  assert.deepEqual(decodeHistValue(v), { count: 5, sum: 12345, min: 2000, max: 3000 });
  // a zeroed value (no duration yet) has no extremes
  assert.deepEqual(decodeHistValue(Buffer.alloc(HIST_VALUE.size)), { count: 0, sum: 0, min: null, max: null });
  const bk = Buffer.alloc(BUCKET_KEY.size);
  encodeHistKey(key).copy(bk, BUCKET_KEY.hist);
  bk.writeUInt32LE((21 << LAT_SUB_SHIFT) | 7, BUCKET_KEY.bucket);
  const decoded = decodeBucketKey(bk);
  assert.deepEqual({ slot: decoded.slot, sub: decoded.sub, key: decodeHistKey(decoded.hist) }, { slot: 21, sub: 7, key });
  const bv = Buffer.alloc(8);
  bv.writeBigUInt64LE(2n ** 40n + 3n);
  assert.equal(decodeBucketValue(bv), 2 ** 40 + 3);
  assert.ok(LAT_SLOTS <= 1 << (32 - LAT_SUB_SHIFT), `slot numbers up to ${LAT_SLOTS} must fit beside the sub-bucket bits`);
});

test('syscall bitmap: bit nr % 8 of byte nr / 8 (the little-endian u64 words the program reads)', () => {
  const b = syscallBitmap([0, 35, 230, 511]);
  assert.equal(b.length, LAT_SYSCALL_SLOTS / 8);
  const set: number[] = [];
  for (let nr = 0; nr < LAT_SYSCALL_SLOTS; nr++) if (b.readBigUInt64LE((nr >> 6) * 8) & (1n << BigInt(nr & 63))) set.push(nr);
  assert.deepEqual(set, [0, 35, 230, 511]);
  assert.throws(() => syscallBitmap([512]), /outside 0\.\.511/);
});

test('every program named in the ABI exists in latency.bpf.c', () => {
  const src = readFileSync(join(root, 'bpf', 'latency.bpf.c'), 'utf8');
  for (const name of ALL_LATENCY_PROGRAMS) assert.match(src, new RegExp(`\\b${name}\\b`), name);
});

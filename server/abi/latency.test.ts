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
  START_VALUE,
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
  O(lat_hist, count); O(lat_hist, sum); O(lat_hist, slots);
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
      'lat_hist.slots': HIST_VALUE.slots,
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
  v.writeBigUInt64LE(5n, HIST_VALUE.slots + 8 * 11);
  const d = decodeHistValue(v);
  assert.equal(d.count, 5);
  assert.equal(d.sum, 12345);
  assert.equal(d.slots.length, LAT_SLOTS);
  assert.equal(d.slots[11], 5);
});

test('every program named in the ABI exists in latency.bpf.c', () => {
  const src = readFileSync(join(root, 'bpf', 'latency.bpf.c'), 'utf8');
  for (const name of ALL_LATENCY_PROGRAMS) assert.match(src, new RegExp(`\\b${name}\\b`), name);
});

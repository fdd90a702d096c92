import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  OC_COMM_LEN, OC_COUNTS_MAX_ENTRIES, OC_KEY, OC_MAX_STACK_DEPTH, OC_STACK_NONE, OC_STACKS_MAX_ENTRIES, OC_START, OC_START_MAX_ENTRIES,
  OC_STAT, OC_STAT_MAX, OC_VALUE, OFFCPU_PROGRAMS, decodeOffCpuKey, decodeOffCpuValue, encodeOffCpuKey,
} from './offcpu.ts';

const header = resolve(import.meta.dirname, '../../bpf/offcpu.h');

test('layouts match bpf/offcpu.h as compiled by the C compiler', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-abi-offcpu-'));
  try {
    const fields = Object.keys(OC_KEY.offsets).map((f) => `P("key.${f}", offsetof(struct oc_key, ${f}));`).join('\n  ');
    const startFields = Object.keys(OC_START.offsets).map((f) => `P("start.${f}", offsetof(struct oc_start, ${f}));`).join('\n  ');
    const stats = Object.keys(OC_STAT).map((s) => `P("stat.${s}", OC_STAT_${s});`).join('\n  ');
    writeFileSync(
      join(dir, 'layout.c'),
      `#include <stdio.h>
#include <stddef.h>
#include <linux/types.h>
#include "${header}"
#define P(name, value) printf("%s %lld\\n", name, (long long)(value))
int main(void) {
  P("OC_COMM_LEN", OC_COMM_LEN); P("OC_MAX_STACK_DEPTH", OC_MAX_STACK_DEPTH);
  P("OC_COUNTS_MAX_ENTRIES", OC_COUNTS_MAX_ENTRIES); P("OC_STACKS_MAX_ENTRIES", OC_STACKS_MAX_ENTRIES);
  P("OC_START_MAX_ENTRIES", OC_START_MAX_ENTRIES); P("OC_STACK_NONE", OC_STACK_NONE); P("OC_STAT_MAX", OC_STAT_MAX);
  P("key.size", sizeof(struct oc_key));
  ${fields}
  P("value.size", sizeof(struct oc_value));
  P("value.blocked_ns", offsetof(struct oc_value, blocked_ns)); P("value.count", offsetof(struct oc_value, count));
  P("start.size", sizeof(struct oc_start));
  ${startFields}
  ${stats}
  return 0;
}
`,
    );
    execFileSync('cc', ['-o', join(dir, 'layout'), join(dir, 'layout.c')]);
    const c = new Map(
      execFileSync(join(dir, 'layout'), { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((line) => {
          const [name, value] = line.split(' ');
          return [name, Number(value)] as const;
        }),
    );
    const mine = new Map<string, number>([
      ['OC_COMM_LEN', OC_COMM_LEN],
      ['OC_MAX_STACK_DEPTH', OC_MAX_STACK_DEPTH],
      ['OC_COUNTS_MAX_ENTRIES', OC_COUNTS_MAX_ENTRIES],
      ['OC_STACKS_MAX_ENTRIES', OC_STACKS_MAX_ENTRIES],
      ['OC_START_MAX_ENTRIES', OC_START_MAX_ENTRIES],
      ['OC_STACK_NONE', OC_STACK_NONE],
      ['OC_STAT_MAX', OC_STAT_MAX],
      ['key.size', OC_KEY.size],
      ...Object.entries(OC_KEY.offsets).map(([f, o]) => [`key.${f}`, o] as [string, number]),
      ['value.size', OC_VALUE.size],
      ['value.blocked_ns', OC_VALUE.offsets.blocked_ns],
      ['value.count', OC_VALUE.offsets.count],
      ['start.size', OC_START.size],
      ...Object.entries(OC_START.offsets).map(([f, o]) => [`start.${f}`, o] as [string, number]),
      ...Object.entries(OC_STAT).map(([s, i]) => [`stat.${s}`, i] as [string, number]),
    ]);
    assert.deepEqual(Object.fromEntries(mine), Object.fromEntries(c));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('key round trip, value decoding, and every program named exists in the source', () => {
  const key = {
    pid: 10, tid: 11, userStackId: 3, kernelStackId: OC_STACK_NONE, wakerPid: 20, wakerTid: 21,
    wakerUserStackId: -14, wakerKernelStackId: 7, comm: 'sleeper', wakerComm: 'waker-thread',
  };
  assert.deepEqual(decodeOffCpuKey(encodeOffCpuKey(key)), key);
  const value = Buffer.alloc(OC_VALUE.size);
  value.writeBigUInt64LE(123456789012n, 0);
  value.writeBigUInt64LE(42n, 8);
  assert.deepEqual(decodeOffCpuValue(value), { blockedNs: 123456789012n, count: 42 });
  const source = readFileSync(resolve(import.meta.dirname, '../../bpf/offcpu.bpf.c'), 'utf8');
  for (const program of Object.values(OFFCPU_PROGRAMS).flatMap((p) => Object.values(p))) {
    assert.match(source, new RegExp(`BPF_PROG\\(${program}\\b`), `program ${program} in bpf/offcpu.bpf.c`);
  }
});

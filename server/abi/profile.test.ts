import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  PB_COMM_LEN, PB_CONTROL, PB_COUNTS_MAX_ENTRIES, PB_MAX_STACK_DEPTH, PB_STACK_KEY, PB_STACK_NONE, PB_STACKS_MAX_ENTRIES,
  PB_STAT, PB_STAT_MAX, classifyStackId, decodeStack, decodeStackKey, encodeStackKey, sumPerCpuU64,
} from './profile.ts';

const header = resolve(import.meta.dirname, '../../bpf/profile.h');

/** Compiles a C program that prints every offset, size and constant of bpf/profile.h. */
function layoutFromC(): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'pb-abi-'));
  try {
    const source = `
#include <stdio.h>
#include <stddef.h>
#include <linux/types.h>
#include "${header}"
#define P(name, value) printf("%s %lld\\n", name, (long long)(value))
int main(void) {
  P("PB_COMM_LEN", PB_COMM_LEN);
  P("PB_MAX_STACK_DEPTH", PB_MAX_STACK_DEPTH);
  P("PB_COUNTS_MAX_ENTRIES", PB_COUNTS_MAX_ENTRIES);
  P("PB_STACKS_MAX_ENTRIES", PB_STACKS_MAX_ENTRIES);
  P("PB_STACK_NONE", PB_STACK_NONE);
  P("key.size", sizeof(struct pb_stack_key));
  P("key.pid", offsetof(struct pb_stack_key, pid));
  P("key.tid", offsetof(struct pb_stack_key, tid));
  P("key.user_stack_id", offsetof(struct pb_stack_key, user_stack_id));
  P("key.kernel_stack_id", offsetof(struct pb_stack_key, kernel_stack_id));
  P("key.comm", offsetof(struct pb_stack_key, comm));
  P("control.size", sizeof(struct pb_control));
  P("control.active_buffer", offsetof(struct pb_control, active_buffer));
  P("SAMPLES", PB_STAT_SAMPLES); P("DROPPED", PB_STAT_DROPPED);
  P("USER_EEXIST", PB_STAT_USER_EEXIST); P("USER_EFAULT", PB_STAT_USER_EFAULT); P("USER_OTHER", PB_STAT_USER_OTHER);
  P("KERN_EEXIST", PB_STAT_KERN_EEXIST); P("KERN_EFAULT", PB_STAT_KERN_EFAULT); P("KERN_OTHER", PB_STAT_KERN_OTHER);
  P("PB_STAT_MAX", PB_STAT_MAX);
  return 0;
}
`;
    writeFileSync(join(dir, 'layout.c'), source);
    execFileSync('cc', ['-Wall', '-Werror', '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
    const out = execFileSync(join(dir, 'layout'), { encoding: 'utf8' });
    return new Map(out.trim().split('\n').map((line) => {
      const [name, value] = line.split(' ');
      return [name, Number(value)] as const;
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('TS layout matches bpf/profile.h as compiled by cc', () => {
  const c = layoutFromC();
  assert.equal(c.get('PB_COMM_LEN'), PB_COMM_LEN);
  assert.equal(c.get('PB_MAX_STACK_DEPTH'), PB_MAX_STACK_DEPTH);
  assert.equal(c.get('PB_COUNTS_MAX_ENTRIES'), PB_COUNTS_MAX_ENTRIES);
  assert.equal(c.get('PB_STACKS_MAX_ENTRIES'), PB_STACKS_MAX_ENTRIES);
  assert.equal(c.get('PB_STACK_NONE'), PB_STACK_NONE);
  assert.equal(c.get('key.size'), PB_STACK_KEY.size);
  for (const [field, offset] of Object.entries(PB_STACK_KEY.offsets)) assert.equal(c.get(`key.${field}`), offset, field);
  assert.equal(c.get('control.size'), PB_CONTROL.size);
  assert.equal(c.get('control.active_buffer'), PB_CONTROL.offsets.active_buffer);
  for (const [name, index] of Object.entries(PB_STAT)) assert.equal(c.get(name), index, name);
  assert.equal(c.get('PB_STAT_MAX'), PB_STAT_MAX);
});

test('stack key round-trips, comm is NUL-terminated', () => {
  const key = { pid: 4242, tid: 4243, userStackId: 7, kernelStackId: PB_STACK_NONE, comm: 'busy-loop' };
  const bytes = encodeStackKey(key);
  assert.equal(bytes.length, PB_STACK_KEY.size);
  assert.deepEqual(decodeStackKey(bytes), key);
  const full = encodeStackKey({ ...key, comm: 'a-very-long-command-name' });
  assert.equal(decodeStackKey(full).comm, 'a-very-long-com');
});

test('stack ids: stack, none, and lost by cause', () => {
  assert.deepEqual(classifyStackId(0), { kind: 'stack', id: 0 });
  assert.deepEqual(classifyStackId(PB_STACK_NONE), { kind: 'none' });
  assert.deepEqual(classifyStackId(-17), { kind: 'lost', cause: 'collision' });
  assert.deepEqual(classifyStackId(-14), { kind: 'lost', cause: 'fault' });
  assert.deepEqual(classifyStackId(-12), { kind: 'lost', cause: 'other' });
});

test('stack values stop at the first zero; per-CPU sums add every slot', () => {
  const value = Buffer.alloc(PB_MAX_STACK_DEPTH * 8);
  value.writeBigUInt64LE(0xffffffff81000000n, 0);
  value.writeBigUInt64LE(0x401000n, 8);
  assert.deepEqual(decodeStack(value), [0xffffffff81000000n, 0x401000n]);
  const perCpu = Buffer.alloc(24);
  perCpu.writeBigUInt64LE(3n, 0);
  perCpu.writeBigUInt64LE(4n, 16);
  assert.equal(sumPerCpuU64(perCpu), 7);
});

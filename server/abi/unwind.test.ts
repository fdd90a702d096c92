import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CfaType, RbpType, ROW_BYTES } from '../unwind/compile.ts';
import {
  PB_END, PB_END_MAX, PB_UNWIND_DEFAULT_ROWS, PB_UNWIND_EVENT, PB_UNWIND_MAPPING, PB_UNWIND_MAX_DEPTH, PB_UNWIND_MAX_MAPPINGS, PB_UNWIND_MAX_PROCS,
  PB_UNWIND_MAX_TABLE_ROWS, PB_UNWIND_MAX_TABLES, PB_UNWIND_NO_TABLE, PB_UNWIND_PROC, PB_UNWIND_ROW_SEARCH_STEPS, PB_UNWIND_TABLE, PB_USTAT, PB_USTAT_MAX,
  PB_UNWIND_F_FP_ONLY, PB_UNWIND_F_KERNEL_REGS, PB_UNWIND_KSTACKS_MAX_ENTRIES, PB_UNWIND_KSTACK_NONE, PB_UNWIND_CONTROL,
  decodeEvent, decodeStats, encodeControl, encodeProc, encodeTable,
} from './unwind.ts';

const header = resolve(import.meta.dirname, '../../bpf/unwind.h');

/** Compiles a C program that prints every offset, size and constant of bpf/unwind.h. */
function layoutFromC(): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'pb-abi-'));
  try {
    const lines: string[] = [];
    const p = (name: string, expr: string) => lines.push(`P("${name}", ${expr});`);
    for (const c of ['PB_UNWIND_MAX_DEPTH', 'PB_UNWIND_MAX_MAPPINGS', 'PB_UNWIND_MAX_PROCS', 'PB_UNWIND_MAX_TABLES', 'PB_UNWIND_ROW_SEARCH_STEPS', 'PB_UNWIND_MAX_TABLE_ROWS', 'PB_UNWIND_DEFAULT_ROWS', 'PB_UNWIND_NO_TABLE', 'PB_END_MAX', 'PB_USTAT_MAX', 'PB_UNWIND_F_KERNEL_REGS', 'PB_UNWIND_F_FP_ONLY', 'PB_UNWIND_KSTACKS_MAX_ENTRIES', 'PB_UNWIND_KSTACK_NONE']) p(c, c);
    for (const [k, v] of Object.entries({ COMPLETE: 0, TRUNCATED: 0, NO_TABLE: 0, READ_FAULT: 0, UNSUPPORTED: 0, BAD_FRAME: 0 })) void v, p(`END_${k}`, `PB_END_${k}`);
    for (const k of Object.keys(PB_USTAT)) p(`USTAT_${k}`, `PB_USTAT_${k}`);
    for (const k of Object.keys(CfaType)) p(`CFA_${k}`, `PB_CFA_${k}`);
    for (const k of Object.keys(RbpType)) p(`RBP_${k}`, `PB_RBP_${k}`);
    const s = (struct: string, fields: string[]) => {
      p(`${struct}.size`, `sizeof(struct ${struct})`);
      for (const f of fields) p(`${struct}.${f}`, `offsetof(struct ${struct}, ${f})`);
    };
    s('pb_unwind_row', ['pc', 'cfa_offset', 'rbp_offset', 'cfa_type', 'rbp_type']);
    s('pb_unwind_table', Object.keys(PB_UNWIND_TABLE.offsets));
    s('pb_unwind_mapping', Object.keys(PB_UNWIND_MAPPING.offsets));
    s('pb_unwind_proc', Object.keys(PB_UNWIND_PROC.offsets));
    s('pb_unwind_event', Object.keys(PB_UNWIND_EVENT.offsets));
    s('pb_unwind_control', Object.keys(PB_UNWIND_CONTROL.offsets));
    const source = `
#include <stdio.h>
#include <stddef.h>
#include <linux/types.h>
#include "${header}"
#define P(name, value) printf("%s %lld\\n", name, (long long)(value))
int main(void) {
${lines.join('\n')}
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

test('TS layout matches bpf/unwind.h as compiled by cc, and the row matches compile.ts', () => {
  const c = layoutFromC();
  const expect: Record<string, number> = {
    PB_UNWIND_MAX_DEPTH, PB_UNWIND_MAX_MAPPINGS, PB_UNWIND_MAX_PROCS, PB_UNWIND_MAX_TABLES, PB_UNWIND_ROW_SEARCH_STEPS,
    PB_UNWIND_MAX_TABLE_ROWS, PB_UNWIND_DEFAULT_ROWS, PB_UNWIND_NO_TABLE, PB_END_MAX, PB_USTAT_MAX, PB_UNWIND_F_KERNEL_REGS, PB_UNWIND_F_FP_ONLY,
    PB_UNWIND_KSTACKS_MAX_ENTRIES, PB_UNWIND_KSTACK_NONE,
  };
  for (const [k, v] of Object.entries(PB_END)) expect[`END_${k}`] = v;
  for (const [k, v] of Object.entries(PB_USTAT)) expect[`USTAT_${k}`] = v;
  for (const [k, v] of Object.entries(CfaType)) expect[`CFA_${k}`] = v;
  for (const [k, v] of Object.entries(RbpType)) expect[`RBP_${k}`] = v;
  // The row layout documented at the top of server/unwind/compile.ts.
  Object.assign(expect, { 'pb_unwind_row.size': ROW_BYTES, 'pb_unwind_row.pc': 0, 'pb_unwind_row.cfa_offset': 8, 'pb_unwind_row.rbp_offset': 12, 'pb_unwind_row.cfa_type': 14, 'pb_unwind_row.rbp_type': 15 });
  for (const [name, layout] of [['pb_unwind_table', PB_UNWIND_TABLE], ['pb_unwind_mapping', PB_UNWIND_MAPPING], ['pb_unwind_proc', PB_UNWIND_PROC], ['pb_unwind_event', PB_UNWIND_EVENT], ['pb_unwind_control', PB_UNWIND_CONTROL]] as const) {
    expect[`${name}.size`] = layout.size;
    for (const [f, off] of Object.entries(layout.offsets)) expect[`${name}.${f}`] = off;
  }
  for (const [k, v] of Object.entries(expect)) assert.equal(c.get(k), v, k);
  assert.equal(c.size, Object.keys(expect).length, 'every printed value was checked');
  assert.ok(2 ** PB_UNWIND_ROW_SEARCH_STEPS > PB_UNWIND_MAX_TABLE_ROWS, 'a search over the largest table ends within the step bound');
});

test('encodeProc/encodeTable write the fields where the header puts them; decodeEvent reads a record', () => {
  const proc = encodeProc([{ start: 0x1000n, end: 0x2000n, bias: -0x1000n, tableId: 3 }, { start: 0x7f0000000000n, end: 0x7f0000001000n, bias: 5n, tableId: PB_UNWIND_NO_TABLE }]);
  assert.equal(proc.length, PB_UNWIND_PROC.size);
  assert.equal(proc.readUInt32LE(0), 2);
  assert.equal(proc.readBigInt64LE(8 + 16), -0x1000n);
  assert.equal(proc.readBigUInt64LE(8 + 32), 0x7f0000000000n);
  assert.equal(proc.readUInt32LE(8 + 32 + 24), PB_UNWIND_NO_TABLE);
  assert.throws(() => encodeProc(new Array(PB_UNWIND_MAX_MAPPINGS + 1).fill({ start: 0n, end: 1n, bias: 0n, tableId: 0 })), RangeError);
  assert.deepEqual([...encodeTable(7, 9)], [7, 0, 0, 0, 9, 0, 0, 0]);

  assert.deepEqual([...encodeControl(1)], [1, 0, 0, 0]);

  const rec = Buffer.alloc(24 + 3 * 8);
  rec.writeUInt32LE(42, 0);
  rec.writeUInt32LE(43, 4);
  rec[8] = PB_END.READ_FAULT;
  rec[9] = 2;
  rec[10] = 1;
  rec[11] = PB_UNWIND_F_KERNEL_REGS;
  rec.writeUInt16LE(3, 12);
  rec.writeInt32LE(-17, 16); // -EEXIST: the kernel stack was lost to a bucket collision
  rec.writeUInt32LE(1, 20);
  [0x401000n, 0x401234n, 0x7f00_0000_1234n].forEach((ip, i) => rec.writeBigUInt64LE(ip, 24 + i * 8));
  assert.deepEqual(decodeEvent(rec), { pid: 42, tid: 43, end: 'read_fault', cfiFrames: 2, fpFrames: 1, kernelRegs: true, fpOnly: false, kernelStackId: -17, kernelBuffer: 1, ips: [0x401000n, 0x401234n, 0x7f00_0000_1234n] });
  rec.writeInt32LE(PB_UNWIND_KSTACK_NONE, 16);
  assert.equal(decodeEvent(rec).kernelStackId, PB_UNWIND_KSTACK_NONE);
  rec.writeUInt16LE(4, 12);
  assert.throws(() => decodeEvent(rec), RangeError, 'n larger than the record');
});

test('decodeStats sums per-CPU slots', () => {
  const values = Array.from({ length: PB_USTAT_MAX }, (_, i) => {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(BigInt(i), 0);
    b.writeBigUInt64LE(BigInt(i * 10), 8);
    return b;
  });
  const s = decodeStats(values);
  assert.equal(s.samples, 0);
  assert.equal(s.ends.complete, 11);
  assert.equal(s.ends.bad_frame, 66);
  assert.equal(s.noRegs, 110);
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import * as abi from './events.ts';

const header = resolve(import.meta.dirname, '../../bpf/events.h');

function layoutFromC(): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'pb-abi-'));
  try {
    const P = (name: string, expr: string) => `  P("${name}", ${expr});`;
    const lines = [
      ...['PB_EV_COMM_LEN', 'PB_EV_MAX_PROBES', 'PB_EV_ARGS_SIZE', 'PB_EV_FILENAME_SIZE', 'PB_EV_TP_MAX', 'PB_EV_MAX_ARGS', 'PB_EV_MAX_STRS', 'PB_EV_STR_SIZE', 'PB_EV_STAT_MAX'].map((n) => P(n, n)),
      ...Object.keys(abi.PB_EV_KIND).map((k) => P(`KIND_${k}`, `PB_EV_${k}`)),
      ...Object.keys(abi.PB_ARG).map((k) => P(`ARG_${k}`, `PB_ARG_${k}`)),
      ...Object.keys(abi.PB_EV_STAT).map((k) => P(`STAT_${k}`, `PB_EV_STAT_${k}`)),
      P('header.size', 'sizeof(struct pb_event_header)'),
      ...Object.keys(abi.PB_EVENT_HEADER.offsets).map((f) => P(`header.${f}`, `offsetof(struct pb_event_header, ${f})`)),
      P('exec.size', 'sizeof(struct pb_exec_data)'),
      ...Object.keys(abi.PB_EXEC_DATA.offsets).map((f) => P(`exec.${f}`, `offsetof(struct pb_exec_data, ${f})`)),
      P('call.size', 'sizeof(struct pb_call_data)'),
      ...Object.keys(abi.PB_CALL_DATA.offsets).map((f) => P(`call.${f}`, `offsetof(struct pb_call_data, ${f})`)),
    ];
    const source = `#include <stdio.h>\n#include <stddef.h>\n#include <linux/types.h>\n#include "${header}"\n#define P(name, value) printf("%s %lld\\n", name, (long long)(value))\nint main(void) {\n${lines.join('\n')}\n  return 0;\n}\n`;
    writeFileSync(join(dir, 'layout.c'), source);
    execFileSync('cc', ['-Wall', '-Werror', '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
    const out = execFileSync(join(dir, 'layout'), { encoding: 'utf8' });
    return new Map(out.trim().split('\n').map((l) => [l.split(' ')[0], Number(l.split(' ')[1])] as const));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('TS layout matches bpf/events.h as compiled by cc', () => {
  const c = layoutFromC();
  for (const n of ['PB_EV_COMM_LEN', 'PB_EV_MAX_PROBES', 'PB_EV_ARGS_SIZE', 'PB_EV_FILENAME_SIZE', 'PB_EV_TP_MAX', 'PB_EV_MAX_ARGS', 'PB_EV_MAX_STRS', 'PB_EV_STR_SIZE', 'PB_EV_STAT_MAX'] as const) {
    assert.equal(c.get(n), abi[n], n);
  }
  for (const [k, v] of Object.entries(abi.PB_EV_KIND)) assert.equal(c.get(`KIND_${k}`), v, k);
  for (const [k, v] of Object.entries(abi.PB_ARG)) assert.equal(c.get(`ARG_${k}`), v, k);
  for (const [k, v] of Object.entries(abi.PB_EV_STAT)) assert.equal(c.get(`STAT_${k}`), v, k);
  for (const [name, layout] of [['header', abi.PB_EVENT_HEADER], ['exec', abi.PB_EXEC_DATA], ['call', abi.PB_CALL_DATA]] as const) {
    assert.equal(c.get(`${name}.size`), layout.size, `${name}.size`);
    for (const [f, off] of Object.entries(layout.offsets)) assert.equal(c.get(`${name}.${f}`), off, `${name}.${f}`);
  }
});

test('decoders: header, exec, call; short records are rejected', () => {
  const rec = Buffer.alloc(abi.PB_EVENT_HEADER.size + 40);
  rec.writeBigUInt64LE(123n, 0);
  rec.writeUInt32LE(10, 8);
  rec.writeUInt32LE(11, 12);
  rec.writeUInt32LE(2, 16);
  rec.writeUInt16LE(abi.PB_EV_KIND.TRACEPOINT, 20);
  rec.writeUInt16LE(40, 22);
  rec.write('cat', 24);
  const h = abi.decodeEventHeader(rec);
  assert.deepEqual(h, { tsNs: 123n, pid: 10, tid: 11, probeId: 2, kind: 2, dataSize: 40, comm: 'cat' });
  assert.equal(abi.eventData(rec, h).length, 40);
  assert.throws(() => abi.decodeEventHeader(rec.subarray(0, 50)), RangeError);
  assert.throws(() => abi.decodeEventHeader(rec.subarray(0, 10)), RangeError);

  const args = Buffer.from('ls\0-l\0/tmp\0');
  const exec = Buffer.alloc(abi.PB_EXEC_DATA.offsets.args + args.length);
  exec.writeUInt32LE(1, 0);
  exec.writeUInt16LE(args.length, abi.PB_EXEC_DATA.offsets.args_len);
  exec.write('/usr/bin/ls', abi.PB_EXEC_DATA.offsets.filename);
  args.copy(exec, abi.PB_EXEC_DATA.offsets.args);
  assert.deepEqual(abi.decodeExecData(exec), { ppid: 1, uid: 0, oldPid: 0, filename: '/usr/bin/ls', argv: ['ls', '-l', '/tmp'], argsTruncated: false });

  const call = Buffer.alloc(abi.PB_CALL_DATA.size);
  call.writeBigUInt64LE(42n, 0);
  call.writeInt32LE(6, abi.PB_CALL_DATA.offsets.str_len);
  call.write('hello\0', abi.PB_CALL_DATA.offsets.str);
  call.writeInt32LE(-14, abi.PB_CALL_DATA.offsets.str_len + 4);
  const d = abi.decodeCallData(call);
  assert.equal(d.args[0], 42n);
  assert.deepEqual(d.strings, ['hello', -14, '', '']);
  assert.throws(() => abi.decodeCallData(call.subarray(0, abi.PB_CALL_DATA.offsets.str - 1)), RangeError);
  // only the string slots in use are sent
  const oneSlot = call.subarray(0, abi.PB_CALL_DATA.offsets.str + abi.PB_EV_STR_SIZE);
  assert.deepEqual(abi.decodeCallData(oneSlot).strings, ['hello', -14, '', '']);
});

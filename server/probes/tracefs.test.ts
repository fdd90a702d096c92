import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prng } from './testing.ts';
import {
  decodeField,
  decodeRecord,
  fieldByName,
  listTracepointsSync,
  parseTracepointFormat,
  readTracepointFormat,
  recordFixedSize,
  splitTracepointId,
  TracefsError,
  TracepointFormatError,
  tracefsRoot,
} from './tracefs.ts';

const SCHED_PROCESS_EXEC = `name: sched_process_exec
ID: 365
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;
\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;
\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;

print fmt: "filename=%s pid=%d old_pid=%d", __get_str(filename), REC->pid, REC->old_pid
`;

const SCHED_SWITCH = `name: sched_switch
ID: 372
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;
\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;
\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;
\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;
\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;
\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;
\tfield:const char *const * argv;\toffset:64;\tsize:8;\tsigned:0;
\tfield:unsigned long args[6];\toffset:72;\tsize:48;\tsigned:0;

print fmt: "prev_comm=%s"
`;

describe('tracepoint format parser', () => {
  it('parses fields with types, offsets, sizes, signedness and kinds', () => {
    const f = parseTracepointFormat(SCHED_PROCESS_EXEC, 'sched:sched_process_exec');
    assert.equal(f.eventId, 365);
    assert.equal(f.id, 'sched:sched_process_exec');
    assert.deepEqual(f.fields.map((x) => [x.name, x.type, x.offset, x.size, x.signed, x.kind, x.common]), [
      ['common_type', 'unsigned short', 0, 2, false, 'int', true],
      ['common_flags', 'unsigned char', 2, 1, false, 'int', true],
      ['common_preempt_count', 'unsigned char', 3, 1, false, 'int', true],
      ['common_pid', 'int', 4, 4, true, 'int', true],
      ['filename', '__data_loc char[]', 8, 4, false, 'data_loc_string', false],
      ['pid', 'pid_t', 12, 4, true, 'int', false],
      ['old_pid', 'pid_t', 16, 4, true, 'int', false],
    ]);
    assert.equal(recordFixedSize(f), 20);
    const s = parseTracepointFormat(SCHED_SWITCH, 'sched:sched_switch');
    assert.equal(fieldByName(s, 'prev_comm').kind, 'chars');
    assert.equal(fieldByName(s, 'prev_comm').arrayLength, 16);
    assert.equal(fieldByName(s, 'argv').kind, 'pointer');
    assert.equal(fieldByName(s, 'argv').type, 'const char *const *');
    assert.equal(fieldByName(s, 'args').kind, 'int_array');
    assert.throws(() => fieldByName(s, 'nope'), /has no field "nope" \(fields: prev_comm, /);
  });

  it('decodes a record by name and type, and never throws on a bad one', () => {
    const f = parseTracepointFormat(SCHED_PROCESS_EXEC, 'sched:sched_process_exec');
    const rec = Buffer.alloc(40);
    rec.writeUInt16LE(365, 0);
    rec.writeInt32LE(1234, 4);
    const name = Buffer.from('/usr/bin/true\0');
    rec.writeUInt32LE((name.length << 16) | 20, 8);
    name.copy(rec, 20);
    rec.writeInt32LE(1234, 12);
    rec.writeInt32LE(-1, 16);
    assert.deepEqual(decodeRecord(f, rec), { filename: '/usr/bin/true', pid: 1234, old_pid: -1 });
    assert.deepEqual(decodeRecord(f, rec, ['common_pid']), { common_pid: 1234 });
    // data_loc pointing outside the record
    const bad = Buffer.from(rec);
    bad.writeUInt32LE((200 << 16) | 20, 8);
    assert.equal(typeof (decodeRecord(f, bad).filename as { error: string }).error, 'string', `an out-of-range __data_loc string is an error value: ${JSON.stringify(decodeRecord(f, bad).filename)}`);
    // short record
    assert.ok('error' in (decodeField(fieldByName(f, 'old_pid'), rec.subarray(0, 10)) as object), `a short record is an error value: ${JSON.stringify(decodeField(fieldByName(f, 'old_pid'), rec.subarray(0, 10)))}`);
    const s = parseTracepointFormat(SCHED_SWITCH, 'sched:sched_switch');
    const r2 = Buffer.alloc(120);
    r2.write('swapper/0', 8);
    r2.writeBigInt64LE(-1n, 32);
    r2.writeBigUInt64LE(0xffff888000000000n, 64);
    r2.writeBigUInt64LE(0xffffffffffffffffn, 72);
    const d = decodeRecord(s, r2);
    assert.equal(d.prev_comm, 'swapper/0');
    assert.equal(d.prev_state, -1);
    assert.equal(d.argv, '0xffff888000000000');
    assert.deepEqual(d.args, ['18446744073709551615', 0, 0, 0, 0, 0]);
  });

  it('rejects malformed formats with the line at fault', () => {
    const cases: [string, RegExp][] = [
      ['', /no ID/],
      ['name: x\nID: 1\nformat:\n', /no fields/],
      ['name: x\nID: one\n', /not a number/],
      ['name: x\nID: 1\nformat:\n\tfield:int a;\toffset:0;\n', /malformed field line/],
      ['name: x\nID: 1\nformat:\n\tfield:int a;\toffset:0;\tsize:4;\tsigned:1;\n\tfield:int a;\toffset:4;\tsize:4;\tsigned:1;\n', /duplicate field a/],
      ['name: x\nID: 1\nformat:\n\tfield:int a;\toffset:99999999;\tsize:4;\tsigned:1;\n', /out of range/],
      ['name: x\nID: 1\nformat:\n\tfield:;\toffset:0;\tsize:4;\tsigned:1;\n', /malformed field line|cannot read/],
      ['name: x\nID: 1\nformat:\n\tfield:int;\toffset:0;\tsize:4;\tsigned:1;\n', /cannot read field declaration/],
      ['name: x\nID: 1\nformat:\n\tfield:__data_loc char[] s;\toffset:0;\tsize:8;\tsigned:0;\n', /expected 4/],
      ['name: x\nID: 1\nformat:\n\tgarbage here\n', /line 4: unexpected line/],
      ['name: y\nID: 1\nformat:\n\tfield:int a;\toffset:0;\tsize:4;\tsigned:1;\n', /different tracepoint/],
    ];
    for (const [text, reason] of cases) {
      assert.throws(() => parseTracepointFormat(text, 'test:x'), (e: unknown) => e instanceof TracepointFormatError && reason.test(e.message), `${JSON.stringify(text)}`);
    }
  });

  it('fuzz: mutated and generated formats parse or fail with TracepointFormatError; decoding never throws', () => {
    const rnd = prng(7);
    const pieces = ['field:', 'offset:', 'size:', 'signed:', ';', '\t', '\n', ' ', 'int', 'char', '[', ']', '__data_loc', '*', '0', '4', '8', '16', '65535', 'ID: 3', 'format:', 'x', 'name: x'];
    let parsed = 0;
    for (let i = 0; i < 5000; i++) {
      let text: string;
      if (i % 2 === 0) {
        const src = Buffer.from(i % 4 === 0 ? SCHED_SWITCH : SCHED_PROCESS_EXEC.replace('sched_process_exec', 'x'));
        for (let j = 0, n = 1 + Math.floor(rnd() * 6); j < n; j++) src[Math.floor(rnd() * src.length)] = 32 + Math.floor(rnd() * 95);
        text = src.toString('latin1').slice(0, Math.floor(rnd() * src.length * 1.2));
      } else {
        text = 'name: x\nID: 1\nformat:\n';
        for (let j = 0, n = Math.floor(rnd() * 30); j < n; j++) text += pieces[Math.floor(rnd() * pieces.length)];
      }
      try {
        const f = parseTracepointFormat(text, i % 4 === 0 ? 'sched:sched_switch' : 'test:x');
        parsed++;
        const rec = Buffer.alloc(Math.floor(rnd() * 128));
        for (let j = 0; j < rec.length; j++) rec[j] = Math.floor(rnd() * 256);
        decodeRecord(f, rec);
      } catch (e) {
        assert.ok(e instanceof TracepointFormatError, `input ${JSON.stringify(text)}: ${(e as Error).stack}`);
      }
    }
    assert.ok(parsed > 50, `only ${parsed} inputs parsed`);
  });

  it('splits ids and rejects malformed ones', () => {
    assert.deepEqual(splitTracepointId('sched:sched_switch'), { category: 'sched', name: 'sched_switch' });
    assert.deepEqual(splitTracepointId('sched/sched_switch'), { category: 'sched', name: 'sched_switch' });
    for (const bad of ['sched', 'a:b:c', ':x', '../x:y', 'a b:c']) assert.throws(() => splitTracepointId(bad), TracefsError, bad);
  });
});

function haveTracefs(): string | false {
  try {
    tracefsRoot();
    return false;
  } catch (e) {
    return (e as Error).message;
  }
}

describe('tracefs on this machine', { skip: haveTracefs() }, () => {
  it('lists sched:sched_switch and parses its format', () => {
    const all = listTracepointsSync('sched:*');
    assert.ok(all.some((t) => t.id === 'sched:sched_switch'), `sched:* lists sched_switch: ${all.map((t) => t.id).join(' ')}`);
    assert.deepEqual([...new Set(all.map((t) => t.category))], ['sched'], 'sched:* lists only sched tracepoints');
    const bare = listTracepointsSync('sched_sw*').map((t) => t.id);
    assert.ok(bare.includes('sched:sched_switch'), `a bare name glob finds sched:sched_switch: ${bare.join(' ')}`);
    const f = readTracepointFormat('sched:sched_switch');
    for (const n of ['prev_comm', 'prev_pid', 'next_comm', 'next_pid']) assert.ok(f.fields.some((x) => x.name === n), n);
  });

  it('parses every format file on this kernel', () => {
    let n = 0;
    const failures: string[] = [];
    for (const t of listTracepointsSync()) {
      try {
        readTracepointFormat(t.id);
        n++;
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(n > 100, `over 100 formats parsed (${n})`);
  });

  it('names an unknown tracepoint clearly', () => {
    assert.throws(() => readTracepointFormat('sched:no_such_event'), /unknown tracepoint sched:no_such_event/);
    assert.throws(() => readTracepointFormat('nocat:x'), /no category "nocat"/);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatEventSpec, parseEventSpec, type EventSpec } from './event-spec.ts';

function ok(input: string): EventSpec {
  const r = parseEventSpec(input);
  assert.ok(r.ok, `${input}: ${!r.ok && r.error.message}`);
  assert.deepEqual(parseEventSpec(formatEventSpec(r.spec)), r, `round trip of ${input}`);
  return r.spec;
}

function bad(input: string, reason: RegExp, position?: number): void {
  const r = parseEventSpec(input);
  assert.ok(!r.ok, `${input} should be rejected`);
  assert.match(r.error.message, reason, input);
  if (position !== undefined) assert.equal(r.error.position, position, `${input}: position`);
}

test('valid specs', () => {
  assert.deepEqual(ok('exec'), { kind: 'exec' });
  assert.deepEqual(ok(' tracepoint:sched:sched_switch '), { kind: 'tracepoint', category: 'sched', name: 'sched_switch' });
  assert.deepEqual(ok('tp:sched:sched_switch(prev_comm, next_pid)'), { kind: 'tracepoint', category: 'sched', name: 'sched_switch', fields: ['prev_comm', 'next_pid'] });
  assert.deepEqual(ok('uprobe:c:malloc'), { kind: 'uprobe', binary: 'c', symbol: 'malloc' });
  assert.deepEqual(ok('uprobe:/bin/x:open_file(arg0:str, arg1:u64)'), { kind: 'uprobe', binary: '/bin/x', symbol: 'open_file', args: [{ index: 0, type: 'str' }, { index: 1, type: 'u64' }] });
  assert.deepEqual(ok('uprobe:/bin/x:pbns::work(arg0:int)'), { kind: 'uprobe', binary: '/bin/x', symbol: 'pbns::work', args: [{ index: 0, type: 's32' }] });
  assert.deepEqual(ok('usdt:/usr/bin/python3.11:python:function__entry'), { kind: 'usdt', binary: '/usr/bin/python3.11', provider: 'python', name: 'function__entry' });
  assert.deepEqual(ok('usdt:/x:p:n(arg0:str,arg2)'), { kind: 'usdt', binary: '/x', provider: 'p', name: 'n', args: [{ index: 0, type: 'str' }, { index: 2 }] });
});

test('bad specs say what is wrong and where', () => {
  bad('', /empty spec/);
  bad('kprobe:vfs_read', /unknown event type "kprobe"/, 0);
  bad('exec:x', /takes no arguments/);
  bad('tracepoint:sched', /expected tracepoint:CATEGORY:NAME/);
  bad('tracepoint:sched:sw(a b)', /not a field name/);
  bad('tracepoint:sched:sw(a,a)', /listed twice/);
  bad('tracepoint:sched:sw(a', /missing "\)"/);
  bad('tracepoint:sched:sw()', /empty list/);
  bad('uprobe:/bin/x', /symbol missing/);
  bad('uprobe:/bin/x:ma*', /no spaces or globs/);
  bad('uprobe:/bin/x:f(arg6)', /arg0 to arg5/);
  bad('uprobe:/bin/x:f(arg0:float)', /unknown type "float"/);
  bad('uprobe:/bin/x:f(x)', /not an argument/, 16);
  bad('uprobe:/bin/x:f(arg0:str,arg1:str,arg2:str,arg3:str,arg4:str)', /at most 4 string/);
  bad('usdt:/x:p', /expected usdt:BINARY:PROVIDER:NAME/);
  bad('usdt:/x:p:n,m', /not a valid name/);
  bad('usdt:/x:p:n(arg8)', /arg0 to arg7/);
  bad('uprobe:bad lib:f', /whitespace/);
});

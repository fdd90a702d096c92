import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProbeSpec, formatProbeSpec, globToRegExp, PROBE_KINDS, exampleFor } from './probe-spec.ts';

function ok(s: string) {
  const r = parseProbeSpec(s);
  if (!r.ok) assert.fail(`${s}: ${r.error.message}`);
  return r.spec;
}
function err(s: string) {
  const r = parseProbeSpec(s);
  if (r.ok) assert.fail(`${s} parsed but should not`);
  return r.error;
}

test('uprobe: path and library name, plain and glob', () => {
  assert.deepEqual(ok('uprobe:/usr/bin/foo:main'), { kind: 'uprobe', binary: '/usr/bin/foo', symbol: 'main', glob: false });
  assert.deepEqual(ok('uprobe:c:malloc'), { kind: 'uprobe', binary: 'c', symbol: 'malloc', glob: false });
  assert.deepEqual(ok(' uprobe:libc:str*cmp '), { kind: 'uprobe', binary: 'libc', symbol: 'str*cmp', glob: true });
  assert.equal(ok('uprobe:c:pb_[ab]?').kind, 'uprobe');
});

test('usdt pair', () => {
  assert.deepEqual(ok('usdt:/usr/bin/python3.11:python:function__entry,function__return'), {
    kind: 'usdt',
    binary: '/usr/bin/python3.11',
    provider: 'python',
    start: 'function__entry',
    end: 'function__return',
  });
});

test('syscall, block, runq, kprobe, kfunc', () => {
  assert.deepEqual(ok('syscall:nanosleep'), { kind: 'syscall', name: 'nanosleep', nr: 35 });
  assert.deepEqual(ok('syscall:sys_read'), { kind: 'syscall', name: 'read', nr: 0 });
  assert.deepEqual(ok('syscall:*'), { kind: 'syscall', name: '*' });
  assert.deepEqual(ok('block'), { kind: 'block' });
  assert.deepEqual(ok('runq'), { kind: 'runq' });
  assert.deepEqual(ok('kprobe:vfs_read'), { kind: 'kprobe', function: 'vfs_read' });
  assert.deepEqual(ok('kfunc:vfs_read'), { kind: 'kfunc', function: 'vfs_read' });
  assert.deepEqual(ok('fentry:do_sys_openat2'), { kind: 'kfunc', function: 'do_sys_openat2' });
});

test('format round-trips every example', () => {
  for (const k of PROBE_KINDS) {
    const spec = ok(exampleFor(k));
    assert.deepEqual(ok(formatProbeSpec(spec)), spec);
  }
});

test('errors name the field and position', () => {
  let e = err('');
  assert.equal(e.field, 'spec');
  e = err('uprob:/bin/ls:main');
  assert.equal(e.field, 'type');
  assert.match(e.message, /unknown probe type "uprob"/);
  e = err('uprobe:/bin/ls');
  assert.equal(e.field, 'symbol');
  assert.equal(e.position, 'uprobe:/bin/ls'.length);
  e = err('uprobe::main');
  assert.equal(e.field, 'binary');
  assert.equal(e.position, 7);
  e = err('uprobe:/bin/ls:');
  assert.equal(e.field, 'symbol');
  e = err('uprobe:/bin/ls:*');
  assert.match(e.message, /matches everything/);
  e = err('uprobe:/bin/ls:ma in');
  assert.equal(e.field, 'symbol');
  assert.equal(e.position, 17);
  e = err('usdt:/bin/x:prov:a');
  assert.equal(e.field, 'probes');
  assert.match(e.message, /exactly two/);
  e = err('usdt:/bin/x:prov:a,');
  assert.match(e.message, /empty/);
  e = err('usdt:/bin/x');
  assert.equal(e.field, 'provider');
  e = err('syscall:nosuchcall');
  assert.equal(e.field, 'name');
  assert.equal(e.position, 8);
  assert.match(e.message, /unknown syscall "nosuchcall"/);
  e = err('syscall');
  assert.equal(e.field, 'name');
  e = err('block:sda');
  assert.match(e.message, /takes no arguments/);
  e = err('kprobe:vfs_*');
  assert.match(e.message, /globs are not supported/);
  assert.equal(e.position, 11);
  e = err('kfunc:');
  assert.equal(e.field, 'function');
});

test('globToRegExp', () => {
  assert.ok(globToRegExp('str*cmp').test('strncmp'), 'globToRegExp(\'str*cmp\').test(\'strncmp\')');
  assert.ok(!globToRegExp('str*cmp').test('xstrcmp'), '!globToRegExp(\'str*cmp\').test(\'xstrcmp\')');
  assert.ok(globToRegExp('pb_?').test('pb_a'), 'globToRegExp(\'pb_?\').test(\'pb_a\')');
  assert.ok(globToRegExp('pb_[ab]').test('pb_b'), 'globToRegExp(\'pb_[ab]\').test(\'pb_b\')');
  assert.ok(!globToRegExp('pb_[!ab]').test('pb_b'), '!globToRegExp(\'pb_[!ab]\').test(\'pb_b\')');
  assert.ok(globToRegExp('a.b').test('a.b'), 'globToRegExp(\'a.b\').test(\'a.b\')');
  assert.ok(!globToRegExp('a.b').test('axb'), '!globToRegExp(\'a.b\').test(\'axb\')');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProbeSpec, formatProbeSpec, compileGlob, PROBE_KINDS, exampleFor } from './probe-spec.ts';

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
  assert.deepEqual(ok('syscall:nanosleep'), { kind: 'syscall', name: 'nanosleep', nrs: [35] });
  assert.deepEqual(ok('syscall:sys_read'), { kind: 'syscall', name: 'read', nrs: [0] });
  assert.deepEqual(ok('syscall:*'), { kind: 'syscall', name: '*', nrs: [] });
  assert.deepEqual(ok('syscall:nanosleep,sys_clock_nanosleep'), { kind: 'syscall', name: 'nanosleep,clock_nanosleep', nrs: [35, 230] });
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
  // comma lists: the position points at the faulty item
  e = err('syscall:read,,write');
  assert.equal(e.field, 'name');
  assert.equal(e.position, 13, `position ${e.position} of "${e.message}"`);
  assert.match(e.message, /empty syscall name/);
  e = err('syscall:read,nosuch');
  assert.equal(e.position, 13, `position ${e.position} of "${e.message}"`);
  assert.match(e.message, /unknown syscall "nosuch"/);
  e = err('syscall:read,');
  assert.match(e.message, /empty syscall name/);
  e = err('syscall:read,*');
  assert.match(e.message, /cannot be part of a list/);
  e = err('syscall:read,sys_read');
  assert.match(e.message, /listed twice/);
  e = err('block:sda');
  assert.match(e.message, /takes no arguments/);
  e = err('kprobe:vfs_*');
  assert.match(e.message, /globs are not supported/);
  assert.equal(e.position, 11);
  e = err('kfunc:');
  assert.equal(e.field, 'function');
});

test('compileGlob: stars, ?, classes, literal regex characters', () => {
  const m = (glob: string, name: string) => compileGlob(glob).test(name);
  assert.ok(m('str*cmp', 'strncmp'), 'str*cmp matches strncmp');
  assert.ok(!m('str*cmp', 'xstrcmp'), 'anchored at the start');
  assert.ok(!m('str*cmp', 'strcmpx'), 'anchored at the end');
  assert.ok(m('str*cmp', 'strcmp'), 'a star matches the empty run');
  assert.ok(m('pb_?', 'pb_a'), '? matches one character');
  assert.ok(!m('pb_?', 'pb_'), '? needs a character');
  assert.ok(m('pb_[ab]', 'pb_b'), 'class');
  assert.ok(!m('pb_[!ab]', 'pb_b'), 'negated class with !');
  assert.ok(!m('pb_[^ab]', 'pb_b'), 'negated class with ^');
  assert.ok(m('pb_[!ab]', 'pb_c'), 'negated class admits others');
  assert.ok(m('v[0-9]x', 'v7x') && !m('v[0-9]x', 'vax'), 'range');
  assert.ok(m('a[]]b', 'a]b'), '] first in a class is a member');
  assert.ok(m('a[b', 'a[b'), 'unclosed [ is literal');
  assert.ok(m('a.b', 'a.b'), '. is literal');
  assert.ok(!m('a.b', 'axb'), '. is not a wildcard');
  assert.ok(m('(a|b)+$', '(a|b)+$'), 'regex syntax is literal');
  assert.ok(m('*', '') && m('', '') && !m('', 'a'), 'empty glob and name');
  assert.ok(m('*a*b*c*', 'xxaxxbxxcxx') && !m('*a*b*c*', 'xxaxxcxxbxx'), 'ordered segments');
  assert.ok(m('*ab', 'aab') && m('*aab', 'aaab'), 'backtracks inside a segment');
  assert.throws(() => compileGlob('[z-a]'), /range z-a is out of order/);
});

/** The RegExp the matcher replaced (one `.*` per star), as the oracle for small globs. */
function oldGlobRegExp(glob: string): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = close;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

test('compileGlob: same answers as the old RegExp on 20,000 random glob/name pairs', () => {
  // Deterministic pseudo-random (LCG) so a failure is reproducible.
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const globParts = ['a', 'b', '_', '.', '*', '?', '[ab]', '[!a]', '[a-c]', 'ab'];
  const nameChars = 'abc_.';
  for (let k = 0; k < 20000; k++) {
    let glob = '';
    for (let i = rand(6); i >= 0; i--) glob += globParts[rand(globParts.length)];
    let name = '';
    for (let i = rand(9); i > 0; i--) name += nameChars[rand(nameChars.length)];
    assert.equal(compileGlob(glob).test(name), oldGlobRegExp(glob).test(name), `glob ${JSON.stringify(glob)} on ${JSON.stringify(name)}`);
  }
});

test('compileGlob: 70 stars against 2,000 long names answers within 100 ms', () => {
  const glob = 'a' + '*a'.repeat(70) + 'b';
  const names = Array.from({ length: 2000 }, (_, i) => 'a'.repeat(100 + (i % 50)) + (i % 2 === 0 ? 'c' : 'b'));
  const t0 = performance.now();
  const re = compileGlob(glob);
  let hits = 0;
  for (const n of names) if (re.test(n)) hits++;
  const ms = performance.now() - t0;
  assert.equal(hits, 1000, 'names ending in b match, those ending in c do not');
  assert.ok(ms < 100, `took ${ms.toFixed(1)} ms`);
  // Stars only, the discovery case from the audit.
  const t1 = performance.now();
  const stars = compileGlob('*'.repeat(70) + 'x' + '*'.repeat(70));
  for (const n of names) assert.ok(!stars.test(n), 'no x in the names');
  const ms2 = performance.now() - t1;
  assert.ok(ms2 < 100, `stars only took ${ms2.toFixed(1)} ms`);
});

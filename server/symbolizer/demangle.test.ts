import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cxxfilt, demangle, demanglerKind } from './demangle.ts';
import { FIXTURES } from './testing.ts';

test('the WASM demangler loads in Node', () => {
  assert.equal(demanglerKind(), 'wasm');
});

test('fixture names: C++ Itanium, Rust legacy (hash stripped), Rust v0, plain C', () => {
  const lines = readFileSync(join(FIXTURES, 'mangled.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  assert.ok(lines.length >= 8, 'lines.length >= 8');
  for (const line of lines) {
    const [mangled, expected] = line.split('\t');
    assert.equal(demangle(mangled), expected, mangled);
  }
});

test('garbage that looks mangled comes back unchanged, never throws', () => {
  for (const s of ['_Z', '_Zbad', '_R', '_RNv', '_ZN3foo', '__Z', '', '_Z' + 'N'.repeat(5000)]) {
    assert.equal(typeof demangle(s), 'string');
  }
  assert.equal(demangle('_Zbad'), '_Zbad');
  assert.equal(demangle('main'), 'main');
});

test('c++filt fallback demangles C++ and Rust when present', (t) => {
  const out = cxxfilt('_ZN4pbns5twiceEi');
  if (out === '_ZN4pbns5twiceEi') return t.skip('c++filt not installed');
  assert.equal(out, 'pbns::twice(int)');
  assert.equal(cxxfilt('_RNvCs15kBYyAo9fc_7mycrate7example').replace(/\[[0-9a-f]+\]/, ''), 'mycrate::example');
  assert.equal(cxxfilt('--help'), '--help', 'an option-like name is not taken as an option');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CXXFILT_PATH, cxxfilt, demangle, demangledIfKnown, demangleMany, demanglerKind, setCxxfiltPathForTests } from './demangle.ts';
import { FIXTURES } from './testing.ts';
import { skipOutsideCI } from '../testing/skip.ts';

const fixtureLines = () => readFileSync(join(FIXTURES, 'mangled.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t') as [string, string]);
const HAVE_CXXFILT = existsSync(CXXFILT_PATH);

test('c++filt is the primary demangler where it is installed (CI installs binutils)', () => {
  setCxxfiltPathForTests(undefined);
  assert.equal(demanglerKind(), HAVE_CXXFILT || process.env.CI === 'true' ? 'c++filt' : 'wasm');
});

test('fixture names: C++ Itanium, Rust legacy (hash stripped), Rust v0, plain C — through c++filt and through WASM alike', () => {
  const lines = fixtureLines();
  assert.ok(lines.length >= 8, `at least 8 fixture names (${lines.length})`);
  for (const path of [undefined, '/nonexistent/c++filt']) {
    setCxxfiltPathForTests(path);
    assert.equal(demanglerKind(), path === undefined && HAVE_CXXFILT ? 'c++filt' : 'wasm');
    for (const [mangled, expected] of lines) assert.equal(demangle(mangled), expected, `${mangled} (${demanglerKind()})`);
    // The same names in one batch (one c++filt process): same answers, same order.
    setCxxfiltPathForTests(path);
    assert.deepEqual(demangleMany([...lines.map(([m]) => m), 'main', lines[0][0]]), [...lines.map(([, e]) => e), 'main', lines[0][1]]);
  }
  setCxxfiltPathForTests(undefined);
});

test('c++filt keeps what the WASM demangler drops (rvalue references, template return types)', (t) => {
  if (!HAVE_CXXFILT) return skipOutsideCI(t, 'c++filt not installed (apt-get install binutils)');
  setCxxfiltPathForTests(undefined);
  assert.equal(demangle('_Z1fOi'), 'f(int&&)');
  assert.equal(demangle('_Z3maxIiET_S0_S0_'), 'int max<int>(int, int)');
  assert.equal(demangledIfKnown('_Z1fOi'), 'f(int&&)', 'cached after the first call');
});

test('a c++filt that another user could have written is not run (WASM is used)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-cxxfilt-'));
  try {
    const planted = join(dir, 'c++filt');
    copyFileSync(existsSync(CXXFILT_PATH) ? CXXFILT_PATH : process.execPath, planted);
    chmodSync(planted, 0o777);
    setCxxfiltPathForTests(planted);
    assert.equal(demanglerKind(), 'wasm');
    assert.equal(demangle('_ZN4pbns5twiceEi'), 'pbns::twice(int)');
  } finally {
    setCxxfiltPathForTests(undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('names c++filt would not read as one token go to the WASM demangler', () => {
  setCxxfiltPathForTests(undefined);
  assert.equal(demangle('_ZN3foo3barEv bad'), '_ZN3foo3barEv bad');
  assert.deepEqual(demangleMany(['_ZN3foo3barEv\n_Z1fv', '_ZN3foo3barEv']), ['_ZN3foo3barEv\n_Z1fv', 'foo::bar()']);
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
  if (out === '_ZN4pbns5twiceEi') return skipOutsideCI(t, 'c++filt not installed (apt-get install binutils)');
  assert.equal(out, 'pbns::twice(int)');
  assert.equal(cxxfilt('_RNvCs15kBYyAo9fc_7mycrate7example').replace(/\[[0-9a-f]+\]/, ''), 'mycrate::example');
  assert.equal(cxxfilt('--help'), '--help', 'an option-like name is not taken as an option');
});

test('PLT stub names (import@plt): the import is demangled and @plt kept, through c++filt and through WASM alike', () => {
  for (const path of [undefined, '/nonexistent/c++filt']) {
    setCxxfiltPathForTests(path);
    assert.equal(demangle('_ZN4pbns5twiceEi@plt'), 'pbns::twice(int)@plt', demanglerKind());
    assert.deepEqual(demangleMany(['puts@plt', '_ZN4pbns5twiceEi@plt', '_ZN4pbns5twiceEi']), ['puts@plt', 'pbns::twice(int)@plt', 'pbns::twice(int)']);
    assert.equal(demangledIfKnown('_ZN4pbns5twiceEi@plt'), 'pbns::twice(int)@plt', 'cached as the import');
    assert.equal(demangle('_Zbad@plt'), '_Zbad@plt', 'not understood: unchanged');
  }
  setCxxfiltPathForTests(undefined);
});

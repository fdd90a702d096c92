import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveUprobeFunctions } from './symbols.ts';
import { ProbeInputError, resolveBinary } from './binaries.ts';
import { buildWorkload } from '../../test/workloads/build.ts';

const mangled = buildWorkload('events-mangled');

/** A binary with two static functions named `helper` (one per translation unit) and a global `entry`. */
function twoHelpers(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pb-symbols-'));
  writeFileSync(join(dir, 'a.c'), 'static __attribute__((noinline)) int helper(int x) { return x + 1; }\nint entry_a(int x) { return helper(x); }\n');
  writeFileSync(join(dir, 'b.c'), 'static __attribute__((noinline)) int helper(int x) { return x * 3; }\nint entry_a(int);\nint main(int c, char **v) { (void)v; return helper(c) + entry_a(c) == 0; }\n');
  const out = join(dir, 'two-helpers');
  execFileSync('gcc', ['-O1', '-o', out, join(dir, 'a.c'), join(dir, 'b.c')]);
  return out;
}

function nmAddress(path: string, symbol: string): bigint {
  const line = execFileSync('nm', [path], { encoding: 'utf8' }).split('\n').find((l) => l.endsWith(` ${symbol}`));
  assert.ok(line, `nm lists no ${symbol} in ${path}`);
  return BigInt(`0x${line.split(' ')[0]}`);
}

function refusal(fn: () => unknown): ProbeInputError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ProbeInputError, `expected a ProbeInputError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal, got a result');
}

test('an exact name is found as the ELF name, as the demangled name, and without its parameters; all three are one function', () => {
  const byElfName = resolveUprobeFunctions(mangled, '_ZN4pbns4workEi', { glob: false, max: 1 });
  const byDemangled = resolveUprobeFunctions(mangled, 'pbns::work(int)', { glob: false, max: 1 });
  const byBareName = resolveUprobeFunctions(mangled, 'pbns::work', { glob: false, max: 1 });
  assert.equal(byElfName.length, 1);
  assert.equal(BigInt(byElfName[0].address), nmAddress(mangled, '_ZN4pbns4workEi'));
  assert.deepEqual(byDemangled.map((f) => f.offset), byElfName.map((f) => f.offset));
  assert.deepEqual(byBareName.map((f) => f.offset), byElfName.map((f) => f.offset));
  assert.equal(byElfName[0].name, 'pbns::work(int)');
});

test('a glob matches mangled and demangled names alike', () => {
  const byDemangled = resolveUprobeFunctions(mangled, 'pbns::*', { glob: true, max: 8 });
  const byMangled = resolveUprobeFunctions(mangled, '_ZN4pbns*', { glob: true, max: 8 });
  assert.deepEqual(byDemangled.map((f) => f.symbol), ['_ZN4pbns4workEi']);
  assert.deepEqual(byMangled.map((f) => f.symbol), ['_ZN4pbns4workEi']);
});

test('a name several functions share: refused when one is needed, all of them (one per address) otherwise', () => {
  const bin = twoHelpers();
  const refused = refusal(() => resolveUprobeFunctions(bin, 'helper', { glob: false, max: 1 }));
  assert.equal(refused.field, 'symbol');
  assert.match(refused.message, /"helper" names 2 functions in .*two-helpers: helper at 0x[0-9a-f]+, helper at 0x[0-9a-f]+/);
  const both = resolveUprobeFunctions(bin, 'helper', { glob: false, max: 8 });
  assert.equal(new Set(both.map((f) => f.offset)).size, 2, `offsets ${both.map((f) => f.offset)}`);
});

test('a missing symbol and an empty glob are refused, naming the binary and how many functions it has', () => {
  const missing = refusal(() => resolveUprobeFunctions(mangled, 'no_such_function', { glob: false, max: 1 }));
  assert.equal(missing.field, 'symbol');
  assert.match(missing.message, /symbol "no_such_function" not found in .*events-mangled\d* \(\d+ function symbols\); probeboard list symbols/);
  const empty = refusal(() => resolveUprobeFunctions(mangled, 'zz*', { glob: true, max: 8 }));
  assert.match(empty.message, /no function matches "zz\*"/);
});

test('a glob matching more than the limit is refused with the count', () => {
  const libc = resolveBinary('c');
  const refused = refusal(() => resolveUprobeFunctions(libc, 's*', { glob: true, max: 32 }));
  const count = Number(/matches (\d+) functions/.exec(refused.message)?.[1]);
  assert.ok(count > 32, `count ${count} in: ${refused.message}`);
  assert.match(refused.message, /at most 32 are allowed: narrow it/);
});

test('a file that is not ELF is refused on the binary field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-symbols-'));
  writeFileSync(join(dir, 'text'), 'not an elf file\n');
  const refused = refusal(() => resolveUprobeFunctions(join(dir, 'text'), 'main', { glob: false, max: 1 }));
  assert.equal(refused.field, 'binary');
  assert.match(refused.message, /text is not an ELF file/);
});

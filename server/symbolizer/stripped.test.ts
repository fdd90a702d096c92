/**
 * Code no symbol names keeps its identity: `binary+0xFILEOFFSET` of the start of its function
 * (from .eh_frame_hdr), so two functions of a stripped binary stay two frames and two addresses
 * of one function one frame. Real gcc-built binaries stripped with `strip -s`, mapped into a
 * fake /proc the way the loader maps them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Symbolizer } from './index.ts';
import { compileC, fakeProcMapping, fileOffsetOf, nmFunctions, readelfLoads } from './testing.ts';

const SOURCE = `
#include <stdio.h>
#include <string.h>
__attribute__((noinline)) int pb_one(const char *s) { return (int)strlen(s) * 3; }
__attribute__((noinline)) int pb_two(const char *s) { puts(s); return pb_one(s) + 1; }
int main(int argc, char **argv) { (void)argc; return pb_two(argv[0]) > 1000; }
`;

const dir = mkdtempSync(join(tmpdir(), 'pb-stripped-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** The program built `args`-wise, its function addresses (from the unstripped build) and a `strip -s` copy. */
function build(name: string, args: string[]): { full: string; stripped: string; one: bigint; two: bigint } {
  const full = compileC(dir, name, SOURCE, ['-O1', ...args]);
  const stripped = join(dir, `${name}-stripped`);
  execFileSync('strip', ['-s', '-o', stripped, full]);
  const nm = nmFunctions(full);
  return { full, stripped, one: nm.get('pb_one')!, two: nm.get('pb_two')! };
}

/** The virtual address at file offset `off` of `path` (readelf's PT_LOAD table). */
function vaddrOf(path: string, off: bigint): bigint {
  const p = readelfLoads(path).find((l) => off >= l.offset && off < l.offset + l.filesz)!;
  return off - p.offset + p.vaddr;
}

/** `readelf -SW` shows no .symtab in a `strip -s` binary. */
function hasSymtab(path: string): boolean {
  return /\.symtab/.test(execFileSync('readelf', ['-SW', path], { encoding: 'utf8' }));
}

for (const [kind, stem, args, base] of [
  ['PIE', 'pie', ['-fPIE', '-pie'], 0x555555554000n],
  ['non-PIE (virtual address != file offset)', 'nopie', ['-fno-PIE', '-no-pie'], 0n],
] as const) {
  test(`stripped ${kind}: two functions get two names, binary+0xFILEOFFSET of their starts; two addresses of one function one name`, () => {
    const b = build(stem, [...args]);
    assert.equal(hasSymtab(b.stripped), false, 'strip -s removed .symtab');
    const pid = 4100001;
    const root = fakeProcMapping(pid, [{ path: b.stripped, base }]);
    for (const deferLookups of [false, true]) {
      const s = new Symbolizer({ procRoot: root, debugRoot: null, deferLookups });
      // Leaf inside pb_one; the caller's return address inside pb_two (addr - 1 is looked up).
      const leaf = b.one + 3n;
      const ret = b.two + 5n;
      const frames = s.symbolizeUser(pid, 'p', [base + leaf, base + ret]);
      // Another sampled instruction of pb_one (a leaf at its first byte): the same frame name.
      const [again] = s.symbolizeUser(pid, 'p', [base + b.one]);
      if (deferLookups) s.settle();
      const offLeaf = fileOffsetOf(b.full, b.one);
      const offCall = fileOffsetOf(b.full, b.two);
      assert.equal(again.name, frames[0].name, 'one frame per function, not per instruction');
      if (stem === 'nopie') assert.notEqual(offLeaf, leaf, 'ET_EXEC: the file offset is not the virtual address');
      const module = { file: b.stripped, buildId: frames[0].module?.buildId };
      assert.match(module.buildId ?? '', /^[0-9a-f]{40}$/, 'the module keeps the build-id');
      assert.deepEqual(
        frames,
        [
          { name: `${stem}-stripped+0x${offLeaf.toString(16)}`, kind: 'x', module },
          { name: `${stem}-stripped+0x${offCall.toString(16)}`, kind: 'x', module },
        ],
        `deferLookups ${deferLookups}`,
      );
      assert.equal(s.stats().unknownFrames, 3, 'still counted as unknown (one per address looked up)');
      // What a user does with a name later: file offset -> address (readelf's PT_LOAD table) -> addr2line on the unstripped build.
      for (const [frame, fn] of [[frames[0], 'pb_one'], [frames[1], 'pb_two']] as const) {
        const vaddr = vaddrOf(b.full, BigInt(frame.name.slice(frame.name.indexOf('+') + 1)));
        assert.equal(execFileSync('addr2line', ['-f', '-e', b.full, `0x${vaddr.toString(16)}`], { encoding: 'utf8' }).split('\n')[0], fn, frame.name);
      }
    }
  });
}

test('a binary that cannot be read at all: still binary+0xFILEOFFSET, the offset from the mapping', () => {
  const pid = 4100002;
  const b = build('gone', ['-fPIE', '-pie']);
  const root = fakeProcMapping(pid, [{ path: b.stripped, base: 0x555555554000n }]);
  rmSync(b.stripped);
  const s = new Symbolizer({ procRoot: root });
  const text = fileOffsetOf(b.full, b.one);
  const [f] = s.symbolizeUser(pid, 'p', [0x555555554000n + b.one]);
  assert.deepEqual(f, { name: `gone-stripped+0x${text.toString(16)}`, kind: 'x', module: { file: b.stripped } });
  assert.equal(s.stats().binaryErrors, 1);
  assert.equal(s.stats().unknownFrames, 1);
});

/**
 * PLT stubs are named `symbol@plt`, as objdump labels them, instead of after the nearest symbol
 * before them (`_init`). Real gcc/g++-built programs that call libc (and libstdc++) functions,
 * in every PLT layout GNU ld makes here: lazy .plt, IBT (.plt + .plt.sec), BIND_NOW, -fno-plt
 * (only .plt.got left), non-PIE; and after `strip -s` (the names come from .dynsym and the
 * relocations, which stripping keeps).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Symbolizer } from './index.ts';
import { withElfFile } from './elf.ts';
import { FunctionIndex } from './function-index.ts';
import { demangle } from './demangle.ts';
import { parseProcMaps } from './proc-maps.ts';
import { compileC, fakeProcMapping } from './testing.ts';

const C_SOURCE = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
__attribute__((noinline)) int pb_one(const char *s) { return (int)strlen(s) * 3; }
__attribute__((noinline)) int pb_two(const char *s) { puts(s); return pb_one(s) + 1; }
int main(int argc, char **argv) { (void)argc; char *copy = strdup(argv[0]); int r = pb_two(copy) > 1000; free(copy); return r; }
`;

const CXX_SOURCE = `
#include <iostream>
#include <string>
int main(int argc, char **argv) { std::string s(argv[0]); std::cout << s.size() << argc << std::endl; return 0; }
`;

const dir = mkdtempSync(join(tmpdir(), 'pb-plt-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** One objdump label in a PLT section: [start, end) and its name (as in the symbol table: mangled). */
interface Label {
  section: string;
  start: bigint;
  end: bigint;
  name: string;
}

const PLT_SECTIONS = ['.plt', '.plt.sec', '.plt.got'];

/** Section name -> [address, size], from `readelf -SW`. */
function sectionsOf(path: string): Map<string, [bigint, bigint]> {
  const out = execFileSync('readelf', ['-SW', path], { encoding: 'utf8' });
  const m = new Map<string, [bigint, bigint]>();
  for (const x of out.matchAll(/^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s/gm)) m.set(x[1], [BigInt('0x' + x[2]), BigInt('0x' + x[3])]);
  return m;
}

/** Every label `objdump -d` prints in the PLT sections; each ends at the next label or its section's end. */
function objdumpLabels(path: string): Label[] {
  const sections = sectionsOf(path);
  const present = PLT_SECTIONS.filter((s) => sections.has(s));
  const out = execFileSync('objdump', ['-d', ...present.flatMap((s) => ['-j', s]), path], { encoding: 'utf8' });
  const labels: Label[] = [];
  let section = '';
  for (const line of out.split('\n')) {
    const sec = /^Disassembly of section (\S+):$/.exec(line);
    if (sec) {
      section = sec[1];
      continue;
    }
    const label = /^([0-9a-f]+) <(.+)>:$/.exec(line);
    if (!label) continue;
    const start = BigInt('0x' + label[1]);
    const prev = labels[labels.length - 1];
    if (prev && prev.section === section) prev.end = start;
    const [addr, size] = sections.get(section)!;
    labels.push({ section, start, end: addr + size, name: label[2] });
  }
  return labels;
}

const VARIANTS: { name: string; cxx?: boolean; args: string[]; base: bigint }[] = [
  { name: 'lazy .plt (PIE)', args: ['-fPIE', '-pie'], base: 0x555555554000n },
  { name: 'IBT: .plt.sec', args: ['-fPIE', '-pie', '-fcf-protection=full', '-Wl,-z,ibtplt'], base: 0x555555554000n },
  { name: 'BIND_NOW', args: ['-fPIE', '-pie', '-Wl,-z,now'], base: 0x555555554000n },
  { name: '-fno-plt: .plt.got only', args: ['-fPIE', '-pie', '-fno-plt'], base: 0x555555554000n },
  { name: 'non-PIE', args: ['-fno-PIE', '-no-pie'], base: 0n },
  { name: 'C++ (libstdc++ imports, demangled)', cxx: true, args: ['-fPIE', '-pie'], base: 0x555555554000n },
];

let pid = 4200000;
for (const v of VARIANTS) {
  test(`PLT stubs named symbol@plt, as objdump labels them: ${v.name}`, () => {
    const stem = `prog${pid}`;
    let full: string;
    if (v.cxx) {
      full = join(dir, stem);
      writeFileSync(`${full}.cpp`, CXX_SOURCE);
      execFileSync('g++', ['-O1', ...v.args, '-o', full, `${full}.cpp`], { stdio: ['ignore', 'ignore', 'inherit'] });
    } else full = compileC(dir, stem, C_SOURCE, ['-O1', ...v.args]);
    const stripped = `${full}-stripped`;
    execFileSync('strip', ['-s', '-o', stripped, full]);
    const labels = objdumpLabels(full);
    const named = labels.filter((l) => l.name.endsWith('@plt'));
    const others = labels.filter((l) => !/@plt$/.test(l.name));
    const expected = v.cxx ? [] : v.args.includes('-fno-plt') ? ['__cxa_finalize@plt'] : ['puts@plt', 'strlen@plt', 'strdup@plt', 'free@plt'];
    for (const name of expected) assert.ok(named.some((l) => l.name === name), `objdump labels ${name}: ${labels.map((l) => l.name).join(', ')}`);
    if (v.args.includes('-fcf-protection=full')) assert.ok(named.some((l) => l.section === '.plt.sec'), 'IBT: the named stubs are in .plt.sec');
    if (v.cxx) assert.ok(named.some((l) => l.name.startsWith('_ZNSo')), `a mangled C++ import: ${named.map((l) => l.name).join(', ')}`);
    assert.ok(named.length >= 1);

    // The reader alone: one stub per labelled entry, at objdump's address and with its (mangled) name, of objdump's size.
    const stubs = withElfFile(stripped, (elf) => elf.pltStubs()).filter((s) => s.name !== '');
    const byAddress = <T extends { start: bigint }>(xs: T[]) => [...xs].sort((a, b) => (a.start < b.start ? -1 : 1));
    assert.deepEqual(
      byAddress(stubs.map((x) => ({ start: BigInt(x.address), end: BigInt(x.address + x.size), name: x.name }))),
      byAddress(named.map(({ start, end, name }) => ({ start, end, name }))),
    );

    for (const binary of [full, stripped]) {
      const p = pid++;
      const root = fakeProcMapping(p, [{ path: binary, base: v.base }]);
      for (const deferLookups of [false, true]) {
        const s = new Symbolizer({ procRoot: root, debugRoot: null, deferLookups });
        // Every byte of every labelled stub, each as a leaf (looked up as it is; a caller's would be addr - 1).
        const addrs = named.flatMap((l) => Array.from({ length: Number(l.end - l.start) }, (_, i) => v.base + l.start + BigInt(i)));
        const inOthers = others.flatMap((l) => [v.base + l.start, v.base + l.end - 1n]);
        const frames = s.batch(() => [...addrs, ...inOthers].map((a) => s.symbolizeUser(p, 'p', [a])[0]));
        if (deferLookups) s.settle();
        // Demangled as the symbolizer demangles (c++filt expands `std::ostream`, objdump -C does not).
        const want = named.flatMap((l) => Array.from({ length: Number(l.end - l.start) }, () => demangle(l.name)));
        if (v.cxx) assert.ok(want.some((name) => /^std::.*@plt$/.test(name)), `C++ stubs demangled: ${[...new Set(want)].join(', ')}`);
        assert.deepEqual(
          frames.slice(0, addrs.length).map((f) => f.name),
          want,
          `${binary === stripped ? 'stripped' : 'unstripped'}, deferLookups ${deferLookups}`,
        );
        assert.ok(frames.slice(0, addrs.length).every((f) => f.kind === 'u'));
        // PLT0 and IBT's lazy-binding pads: no function of this file, so file+offset, never `_init`.
        for (const f of frames.slice(addrs.length)) assert.match(f.name, /\+0x[0-9a-f]+$/, `${others.map((l) => l.name).join(', ')}: ${f.name}`);
      }
    }
  });
}

test("this machine's libc: every objdump PLT label, IRELATIVE ones (*ABS*+0xRESOLVER@plt) named after the IFUNC at the resolver", () => {
  const libc = parseProcMaps(readFileSync('/proc/self/maps', 'utf8')).entries.find((e) => /\/libc\.so/.test(e.path))?.path;
  assert.ok(libc, 'node maps libc');
  const labels = objdumpLabels(libc).filter((l) => l.name.endsWith('@plt'));
  assert.ok(labels.length > 0, 'libc has PLT stubs');
  // address -> every name nm -D gives a function there (aliases: strnlen, __strnlen).
  const aliases = new Map<bigint, Set<string>>();
  for (const line of execFileSync('nm', ['-D', '--defined-only', libc], { encoding: 'utf8' }).split('\n')) {
    const [addr, type, name] = line.trim().split(/\s+/);
    if (!name || !/^[tTwWi]$/.test(type)) continue;
    const at = BigInt('0x' + addr);
    if (!aliases.has(at)) aliases.set(at, new Set());
    aliases.get(at)!.add(name.replace(/@.*$/, ''));
  }
  const ok = (label: string, ours: string | undefined): boolean => {
    const abs = /^\*ABS\*\+0x([0-9a-f]+)@plt$/.exec(label);
    if (!abs) return ours === label;
    const names = aliases.get(BigInt('0x' + abs[1]));
    return names ? ours !== undefined && names.has(ours.replace(/@plt$/, '')) && ours.endsWith('@plt') : ours === label;
  };
  const stubs = new Map(withElfFile(libc, (elf) => elf.pltStubs()).map((x) => [BigInt(x.address), x]));
  for (const l of labels) {
    const stub = stubs.get(l.start);
    assert.ok(stub && ok(l.name, stub.name) && BigInt(stub.size) === l.end - l.start, `${l.name} at 0x${l.start.toString(16)}: ${JSON.stringify(stub)}`);
  }
  assert.ok(labels.some((l) => l.name.startsWith('*ABS*')) ? [...stubs.values()].some((x) => /^_*(str|mem)\w*@plt$/.test(x.name)) : true, 'an IFUNC string function named');
  // And the symbolizer, every byte of every stub.
  const p = pid++;
  const root = fakeProcMapping(p, [{ path: libc, base: 0x7f0000000000n }]);
  const s = new Symbolizer({ procRoot: root, debugRoot: null });
  for (const l of labels) {
    for (let a = l.start; a < l.end; a++) {
      const [f] = s.symbolizeUser(p, 'p', [0x7f0000000000n + a]);
      assert.ok(ok(l.name, f.name), `${l.name} at +0x${(a - l.start).toString(16)}: ${f.name}`);
    }
  }
});

test('FunctionIndex extras: sized, named or unnamed (undefined there); a real symbol at the same address wins; partial indexes agree', () => {
  const extra = [
    { address: 0x1020, size: 16, name: '' },
    { address: 0x1030, size: 16, name: 'puts@plt' },
    { address: 0x1040, size: 16, name: 'strlen@plt' },
    { address: 0x1050, size: 0, name: 'zero size: ignored' },
    { address: 0x2000, size: 8, name: '_x@plt' },
  ];
  // No symbol tables: only extras.
  const index = FunctionIndex.build([], [], undefined, extra);
  const expect: [number, string | undefined][] = [
    [0x101f, undefined],
    [0x1020, undefined],
    [0x102f, undefined],
    [0x1030, 'puts@plt'],
    [0x103f, 'puts@plt'],
    [0x1045, 'strlen@plt'],
    [0x1050, undefined], // a stub ends after its size
    [0x2004, '_x@plt'],
    [0x2008, undefined],
  ];
  for (const [a, name] of expect) assert.equal(index.lookup(a), name, `0x${a.toString(16)}`);
  const partial = FunctionIndex.build([], [], Float64Array.from(expect, ([a]) => a), extra);
  for (const [a, name] of expect) assert.equal(partial.lookup(a), name, `partial 0x${a.toString(16)}`);

  // With a real binary's tables: an extra at pb_one's address loses to pb_one.
  const path = compileC(dir, 'extras', C_SOURCE, ['-O1']);
  withElfFile(path, (elf) => {
    const one = elf.functionSymbols().find((x) => x.name === 'pb_one')!;
    const sources = elf.symbolTableSections().map((table) => ({ elf, table }));
    const clash = [{ address: Number(one.value), size: 4, name: 'clash@plt' }];
    assert.equal(FunctionIndex.build(sources, elf.loadSegments(), undefined, clash).lookup(Number(one.value) + 1), 'pb_one');
    assert.equal(FunctionIndex.build(sources, elf.loadSegments(), Float64Array.of(Number(one.value) + 1), clash).lookup(Number(one.value) + 1), 'pb_one');
  });
});

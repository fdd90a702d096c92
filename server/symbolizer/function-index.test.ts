import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ElfFile, withElfFile } from './elf.ts';
import { FunctionIndex } from './function-index.ts';
import { parseProcMaps } from './proc-maps.ts';
import { buildFixtures } from './testing.ts';

/**
 * The full table the symbolizer built before the index (every symbol decoded through
 * ElfFile.functionSymbols, then sorted and deduplicated): the reference the index must equal.
 */
function fullTable(elf: ElfFile): [number, number, string][] {
  const loads = elf.loadSegments();
  const rows: { addr: number; size: number; name: string; rank: number }[] = [];
  for (const s of elf.functionSymbols()) {
    if (s.value === 0n || s.value > BigInt(Number.MAX_SAFE_INTEGER)) continue;
    const bindRank = s.bind === 1 ? 0 : s.bind === 2 ? 1 : 2;
    const underscores = Math.min(s.name.length - s.name.replace(/^_+/, '').length, 9);
    rows.push({ addr: Number(s.value), size: s.size, name: s.name, rank: bindRank * 1000 + underscores * 100 + (s.size > 0 ? 0 : 10) + (s.source === 'symtab' ? 0 : 1) });
  }
  rows.sort((a, b) => a.addr - b.addr || a.rank - b.rank);
  const addrs: number[] = [];
  const sizes: number[] = [];
  const names: string[] = [];
  for (const r of rows) {
    const n = addrs.length;
    if (n > 0 && addrs[n - 1] === r.addr) {
      if (sizes[n - 1] === 0 && r.size > 0) sizes[n - 1] = r.size;
      continue;
    }
    addrs.push(r.addr);
    sizes.push(r.size);
    names.push(r.name);
  }
  const segmentEnd = (a: number) => {
    for (const p of loads) if (a >= Number(p.vaddr) && a < Number(p.vaddr) + Number(p.memsz)) return Number(p.vaddr) + Number(p.memsz);
    return a + 1;
  };
  return addrs.map((a, i) => [a, sizes[i] > 0 ? a + sizes[i] : i + 1 < addrs.length ? addrs[i + 1] : segmentEnd(a), names[i]]);
}

function indexOf(elf: ElfFile): FunctionIndex {
  return FunctionIndex.build(elf.symbolTableSections().map((table) => ({ elf, table })), elf.loadSegments());
}

/** Looks up with the old full table's rule: nearest start at or below, or one of the 3 before it whose range holds it. */
function lookupFull(table: [number, number, string][], vaddr: number): string | undefined {
  let lo = 0;
  let hi = table.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (table[mid][0] <= vaddr) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  for (let i = found; i >= 0 && i > found - 4; i--) if (vaddr < table[i][1]) return table[i][2];
  return undefined;
}

function sameAsFullTable(path: string): number {
  return withElfFile(path, (elf) => {
    const full = fullTable(elf);
    const index = indexOf(elf);
    assert.equal(index.size, full.length, `${path}: as many entries as the full table`);
    assert.deepEqual(index.entries(), full, `${path}: same starts, ends and names`);
    // Sampled addresses: each start, inside, the last byte, the end, and below the first.
    for (const [start, end] of full) {
      for (const a of [start, Math.floor((start + end) / 2), end - 1, end, start - 1]) {
        assert.equal(index.lookup(a), lookupFull(full, a), `${path}: lookup 0x${a.toString(16)}`);
      }
    }
    return full.length;
  });
}

test('lazily built index = the full symbol table: compiled fixtures (PIE, non-PIE, shared library, stripped, C++)', () => {
  const b = buildFixtures();
  for (const path of [b.pie, b.nopie, b.lib, b.cxx]) assert.ok(sameAsFullTable(path) > 0, `${path} has function symbols`);
  // A stripped executable exports no functions: both are empty.
  assert.equal(sameAsFullTable(b.stripped), 0);
});

test('lazily built index = the full symbol table: libc and this node binary (tables read in many chunks)', () => {
  const libc = parseProcMaps(readFileSync('/proc/self/maps', 'utf8')).entries.find((e) => /\/libc\.so/.test(e.path))!;
  assert.ok(libc, 'libc is mapped');
  const libcFunctions = sameAsFullTable(libc.path);
  assert.ok(libcFunctions > 1000, `libc has over 1000 functions (${libcFunctions})`);
  // node's .symtab and .strtab are megabytes: chunk boundaries fall inside entries' names.
  const nodeFunctions = sameAsFullTable(process.execPath);
  assert.ok(nodeFunctions > 10000, `node has over 10000 functions (${nodeFunctions})`);
});

test('index from an in-memory ELF (the vDSO path) and the empty index', () => {
  const b = buildFixtures();
  const bytes = readFileSync(b.pie);
  const fromBuffer = indexOf(ElfFile.fromBuffer(bytes, 'pie'));
  const fromFile = withElfFile(b.pie, indexOf);
  assert.deepEqual(fromBuffer.entries(), fromFile.entries());
  assert.equal(FunctionIndex.empty.size, 0);
  assert.equal(FunctionIndex.empty.lookup(0x1000), undefined);
});

test('names overlapping in a hostile string table are bounded: the build refuses rather than copying gigabytes', () => {
  // One long name, and thousands of function symbols each pointing one byte further into it.
  const nameLength = 60_000;
  const symbols = 5_000;
  const strtab = Buffer.alloc(1 + nameLength + 1, 0x61);
  strtab[0] = 0;
  strtab[strtab.length - 1] = 0;
  const symtab = Buffer.alloc(24 * (symbols + 1));
  for (let i = 1; i <= symbols; i++) {
    const b = i * 24;
    symtab.writeUInt32LE(i, b); // st_name: one byte further each time
    symtab[b + 4] = (1 << 4) | 2; // GLOBAL FUNC
    symtab.writeUInt16LE(1, b + 6); // defined
    symtab.writeBigUInt64LE(BigInt(0x1000 + i * 16), b + 8);
    symtab.writeBigUInt64LE(16n, b + 16);
  }
  // The tables alone, served as ElfFile serves a section's bytes (no headers needed for this).
  const file = Buffer.concat([symtab, strtab]);
  const elf = {
    name: 'hostile',
    readSectionInto: (s: { offset: number }, offset: number, length: number) => file.subarray(s.offset + offset, s.offset + offset + length),
  } as unknown as ElfFile;
  const symbolsSection = { index: 1, name: '.symtab', type: 2, flags: 0n, addr: 0n, offset: 0, size: symtab.length, link: 2, info: 0, addralign: 8, entsize: 24 };
  const stringsSection = { index: 2, name: '.strtab', type: 3, flags: 0n, addr: 0n, offset: symtab.length, size: strtab.length, link: 0, info: 0, addralign: 1, entsize: 0 };
  const started = Date.now();
  assert.throws(() => FunctionIndex.build([{ elf, table: { source: 'symtab', symbols: symbolsSection, strings: stringsSection } }], []), /overlapping names/);
  assert.ok(Date.now() - started < 5000, `refused without walking every name (${Date.now() - started} ms)`);
});

/** A partial index for `wanted` must answer every one of them as the full index does. */
function partialAgrees(path: string, wanted: number[]): number {
  return withElfFile(path, (elf) => {
    const sources = elf.symbolTableSections().map((table) => ({ elf, table }));
    const full = FunctionIndex.build(sources, elf.loadSegments());
    const sorted = Float64Array.from(new Set(wanted)).sort();
    const partial = FunctionIndex.build(sources, elf.loadSegments(), sorted);
    for (const a of sorted) assert.equal(partial.lookup(a), full.lookup(a), `${path}: partial lookup 0x${a.toString(16)}`);
    assert.ok(partial.size <= 5 * sorted.length, `${path}: at most 5 starts per wanted address (${partial.size} for ${sorted.length})`);
    return partial.size;
  });
}

test('partial index (one-shot lookups) = the full index for the wanted addresses: fixtures, libc, node', () => {
  const b = buildFixtures();
  const libc = parseProcMaps(readFileSync('/proc/self/maps', 'utf8')).entries.find((e) => /\/libc\.so/.test(e.path))!;
  for (const path of [b.pie, b.nopie, b.lib, b.cxx, libc.path, process.execPath]) {
    const entries = withElfFile(path, (elf) => indexOf(elf).entries());
    assert.ok(entries.length > 0, `${path} has function symbols`);
    // Every kind of address: starts, insides, last bytes, ends (gaps), below the first and far above the last;
    // a random sample of a big binary, and all of a small one.
    const step = Math.max(1, Math.floor(entries.length / 400));
    const wanted: number[] = [entries[0][0] - 1, entries[entries.length - 1][1] + 0x10000];
    for (let i = 0; i < entries.length; i += step) {
      const [start, end] = entries[i];
      wanted.push(start, Math.floor((start + end) / 2), end - 1, end);
    }
    const agreed = partialAgrees(path, wanted);
    assert.ok(agreed > 0, `the partial index agrees with the full table on resolved addresses (${agreed} of ${wanted.length})`);
    // Sparse: one address, and addresses far apart.
    partialAgrees(path, [entries[Math.floor(entries.length / 2)][0] + 1]);
    partialAgrees(path, [entries[0][0], entries[entries.length - 1][0]]);
  }
  // Nothing wanted: an empty index.
  withElfFile(b.pie, (elf) => assert.equal(FunctionIndex.build(elf.symbolTableSections().map((table) => ({ elf, table })), elf.loadSegments(), new Float64Array(0)).size, 0));
});

test('partial index: nested symbols (a lookup looks 4 starts deep), unsized ones (ended by the next start), nameless ones', () => {
  // Synthetic tables (no segments: an unsized last symbol would end one byte after its start).
  const symbols: [name: string, start: number, size: number][] = [
    ['outer', 0x1000, 0x100],
    ['inner_a', 0x1010, 0x10],
    ['inner_b', 0x1020, 0x10],
    ['inner_c', 0x1030, 0x10],
    ['', 0x1038, 0x4], // no name: not a symbol, and it must not take one of the four places a lookup inspects
    ['unsized', 0x2000, 0],
    ['after', 0x2100, 0x10],
  ];
  const strtab = Buffer.concat([Buffer.from([0]), ...symbols.map(([name]) => Buffer.from(`${name}\0`))]);
  const symtab = Buffer.alloc(24 * (symbols.length + 1));
  let nameOffset = 1;
  symbols.forEach(([name, start, size], i) => {
    const b = (i + 1) * 24;
    symtab.writeUInt32LE(nameOffset, b);
    nameOffset += name.length + 1;
    symtab[b + 4] = (1 << 4) | 2; // GLOBAL FUNC
    symtab.writeUInt16LE(1, b + 6);
    symtab.writeBigUInt64LE(BigInt(start), b + 8);
    symtab.writeBigUInt64LE(BigInt(size), b + 16);
  });
  const file = Buffer.concat([symtab, strtab]);
  const elf = { name: 'nested', readSectionInto: (s: { offset: number }, offset: number, length: number) => file.subarray(s.offset + offset, s.offset + offset + length) } as unknown as ElfFile;
  const table = {
    source: 'symtab' as const,
    symbols: { index: 1, name: '.symtab', type: 2, flags: 0n, addr: 0n, offset: 0, size: symtab.length, link: 2, info: 0, addralign: 8, entsize: 24 },
    strings: { index: 2, name: '.strtab', type: 3, flags: 0n, addr: 0n, offset: symtab.length, size: strtab.length, link: 0, info: 0, addralign: 1, entsize: 0 },
  };
  const full = FunctionIndex.build([{ elf, table }], []);
  const expected: [number, string | undefined][] = [
    [0x10f0, 'outer'], // past three nested symbols: found 4 starts down
    [0x1015, 'inner_a'],
    [0x2050, 'unsized'], // ends where `after` starts
    [0x2108, 'after'],
    [0x2200, undefined],
  ];
  for (const [a, name] of expected) {
    assert.equal(full.lookup(a), name, `full 0x${a.toString(16)}`);
    // Each address alone: the partial index must keep what the lookup needs.
    assert.equal(FunctionIndex.build([{ elf, table }], [], Float64Array.of(a)).lookup(a), name, `partial 0x${a.toString(16)}`);
  }
});

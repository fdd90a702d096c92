import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ElfError, ElfFile, fileOffsetToVaddr, withElfFile, ET_DYN, ET_EXEC, PT_LOAD } from './elf.ts';
import { buildFixtures, nmFunctions } from './testing.ts';

function readelfBuildId(path: string): string | undefined {
  const out = execFileSync('readelf', ['-n', path], { encoding: 'utf8' });
  return /Build ID: ([0-9a-f]+)/.exec(out)?.[1];
}

function libcPath(): string {
  const line = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .find((l) => /\/libc[.-][^/]*\.so/.test(l) || l.endsWith('/libc.so.6'));
  assert.ok(line, 'libc is mapped into this process');
  return line.slice(line.indexOf('/'));
}

test('/bin/ls: header, segments, build-id agree with readelf', () => {
  withElfFile('/bin/ls', (elf) => {
    assert.ok(elf.header.type === ET_DYN || elf.header.type === ET_EXEC, `an executable or PIE (e_type ${elf.header.type})`);
    assert.equal(elf.header.machine, 62); // EM_X86_64
    assert.ok(elf.loadSegments().length >= 2, `at least two PT_LOAD segments (${elf.loadSegments().length})`);
    assert.ok(elf.section('.dynsym'), `a .dynsym section (sections: ${elf.sections.map((s) => s.name).join(' ')})`);
    assert.equal(elf.buildId(), readelfBuildId('/bin/ls'));
    assert.ok(elf.functionSymbols().length > 0, `function symbols found (${elf.functionSymbols().length})`);
  });
});

test('libc from /proc/self/maps: .dynsym functions match nm -D', () => {
  const path = libcPath();
  withElfFile(path, (elf) => {
    const names = new Set(elf.functionSymbols().map((s) => s.name));
    for (const f of ['malloc', 'free', 'printf', 'memcpy', 'nanosleep']) assert.ok(names.has(f), `${f} in libc`);
    const nm = nmFunctions(path, true);
    const byName = new Map(elf.functionSymbols().map((s) => [s.name, s.value]));
    for (const f of ['malloc', 'free', 'printf', 'nanosleep']) assert.equal(byName.get(f), nm.get(f), f);
    // memcpy is an IFUNC: kept.
    assert.ok(elf.functionSymbols().some((s) => s.name === 'memcpy' && (s.type === 2 || s.type === 10)), `memcpy kept as a FUNC or IFUNC (types of memcpy symbols: ${JSON.stringify(elf.functionSymbols().filter((s) => s.name === 'memcpy').map((s) => s.type))})`);
    assert.equal(elf.buildId(), readelfBuildId(path));
  });
});

test('compiled program: every nm text symbol is a function symbol at the same address', () => {
  const b = buildFixtures();
  for (const path of [b.pie, b.nopie, b.lib, b.cxx]) {
    const nm = nmFunctions(path);
    const syms = withElfFile(path, (elf) => elf.functionSymbols().filter((s) => s.source === 'symtab'));
    const ours = new Map(syms.map((s) => [s.name, s.value]));
    for (const name of ['pb_alpha', 'pb_beta', 'pb_static', 'main', 'pb_lib_func', '_ZN4pbns5twiceEi']) {
      if (!nm.has(name)) continue;
      assert.equal(ours.get(name), nm.get(name), `${path}: ${name}`);
    }
    // Conversely, each function we report appears in nm at that address (nm also lists non-function text symbols).
    for (const s of syms) if (nm.has(s.name)) assert.equal(nm.get(s.name), s.value, `${path}: ${s.name}`);
  }
  const pieSyms = withElfFile(b.pie, (elf) => elf.functionSymbols());
  const alpha = pieSyms.find((s) => s.name === 'pb_alpha')!;
  assert.ok(alpha.size > 0, `pb_alpha has a size (${alpha.size})`);
  assert.equal(alpha.bind, 1);
  assert.equal(pieSyms.find((s) => s.name === 'pb_static')!.bind, 0);
  assert.equal(withElfFile(b.pie, (e) => e.header.type), ET_DYN);
  assert.equal(withElfFile(b.nopie, (e) => e.header.type), ET_EXEC);
});

test('stripped binary: no .symtab, .dynsym still read', () => {
  const b = buildFixtures();
  withElfFile(b.stripped, (elf) => {
    assert.equal(elf.section('.symtab'), undefined);
    assert.deepEqual(elf.functionSymbols().filter((s) => s.source !== 'dynsym').map((s) => [s.name, s.source]), [], 'a stripped binary has only .dynsym symbols');
    assert.equal(elf.buildId(), readelfBuildId(b.stripped));
  });
});

test('file offset to virtual address through PT_LOAD', () => {
  const b = buildFixtures();
  withElfFile(b.nopie, (elf) => {
    const loads = elf.loadSegments();
    const text = loads.find((p) => (p.flags & 1) !== 0)!;
    assert.equal(text.type, PT_LOAD);
    assert.equal(fileOffsetToVaddr(loads, BigInt(text.offset) + 0x10n), text.vaddr + 0x10n);
    assert.equal(fileOffsetToVaddr(loads, BigInt(elf.fileSize) + 0x100000n), undefined);
  });
});

test('fromBuffer and open give the same result; notes iterator is public', () => {
  const b = buildFixtures();
  const buf = readFileSync(b.pie);
  const a = ElfFile.fromBuffer(buf, 'pie');
  const c = ElfFile.open(b.pie);
  try {
    assert.deepEqual(a.sections, c.sections);
    assert.deepEqual(a.functionSymbols(), c.functionSymbols());
    const notes = a.notes();
    assert.ok(notes.some((n) => n.name === 'GNU' && n.type === 3), `a GNU build-id note (notes: ${JSON.stringify(notes.map((n) => [n.name, n.type]))})`);
    assert.deepEqual(a.notes('.no.such.section'), []);
  } finally {
    c.close();
  }
});

// ---- malformed input ----

function mustFailCleanly(buf: Buffer, label: string): void {
  try {
    const elf = ElfFile.fromBuffer(buf, label);
    // If the tables parse, reading everything must also either work or throw ElfError.
    try {
      for (const stub of elf.pltStubs()) assert.ok(Number.isSafeInteger(stub.address) && stub.size > 0 && typeof stub.name === 'string', `${label}: stub ${JSON.stringify(stub)}`);
    } catch (e) {
      if (!(e instanceof ElfError)) throw e;
    }
    elf.functionSymbols();
    elf.buildId();
    elf.notes();
    for (const s of elf.sections) elf.sectionContents(s);
  } catch (e) {
    assert.ok(e instanceof ElfError, `${label}: expected ElfError, got ${e instanceof Error ? e.stack : String(e)}`);
    assert.ok(e.message.startsWith(label + ': '), e.message);
  }
}

test('malformed: clear messages for the common cases', () => {
  const b = buildFixtures();
  const good = readFileSync(b.lib);
  const bad = (mut: (x: Buffer) => Buffer | void, re: RegExp) => {
    const x = Buffer.from(good);
    const y = mut(x) ?? x;
    assert.throws(() => {
      const e = ElfFile.fromBuffer(y, 'f');
      e.functionSymbols();
    }, (err: unknown) => err instanceof ElfError && re.test(err.message));
  };
  bad((x) => x.subarray(0, 10), /truncated/);
  bad((x) => x.subarray(0, 40), /truncated/);
  bad((x) => void x.write('XELF', 0, 'latin1'), /not an ELF file/);
  bad((x) => void (x[4] = 1), /wrong class.*ELF64/);
  bad((x) => void (x[5] = 2), /wrong endianness/);
  bad((x) => void x.writeBigUInt64LE(BigInt(good.length) + 8n, 40), /out of range/); // e_shoff
  bad((x) => void x.writeBigUInt64LE(BigInt(good.length), 32), /out of range/); // e_phoff
  bad((x) => x.subarray(0, good.length - 100), /out of range|truncated/); // section table cut off
  // Section-name string table index out of range.
  bad((x) => void x.writeUInt16LE(0xfff0, 62), /e_shstrndx|out of range/);
  // A symbol's name offset past its string table.
  bad((x) => {
    const elf = ElfFile.fromBuffer(good);
    const dynsym = elf.section('.dynsym')!;
    for (let o = 24; o < dynsym.size; o += 24) x.writeUInt32LE(0xfffffff0, dynsym.offset + o); // every st_name
  }, /string table out of range/);
  // A section whose contents lie past the end of the file.
  bad((x) => {
    const elf = ElfFile.fromBuffer(good);
    const shoff = elf.header.shoff;
    const i = elf.section('.dynsym')!.index;
    x.writeBigUInt64LE(BigInt(good.length), shoff + i * 64 + 24);
  }, /section offsets out of range/);
});

test('malformed: truncation at many offsets never crashes or hangs', () => {
  const b = buildFixtures();
  const good = readFileSync(b.lib);
  const step = Math.max(1, Math.floor(good.length / 400));
  for (let n = 0; n < good.length; n += step) mustFailCleanly(good.subarray(0, n), `trunc${n}`);
});

test('malformed: random byte flips in the headers and tables never crash or hang', () => {
  const b = buildFixtures();
  const good = readFileSync(b.lib);
  const elf = ElfFile.fromBuffer(good);
  // Interesting regions: ELF header, program headers, section headers, note and symbol sections.
  const regions: [number, number][] = [
    [0, 64],
    [elf.header.phoff, elf.header.phnum * 56],
    [elf.header.shoff, elf.header.shnum * 64],
  ];
  for (const name of ['.dynsym', '.note.gnu.build-id', '.dynstr', '.symtab', '.strtab']) {
    const s = elf.section(name);
    if (s) regions.push([s.offset, Math.min(s.size, 512)]);
  }
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 3000; i++) {
    const x = Buffer.from(good);
    const [start, len] = regions[i % regions.length];
    const flips = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < flips; k++) {
      const at = start + Math.floor(rand() * len);
      x[at] = rand() < 0.3 ? 0xff : Math.floor(rand() * 256);
    }
    mustFailCleanly(x, `flip${i}`);
  }
});

test('malformed: byte flips in the PLT and its relocation tables never crash or hang (ElfError or stubs)', () => {
  const b = buildFixtures();
  const good = readFileSync(b.pie);
  const elf = ElfFile.fromBuffer(good);
  const regions = ['.plt', '.plt.sec', '.plt.got', '.rela.plt', '.rela.dyn', '.dynsym']
    .map((name) => elf.section(name))
    .filter((s) => s !== undefined)
    .map((s) => [s.offset, Math.min(s.size, 512)] as [number, number]);
  // Their section headers too (sh_entsize, sh_link, sizes).
  for (const name of ['.plt', '.rela.plt', '.rela.dyn']) {
    const s = elf.section(name);
    if (s) regions.push([elf.header.shoff + s.index * 64, 64]);
  }
  assert.ok(regions.length >= 5, 'the fixture has a PLT and relocations');
  assert.ok(elf.pltStubs().some((s) => s.name === 'printf@plt'), 'unmodified: printf@plt');
  let seed = 777;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 2000; i++) {
    const x = Buffer.from(good);
    const [start, len] = regions[i % regions.length];
    for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) x[start + Math.floor(rand() * len)] = rand() < 0.3 ? 0xff : Math.floor(rand() * 256);
    mustFailCleanly(x, `pltflip${i}`);
  }
});

test('malformed: note with a huge size is rejected, not read', () => {
  const b = buildFixtures();
  const good = Buffer.from(readFileSync(b.lib));
  const s = ElfFile.fromBuffer(good).section('.note.gnu.build-id')!;
  good.writeUInt32LE(0xffffffff, s.offset + 4); // descsz
  assert.throws(() => ElfFile.fromBuffer(good, 'n').buildId(), /note out of range/);
});

test('open: missing file and non-ELF files', () => {
  assert.throws(() => ElfFile.open('/nonexistent/x'), /ENOENT/);
  assert.throws(() => ElfFile.open('/etc/hostname'), /not an ELF file|truncated/);
  assert.throws(() => ElfFile.open('/proc'), /EISDIR|not a regular file/);
});

test('malformed: many symbols naming one huge string are bounded in time and memory', () => {
  const b = buildFixtures();
  const good = Buffer.from(readFileSync(b.lib));
  const elf = ElfFile.fromBuffer(good);
  const symtab = elf.section('.symtab')!;
  const strtab = elf.sections[symtab.link];
  // Every symbol becomes a defined function named by the whole string table (one long name).
  good.fill(0x41, strtab.offset, strtab.offset + strtab.size - 1);
  for (let o = 24; o < symtab.size; o += 24) {
    good.writeUInt32LE(0, symtab.offset + o);
    good[symtab.offset + o + 4] = (1 << 4) | 2;
    good.writeUInt16LE(1, symtab.offset + o + 6);
  }
  const t0 = Date.now();
  try {
    const syms = ElfFile.fromBuffer(good, 'h').functionSymbols().filter((x) => x.source === 'symtab');
    const total = syms.reduce((n, x) => n + x.name.length, 0);
    assert.ok(total <= strtab.size * 4 + 65536, `${total} bytes of names from a ${strtab.size}-byte table`);
  } catch (e) {
    assert.match(String(e), /string table out of range: names read/);
  }
  assert.ok(Date.now() - t0 < 1000, `the hostile table is refused, not walked (${Date.now() - t0} ms)`);
});

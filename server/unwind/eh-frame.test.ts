import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ElfFile, withElfFile } from '../symbolizer/elf.ts';
import { CfiError, cieInitialRow, executeFde, parseCfiSection, parseEhFrameHdr, readCfiFile, readElfCfi, type CfiSection, type UnwindRow } from './eh-frame.ts';
import { compareWithReadelf, EhFrameBuilder, formatRows, rowsAsText, sleb, u16, u32, u64, uleb, type TextRow } from './testing.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WORKLOADS = path.join(HERE, '../../test/workloads');
const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

// ---------------------------------------------------------------------------------------------
// Against readelf on real binaries

let outDir: string | undefined;
/** Compiles a C file with the given flags (the Debian way by default: -O2, no frame pointers). */
function compile(source: string, flags: string[], tag: string): string {
  outDir ??= mkdtempSync(path.join(tmpdir(), 'pb-unwind-'));
  const output = path.join(outDir, `${path.basename(source, '.c')}-${tag}`);
  execFileSync('gcc', [...flags, '-o', output, source], { stdio: ['ignore', 'ignore', 'inherit'] });
  return output;
}

function assertAgreesWithReadelf(binary: string, sample = 1): ReturnType<typeof compareWithReadelf> {
  const result = compareWithReadelf(binary, readCfiFile, executeFde, cieInitialRow, { sample });
  assert.deepEqual(result.mismatches, [], `${binary}: ${result.mismatches.length} differences from readelf:\n${result.mismatches.join('\n')}`);
  assert.equal(result.uncomparable, 0, `${binary}: ${result.uncomparable} FDEs readelf printed no row for`);
  return result;
}

test('libc.so.6: every FDE and row agrees with readelf --debug-dump=frames-interp', () => {
  const r = assertAgreesWithReadelf(LIBC);
  assert.ok(r.fdes['.eh_frame'] > 1000, `libc FDEs compared: ${r.fdes['.eh_frame']}`);
  assert.ok(r.rows > 10000, `libc rows compared: ${r.rows}`);
});

test('python3.11: every FDE and row agrees with readelf', () => {
  const r = assertAgreesWithReadelf('/usr/bin/python3.11');
  assert.ok(r.fdes['.eh_frame'] > 5000, `python3.11 FDEs compared: ${r.fdes['.eh_frame']}`);
});

test('libstdc++ (personality and LSDA augmentations) and the dynamic loader agree with readelf', () => {
  const stdcxx = assertAgreesWithReadelf('/lib/x86_64-linux-gnu/libstdc++.so.6');
  assert.ok(stdcxx.fdes['.eh_frame'] > 3000, `libstdc++ FDEs compared: ${stdcxx.fdes['.eh_frame']}`);
  const ld = assertAgreesWithReadelf('/lib64/ld-linux-x86-64.so.2');
  assert.ok(ld.fdes['.eh_frame'] > 100, `ld.so FDEs compared: ${ld.fdes['.eh_frame']}`);
});

test('node (process.execPath): a quarter of its ~75k FDEs agree with readelf', { timeout: 120_000 }, () => {
  const r = assertAgreesWithReadelf(process.execPath, 0.25);
  assert.ok(r.fdes['.eh_frame'] > 10000, `node FDEs compared: ${r.fdes['.eh_frame']}`);
});

test('chromium: half of its FDEs agree with readelf', { timeout: 60_000 }, () => {
  const r = assertAgreesWithReadelf('/usr/lib/chromium/chromium', 0.5);
  assert.ok(r.fdes['.eh_frame'] > 1000, `chromium FDEs compared: ${r.fdes['.eh_frame']}`);
});

test('programs compiled here (no frame pointers, frame pointers, .debug_frame) agree with readelf', () => {
  const shapes = path.join(HERE, 'testdata/cfi-shapes.c');
  const debian = compile(shapes, ['-O2'], 'o2');
  const withFp = compile(shapes, ['-O2', '-fno-omit-frame-pointer'], 'fp');
  // Without asynchronous unwind tables and with -g, gcc puts the program's CFI in .debug_frame.
  const debugFrame = compile(shapes, ['-O1', '-g', '-fno-asynchronous-unwind-tables'], 'debug-frame');
  const spin = compile(path.join(WORKLOADS, 'spin.c'), ['-O2'], 'o2');
  for (const bin of [debian, withFp, debugFrame, spin]) assertAgreesWithReadelf(bin);

  // The shapes the source was written to produce are really there (else the comparison proves little).
  const rowsOf = (bin: string, section: 'ehFrame' | 'debugFrame'): TextRow[] => rowsAsText(readCfiFile(bin)[section]!.fdes.flatMap((f) => executeFde(f)));
  const o2 = rowsOf(debian, 'ehFrame');
  assert.ok(o2.some((r) => r.cfa.startsWith('rbp+')), `an RBP-based CFA (the VLA) in:\n${formatRows(o2)}`);
  assert.ok(o2.some((r) => /^rsp\+7\d{4}$/.test(r.cfa)), `a CFA offset above 70000 (the big frame) in:\n${formatRows(o2)}`);
  assert.ok(o2.some((r) => r.ra === 'u'), `the outermost frame (_start: return address undefined) in:\n${formatRows(o2)}`);
  const df = readCfiFile(debugFrame).debugFrame;
  assert.ok(df && df.fdes.length >= 4, `.debug_frame FDEs of the -g build: ${df?.fdes.length}`);
  assert.ok(rowsOf(withFp, 'ehFrame').filter((r) => r.cfa === 'rbp+16').length >= 4, 'frame-pointer build: CFA = rbp+16 in each function body');
});

test('augmentations: personality, LSDA and signal frames are decoded', () => {
  const stdcxx = '/lib/x86_64-linux-gnu/libstdc++.so.6';
  withElfFile(stdcxx, (elf) => {
    const cfi = readElfCfi(elf).ehFrame!;
    const zplr = [...cfi.cies.values()].filter((c) => c.augmentation === 'zPLR');
    assert.ok(zplr.length > 0, `a zPLR CIE among ${[...cfi.cies.values()].map((c) => c.augmentation).join(',')}`);
    const inSection = (addr: number, name: string) => {
      const s = elf.section(name)!;
      return addr >= Number(s.addr) && addr < Number(s.addr) + s.size;
    };
    for (const c of zplr) {
      assert.ok(c.personality, `CIE 0x${c.offset.toString(16)} has a personality`);
      // gcc points at DW.ref.__gxx_personality_v0, a pointer slot: indirect, in writable data.
      const where = elf.sections.find((s) => c.personality!.address >= Number(s.addr) && c.personality!.address < Number(s.addr) + s.size && s.addr > 0n);
      assert.ok(c.personality.indirect && where && (where.flags & 1n) === 1n, `personality slot 0x${c.personality.address.toString(16)} (indirect ${c.personality.indirect}) in ${where?.name}`);
    }
    const withLsda = cfi.fdes.filter((f) => f.lsda !== undefined);
    assert.ok(withLsda.length > 100, `FDEs with an LSDA: ${withLsda.length}`);
    const outside = withLsda.filter((f) => !inSection(f.lsda!, '.gcc_except_table'));
    assert.equal(outside.length, 0, `LSDAs outside .gcc_except_table: ${outside.slice(0, 5).map((f) => f.lsda!.toString(16))}`);
  });
  // glibc's __restore_rt (the signal return trampoline) has its own 'zRS' CIE.
  const libc = readCfiFile(LIBC).ehFrame!;
  const signal = libc.fdes.filter((f) => f.cie.signalFrame);
  assert.ok(signal.length >= 1 && signal.every((f) => f.cie.augmentation.includes('S')), `signal-frame FDEs: ${signal.length}`);
});

test('.eh_frame_hdr: its search table points at exactly our FDEs', () => {
  withElfFile(LIBC, (elf) => {
    const hdrSection = elf.section('.eh_frame_hdr')!;
    const ehSection = elf.section('.eh_frame')!;
    const hdr = parseEhFrameHdr(elf.sectionContents(hdrSection), Number(hdrSection.addr));
    assert.equal(hdr.ehFrameAddress, Number(ehSection.addr), 'eh_frame_ptr');
    const cfi = readElfCfi(elf).ehFrame!;
    const byAddress = new Map(cfi.fdes.map((f) => [Number(ehSection.addr) + f.offset, f]));
    assert.equal(hdr.table.length, cfi.fdes.length, 'one table entry per FDE');
    for (const e of hdr.table) {
      const f = byAddress.get(e.fdeAddress);
      assert.ok(f && f.pcBegin === e.pc, `table entry pc 0x${e.pc.toString(16)} -> FDE at 0x${e.fdeAddress.toString(16)} (our pc 0x${f?.pcBegin.toString(16)})`);
    }
    for (let i = 1; i < hdr.table.length; i++) assert.ok(hdr.table[i - 1].pc <= hdr.table[i].pc, `table sorted at ${i}`);
  });
});

test('without section headers, .eh_frame is found through PT_GNU_EH_FRAME and parses the same', () => {
  const file = readFileSync(LIBC);
  const normal = readElfCfi(ElfFile.fromBuffer(file, 'libc')).ehFrame!;
  // Drop the section header table from the ELF header: e_shoff (8 bytes at 40), e_shnum and e_shstrndx (2 each at 60, 62).
  const stripped = Buffer.from(file);
  stripped.fill(0, 40, 48);
  stripped.fill(0, 60, 64);
  const elf = ElfFile.fromBuffer(stripped, 'libc without section headers');
  assert.equal(elf.sections.length, 0);
  const found = readElfCfi(elf).ehFrame!;
  assert.equal(found.address, normal.address, '.eh_frame address from eh_frame_ptr');
  const key = (c: CfiSection) => c.fdes.map((f) => `${f.offset.toString(16)}:${f.pcBegin.toString(16)}..${f.pcEnd.toString(16)}`).join(' ');
  assert.equal(found.fdes.length, normal.fdes.length);
  assert.equal(key(found), key(normal));
  assert.deepEqual(found.errors, []);
  const rows = (c: CfiSection) => formatRows(rowsAsText(c.fdes.slice(0, 200).flatMap((f) => executeFde(f))));
  assert.equal(rows(found), rows(normal));
});

// ---------------------------------------------------------------------------------------------
// Synthetic CFI: every instruction and encoding, with hand-computed tables

const text = (rows: UnwindRow[]) => formatRows(rowsAsText(rows));
const X86_CIE_INITIAL = [0x0c, 7, 8, 0x90, 1]; // def_cfa rsp+8; offset r16 at cfa-8

test('synthetic: every CFA instruction executes to the hand-computed table', () => {
  const b = new EhFrameBuilder();
  const cie = b.cie('zR', [0x1b /* pcrel|sdata4 */], X86_CIE_INITIAL);
  // pc_begin is pcrel: the field sits at (FDE offset + 8); make the FDE start at 0x1000.
  const fdeAt = b.bytes.length;
  const pcField = fdeAt + 8;
  const ops = [
    0x41, // advance_loc 1                          -> 0x1001
    0x0e, 16, // def_cfa_offset 16
    0x86, 2, // offset r6 at cfa-16
    0x02, 3, // advance_loc1 3                      -> 0x1004
    0x0d, 6, // def_cfa_register rbp               (rbp+16)
    0x03, ...u16(0x100), // advance_loc2 256        -> 0x1104
    0x0a, // remember_state
    0x0c, 7, 8, // def_cfa rsp+8
    0xc6, // restore r6 (CIE: unset)
    0x2e, 32, // GNU_args_size 32 (no effect)
    0x04, ...u32(0x10), // advance_loc4 16         -> 0x1114
    0x0b, // restore_state                          (rbp+16, rbp at c-16)
    0x41, // advance_loc 1                          -> 0x1115
    0x12, 7, ...sleb(-3), // def_cfa_sf rsp, -3*-8 = +24
    0x11, 6, ...sleb(-4), // offset_extended_sf r6 at -4*-8 = +32
    0x41, //                                        -> 0x1116
    0x13, ...sleb(-5), // def_cfa_offset_sf: +40
    0x14, 6, 2, // val_offset r6 = cfa-16
    0x41, //                                        -> 0x1117
    0x15, 6, ...sleb(1), // val_offset_sf r6 = cfa-8
    0x08, 16, // same_value r16
    0x41, //                                        -> 0x1118
    0x09, 6, 3, // register r6 in rbx
    0x07, 16, // undefined r16
    0x41, //                                        -> 0x1119
    0x10, 6, 2, 0x76, 0x00, // expression r6: breg6 0
    0x16, 16, 1, 0x9c, // val_expression r16: call_frame_cfa
    0x41, //                                        -> 0x111a
    0x0f, 2, 0x77, 0x10, // def_cfa_expression breg7 16
    0x06, 6, // restore_extended r6 (unset)
    0x05, 16, 1, // offset_extended r16 at cfa-8
    0x41, //                                        -> 0x111b
    0x2f, 6, 2, // GNU_negative_offset_extended r6: -(2 * -8) = +16
    0x0c, 7, 8,
    0x00, // nop
  ];
  b.fde(cie, [...u32(0x1000 - pcField), ...u32(0x200)], ops);
  const cfi = parseCfiSection(b.buffer(), { kind: 'eh_frame', address: 0 });
  assert.deepEqual(cfi.errors, []);
  assert.equal(cfi.fdes.length, 1);
  const fde = cfi.fdes[0];
  assert.equal(fde.pcBegin, 0x1000, `pcrel pc_begin 0x${fde.pcBegin.toString(16)}`);
  assert.equal(fde.pcEnd, 0x1200);
  const expected = [
    '1000 rsp+8 rbp=u ra=c-8',
    '1001 rsp+16 rbp=c-16 ra=c-8',
    '1004 rbp+16 rbp=c-16 ra=c-8',
    '1104 rsp+8 rbp=u ra=c-8',
    '1114 rbp+16 rbp=c-16 ra=c-8',
    '1115 rsp+24 rbp=c+32 ra=c-8',
    '1116 rsp+40 rbp=v-16 ra=c-8',
    '1117 rsp+40 rbp=v-8 ra=s',
    '1118 rsp+40 rbp=rbx ra=u',
    '1119 rsp+40 rbp=exp ra=vexp',
    '111a exp rbp=u ra=c-8',
    '111b rsp+8 rbp=c+16 ra=c-8',
  ].join('\n');
  const rows = executeFde(fde);
  assert.equal(text(rows), expected);
  assert.equal(rows[rows.length - 1].end, 0x1200, 'last row ends at pc_end');
  for (let i = 1; i < rows.length; i++) assert.equal(rows[i].start, rows[i - 1].end, `rows contiguous at ${i}`);
  const exprRow = rows.find((r) => r.cfa.type === 'expression')!;
  assert.deepEqual(exprRow.cfa, { type: 'expression', expression: Buffer.from([0x77, 0x10]) });
});

test('synthetic: pointer encodings (absptr, udata4, sdata8, datarel) and set_loc', () => {
  const b = new EhFrameBuilder();
  // 'zPLR': personality absptr|indirect... kept direct here; LSDA udata4; FDE addresses absptr.
  const cieAbs = b.cie('zPLR', [0x00, ...u64(0x5000), 0x03, 0x00], X86_CIE_INITIAL);
  b.fde(cieAbs, [...u64(0x400000), ...u64(0x40)], [0x01, ...u64(0x400010), 0x0e, 16], [...u32(0x6000)]);
  const cieData = b.cie('zR', [0x30 | 0x0c /* datarel|sdata8 */], X86_CIE_INITIAL);
  b.fde(cieData, [...u64(0x100), ...u64(0x10)], []);
  const cieU4 = b.cie('zR', [0x03 /* udata4 */], X86_CIE_INITIAL);
  b.fde(cieU4, [...u32(0x7000), ...u32(0x8)], [0x48, 0x0e, 24]);
  const cfi = parseCfiSection(b.buffer(), { kind: 'eh_frame', address: 0x9000, dataBase: 0x200000 });
  assert.deepEqual(cfi.errors.map((e) => e.message), []);
  const [abs, data, u4] = cfi.fdes;
  assert.deepEqual(abs.cie.personality, { address: 0x5000, indirect: false });
  assert.equal(abs.lsda, 0x6000);
  assert.equal(text(executeFde(abs)), '400000 rsp+8 rbp=u ra=c-8\n400010 rsp+16 rbp=u ra=c-8');
  assert.equal(data.pcBegin, 0x200100, 'datarel: dataBase + 0x100');
  assert.equal(data.pcEnd, 0x200110);
  assert.equal(u4.pcBegin, 0x7000);
  assert.equal(text(executeFde(u4)), '7000 rsp+8 rbp=u ra=c-8');
  // Without a data base, datarel cannot be resolved: that FDE is skipped and the error kept.
  const noBase = parseCfiSection(b.buffer(), { kind: 'eh_frame', address: 0x9000 });
  assert.equal(noBase.fdes.length, 2);
  assert.match(noBase.errors[0]?.message ?? '', /datarel without a data base/);
});

test('synthetic .debug_frame: DWARF 4 CIE (address_size), 64-bit entries, a CIE after its FDE', () => {
  const bytes: number[] = [];
  // FDE first (32-bit format), pointing forward to the CIE at offset 0x30.
  const fdeBody = [...u32(0x30), ...u64(0x1234), ...u64(0x20), 0x44, 0x0e, 16];
  while ((fdeBody.length + 4) % 8) fdeBody.push(0);
  bytes.push(...u32(fdeBody.length), ...fdeBody);
  while (bytes.length < 0x30) bytes.push(...u32(0)); // zero-length entries (padding)
  const cieBody = [...u32(0xffffffff), 4, 0, 8, 0, ...uleb(1), ...sleb(-8), ...uleb(16), ...X86_CIE_INITIAL];
  while ((cieBody.length + 4) % 8) cieBody.push(0);
  bytes.push(...u32(cieBody.length), ...cieBody);
  // A 64-bit-format FDE (initial length 0xffffffff, then 8 bytes) pointing back at the CIE.
  const fde64Body = [...u64(0x30), ...u64(0x2000), ...u64(0x10), 0x42, 0x0e, 32];
  bytes.push(...u32(0xffffffff), ...u64(fde64Body.length), ...fde64Body);
  const cfi = parseCfiSection(Buffer.from(bytes), { kind: 'debug_frame' });
  assert.deepEqual(cfi.errors.map((e) => e.message), []);
  assert.equal(cfi.cies.get(0x30)?.version, 4);
  assert.equal(cfi.terminators, 4, 'four zero words of padding before the CIE');
  assert.deepEqual(cfi.fdes.map((f) => [f.pcBegin, f.pcEnd]), [[0x1234, 0x1254], [0x2000, 0x2010]]);
  assert.equal(text(executeFde(cfi.fdes[0])), '1234 rsp+8 rbp=u ra=c-8\n1238 rsp+16 rbp=u ra=c-8');
  assert.equal(text(executeFde(cfi.fdes[1])), '2000 rsp+8 rbp=u ra=c-8\n2002 rsp+32 rbp=u ra=c-8');
});

test('synthetic: malformed instructions and entries give CfiError naming the offset', () => {
  const cases: [string, number[], RegExp][] = [
    ['restore_state without remember', [0x0b], /restore_state without DW_CFA_remember_state/],
    ['unknown opcode', [0x3f], /unknown CFA instruction 0x3f/],
    ['overlong ULEB', [0x0e, ...Array(12).fill(0x80)], /longer than 10 bytes|truncated/],
    ['block past the end', [0x0f, 0x40, 0x77], /runs past the end/],
    ['def_cfa_offset after an expression', [0x0f, 1, 0x9c, 0x0e, 8], /not register-based/],
    ['set_loc backwards', [0x01, ...u32(0)], /backwards/],
    ['remember_state nested too deep', Array(65).fill(0x0a), /nested/],
  ];
  for (const [what, ops, re] of cases) {
    const b = new EhFrameBuilder();
    const cie = b.cie('zR', [0x03], X86_CIE_INITIAL);
    b.fde(cie, [...u32(0x1000), ...u32(0x100)], ops);
    const cfi = parseCfiSection(b.buffer(), { kind: 'eh_frame' });
    assert.equal(cfi.fdes.length, 1, what);
    assert.throws(
      () => executeFde(cfi.fdes[0]),
      (e: unknown) => e instanceof CfiError && re.test(e.message) && e.offset >= 0x18,
      what,
    );
  }
  // Entry-level problems: the FDE is skipped and the reason recorded.
  const bad = new EhFrameBuilder();
  const cie = bad.cie('zR', [0x03], X86_CIE_INITIAL);
  bad.fde(cie + 4, [...u32(0x1000), ...u32(0x10)], []); // CIE pointer into the middle of the CIE
  const unknown = bad.cie('zQR', [0x00, 0x03], X86_CIE_INITIAL); // unknown letter before 'R': refused
  bad.fde(unknown, [...u32(0x2000), ...u32(0x10)], []);
  bad.cie('eh', [], []); // obsolete, refused
  const cfi = parseCfiSection(bad.buffer(), { kind: 'eh_frame' });
  assert.equal(cfi.fdes.length, 0);
  const messages = cfi.errors.map((e) => e.message);
  assert.equal(messages.length, 4, messages.join('\n'));
  assert.match(messages[0], /CIE pointer 0x.* does not point at an entry \(0x4\)/);
  assert.match(messages[1], /unknown augmentation letter 'Q' in 'zQR'/);
  assert.match(messages[2], /CIE at 0x\w+ is malformed \(.*unknown augmentation letter/);
  assert.match(messages[3], /obsolete augmentation 'eh'/);
  // A length past the end is a framing error: the whole section is refused.
  assert.throws(() => parseCfiSection(Buffer.from([...u32(100), 0, 0, 0, 0]), { kind: 'eh_frame' }), (e: unknown) => e instanceof CfiError && /runs past the section end/.test(e.message));
});

// ---------------------------------------------------------------------------------------------
// Hostile input: only CfiError, bounded time and memory

/** Deterministic PRNG (mulberry32) so a failing case can be replayed from its seed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Parses and executes everything; returns counts, and checks the memory bounds the parser promises. */
function parseAllowingOnlyCfiErrors(data: Buffer, label: string): { fdes: number; rows: number; errors: number } {
  let cfi: CfiSection;
  try {
    cfi = parseCfiSection(data, { kind: 'eh_frame', address: 0x1a8f40, dataBase: 0x1d2d60 });
  } catch (e) {
    if (e instanceof CfiError) return { fdes: 0, rows: 0, errors: 1 };
    throw new Error(`${label}: parseCfiSection threw a non-CfiError: ${(e as Error).stack}`);
  }
  let rows = 0;
  let errors = cfi.errors.length;
  let instructionBytes = 0;
  for (const fde of cfi.fdes) {
    instructionBytes += fde.instructions.length;
    try {
      rows += executeFde(fde).length;
    } catch (e) {
      if (!(e instanceof CfiError)) throw new Error(`${label}: executeFde threw a non-CfiError: ${(e as Error).stack}`);
      errors++;
    }
  }
  assert.ok(cfi.fdes.length <= data.length / 8, `${label}: ${cfi.fdes.length} FDEs from ${data.length} bytes`);
  assert.ok(rows <= instructionBytes + cfi.fdes.length, `${label}: ${rows} rows from ${instructionBytes} instruction bytes`);
  return { fdes: cfi.fdes.length, rows, errors };
}

/** The first entries of libc's .eh_frame, cut at an entry boundary at or below `maxBytes`. */
function libcEhFramePrefix(maxBytes: number): Buffer {
  const all = withElfFile(LIBC, (elf) => Buffer.from(elf.sectionContents(elf.section('.eh_frame')!)));
  let end = 0;
  while (end + 4 <= all.length) {
    const next = end + 4 + all.readUInt32LE(end);
    if (next > maxBytes || next === end + 4) break;
    end = next;
  }
  return all.subarray(0, end);
}

test('fuzz: random byte flips of libc .eh_frame raise only CfiError, within bounds', { timeout: 120_000 }, () => {
  // The first 24 KB (about 600 FDEs) keeps each round fast; flips land anywhere in it.
  const original = libcEhFramePrefix(24 * 1024);
  const clean = parseAllowingOnlyCfiErrors(original, 'unmodified prefix');
  assert.ok(clean.fdes > 300, `FDEs in the prefix: ${clean.fdes}`);
  let sawErrors = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const rand = prng(seed);
    const data = Buffer.from(original);
    const flips = 1 + Math.floor(rand() * 16);
    for (let i = 0; i < flips; i++) data[Math.floor(rand() * data.length)] = Math.floor(rand() * 256);
    const started = performance.now();
    const r = parseAllowingOnlyCfiErrors(data, `seed ${seed}`);
    if (r.errors > 0) sawErrors++;
    // Linear work: a clean parse of this prefix takes a few ms; 2 s means something loops.
    assert.ok(performance.now() - started < 2000, `seed ${seed} took ${performance.now() - started} ms`);
  }
  assert.ok(sawErrors > 30, `corruptions detected in ${sawErrors} of 300 rounds`);
});

test('fuzz: truncations of libc .eh_frame at every entry boundary and at random offsets', () => {
  const original = libcEhFramePrefix(16 * 1024);
  const rand = prng(42);
  const cuts = new Set<number>();
  for (let i = 0; i < 200; i++) cuts.add(Math.floor(rand() * original.length));
  for (let off = 0; off + 4 <= original.length; ) {
    const len = original.readUInt32LE(off);
    if (len === 0) break;
    cuts.add(off + 4 + len - 1);
    cuts.add(off + 2);
    off += 4 + len;
  }
  let refused = 0;
  for (const cut of cuts) {
    const r = parseAllowingOnlyCfiErrors(Buffer.from(original.subarray(0, cut)), `cut at ${cut}`);
    if (r.errors > 0) refused++;
  }
  assert.ok(refused > cuts.size / 2, `truncations detected: ${refused} of ${cuts.size}`);
});

test('hostile: many FDEs sharing one huge CIE cost time linear in the input', () => {
  const b = new EhFrameBuilder();
  // 64 KB of initial instructions (DW_CFA_offset r3 repeated) shared by 20,000 FDEs.
  const initial = [...X86_CIE_INITIAL];
  while (initial.length < 64 * 1024) initial.push(0x83, 2);
  const cie = b.cie('zR', [0x03], initial);
  for (let i = 0; i < 20_000; i++) b.fde(cie, [...u32(0x1000 + i * 16), ...u32(16)], [0x44, 0x0e, 16]);
  const started = performance.now();
  const r = parseAllowingOnlyCfiErrors(b.buffer(), 'shared CIE');
  const ms = performance.now() - started;
  assert.equal(r.fdes, 20_000);
  assert.equal(r.rows, 40_000);
  // Re-running 64 KB per FDE would be 1.3 G steps (minutes); cached, it is well under a second.
  assert.ok(ms < 5000, `took ${ms} ms`);

  // The same CIE made malformed at its very end: its 64 KB are run once, not once per FDE.
  const broken = new EhFrameBuilder();
  const badCie = broken.cie('zR', [0x03], [...initial, 0x3f]);
  for (let i = 0; i < 20_000; i++) broken.fde(badCie, [...u32(0x1000 + i * 16), ...u32(16)], []);
  const started3 = performance.now();
  const b3 = parseAllowingOnlyCfiErrors(broken.buffer(), 'malformed shared CIE');
  const ms3 = performance.now() - started3;
  assert.equal(b3.fdes, 20_000);
  assert.equal(b3.errors, 20_000, 'every FDE of the malformed CIE fails to execute');
  assert.ok(ms3 < 5000, `took ${ms3} ms`);

  // FDEs pointing into the middle of that CIE (each a different would-be CIE, 64 KB of bytes
  // each) are refused without parsing anything there.
  const inside = new EhFrameBuilder();
  const big = inside.cie('zR', [0x03], initial);
  for (let i = 0; i < 20_000; i++) inside.fde(big + 64 + 2 * i, [...u32(0x1000 + i * 16), ...u32(16)], []);
  const started2 = performance.now();
  const cfi = parseCfiSection(inside.buffer(), { kind: 'eh_frame' });
  const ms2 = performance.now() - started2;
  assert.equal(cfi.fdes.length, 0);
  assert.equal(cfi.errors.length, 20_000);
  assert.match(cfi.errors[0].message, /does not point at an entry/);
  assert.ok(ms2 < 5000, `took ${ms2} ms`);
});

test('not an ELF / no CFI: clear results', () => {
  assert.throws(() => readCfiFile('/etc/passwd'), (e: unknown) => e instanceof Error && e.name === 'ElfError');
  const elf = ElfFile.open(LIBC);
  try {
    assert.equal(readElfCfi(elf).debugFrame, undefined, 'Debian libc has no .debug_frame');
  } finally {
    elf.close();
  }
});

/**
 * Call-frame information (CFI) of an x86-64 ELF: `.eh_frame` (the GCC/LSB flavour that every
 * distribution binary carries for C++ exceptions and unwinding) and `.debug_frame` (the DWARF
 * flavour, present when a binary was built with `-g -fno-asynchronous-unwind-tables` or kept its
 * debug sections). Parses CIEs and FDEs, and executes the DWARF CFA instructions of an FDE into a
 * row table: for each address range, how to compute the CFA (canonical frame address: the value
 * of RSP just before the call that entered the function) and where the caller's RBP (DWARF
 * register 6) and the return address (the CIE's return-address column, 16 = RIP on x86-64) are.
 *
 * References: DWARF 5 §6.4 (call frame information), LSB 5.0 §10.6 (.eh_frame and its pointer
 * encodings), System V x86-64 psABI §3.6 (DWARF register numbers).
 *
 * Guarantees, for any input bytes (hostile or truncated):
 * - The only error thrown is CfiError (naming the section and byte offset). A malformed section
 *   header/length throws from `parseCfiSection`; a malformed single CIE or FDE (bad CIE pointer,
 *   unknown augmentation, address out of range) is skipped and recorded in `CfiSection.errors`,
 *   so one bad entry does not hide the rest. `executeFde` throws CfiError for bad instructions.
 * - Every loop advances through the input by at least one byte per iteration, so time is linear
 *   in the section size; memory is bounded by it too: FDE count ≤ size / 8, rows per FDE ≤
 *   instruction bytes + 1, remembered states ≤ MAX_REMEMBERED_STATES. A CIE's initial
 *   instructions run once per CIE (cached), not once per FDE, and an FDE may only point at the
 *   start of an entry (so CIEs never overlap), so many FDEs sharing one huge CIE, or pointing
 *   into each other's bytes, cannot multiply the work.
 * - Addresses are JavaScript numbers (ELF virtual addresses; any real x86-64 user address is
 *   below 2^47, far under 2^53). An address that does not fit in a safe integer is an error.
 */
import { ElfFile, type SectionHeader } from '../symbolizer/elf.ts';

/** Thrown for malformed call-frame information; `offset` is the byte offset in the section. */
export class CfiError extends Error {
  constructor(
    readonly section: string,
    readonly offset: number,
    message: string,
  ) {
    super(`${section}+0x${offset.toString(16)}: ${message}`);
    this.name = 'CfiError';
  }
}

/** DW_EH_PE_* pointer encodings (LSB 5.0 §10.5.1): low nibble = format, high nibble = base. */
export const DW_EH_PE = {
  absptr: 0x00,
  uleb128: 0x01,
  udata2: 0x02,
  udata4: 0x03,
  udata8: 0x04,
  sleb128: 0x09,
  sdata2: 0x0a,
  sdata4: 0x0b,
  sdata8: 0x0c,
  pcrel: 0x10,
  textrel: 0x20,
  datarel: 0x30,
  funcrel: 0x40,
  aligned: 0x50,
  indirect: 0x80,
  omit: 0xff,
} as const;

/** DWARF register numbers on x86-64 that the unwinder cares about (psABI table 3.36). */
export const X86_64_RBP = 6;
export const X86_64_RSP = 7;
export const X86_64_RIP = 16;

/** A CFA instruction may remember at most this many nested states (GCC emits depth 1). */
const MAX_REMEMBERED_STATES = 64;
const TWO_64 = 1n << 64n;

export type CfiSectionKind = 'eh_frame' | 'debug_frame';

export interface Cie {
  /** Byte offset of the entry (its length field) in the section. */
  offset: number;
  version: number;
  /** e.g. 'zR', 'zPLR', 'zRS'; '' in most .debug_frame CIEs. */
  augmentation: string;
  /** Multiplier of DW_CFA_advance_loc* deltas (bytes of code; 1 on x86-64). */
  codeAlignment: number;
  /** Multiplier of factored offsets (bytes; -8 on x86-64). */
  dataAlignment: number;
  /** The DWARF register column holding the return address (16 on x86-64). */
  returnAddressRegister: number;
  /** DW_EH_PE encoding of FDE addresses ('R'); absptr when absent. */
  fdeEncoding: number;
  /** DW_EH_PE encoding of the FDE's LSDA pointer ('L'); omit when absent. */
  lsdaEncoding: number;
  /** Personality routine ('P'): the address as encoded, and whether it is indirect (the address of a pointer). */
  personality?: { address: number; indirect: boolean };
  /** 'S': FDEs of this CIE describe a signal trampoline (e.g. glibc's __restore_rt). */
  signalFrame: boolean;
  /** Bytes of an address: 8, or the DWARF 4 CIE's address_size. */
  addressSize: number;
  /** The initial instructions (a view of the section bytes). */
  initialInstructions: Buffer;
  /** Section offset where initialInstructions start (for error messages). */
  instructionsOffset: number;
  /** Name of the section it came from, for errors. */
  section: string;
  /** ELF virtual address of that section (the base of pc-relative pointers in DW_CFA_set_loc). */
  sectionAddress: number;
}

export interface Fde {
  /** Byte offset of the entry (its length field) in the section. */
  offset: number;
  cie: Cie;
  /** First address covered (ELF virtual address). */
  pcBegin: number;
  /** One past the last address covered. */
  pcEnd: number;
  /** Address of the language-specific data area ('L'), when present and not zero. */
  lsda?: number;
  /** The CFA instructions (a view of the section bytes). */
  instructions: Buffer;
  /** Section offset where instructions start (for error messages). */
  instructionsOffset: number;
}

export interface CfiSection {
  kind: CfiSectionKind;
  /** Section name used in errors, e.g. '.eh_frame'. */
  name: string;
  /** ELF virtual address of the section's first byte (0 for .debug_frame, which is not loaded). */
  address: number;
  /** CIEs by section offset. */
  cies: Map<number, Cie>;
  /** FDEs in section order. */
  fdes: Fde[];
  /** Entries skipped because they were malformed (their FDEs are not in `fdes`). */
  errors: CfiError[];
  /** Zero-length entries (the .eh_frame terminator and any padding). */
  terminators: number;
}

export interface CfiSectionOptions {
  kind: CfiSectionKind;
  /** Name for messages; defaults to '.eh_frame' / '.debug_frame'. */
  name?: string;
  /** ELF virtual address of the section (sh_addr): the base of DW_EH_PE_pcrel. */
  address?: number;
  /** Base of DW_EH_PE_datarel (the GOT on x86-64); datarel pointers are an error when absent. */
  dataBase?: number;
  /** Base of DW_EH_PE_textrel (.text's address); textrel pointers are an error when absent. */
  textBase?: number;
  /**
   * Stop at the first zero terminator, as libgcc's unwinder does: for an .eh_frame found through
   * .eh_frame_hdr, whose size is unknown and whose bytes run on to the end of the segment.
   */
  untilTerminator?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Byte reader

/**
 * Reads little-endian values from [pos, end) of a buffer; any read past `end` throws CfiError.
 * `base` is the section offset of buf[0] (non-zero when `buf` is a view of part of a section),
 * so errors and pc-relative pointers use section offsets.
 */
class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
    readonly section: string,
    readonly base = 0,
  ) {}

  fail(message: string, at = this.pos): never {
    throw new CfiError(this.section, this.base + at, message);
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) this.fail(`truncated: ${what} needs ${n} bytes, ${this.end - this.pos} left`);
  }

  u8(what = 'byte'): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }
  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  s16(what = 's16'): number {
    this.need(2, what);
    const v = this.buf.readInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  s32(what = 's32'): number {
    this.need(4, what);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(what = 'u64'): bigint {
    this.need(8, what);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  s64(what = 's64'): bigint {
    this.need(8, what);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Unsigned LEB128; values above 2^53 are an error (no real CFI field is that large). */
  uleb(what = 'ULEB128'): number {
    const start = this.pos;
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) this.fail(`truncated ${what}`, start);
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) break;
      scale *= 128;
      // Ten bytes hold 64 bits; anything longer is padding nobody emits, or garbage.
      if (this.pos - start >= 10) this.fail(`${what} longer than 10 bytes`, start);
    }
    if (!Number.isSafeInteger(result)) this.fail(`${what} ${result} is out of range`, start);
    return result;
  }

  /** Signed LEB128, range as for uleb. */
  sleb(what = 'SLEB128'): number {
    const start = this.pos;
    let result = 0;
    let scale = 1;
    let b: number;
    for (;;) {
      if (this.pos >= this.end) this.fail(`truncated ${what}`, start);
      b = this.buf[this.pos++];
      result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) break;
      if (this.pos - start >= 10) this.fail(`${what} longer than 10 bytes`, start);
    }
    if (b & 0x40) result -= scale; // sign-extend from the last byte's bit 6
    if (!Number.isSafeInteger(result)) this.fail(`${what} ${result} is out of range`, start);
    return result;
  }

  /** A NUL-terminated ASCII string. */
  cstring(what: string): string {
    // Searched within the entry only: a string running on must not scan the rest of the section.
    const at = this.buf.subarray(this.pos, this.end).indexOf(0);
    if (at < 0) this.fail(`${what} is not NUL-terminated`);
    const nul = this.pos + at;
    const s = this.buf.toString('latin1', this.pos, nul);
    this.pos = nul + 1;
    return s;
  }

  /** A DWARF block: ULEB128 length then that many bytes (a view, not a copy). */
  block(what: string): Buffer {
    const len = this.uleb(`${what} length`);
    if (len > this.end - this.pos) this.fail(`${what} of ${len} bytes runs past the end (${this.end - this.pos} left)`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
}

/** Where pointer bases come from while reading one entry. */
interface PointerContext {
  sectionAddress: number;
  dataBase?: number;
  textBase?: number;
  /** Base of DW_EH_PE_funcrel: the FDE's pc_begin (only inside an FDE, after it is read). */
  funcBase?: number;
}

/** Wraps a 64-bit two's-complement address and checks it fits in a JS number. */
function toAddress(r: Reader, v: bigint | number, at: number): number {
  if (typeof v === 'number') {
    if (v >= 0) return v; // already a safe non-negative integer (reads and LEB128s guarantee safety)
    v = BigInt(v);
  }
  const wrapped = ((v % TWO_64) + TWO_64) % TWO_64;
  if (wrapped > BigInt(Number.MAX_SAFE_INTEGER)) r.fail(`address 0x${wrapped.toString(16)} is out of range`, at);
  return Number(wrapped);
}

/**
 * Reads one DW_EH_PE-encoded pointer. Returns the address the encoding denotes (for `indirect`,
 * the address of the pointer slot; the caller knows it must be dereferenced). `valueOnly`
 * ignores the application bits (the FDE's address range is encoded with the format alone).
 */
function readEncoded(r: Reader, encoding: number, ctx: PointerContext, addressSize: number, what: string, valueOnly = false): number {
  const at = r.pos;
  if (encoding === DW_EH_PE.omit) r.fail(`${what}: encoding is DW_EH_PE_omit`);
  const application = encoding & 0x70;
  if (application === DW_EH_PE.aligned) {
    // Aligned: skip to the next multiple of the address size (in memory), then an absolute pointer.
    const memory = ctx.sectionAddress + r.base + r.pos;
    const pad = (addressSize - (memory % addressSize)) % addressSize;
    for (let i = 0; i < pad; i++) r.u8(`${what} alignment padding`);
  }
  // Values of up to 4 bytes (and LEB128s, checked to be safe integers) stay JS numbers: the
  // common case (sdata4/udata4, two per FDE) avoids BigInt. 8-byte values go through BigInt.
  let value: number | bigint;
  switch (encoding & 0x0f) {
    case DW_EH_PE.absptr:
      value = addressSize === 4 ? r.u32(what) : r.u64(what);
      break;
    case DW_EH_PE.uleb128:
      value = r.uleb(what);
      break;
    case DW_EH_PE.udata2:
      value = r.u16(what);
      break;
    case DW_EH_PE.udata4:
      value = r.u32(what);
      break;
    case DW_EH_PE.udata8:
      value = r.u64(what);
      break;
    case DW_EH_PE.sleb128:
      value = r.sleb(what);
      break;
    case DW_EH_PE.sdata2:
      value = r.s16(what);
      break;
    case DW_EH_PE.sdata4:
      value = r.s32(what);
      break;
    case DW_EH_PE.sdata8:
      value = r.s64(what);
      break;
    default:
      return r.fail(`${what}: unknown pointer format 0x${(encoding & 0x0f).toString(16)} (encoding 0x${encoding.toString(16)})`, at);
  }
  if (valueOnly) return toAddress(r, value, at);
  let base = 0;
  switch (application) {
    case 0:
    case DW_EH_PE.aligned:
      break;
    case DW_EH_PE.pcrel:
      base = ctx.sectionAddress + r.base + at;
      break;
    case DW_EH_PE.datarel:
      if (ctx.dataBase === undefined) r.fail(`${what}: DW_EH_PE_datarel without a data base (no .got)`, at);
      base = ctx.dataBase;
      break;
    case DW_EH_PE.textrel:
      if (ctx.textBase === undefined) r.fail(`${what}: DW_EH_PE_textrel without a text base (no .text)`, at);
      base = ctx.textBase;
      break;
    case DW_EH_PE.funcrel:
      if (ctx.funcBase === undefined) r.fail(`${what}: DW_EH_PE_funcrel outside an FDE`, at);
      base = ctx.funcBase;
      break;
    default:
      r.fail(`${what}: unknown pointer application 0x${application.toString(16)} (encoding 0x${encoding.toString(16)})`, at);
  }
  if (typeof value === 'number') {
    const sum = value + base;
    if (sum >= 0 && Number.isSafeInteger(sum)) return sum;
    return toAddress(r, BigInt(value) + BigInt(base), at);
  }
  return toAddress(r, value + BigInt(base), at);
}

// ---------------------------------------------------------------------------------------------
// Section parsing

interface EntryHeader {
  /** Offset of the length field. */
  offset: number;
  /** Offset of the CIE id / CIE pointer field. */
  idOffset: number;
  /** One past the entry's last byte. */
  end: number;
  /** 64-bit DWARF format (initial length 0xffffffff). */
  is64: boolean;
}

/** Reads an entry's initial length; throws when the entry runs past the section. */
function readEntryHeader(r: Reader): EntryHeader | 'terminator' {
  const offset = r.pos;
  let length = r.u32('entry length');
  let is64 = false;
  if (length === 0xffffffff) {
    const l64 = r.u64('64-bit entry length');
    if (l64 > BigInt(r.end - r.pos)) r.fail(`entry length ${l64} runs past the section end (${r.end - r.pos} bytes left)`, offset);
    length = Number(l64);
    is64 = true;
  } else if (length >= 0xfffffff0) {
    r.fail(`reserved initial length 0x${length.toString(16)}`, offset);
  }
  if (length === 0) return 'terminator';
  if (length > r.end - r.pos) r.fail(`entry length ${length} runs past the section end (${r.end - r.pos} bytes left)`, offset);
  return { offset, idOffset: r.pos, end: r.pos + length, is64 };
}

/**
 * Parses the CIEs and FDEs of one `.eh_frame` or `.debug_frame` section (its bytes in `data`).
 * Throws CfiError only when the entry framing itself is broken (a length past the end), since
 * nothing after that point can be trusted; a bad single entry is recorded in `errors` and skipped.
 */
export function parseCfiSection(data: Buffer, options: CfiSectionOptions): CfiSection {
  const kind = options.kind;
  const name = options.name ?? (kind === 'eh_frame' ? '.eh_frame' : '.debug_frame');
  const address = options.address ?? 0;
  const out: CfiSection = { kind, name, address, cies: new Map(), fdes: [], errors: [], terminators: 0 };
  const ciesFailed = new Map<number, CfiError>();
  const ctx: PointerContext = { sectionAddress: address, dataBase: options.dataBase, textBase: options.textBase };
  const r = new Reader(data, 0, data.length, name);

  // CIEs are usually before their FDEs, but nothing requires it: an FDE may point forward. So
  // a CIE is parsed on first use (memoised by offset), from a fresh reader.
  const cieAt = (cieOffset: number, from: number): Cie => {
    const known = out.cies.get(cieOffset);
    if (known) return known;
    const failed = ciesFailed.get(cieOffset);
    if (failed) throw new CfiError(name, from, `CIE at 0x${cieOffset.toString(16)} is malformed (${failed.message})`);
    try {
      const cie = parseCieAt(data, cieOffset, kind, name, ctx);
      out.cies.set(cieOffset, cie);
      return cie;
    } catch (e) {
      if (!(e instanceof CfiError)) throw e;
      ciesFailed.set(cieOffset, e);
      throw new CfiError(name, from, `CIE at 0x${cieOffset.toString(16)} is malformed (${e.message})`);
    }
  };

  // Pass 1: the entry framing. Knowing every entry's start lets pass 2 accept a CIE pointer
  // only when it points at one: CIEs are then disjoint entries, so parsing all of them (and
  // running their initial instructions once each) costs at most one pass over the section,
  // however many FDEs point at however many places.
  const entries: EntryHeader[] = [];
  while (r.pos < r.end) {
    // Fewer than 4 bytes left cannot hold an entry: trailing alignment padding.
    if (r.end - r.pos < 4) {
      if (data.subarray(r.pos, r.end).some((b) => b !== 0)) r.fail(`${r.end - r.pos} trailing bytes are not an entry`);
      break;
    }
    const h = readEntryHeader(r);
    if (h === 'terminator') {
      out.terminators++;
      if (options.untilTerminator) break;
      continue;
    }
    entries.push(h);
    r.pos = h.end;
  }
  const entryStarts = new Set(entries.map((h) => h.offset));

  // Pass 2: CIEs and FDEs.
  for (const h of entries) {
    try {
      const er = new Reader(data, h.idOffset, h.end, name);
      const id = h.is64 ? er.u64('CIE id') : BigInt(er.u32('CIE id'));
      const isCie = kind === 'eh_frame' ? id === 0n : id === (h.is64 ? 0xffffffffffffffffn : 0xffffffffn);
      if (isCie) {
        cieAt(h.offset, h.offset);
      } else {
        // .eh_frame: the pointer is the distance back from this field; .debug_frame: a section offset.
        const cieOffset = kind === 'eh_frame' ? h.idOffset - Number(id) : Number(id);
        if (!entryStarts.has(cieOffset)) er.fail(`FDE's CIE pointer 0x${id.toString(16)} does not point at an entry (0x${cieOffset.toString(16)})`, h.idOffset);
        const cie = cieAt(cieOffset, h.offset);
        out.fdes.push(parseFdeBody(er, h, cie, ctx));
      }
    } catch (e) {
      if (!(e instanceof CfiError)) throw e;
      out.errors.push(e);
    }
  }
  return out;
}

function parseCieAt(data: Buffer, offset: number, kind: CfiSectionKind, name: string, ctx: PointerContext): Cie {
  const outer: Reader = new Reader(data, offset, data.length, name);
  const h = readEntryHeader(outer);
  if (h === 'terminator') outer.fail('CIE pointer leads to a zero terminator', offset);
  const r = new Reader(data, h.idOffset, h.end, name);
  const id = h.is64 ? r.u64('CIE id') : BigInt(r.u32('CIE id'));
  const expectedId = kind === 'eh_frame' ? 0n : h.is64 ? 0xffffffffffffffffn : 0xffffffffn;
  if (id !== expectedId) r.fail(`entry pointed to as a CIE has id 0x${id.toString(16)}, not a CIE`, offset);
  const version = r.u8('CIE version');
  if (version !== 1 && version !== 3 && version !== 4) r.fail(`unsupported CIE version ${version}`, offset);
  const augmentation = r.cstring('CIE augmentation');
  let addressSize = 8;
  if (version >= 4) {
    addressSize = r.u8('address_size');
    const segmentSize = r.u8('segment_selector_size');
    if (addressSize !== 4 && addressSize !== 8) r.fail(`address_size ${addressSize} (expected 4 or 8)`, offset);
    if (segmentSize !== 0) r.fail(`segment_selector_size ${segmentSize} (segmented addresses are not supported)`, offset);
  }
  // GCC 2.x "eh" augmentation carried an extra pointer; nothing built this century uses it.
  if (augmentation.includes('eh')) r.fail(`obsolete augmentation '${augmentation}'`, offset);
  const codeAlignment = r.uleb('code_alignment_factor');
  const dataAlignment = r.sleb('data_alignment_factor');
  const returnAddressRegister = version === 1 ? r.u8('return_address_register') : r.uleb('return_address_register');
  const cie: Cie = {
    offset,
    version,
    augmentation,
    codeAlignment,
    dataAlignment,
    returnAddressRegister,
    fdeEncoding: DW_EH_PE.absptr,
    lsdaEncoding: DW_EH_PE.omit,
    signalFrame: false,
    addressSize,
    initialInstructions: Buffer.alloc(0),
    instructionsOffset: 0,
    section: name,
    sectionAddress: ctx.sectionAddress,
  };
  if (augmentation.startsWith('z')) {
    const augData = r.block('augmentation data');
    const augStart = r.pos - augData.length;
    const ar = new Reader(data, augStart, r.pos, name);
    for (const c of augmentation.slice(1)) {
      if (c === 'R') cie.fdeEncoding = ar.u8('FDE pointer encoding');
      else if (c === 'L') cie.lsdaEncoding = ar.u8('LSDA pointer encoding');
      else if (c === 'P') {
        const enc = ar.u8('personality encoding');
        const address = readEncoded(ar, enc & ~DW_EH_PE.indirect, ctx, addressSize, 'personality pointer');
        cie.personality = { address, indirect: (enc & DW_EH_PE.indirect) !== 0 };
      } else if (c === 'S') cie.signalFrame = true;
      // 'B' (AArch64 BTI) and 'G' (MTE) carry no data. Any other letter is unknown: 'z' would
      // let us skip its data, but a letter before 'R' could hide the FDE pointer encoding, and
      // guessing it would give wrong address ranges. Refuse the CIE (its FDEs are counted).
      else if (c !== 'B' && c !== 'G') ar.fail(`unknown augmentation letter '${c}' in '${augmentation}'`, augStart);
    }
  } else if (augmentation !== '') {
    r.fail(`augmentation '${augmentation}' without 'z' cannot be skipped`, offset);
  }
  cie.instructionsOffset = r.pos;
  cie.initialInstructions = data.subarray(r.pos, h.end);
  return cie;
}

function parseFdeBody(r: Reader, h: EntryHeader, cie: Cie, ctx: PointerContext): Fde {
  const at = r.pos;
  const fdeCtx: PointerContext = { ...ctx };
  if (cie.fdeEncoding & DW_EH_PE.indirect) r.fail(`FDE address encoding 0x${cie.fdeEncoding.toString(16)} is indirect`, at);
  const pcBegin = readEncoded(r, cie.fdeEncoding, fdeCtx, cie.addressSize, 'pc_begin');
  const range = readEncoded(r, cie.fdeEncoding, fdeCtx, cie.addressSize, 'pc_range', true);
  const pcEnd = pcBegin + range;
  if (!Number.isSafeInteger(pcEnd)) r.fail(`pc range 0x${pcBegin.toString(16)} + 0x${range.toString(16)} is out of range`, at);
  fdeCtx.funcBase = pcBegin;
  let lsda: number | undefined;
  if (cie.augmentation.startsWith('z')) {
    const augData = r.block('FDE augmentation data');
    if (cie.lsdaEncoding !== DW_EH_PE.omit && augData.length > 0) {
      const ar = new Reader(r.buf, r.pos - augData.length, r.pos, r.section);
      // A zero LSDA (any encoding) means "none", as the unwinder in libgcc reads it.
      const raw = ar.buf.subarray(ar.pos, ar.end).every((b) => b === 0);
      const value = readEncoded(ar, cie.lsdaEncoding & ~DW_EH_PE.indirect, fdeCtx, cie.addressSize, 'LSDA pointer');
      if (!raw) lsda = value;
    }
  }
  return { offset: h.offset, cie, pcBegin, pcEnd, lsda, instructions: r.buf.subarray(r.pos, h.end), instructionsOffset: r.pos };
}

// ---------------------------------------------------------------------------------------------
// Executing CFA instructions

/** How to compute the CFA. `offset` is in bytes. */
export type CfaRule =
  | { type: 'register'; register: number; offset: number }
  | { type: 'expression'; expression: Buffer }
  /** No DW_CFA_def_cfa* has run: the CFA is unknown. */
  | { type: 'undefined' };

/** Where the caller's value of one register is. Offsets are bytes from the CFA. */
export type RegisterRule =
  /** No rule was given (DWARF: unspecified; the psABI makes RBP callee-saved, so "unchanged"). */
  | { type: 'unset' }
  /** DW_CFA_undefined: the value is not recoverable (for the return address: the outermost frame). */
  | { type: 'undefined' }
  /** DW_CFA_same_value: unchanged from the callee. */
  | { type: 'same' }
  /** Saved at memory [CFA + offset]. */
  | { type: 'offset'; offset: number }
  /** The value is CFA + offset (not in memory). */
  | { type: 'valOffset'; offset: number }
  /** The value is in another register. */
  | { type: 'register'; register: number }
  /** Saved at the address the expression computes. */
  | { type: 'expression'; expression: Buffer }
  /** The value is what the expression computes. */
  | { type: 'valExpression'; expression: Buffer };

/** One row of an FDE's table: from `start` (inclusive) to `end` (exclusive), ELF virtual addresses. */
export interface UnwindRow {
  start: number;
  end: number;
  cfa: CfaRule;
  /** Rule for the caller's RBP (DWARF register 6). */
  rbp: RegisterRule;
  /** Rule for the return address (the CIE's return-address column). */
  ra: RegisterRule;
}

interface FrameState {
  cfa: CfaRule;
  rbp: RegisterRule;
  ra: RegisterRule;
}

// Shared immutable rules, so rows that do not change a rule allocate nothing for it.
const UNSET: RegisterRule = Object.freeze({ type: 'unset' });
const UNDEFINED: RegisterRule = Object.freeze({ type: 'undefined' });
const SAME: RegisterRule = Object.freeze({ type: 'same' });
const CFA_UNDEFINED: CfaRule = Object.freeze({ type: 'undefined' });

/** The state after each CIE's initial instructions, or why they are malformed: computed once per CIE. */
const cieInitialStates = new WeakMap<Cie, FrameState | CfiError>();

function cieInitialState(cie: Cie): FrameState {
  let s = cieInitialStates.get(cie);
  if (!s) {
    const start: FrameState = { cfa: CFA_UNDEFINED, rbp: UNSET, ra: UNSET };
    try {
      s = runInstructions(cie, cie.initialInstructions, cie.instructionsOffset, start, start, undefined);
    } catch (e) {
      if (!(e instanceof CfiError)) throw e;
      s = e; // cached too: a malformed CIE must not be re-run for each of its FDEs
    }
    cieInitialStates.set(cie, s);
  }
  if (s instanceof CfiError) throw s;
  return s;
}

/** The row list an FDE's location ops append to; absent while running a CIE's initial instructions. */
interface RowSink {
  rows: UnwindRow[];
  loc: number;
  fde: Fde;
  ctx: PointerContext;
}

/**
 * Runs CFA instructions from `initial`, appending a row to `sink` whenever the location
 * advances. `cieState` is the target of DW_CFA_restore. Returns the final state.
 * Location ops in a CIE (no sink) are an error: the CIE has no address range to advance through.
 */
/** What the instruction helpers below share while one instruction sequence runs. */
interface Machine {
  r: Reader;
  state: FrameState;
  /** Target of DW_CFA_restore: the CIE's initial state. */
  cieState: FrameState;
  raReg: number;
  sink: RowSink | undefined;
}

// Module-level helpers rather than closures: runInstructions runs once per FDE (75k for node).
function setRule(m: Machine, reg: number, rule: RegisterRule): void {
  if (reg === X86_64_RBP) m.state.rbp = rule;
  if (reg === m.raReg) m.state.ra = rule;
}

function restoreRule(m: Machine, reg: number): void {
  if (reg === X86_64_RBP) m.state.rbp = m.cieState.rbp;
  if (reg === m.raReg) m.state.ra = m.cieState.ra;
}

function advanceTo(m: Machine, next: number, at: number): void {
  const sink = m.sink;
  if (!sink) return m.r.fail("location op in a CIE's initial instructions", at);
  if (!Number.isSafeInteger(next)) m.r.fail(`location 0x${next.toString(16)} is out of range`, at);
  if (next < sink.loc) m.r.fail(`location moves backwards from 0x${sink.loc.toString(16)} to 0x${next.toString(16)}`, at);
  if (next === sink.loc) return;
  pushRow(sink, m.state, next);
  sink.loc = next;
}

function runInstructions(cie: Cie, code: Buffer, codeOffset: number, initial: FrameState, cieState: FrameState, sink: RowSink | undefined): FrameState {
  const r: Reader = new Reader(code, 0, code.length, cie.section, codeOffset);
  const m: Machine = { r, state: { ...initial }, cieState, raReg: cie.returnAddressRegister, sink };
  const state = m.state;
  const remembered: FrameState[] = [];
  const caf = cie.codeAlignment;
  const daf = cie.dataAlignment;
  while (r.pos < r.end) {
    const at = r.pos;
    const op = r.u8();
    const high = op & 0xc0;
    const low = op & 0x3f;
    if (high === 0x40) {
      // DW_CFA_advance_loc: delta in the low 6 bits, times the code alignment factor.
      advanceTo(m, sink ? sink.loc + low * caf : 0, at);
      continue;
    }
    if (high === 0x80) {
      // DW_CFA_offset: register in the low 6 bits, ULEB128 factored offset.
      setRule(m, low, { type: 'offset', offset: r.uleb() * daf });
      continue;
    }
    if (high === 0xc0) {
      restoreRule(m, low); // DW_CFA_restore
      continue;
    }
    switch (op) {
      case 0x00: // DW_CFA_nop
        break;
      case 0x01: {
        // DW_CFA_set_loc: an address in the FDE's pointer encoding.
        if (!sink) r.fail('DW_CFA_set_loc in a CIE\'s initial instructions', at);
        const loc = readEncoded(r, cie.fdeEncoding, sink.ctx, cie.addressSize, 'DW_CFA_set_loc address');
        advanceTo(m, loc, at);
        break;
      }
      case 0x02: // DW_CFA_advance_loc1
        advanceTo(m, sink ? sink.loc + r.u8() * caf : 0, at);
        break;
      case 0x03: // DW_CFA_advance_loc2
        advanceTo(m, sink ? sink.loc + r.u16() * caf : 0, at);
        break;
      case 0x04: // DW_CFA_advance_loc4
        advanceTo(m, sink ? sink.loc + r.u32() * caf : 0, at);
        break;
      case 0x05: {
        // DW_CFA_offset_extended
        const reg = r.uleb();
        setRule(m, reg, { type: 'offset', offset: r.uleb() * daf });
        break;
      }
      case 0x06: // DW_CFA_restore_extended
        restoreRule(m, r.uleb());
        break;
      case 0x07: // DW_CFA_undefined
        setRule(m, r.uleb(), UNDEFINED);
        break;
      case 0x08: // DW_CFA_same_value
        setRule(m, r.uleb(), SAME);
        break;
      case 0x09: {
        // DW_CFA_register
        const reg = r.uleb();
        setRule(m, reg, { type: 'register', register: r.uleb() });
        break;
      }
      case 0x0a: // DW_CFA_remember_state
        if (remembered.length >= MAX_REMEMBERED_STATES) r.fail(`more than ${MAX_REMEMBERED_STATES} nested DW_CFA_remember_state`, at);
        remembered.push({ ...state });
        break;
      case 0x0b: {
        // DW_CFA_restore_state: the CFA rule is restored too (DWARF 5 §6.4.2.4).
        const s = remembered.pop();
        if (!s) r.fail('DW_CFA_restore_state without DW_CFA_remember_state', at);
        Object.assign(state, s);
        break;
      }
      case 0x0c: {
        // DW_CFA_def_cfa
        const reg = r.uleb();
        state.cfa = { type: 'register', register: reg, offset: r.uleb() };
        break;
      }
      case 0x0d: {
        // DW_CFA_def_cfa_register: keeps the offset.
        const reg = r.uleb();
        if (state.cfa.type !== 'register') r.fail('DW_CFA_def_cfa_register while the CFA is not register-based', at);
        state.cfa = { type: 'register', register: reg, offset: state.cfa.offset };
        break;
      }
      case 0x0e: {
        // DW_CFA_def_cfa_offset: keeps the register; the offset is not factored.
        const offset = r.uleb();
        if (state.cfa.type !== 'register') r.fail('DW_CFA_def_cfa_offset while the CFA is not register-based', at);
        state.cfa = { type: 'register', register: state.cfa.register, offset };
        break;
      }
      case 0x0f: // DW_CFA_def_cfa_expression
        state.cfa = { type: 'expression', expression: r.block('DW_CFA_def_cfa_expression') };
        break;
      case 0x10: {
        // DW_CFA_expression
        const reg = r.uleb();
        setRule(m, reg, { type: 'expression', expression: r.block('DW_CFA_expression') });
        break;
      }
      case 0x11: {
        // DW_CFA_offset_extended_sf
        const reg = r.uleb();
        setRule(m, reg, { type: 'offset', offset: r.sleb() * daf });
        break;
      }
      case 0x12: {
        // DW_CFA_def_cfa_sf: factored signed offset.
        const reg = r.uleb();
        state.cfa = { type: 'register', register: reg, offset: r.sleb() * daf };
        break;
      }
      case 0x13: {
        // DW_CFA_def_cfa_offset_sf
        const offset = r.sleb() * daf;
        if (state.cfa.type !== 'register') r.fail('DW_CFA_def_cfa_offset_sf while the CFA is not register-based', at);
        state.cfa = { type: 'register', register: state.cfa.register, offset };
        break;
      }
      case 0x14: {
        // DW_CFA_val_offset
        const reg = r.uleb();
        setRule(m, reg, { type: 'valOffset', offset: r.uleb() * daf });
        break;
      }
      case 0x15: {
        // DW_CFA_val_offset_sf
        const reg = r.uleb();
        setRule(m, reg, { type: 'valOffset', offset: r.sleb() * daf });
        break;
      }
      case 0x16: {
        // DW_CFA_val_expression
        const reg = r.uleb();
        setRule(m, reg, { type: 'valExpression', expression: r.block('DW_CFA_val_expression') });
        break;
      }
      case 0x2e: // DW_CFA_GNU_args_size: bytes of outgoing arguments; does not change any rule.
        r.uleb();
        break;
      case 0x2f: {
        // DW_CFA_GNU_negative_offset_extended (obsolete): like offset_extended, negated.
        const reg = r.uleb();
        setRule(m, reg, { type: 'offset', offset: -r.uleb() * daf });
        break;
      }
      default:
        r.fail(`unknown CFA instruction 0x${op.toString(16)}`, at);
    }
  }
  return state;
}

function pushRow(sink: RowSink, state: FrameState, next: number): void {
  const start = sink.loc;
  // Rows past the FDE's range describe no code (readelf prints them; unwinding never reaches them).
  if (start >= sink.fde.pcEnd) return;
  sink.rows.push({ start, end: Math.min(next, sink.fde.pcEnd), cfa: state.cfa, rbp: state.rbp, ra: state.ra });
}

/**
 * The row table of one FDE: the CIE's initial state, then the FDE's instructions, cut at each
 * location change. Rows are sorted, contiguous, and lie within [pcBegin, pcEnd); an FDE whose
 * range is empty has no rows. Throws CfiError for malformed instructions (in the FDE or its CIE).
 */
export function executeFde(fde: Fde): UnwindRow[] {
  const initial = cieInitialState(fde.cie);
  const sink: RowSink = {
    rows: [],
    loc: fde.pcBegin,
    fde,
    ctx: { sectionAddress: fde.cie.sectionAddress, funcBase: fde.pcBegin },
  };
  const final = runInstructions(fde.cie, fde.instructions, fde.instructionsOffset, initial, initial, sink);
  pushRow(sink, final, fde.pcEnd);
  return sink.rows;
}

/** The state a CIE's initial instructions establish (what every FDE of it starts from). */
export function cieInitialRow(cie: Cie): Omit<UnwindRow, 'start' | 'end'> {
  const s = cieInitialState(cie);
  return { cfa: s.cfa, rbp: s.rbp, ra: s.ra };
}

// ---------------------------------------------------------------------------------------------
// .eh_frame_hdr (LSB 5.0 §10.6.2): where .eh_frame is, and a sorted (pc, FDE) search table

export interface EhFrameHdr {
  version: number;
  /** ELF virtual address of .eh_frame. */
  ehFrameAddress: number;
  /** Entries of the search table: each FDE's first pc and the FDE's virtual address, sorted by pc. */
  table: { pc: number; fdeAddress: number }[];
}

/**
 * Parses `.eh_frame_hdr` (its bytes, and its virtual address: the base of its pc-relative and
 * data-relative pointers). The table is read only with the usual fixed-size encodings and is
 * bounded by the section size; anything malformed throws CfiError.
 */
export function parseEhFrameHdr(data: Buffer, address: number, name = '.eh_frame_hdr'): EhFrameHdr {
  const r = new Reader(data, 0, data.length, name);
  const version = r.u8('version');
  if (version !== 1) r.fail(`unsupported .eh_frame_hdr version ${version}`, 0);
  const ptrEnc = r.u8('eh_frame_ptr encoding');
  const countEnc = r.u8('fde_count encoding');
  const tableEnc = r.u8('table encoding');
  // In the header, datarel means relative to the header's own start.
  const ctx: PointerContext = { sectionAddress: address, dataBase: address };
  const ehFrameAddress = readEncoded(r, ptrEnc, ctx, 8, 'eh_frame_ptr');
  const table: EhFrameHdr['table'] = [];
  if (countEnc !== DW_EH_PE.omit && tableEnc !== DW_EH_PE.omit) {
    const count = readEncoded(r, countEnc, ctx, 8, 'fde_count');
    // Each entry takes at least 2 bytes: a count beyond that is a lie, refused before looping.
    if (count > (r.end - r.pos) / 2) r.fail(`fde_count ${count} does not fit in ${r.end - r.pos} bytes`);
    for (let i = 0; i < count; i++) {
      const pc = readEncoded(r, tableEnc, ctx, 8, `table[${i}].initial_location`);
      const fdeAddress = readEncoded(r, tableEnc, ctx, 8, `table[${i}].address`);
      table.push({ pc, fdeAddress });
    }
  }
  return { version, ehFrameAddress, table };
}

// ---------------------------------------------------------------------------------------------
// ELF glue

export interface ElfCfi {
  /** `.eh_frame`, when the file has one. */
  ehFrame?: CfiSection;
  /** `.debug_frame`, when the file has one (usually only unstripped or -fno-asynchronous-unwind-tables builds). */
  debugFrame?: CfiSection;
}

function sectionAddress(s: SectionHeader | undefined): number | undefined {
  if (!s || s.addr > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(s.addr);
}

/** PT_GNU_EH_FRAME: the segment holding .eh_frame_hdr. */
export const PT_GNU_EH_FRAME = 0x6474e550;

/** `length` bytes of the file at `offset` (range-checked by ElfFile), through a section-shaped view of them. */
function fileBytes(elf: ElfFile, offset: number, length: number, what: string): Buffer {
  const view: SectionHeader = { index: -1, name: what, type: 1, flags: 0n, addr: 0n, offset, size: length, link: 0, info: 0, addralign: 1, entsize: 0 };
  return Buffer.from(elf.readSectionInto(view, 0, length, Buffer.alloc(length)));
}

/**
 * Finds .eh_frame without section headers (stripped of them, as some packers and loaders leave
 * binaries): PT_GNU_EH_FRAME locates .eh_frame_hdr, whose eh_frame_ptr gives .eh_frame's
 * address; its bytes are read from there to the end of the PT_LOAD segment holding it and
 * parsed up to the zero terminator.
 */
function ehFrameFromProgramHeaders(elf: ElfFile): CfiSection | undefined {
  const hdrSegment = elf.programHeaders.find((p) => p.type === PT_GNU_EH_FRAME);
  if (!hdrSegment || hdrSegment.filesz === 0 || hdrSegment.vaddr > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  const hdrBytes = fileBytes(elf, hdrSegment.offset, hdrSegment.filesz, 'PT_GNU_EH_FRAME');
  const hdr = parseEhFrameHdr(hdrBytes, Number(hdrSegment.vaddr));
  const address = BigInt(hdr.ehFrameAddress);
  const load = elf.loadSegments().find((p) => address >= p.vaddr && address < p.vaddr + BigInt(p.filesz));
  if (!load) throw new CfiError('.eh_frame_hdr', 0, `eh_frame_ptr 0x${hdr.ehFrameAddress.toString(16)} is in no loaded part of the file`);
  const offset = load.offset + Number(address - load.vaddr);
  const length = load.offset + load.filesz - offset;
  return parseCfiSection(fileBytes(elf, offset, length, '.eh_frame'), { kind: 'eh_frame', address: hdr.ehFrameAddress, untilTerminator: true });
}

/**
 * Reads and parses `.eh_frame` and `.debug_frame` of an opened ELF file; without section
 * headers, finds .eh_frame through PT_GNU_EH_FRAME. Throws CfiError for a broken section
 * framing (the file's ElfError passes through for a broken ELF).
 */
export function readElfCfi(elf: ElfFile): ElfCfi {
  const out: ElfCfi = {};
  if (elf.sections.length === 0) {
    const eh = ehFrameFromProgramHeaders(elf);
    if (eh) out.ehFrame = eh;
    return out;
  }
  const got = sectionAddress(elf.section('.got'));
  const text = sectionAddress(elf.section('.text'));
  const eh = elf.section('.eh_frame');
  if (eh && eh.type !== 8 /* SHT_NOBITS */ && eh.size > 0) {
    out.ehFrame = parseCfiSection(elf.sectionContents(eh), { kind: 'eh_frame', address: sectionAddress(eh) ?? 0, dataBase: got, textBase: text });
  }
  const df = elf.section('.debug_frame');
  if (df && df.type !== 8 && df.size > 0) {
    // .debug_frame is not loaded: its addresses are absolute (no pcrel), so its address is 0.
    out.debugFrame = parseCfiSection(elf.sectionContents(df), { kind: 'debug_frame', address: 0, dataBase: got, textBase: text });
  }
  return out;
}

/** Opens an ELF file by path and reads its CFI. */
export function readCfiFile(path: string): ElfCfi {
  const elf = ElfFile.open(path);
  try {
    return readElfCfi(elf);
  } finally {
    elf.close();
  }
}

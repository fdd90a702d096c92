/**
 * USDT probes (SystemTap SDT, `sys/sdt.h`) of an ELF file: the `.note.stapsdt` notes, with
 * addresses adjusted for prelink through `.stapsdt.base`, semaphores located in the file,
 * and the x86_64 argument specs (`-4@%eax 8@-16(%rbp) 4@$42`) parsed.
 *
 * Note layout (owner "stapsdt", type 3): desc = pc u64, base u64, semaphore u64, then three
 * NUL-terminated strings: provider, name, argument specs (space separated, may be empty).
 * When the file has a `.stapsdt.base` section, its sh_addr minus the recorded base is added
 * to pc and semaphore (the file was prelinked after the note was written), as libbpf does.
 *
 * Strict: anything malformed raises UsdtError (or ElfError from the ELF reader) naming what
 * is wrong; nothing here can hang on bad input.
 */
import { ElfError, ElfFile, PT_LOAD, type ElfNote } from '../symbolizer/elf.ts';

export const NT_STAPSDT = 3;

export class UsdtError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsdtError';
  }
}

/** One argument location as the compiler described it. */
export type UsdtArgLocation =
  /** The value is in a register. */
  | { kind: 'reg'; reg: string }
  /** The value is in memory at reg + offset (e.g. `-16(%rbp)`, `(%rax)`, `sym+8(%rip)`). */
  | { kind: 'mem'; reg: string; offset: bigint; symbol?: string }
  /** A constant (`$42`). */
  | { kind: 'const'; value: bigint };

export interface UsdtArg {
  /** The spec as written, e.g. `-4@-20(%rbp)`. */
  text: string;
  /** Size in bytes: 1, 2, 4 or 8 (8 when the spec had no size). */
  size: number;
  /** Negative size in the spec: a signed value. */
  signed: boolean;
  location: UsdtArgLocation;
}

/** One USDT probe site. Several sites may share provider:name (inlined or repeated probes). */
export interface UsdtProbe {
  provider: string;
  name: string;
  /** Probe address (ELF virtual address, adjusted for prelink). */
  pc: bigint;
  /** File offset of the probe instruction (what a uprobe attaches at); undefined if no PT_LOAD holds it. */
  fileOffset?: bigint;
  /** `base` as recorded in the note (the `.stapsdt.base` address at link time). */
  base: bigint;
  /** Semaphore address (adjusted), 0n when the probe has none. */
  semaphore: bigint;
  /** File offset of the semaphore, when it has one and a section or segment holds it. */
  semaphoreFileOffset?: bigint;
  /** The raw argument string, e.g. `-4@%eax 8@-16(%rbp)`; '' when none. */
  argsText: string;
  args: UsdtArg[];
}

/** Register names accepted in argument specs (x86_64, every width), mapped to the 64-bit register. */
const X86_REGS: Record<string, string> = {};
(() => {
  const legacy: [string, string[]][] = [
    ['rax', ['eax', 'ax', 'al', 'ah']],
    ['rbx', ['ebx', 'bx', 'bl', 'bh']],
    ['rcx', ['ecx', 'cx', 'cl', 'ch']],
    ['rdx', ['edx', 'dx', 'dl', 'dh']],
    ['rsi', ['esi', 'si', 'sil']],
    ['rdi', ['edi', 'di', 'dil']],
    ['rbp', ['ebp', 'bp', 'bpl']],
    ['rsp', ['esp', 'sp', 'spl']],
    ['rip', ['eip', 'ip']],
  ];
  for (const [full, aliases] of legacy) {
    X86_REGS[full] = full;
    for (const a of aliases) X86_REGS[a] = full;
  }
  for (let i = 8; i <= 15; i++) {
    for (const suffix of ['', 'd', 'w', 'b']) X86_REGS[`r${i}${suffix}`] = `r${i}`;
  }
})();

/** The 64-bit register name for any x86_64 register spelling, or undefined. */
export function canonicalRegister(name: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(X86_REGS, name) ? X86_REGS[name] : undefined;
}

const SIZES = new Set([1, 2, 4, 8]);

function parseInteger(text: string, what: string): bigint {
  const m = /^([+-]?)(0x[0-9a-fA-F]+|\d+)$/.exec(text);
  if (!m) throw new UsdtError(`${what}: "${text}" is not an integer`);
  const v = BigInt(m[2]);
  return m[1] === '-' ? -v : v;
}

/** Parses one argument spec (`-4@-20(%rbp)`). Throws UsdtError naming what is wrong. */
export function parseUsdtArg(text: string): UsdtArg {
  if (text.length === 0) throw new UsdtError('empty argument spec');
  if (text.length > 256) throw new UsdtError(`argument spec too long (${text.length} characters)`);
  let size = 8;
  let signed = false;
  let loc = text;
  const at = text.indexOf('@');
  if (at >= 0) {
    const sizeText = text.slice(0, at);
    if (!/^-?\d+$/.test(sizeText)) throw new UsdtError(`argument "${text}": size "${sizeText}" is not a number`);
    const n = Number(sizeText);
    signed = n < 0;
    size = Math.abs(n);
    if (!SIZES.has(size)) throw new UsdtError(`argument "${text}": size ${sizeText} is not one of 1, 2, 4, 8`);
    loc = text.slice(at + 1);
  }
  const reg = (name: string): string => {
    const r = canonicalRegister(name);
    if (!r) throw new UsdtError(`argument "${text}": unknown register "%${name}"`);
    return r;
  };
  let m: RegExpExecArray | null;
  if ((m = /^%([a-z0-9]+)$/.exec(loc))) return { text, size, signed, location: { kind: 'reg', reg: reg(m[1]) } };
  if ((m = /^\$([+-]?(?:0x[0-9a-fA-F]+|\d+))$/.exec(loc))) {
    return { text, size, signed, location: { kind: 'const', value: parseInteger(m[1], `argument "${text}"`) } };
  }
  // [symbol][+-offset](%reg)  or  offset(%reg)
  if ((m = /^([A-Za-z_.$][A-Za-z0-9_.$]*)?([+-]?(?:0x[0-9a-fA-F]+|\d+))?\(%([a-z0-9]+)\)$/.exec(loc))) {
    const offset = m[2] === undefined ? 0n : parseInteger(m[2], `argument "${text}"`);
    const location: UsdtArgLocation = { kind: 'mem', reg: reg(m[3]), offset };
    if (m[1] !== undefined) location.symbol = m[1];
    return { text, size, signed, location };
  }
  if (/\(%[a-z0-9]+,/.test(loc)) throw new UsdtError(`argument "${text}": indexed addressing (base,index,scale) is not supported`);
  throw new UsdtError(`argument "${text}": unrecognised location "${loc}"`);
}

/** Parses a whole argument string (space separated specs). */
export function parseUsdtArgs(text: string): UsdtArg[] {
  const parts = text.split(/\s+/).filter((p) => p.length > 0);
  if (parts.length > 12) throw new UsdtError(`too many arguments (${parts.length}; USDT allows at most 12)`);
  return parts.map(parseUsdtArg);
}

/** Reads a NUL-terminated string starting at `off`; returns it and the offset after the NUL. */
function cString(buf: Buffer, off: number, what: string): [string, number] {
  if (off >= buf.length) throw new UsdtError(`stapsdt note: ${what} missing (note ends at ${buf.length} bytes)`);
  const end = buf.indexOf(0, off);
  if (end < 0) throw new UsdtError(`stapsdt note: ${what} is not NUL-terminated`);
  return [buf.toString('latin1', off, end), end + 1];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Decoded content of one stapsdt note descriptor, before address adjustment. */
export interface RawStapsdtNote {
  pc: bigint;
  base: bigint;
  semaphore: bigint;
  provider: string;
  name: string;
  argsText: string;
}

/** Decodes one stapsdt note descriptor. Throws UsdtError on malformed content. */
export function decodeStapsdtDesc(desc: Buffer): RawStapsdtNote {
  if (desc.length < 24 + 3) throw new UsdtError(`stapsdt note too short (${desc.length} bytes; needs 24 bytes of addresses and 3 strings)`);
  const pc = desc.readBigUInt64LE(0);
  const base = desc.readBigUInt64LE(8);
  const semaphore = desc.readBigUInt64LE(16);
  let off = 24;
  let provider: string;
  let name: string;
  let argsText: string;
  [provider, off] = cString(desc, off, 'provider');
  [name, off] = cString(desc, off, 'probe name');
  [argsText, off] = cString(desc, off, 'argument string');
  if (!NAME.test(provider)) throw new UsdtError(`stapsdt note: invalid provider name ${JSON.stringify(provider)}`);
  if (!NAME.test(name)) throw new UsdtError(`stapsdt note: invalid probe name ${JSON.stringify(name)}`);
  return { pc, base, semaphore, provider, name, argsText };
}

/** Maps a virtual address to a file offset through the PT_LOAD segment holding it. */
export function vaddrToFileOffset(elf: ElfFile, vaddr: bigint): bigint | undefined {
  for (const p of elf.programHeaders) {
    if (p.type !== PT_LOAD) continue;
    if (vaddr >= p.vaddr && vaddr < p.vaddr + BigInt(p.filesz)) return vaddr - p.vaddr + BigInt(p.offset);
  }
  return undefined;
}

/** Semaphore file offset: through the section holding it (usually .probes, in .data), else PT_LOAD. */
function semaphoreOffset(elf: ElfFile, addr: bigint): bigint | undefined {
  for (const s of elf.sections) {
    if (s.addr === 0n || s.type === 8 /* NOBITS */) continue;
    if (addr >= s.addr && addr < s.addr + BigInt(s.size)) return addr - s.addr + BigInt(s.offset);
  }
  return vaddrToFileOffset(elf, addr);
}

/**
 * Every USDT probe of an open ELF file, in note order. Empty when it has no `.note.stapsdt`.
 * `onBadNote` receives malformed notes (skipped) when given; without it they throw.
 */
export function usdtProbesOfElf(elf: ElfFile, onBadNote?: (error: UsdtError, index: number) => void): UsdtProbe[] {
  if (elf.sections.length === 0) throw new UsdtError(`${elf.name}: no section headers (stripped with --strip-sections?): cannot find .note.stapsdt`);
  const section = elf.section('.note.stapsdt');
  if (!section) return [];
  const notes: ElfNote[] = elf.notes('.note.stapsdt');
  const baseSection = elf.section('.stapsdt.base');
  const out: UsdtProbe[] = [];
  notes.forEach((note, index) => {
    if (note.name !== 'stapsdt' || note.type !== NT_STAPSDT) return;
    try {
      const raw = decodeStapsdtDesc(note.desc);
      const args = parseUsdtArgs(raw.argsText);
      let pc = raw.pc;
      let semaphore = raw.semaphore;
      if (baseSection && raw.base !== 0n) {
        const delta = baseSection.addr - raw.base;
        pc = BigInt.asUintN(64, pc + delta);
        if (semaphore !== 0n) semaphore = BigInt.asUintN(64, semaphore + delta);
      }
      const probe: UsdtProbe = { provider: raw.provider, name: raw.name, pc, base: raw.base, semaphore, argsText: raw.argsText, args };
      const fo = vaddrToFileOffset(elf, pc);
      if (fo !== undefined) probe.fileOffset = fo;
      if (semaphore !== 0n) {
        const so = semaphoreOffset(elf, semaphore);
        if (so !== undefined) probe.semaphoreFileOffset = so;
      }
      out.push(probe);
    } catch (error) {
      const e = error instanceof UsdtError ? error : new UsdtError(String((error as Error).message));
      if (!onBadNote) throw new UsdtError(`${elf.name}: note ${index}: ${e.message}`);
      onBadNote(e, index);
    }
  });
  return out;
}

/** Opens `path`, returns its USDT probes, closes it. Throws ElfError / UsdtError / fs errors. */
export function readUsdtProbes(path: string): UsdtProbe[] {
  const elf = ElfFile.open(path);
  try {
    return usdtProbesOfElf(elf);
  } finally {
    elf.close();
  }
}

/** USDT probes from ELF bytes (tests, fuzzing). */
export function usdtProbesFromBuffer(buf: Buffer, name = '<buffer>'): UsdtProbe[] {
  return usdtProbesOfElf(ElfFile.fromBuffer(buf, name));
}

/** True for errors a malformed file raises (as opposed to programming errors). */
export function isMalformedInputError(error: unknown): boolean {
  return error instanceof UsdtError || error instanceof ElfError;
}

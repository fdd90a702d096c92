/**
 * A strict, lazy ELF64 little-endian reader: header, program headers, section headers,
 * function symbols (.symtab, .dynsym), notes (build-id, and any note section, e.g.
 * `.note.stapsdt`), and file-offset -> virtual-address translation through PT_LOAD.
 *
 * Strict: every table, section and string is range-checked against the file size before
 * it is read; malformed input raises an ElfError naming what is wrong. Loops are bounded by
 * counts taken from the (checked) headers, so no input can make the reader hang.
 * Lazy: opened from a path, only the header, program headers, section headers and the
 * section-name table are read; section contents are read when asked for.
 */
import { readSync } from 'node:fs';
import { openRegularFile, UnsafeFileError, type RegularFile } from '../fs/safe-file.ts';

/** Thrown for anything that is not a well-formed ELF64 little-endian file. */
export class ElfError extends Error {
  constructor(what: string, message: string) {
    super(`${what}: ${message}`);
    this.name = 'ElfError';
  }
}

export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;
export const STT_FUNC = 2;
export const STT_GNU_IFUNC = 10;
export const NT_GNU_BUILD_ID = 3;
export const SHT_RELA = 4;
export const EM_X86_64 = 62;
export const R_X86_64_GLOB_DAT = 6;
export const R_X86_64_JUMP_SLOT = 7;
export const R_X86_64_IRELATIVE = 37;
export const ET_EXEC = 2;
export const ET_DYN = 3;
const SHN_UNDEF = 0;
const SHN_XINDEX = 0xffff;

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
/** Refuse section reads above this (no function symbol table is this large); guards memory. */
const MAX_SECTION_READ = 1 << 30;

export interface ElfHeader {
  /** e_type: 1 REL, 2 EXEC, 3 DYN (PIE or shared object), 4 CORE. */
  type: number;
  machine: number;
  entry: bigint;
  phoff: number;
  shoff: number;
  flags: number;
  phnum: number;
  /** Section count, after extended numbering (e_shnum == 0) is resolved. */
  shnum: number;
  /** Index of the section-name string table, after SHN_XINDEX is resolved. */
  shstrndx: number;
}

export interface ProgramHeader {
  type: number;
  /** PF_X 1, PF_W 2, PF_R 4. */
  flags: number;
  /** File offset in bytes. */
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  /** Bytes in the file. */
  filesz: number;
  /** Bytes in memory. */
  memsz: bigint;
  align: bigint;
}

export interface SectionHeader {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  /** File offset in bytes. */
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfSymbol {
  name: string;
  /** st_value: the virtual address for executables and shared objects. */
  value: bigint;
  /** st_size in bytes; 0 when unknown. */
  size: number;
  /** STT_FUNC (2) or STT_GNU_IFUNC (10). */
  type: number;
  /** STB_LOCAL 0, STB_GLOBAL 1, STB_WEAK 2. */
  bind: number;
  shndx: number;
  source: 'symtab' | 'dynsym';
}

/** One symbol table (24-byte Elf64_Sym entries) and the string table its names point into. */
export interface SymbolTableSections {
  source: 'symtab' | 'dynsym';
  symbols: SectionHeader;
  strings: SectionHeader;
}

/**
 * One PLT stub: `size` bytes of code at virtual address `address` that jump through a GOT slot
 * to an imported function. `name` is `symbol@plt` (the .dynsym name the slot's relocation
 * binds, as objdump labels it), or '' for a stub whose slot no relocation names (the PLT0
 * header, IBT's lazy-binding pads in .plt): code that is known to be no function of this file.
 */
export interface PltStub {
  address: number;
  size: number;
  name: string;
}

/** Relocation entries (Elf64_Rela: r_offset, r_info, r_addend) read at a time by pltStubs (~64 KB). */
const RELAS_PER_CHUNK = 2730;
const RELA_SIZE = 24;
/** Most PLT stubs read (a PLT entry per imported function; libxul has ~6k). Beyond: not named. */
const MAX_PLT_STUBS = 1 << 20;
const SHF_EXECINSTR = 4n;

/**
 * Where, in one x86-64 PLT entry, the `jmp *disp32(%rip)` (ff 25) through its GOT slot sits,
 * for each layout GNU ld emits: at 0 (lazy .plt entry, 8-byte .plt.got entry); after a bnd
 * prefix f2 at 1 (MPX -z bndplt); after endbr64 (f3 0f 1e fa) at 4, or at 5 with a bnd prefix
 * (IBT .plt.sec and 16-byte .plt.got entries). Checked byte by byte, never searched for.
 */
function gotJumpAt(code: Buffer, at: number, size: number): number | undefined {
  const jmpAt = (p: number) => p + 6 <= size && code[at + p] === 0xff && code[at + p + 1] === 0x25;
  const endbr = size >= 4 && code[at] === 0xf3 && code[at + 1] === 0x0f && code[at + 2] === 0x1e && code[at + 3] === 0xfa;
  if (jmpAt(0)) return 0;
  if (code[at] === 0xf2 && jmpAt(1)) return 1;
  if (endbr && jmpAt(4)) return 4;
  if (endbr && code[at + 4] === 0xf2 && jmpAt(5)) return 5;
  return undefined;
}

export interface ElfNote {
  /** Owner name without its NUL, e.g. 'GNU', 'stapsdt'. */
  name: string;
  type: number;
  desc: Buffer;
  /** File offset of the descriptor. */
  descOffset: number;
}

/** Random access to the bytes of one file. */
interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset`; the caller has range-checked. */
  read(offset: number, length: number): Buffer;
  /** Exactly `length` bytes at `offset`, into `target` (or a view of the bytes when they are in memory already). */
  readInto(offset: number, length: number, target: Buffer): Buffer;
  close(): void;
}

class BufferSource implements ByteSource {
  constructor(private readonly buf: Buffer) {}
  get size(): number {
    return this.buf.length;
  }
  read(offset: number, length: number): Buffer {
    return this.buf.subarray(offset, offset + length);
  }
  readInto(offset: number, length: number): Buffer {
    return this.buf.subarray(offset, offset + length);
  }
  close(): void {}
}

/**
 * Binaries come from paths others control (/proc/PID/maps, map_files, requests): opened by
 * `openRegularFile`, so a FIFO or device is refused without blocking and reads stay in range.
 * Symlinks are followed (/usr/bin/python3 -> python3.11 is legitimate).
 */
class FileSource implements ByteSource {
  private readonly file: RegularFile;
  readonly size: number;
  constructor(
    private readonly path: string,
    opened?: RegularFile,
  ) {
    try {
      this.file = opened ?? openRegularFile(path);
    } catch (e) {
      if (e instanceof UnsafeFileError) throw new ElfError(path, e.message.slice(path.length + 2));
      throw e;
    }
    this.size = this.file.size;
  }
  /** Owner (st_uid) of the file at open time. */
  get uid(): number {
    return this.file.stat.uid;
  }
  read(offset: number, length: number): Buffer {
    const out = this.file.readUpTo(offset, length);
    if (out.length < length) throw new ElfError(this.path, `truncated: file ended at ${offset + out.length} while reading ${length} bytes at ${offset}`);
    return out;
  }
  readInto(offset: number, length: number, target: Buffer): Buffer {
    let done = 0;
    while (done < length) {
      const n = readSync(this.file.fd, target, done, length - done, offset + done);
      if (n <= 0) throw new ElfError(this.path, `truncated: file ended at ${offset + done} while reading ${length} bytes at ${offset}`);
      done += n;
    }
    return target.subarray(0, length);
  }
  close(): void {
    this.file.close();
  }
}

function toSafe(v: bigint, what: string, file: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(file, `${what} out of range (${v})`);
  return Number(v);
}

/**
 * A string table (SHT_STRTAB). The total length of names read from it is capped at a few
 * times the table size (legit tables share only suffixes): the scan for each terminating
 * NUL covers exactly the bytes decoded, so this bounds both time and memory against hostile
 * tables (many symbols pointing at one huge unterminated-looking name).
 */
class StringTable {
  private decoded = 0;
  private readonly budget: number;

  constructor(
    private readonly table: Buffer,
    private readonly what: string,
    private readonly file: string,
  ) {
    this.budget = table.length * 4 + 65536;
  }

  /** The NUL-terminated string at `off`; throws ElfError when out of range or unterminated. */
  get(off: number, user: string): string {
    const t = this.table;
    if (off >= t.length) {
      if (off === 0) return '';
      throw new ElfError(this.file, `string table out of range: ${user} name offset ${off} >= ${this.what} size ${t.length}`);
    }
    const end = t.indexOf(0, off);
    if (end < 0) throw new ElfError(this.file, `string table out of range: ${user} name at ${off} is not NUL-terminated in ${this.what}`);
    this.decoded += end - off + 1;
    if (this.decoded > this.budget) throw new ElfError(this.file, `string table out of range: names read from ${this.what} exceed ${this.budget} bytes (overlapping names)`);
    return t.toString('utf8', off, end);
  }
}

/**
 * One ELF64 LE file. Create with `ElfFile.fromBuffer` or `ElfFile.open` (call `close()`,
 * or use `withElfFile`). Parsed tables are validated at construction.
 */
export class ElfFile {
  readonly header: ElfHeader;
  readonly programHeaders: readonly ProgramHeader[];
  readonly sections: readonly SectionHeader[];
  /** File size in bytes. */
  readonly fileSize: number;
  private readonly sectionData = new Map<number, Buffer>();

  private constructor(
    private readonly src: ByteSource,
    /** Name used in error messages (path or a label). */
    readonly name: string,
  ) {
    this.fileSize = src.size;
    this.header = this.parseHeader();
    this.programHeaders = this.parseProgramHeaders();
    this.sections = this.parseSections();
  }

  static fromBuffer(buf: Buffer, name = '<buffer>'): ElfFile {
    return new ElfFile(new BufferSource(buf), name);
  }

  /** Opens a file, reading only the header and tables now. Throws ElfError or a system error (ENOENT, EACCES). */
  static open(path: string): ElfFile {
    const src = new FileSource(path);
    try {
      return new ElfFile(src, path);
    } catch (e) {
      src.close();
      throw e;
    }
  }

  /**
   * An ELF file over a file already opened and checked by the caller (server/fs/safe-file.ts),
   * so that what was checked is what is parsed. Takes ownership: closed with the ElfFile (also
   * when parsing fails).
   */
  static fromRegularFile(file: RegularFile): ElfFile {
    let src: FileSource;
    try {
      src = new FileSource(file.path, file);
    } catch (e) {
      file.close();
      throw e;
    }
    try {
      return new ElfFile(src, file.path);
    } catch (e) {
      src.close();
      throw e;
    }
  }

  /** Owner (st_uid) of the file when it was opened from a path; undefined for a buffer. */
  get ownerUid(): number | undefined {
    return this.src instanceof FileSource ? this.src.uid : undefined;
  }

  /**
   * The `.gnu_debuglink` section: the file name of the separate debug file (NUL-terminated,
   * padded to 4 bytes) and the CRC32 of that whole file (4 bytes, little-endian here). Undefined
   * when absent; ElfError when malformed.
   */
  gnuDebuglink(): { file: string; crc: number } | undefined {
    const s = this.section('.gnu_debuglink');
    if (!s || s.type === SHT_NOBITS) return undefined;
    if (s.size > 4096) this.fail(`.gnu_debuglink is ${s.size} bytes (a file name and a CRC)`);
    const data = this.sectionContents(s);
    const nul = data.indexOf(0);
    if (nul <= 0) this.fail('.gnu_debuglink holds no file name');
    const crcAt = (nul + 4) & ~3;
    if (crcAt + 4 > data.length) this.fail(`.gnu_debuglink ends before its CRC (${data.length} bytes)`);
    return { file: data.toString('utf8', 0, nul), crc: data.readUInt32LE(crcAt) };
  }

  /** Releases the file descriptor (no-op for buffers). Section data already read stays usable. */
  close(): void {
    this.src.close();
  }

  private fail(message: string): never {
    throw new ElfError(this.name, message);
  }

  /** Reads [offset, offset+length) after checking it lies inside the file. */
  private readRange(offset: number, length: number, what: string): Buffer {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      this.fail(`${what} offset/size invalid (${offset}, ${length})`);
    }
    if (offset + length > this.fileSize) {
      this.fail(`truncated or out of range: ${what} at offset ${offset} size ${length} exceeds file size ${this.fileSize}`);
    }
    return this.src.read(offset, length);
  }

  private parseHeader(): ElfHeader {
    if (this.fileSize < 16) this.fail(`truncated: ${this.fileSize} bytes is shorter than the ELF identification`);
    const ident = this.src.read(0, 16);
    if (ident[0] !== 0x7f || ident[1] !== 0x45 || ident[2] !== 0x4c || ident[3] !== 0x46) this.fail('not an ELF file (bad magic)');
    if (ident[4] !== 2) this.fail(`wrong class: EI_CLASS=${ident[4]} (only ELF64 is supported)`);
    if (ident[5] !== 1) this.fail(`wrong endianness: EI_DATA=${ident[5]} (only little-endian is supported)`);
    if (ident[6] !== 1) this.fail(`unsupported EI_VERSION ${ident[6]}`);
    if (this.fileSize < EHDR_SIZE) this.fail(`truncated: ${this.fileSize} bytes is shorter than the ELF64 header`);
    const h = this.src.read(0, EHDR_SIZE);
    const phoff = toSafe(h.readBigUInt64LE(32), 'e_phoff', this.name);
    const shoff = toSafe(h.readBigUInt64LE(40), 'e_shoff', this.name);
    const ehsize = h.readUInt16LE(52);
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    const shentsize = h.readUInt16LE(58);
    let shnum = h.readUInt16LE(60);
    let shstrndx = h.readUInt16LE(62);
    if (ehsize < EHDR_SIZE) this.fail(`e_ehsize ${ehsize} is smaller than ${EHDR_SIZE}`);
    if (phnum > 0 && phentsize !== PHDR_SIZE) this.fail(`e_phentsize ${phentsize} (expected ${PHDR_SIZE})`);
    if (shoff !== 0 && shentsize !== SHDR_SIZE) this.fail(`e_shentsize ${shentsize} (expected ${SHDR_SIZE})`);
    if (shoff !== 0 && (shnum === 0 || shstrndx === SHN_XINDEX)) {
      // Extended numbering: the real values live in section header 0.
      const sh0 = this.readRange(shoff, SHDR_SIZE, 'section header 0');
      if (shnum === 0) shnum = toSafe(sh0.readBigUInt64LE(32), 'extended section count', this.name);
      if (shstrndx === SHN_XINDEX) shstrndx = sh0.readUInt32LE(40);
    }
    if (shoff === 0) shnum = 0;
    return {
      type: h.readUInt16LE(16),
      machine: h.readUInt16LE(18),
      entry: h.readBigUInt64LE(24),
      phoff,
      shoff,
      flags: h.readUInt32LE(48),
      phnum,
      shnum,
      shstrndx,
    };
  }

  private parseProgramHeaders(): ProgramHeader[] {
    const { phoff, phnum } = this.header;
    if (phnum === 0) return [];
    const table = this.readRange(phoff, phnum * PHDR_SIZE, 'program header table');
    const out: ProgramHeader[] = [];
    for (let i = 0; i < phnum; i++) {
      const b = i * PHDR_SIZE;
      const ph: ProgramHeader = {
        type: table.readUInt32LE(b),
        flags: table.readUInt32LE(b + 4),
        offset: toSafe(table.readBigUInt64LE(b + 8), `program header ${i} p_offset`, this.name),
        vaddr: table.readBigUInt64LE(b + 16),
        paddr: table.readBigUInt64LE(b + 24),
        filesz: toSafe(table.readBigUInt64LE(b + 32), `program header ${i} p_filesz`, this.name),
        memsz: table.readBigUInt64LE(b + 40),
        align: table.readBigUInt64LE(b + 48),
      };
      if ((ph.type === PT_LOAD || ph.type === PT_NOTE) && ph.offset + ph.filesz > this.fileSize) {
        this.fail(`segment out of range: program header ${i} (type ${ph.type}) offset ${ph.offset} size ${ph.filesz} exceeds file size ${this.fileSize}`);
      }
      out.push(ph);
    }
    return out;
  }

  private parseSections(): SectionHeader[] {
    const { shoff, shnum, shstrndx } = this.header;
    if (shnum === 0) return [];
    if (shnum * SHDR_SIZE > this.fileSize) this.fail(`section header table out of range: ${shnum} sections do not fit in ${this.fileSize} bytes`);
    const table = this.readRange(shoff, shnum * SHDR_SIZE, 'section header table');
    const raw: Omit<SectionHeader, 'name'>[] = [];
    const nameOffsets: number[] = [];
    for (let i = 0; i < shnum; i++) {
      const b = i * SHDR_SIZE;
      const type = table.readUInt32LE(b + 4);
      const offset = toSafe(table.readBigUInt64LE(b + 24), `section ${i} sh_offset`, this.name);
      const size = toSafe(table.readBigUInt64LE(b + 32), `section ${i} sh_size`, this.name);
      if (i > 0 && type !== SHT_NOBITS && type !== 0 && offset + size > this.fileSize) {
        this.fail(`section offsets out of range: section ${i} offset ${offset} size ${size} exceeds file size ${this.fileSize}`);
      }
      nameOffsets.push(table.readUInt32LE(b));
      raw.push({
        index: i,
        type,
        flags: table.readBigUInt64LE(b + 8),
        addr: table.readBigUInt64LE(b + 16),
        offset,
        size,
        link: table.readUInt32LE(b + 40),
        info: table.readUInt32LE(b + 44),
        addralign: toSafe(table.readBigUInt64LE(b + 48), `section ${i} sh_addralign`, this.name),
        entsize: toSafe(table.readBigUInt64LE(b + 56), `section ${i} sh_entsize`, this.name),
      });
    }
    let names: Buffer = Buffer.alloc(0);
    if (shstrndx !== 0) {
      if (shstrndx >= shnum) this.fail(`e_shstrndx ${shstrndx} out of range (${shnum} sections)`);
      const s = raw[shstrndx];
      if (s.type !== SHT_STRTAB) this.fail(`section-name table (section ${shstrndx}) is not a string table (type ${s.type})`);
      names = this.readRange(s.offset, s.size, 'section-name string table');
    }
    const nameTable = new StringTable(names, 'section-name string table', this.name);
    return raw.map((s, i) => ({ ...s, name: shstrndx === 0 ? '' : nameTable.get(nameOffsets[i], `section ${i}`) }));
  }

  /** The first section with this name. */
  section(name: string): SectionHeader | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** Contents of a section (empty for SHT_NOBITS). Cached. */
  sectionContents(s: SectionHeader): Buffer {
    if (s.type === SHT_NOBITS) return Buffer.alloc(0);
    let data = this.sectionData.get(s.index);
    if (!data) {
      if (s.size > MAX_SECTION_READ) this.fail(`section ${s.name || s.index} is too large (${s.size} bytes)`);
      data = this.readRange(s.offset, s.size, `section ${s.name || s.index}`);
      this.sectionData.set(s.index, data);
    }
    return data;
  }

  /**
   * Function symbols (STT_FUNC, STT_GNU_IFUNC) defined in this file, from .symtab and
   * .dynsym, in table order (not deduplicated). Undefined (imported) symbols are left out.
   */
  functionSymbols(): ElfSymbol[] {
    const out: ElfSymbol[] = [];
    for (const s of this.sections) {
      if (s.type === SHT_SYMTAB) this.readSymbols(s, 'symtab', out);
    }
    for (const s of this.sections) {
      if (s.type === SHT_DYNSYM) this.readSymbols(s, 'dynsym', out);
    }
    return out;
  }

  /**
   * Every symbol table (.symtab ones first, then .dynsym, as functionSymbols reads them) with
   * the string table it links to, checked as functionSymbols checks them. For indexes that read
   * the tables in chunks and decode only the names they keep (server/symbolizer/function-index.ts).
   */
  symbolTableSections(): SymbolTableSections[] {
    const out: SymbolTableSections[] = [];
    for (const [type, source] of [[SHT_SYMTAB, 'symtab'], [SHT_DYNSYM, 'dynsym']] as const) {
      for (const s of this.sections) {
        if (s.type === type) out.push({ source, symbols: s, strings: this.checkSymbolTable(s) });
      }
    }
    return out;
  }

  /**
   * `length` bytes of section `s` from `offset` within it, read into `target` (a buffer reused
   * by callers that stream a large table in chunks; at least `length` bytes); for a file held in
   * memory, a view of its bytes instead. Range-checked against the section and the file.
   */
  readSectionInto(s: SectionHeader, offset: number, length: number, target: Buffer): Buffer {
    if (s.type === SHT_NOBITS || offset < 0 || length < 0 || offset + length > s.size) {
      this.fail(`read of ${length} bytes at ${offset} is outside section ${s.name || s.index} (size ${s.size})`);
    }
    if (target.length < length) this.fail(`read buffer of ${target.length} bytes is smaller than ${length}`);
    const at = s.offset + offset;
    if (!Number.isSafeInteger(at) || at + length > this.fileSize) this.fail(`truncated or out of range: section ${s.name || s.index} at offset ${at} size ${length} exceeds file size ${this.fileSize}`);
    return this.src.readInto(at, length, target);
  }

  /** Checks a symbol table's header and returns the string table it links to. */
  private checkSymbolTable(s: SectionHeader): SectionHeader {
    if (s.entsize !== SYM_SIZE) this.fail(`symbol table ${s.name} has sh_entsize ${s.entsize} (expected ${SYM_SIZE})`);
    if (s.size % SYM_SIZE !== 0) this.fail(`symbol table ${s.name} size ${s.size} is not a multiple of ${SYM_SIZE}`);
    if (s.link === 0 || s.link >= this.sections.length) this.fail(`symbol table ${s.name} links to string table ${s.link}, out of range`);
    const strSec = this.sections[s.link];
    if (strSec.type !== SHT_STRTAB) this.fail(`symbol table ${s.name} links to section ${s.link} which is not a string table`);
    return strSec;
  }

  private readSymbols(s: SectionHeader, source: 'symtab' | 'dynsym', out: ElfSymbol[]): void {
    const strSec = this.checkSymbolTable(s);
    const syms = this.sectionContents(s);
    const strs = new StringTable(this.sectionContents(strSec), `string table ${strSec.name || s.link}`, this.name);
    const n = syms.length / SYM_SIZE;
    for (let i = 1; i < n; i++) {
      const b = i * SYM_SIZE;
      const info = syms[b + 4];
      const type = info & 0xf;
      if (type !== STT_FUNC && type !== STT_GNU_IFUNC) continue;
      const shndx = syms.readUInt16LE(b + 6);
      if (shndx === SHN_UNDEF) continue;
      const nameOff = syms.readUInt32LE(b);
      const name = strs.get(nameOff, `${s.name} symbol ${i}`);
      if (name === '') continue;
      const size = syms.readBigUInt64LE(b + 16);
      out.push({
        name,
        value: syms.readBigUInt64LE(b + 8),
        size: size > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(size),
        type,
        bind: info >> 4,
        shndx,
        source,
      });
    }
  }

  /**
   * The PLT stubs of an x86-64 file: every entry of `.plt`, `.plt.sec` (IBT) and `.plt.got`
   * (sh_entsize bytes each, 16 when unset; 8 or 16 for .plt.got), named from the GOT slot its
   * `jmp *disp32(%rip)` goes through: the slot's R_X86_64_JUMP_SLOT (.rela.plt) or
   * R_X86_64_GLOB_DAT (.rela.dyn, for .plt.got) relocation gives a .dynsym symbol, and the stub is
   * `symbol@plt`; an R_X86_64_IRELATIVE slot (a library's calls to its own IFUNCs: libc's memcpy)
   * is named after the .dynsym function at its resolver (`strlen@plt`), else `*ABS*+0xRESOLVER@plt`
   * as objdump prints it. Decoding the slot, rather than counting entries in relocation order, gives the
   * same answer for lazy .plt, IBT's .plt.sec (where .plt holds only lazy-binding pads) and
   * .plt.got, whatever order the linker used. Entries whose slot no relocation names (PLT0) come
   * back with name ''. Empty for other machines and files without these sections. Relocation
   * tables are read in 64 KB chunks (.rela.dyn of a large library holds 100k+ entries, of which
   * only the few GOT slots of .plt.got are wanted). Throws ElfError on malformed tables.
   */
  pltStubs(): PltStub[] {
    if (this.header.machine !== EM_X86_64) return [];
    const pltSections = this.sections.filter((s) => (s.name === '.plt' || s.name === '.plt.sec' || s.name === '.plt.got') && s.type !== SHT_NOBITS && (s.flags & SHF_EXECINSTR) !== 0n);
    if (pltSections.length === 0) return [];
    // Each entry and the GOT slot (virtual address) it jumps through.
    const entries: { address: number; size: number; slot?: number }[] = [];
    for (const s of pltSections) {
      const size = s.entsize === 8 || s.entsize === 16 ? s.entsize : 16;
      const code = this.sectionContents(s);
      const base = toSafe(s.addr, `section ${s.name} address`, this.name);
      for (let at = 0; at + size <= code.length; at += size) {
        if (entries.length >= MAX_PLT_STUBS) break;
        const p = gotJumpAt(code, at, size);
        // The slot: RIP (the address after the 6-byte jmp) + the signed 32-bit displacement.
        entries.push({ address: base + at, size, slot: p === undefined ? undefined : base + at + p + 6 + code.readInt32LE(at + p + 2) });
      }
    }
    /** GOT slot -> the symbol its relocation binds, or (IRELATIVE) the resolver's address; '' while unknown. */
    const wanted = new Map<number, string | number>();
    for (const e of entries) if (e.slot !== undefined) wanted.set(e.slot, '');
    if (wanted.size > 0) {
      for (const s of this.sections) {
        if (s.type === SHT_RELA && (s.name === '.rela.plt' || s.name === '.rela.dyn')) this.nameGotSlots(s, wanted);
      }
    }
    const resolvers = this.ifuncNames(new Set([...wanted.values()].filter((x) => typeof x === 'number')));
    return entries.map((e) => {
      const bound = e.slot === undefined ? '' : (wanted.get(e.slot) ?? '');
      // An IRELATIVE slot (libc calling its own memcpy, strlen…): the IFUNC symbol at the resolver, else objdump's `*ABS*+0x…`.
      const symbol = typeof bound === 'number' ? (resolvers.get(bound) ?? `*ABS*+0x${bound.toString(16)}`) : bound;
      return { address: e.address, size: e.size, name: symbol === '' ? '' : `${symbol}@plt` };
    });
  }

  /**
   * Names of the functions at `addresses` from .dynsym (small: the exported symbols), as the
   * index ranks aliases at one address, roughly: global before weak before local, then fewer
   * leading underscores. For IRELATIVE PLT slots, whose resolver is an exported IFUNC symbol.
   */
  private ifuncNames(addresses: Set<number>): Map<number, string> {
    const out = new Map<number, string>();
    if (addresses.size === 0) return out;
    const rank = new Map<number, number>();
    const symbols: ElfSymbol[] = [];
    for (const s of this.sections) if (s.type === SHT_DYNSYM) this.readSymbols(s, 'dynsym', symbols);
    for (const sym of symbols) {
      const at = Number(sym.value);
      if (!addresses.has(at)) continue;
      const r = (sym.bind === 1 ? 0 : sym.bind === 2 ? 1 : 2) * 100 + (/^_*/.exec(sym.name)?.[0].length ?? 0);
      if (r < (rank.get(at) ?? Infinity)) {
        rank.set(at, r);
        out.set(at, sym.name);
      }
    }
    return out;
  }

  /**
   * For the JUMP_SLOT, GLOB_DAT and IRELATIVE relocations in `rela` whose r_offset is a key of
   * `slots`, sets the name of the symbol they bind (in the symbol table the section links to,
   * normally .dynsym), or for IRELATIVE the resolver's address (r_addend).
   */
  private nameGotSlots(rela: SectionHeader, slots: Map<number, string | number>): void {
    if (rela.entsize !== RELA_SIZE) this.fail(`relocation table ${rela.name} has sh_entsize ${rela.entsize} (expected ${RELA_SIZE})`);
    if (rela.link === 0 || rela.link >= this.sections.length) this.fail(`relocation table ${rela.name} links to symbol table ${rela.link}, out of range`);
    const symtab = this.sections[rela.link];
    if (symtab.type !== SHT_DYNSYM && symtab.type !== SHT_SYMTAB) this.fail(`relocation table ${rela.name} links to section ${rela.link} which is not a symbol table`);
    const strSec = this.checkSymbolTable(symtab);
    let strings: StringTable | undefined;
    const count = Math.floor(rela.size / RELA_SIZE);
    const chunk = Buffer.allocUnsafe(RELAS_PER_CHUNK * RELA_SIZE);
    const symbol = Buffer.allocUnsafe(SYM_SIZE);
    for (let first = 0; first < count; first += RELAS_PER_CHUNK) {
      const n = Math.min(RELAS_PER_CHUNK, count - first);
      const read = this.readSectionInto(rela, first * RELA_SIZE, n * RELA_SIZE, chunk);
      for (let i = 0; i < n; i++) {
        const b = i * RELA_SIZE;
        const type = read.readUInt32LE(b + 8);
        if (type !== R_X86_64_JUMP_SLOT && type !== R_X86_64_GLOB_DAT && type !== R_X86_64_IRELATIVE) continue;
        const offsetHigh = read.readUInt32LE(b + 4);
        if (offsetHigh > 0x1fffff) continue;
        const slot = offsetHigh * 0x1_0000_0000 + read.readUInt32LE(b);
        if (slots.get(slot) !== '') continue;
        if (type === R_X86_64_IRELATIVE) {
          const addendHigh = read.readUInt32LE(b + 20);
          if (addendHigh <= 0x1fffff) slots.set(slot, addendHigh * 0x1_0000_0000 + read.readUInt32LE(b + 16));
          continue;
        }
        const index = read.readUInt32LE(b + 12);
        if (index === 0 || (index + 1) * SYM_SIZE > symtab.size) continue;
        const sym = this.readSectionInto(symtab, index * SYM_SIZE, SYM_SIZE, symbol);
        strings ??= new StringTable(this.sectionContents(strSec), `string table ${strSec.name || rela.link}`, this.name);
        const name = strings.get(sym.readUInt32LE(0), `${rela.name} entry ${first + i} symbol ${index}`);
        if (name !== '') slots.set(slot, name);
      }
    }
  }

  /** Parses a buffer of notes; `align` is 4 or 8. */
  private parseNotes(data: Buffer, baseOffset: number, align: number, what: string): ElfNote[] {
    return parseNoteData(data, baseOffset, align, what, (message) => this.fail(message));
  }

  /**
   * Notes of one section by name (e.g. '.note.gnu.build-id', '.note.stapsdt'), or, without a
   * name, of every SHT_NOTE section — or of every PT_NOTE segment when there is no section table.
   */
  notes(sectionName?: string): ElfNote[] {
    if (sectionName !== undefined) {
      const s = this.section(sectionName);
      if (!s || s.type === SHT_NOBITS) return [];
      return this.parseNotes(this.sectionContents(s), s.offset, s.addralign === 8 ? 8 : 4, sectionName);
    }
    const noteSections = this.sections.filter((s) => s.type === SHT_NOTE);
    if (noteSections.length > 0) {
      return noteSections.flatMap((s) => this.parseNotes(this.sectionContents(s), s.offset, s.addralign === 8 ? 8 : 4, s.name));
    }
    return this.programHeaders
      .filter((ph) => ph.type === PT_NOTE)
      .flatMap((ph, i) => {
        if (ph.filesz > MAX_SECTION_READ) this.fail(`PT_NOTE segment ${i} too large`);
        return this.parseNotes(this.readRange(ph.offset, ph.filesz, `PT_NOTE segment ${i}`), ph.offset, ph.align === 8n ? 8 : 4, `PT_NOTE segment ${i}`);
      });
  }

  /** The GNU build-id as lowercase hex, or undefined when the file has none. */
  buildId(): string | undefined {
    let notes = this.notes('.note.gnu.build-id');
    if (notes.length === 0) notes = this.notes();
    return gnuBuildId(notes);
  }

  /** PT_LOAD segments. */
  loadSegments(): ProgramHeader[] {
    return this.programHeaders.filter((p) => p.type === PT_LOAD);
  }
}

/**
 * Parses a buffer of ELF notes (Elf_Nhdr, name, descriptor, each padded to `align`, 4 or 8):
 * a note section, a PT_NOTE segment, or /sys/kernel/notes (the running kernel's notes).
 * `baseOffset` is where `data` starts in its file (for ElfNote.descOffset); `fail` throws.
 */
export function parseNoteData(data: Buffer, baseOffset: number, align: number, what: string, fail: (message: string) => never): ElfNote[] {
  const out: ElfNote[] = [];
  const up = (x: number) => Math.ceil(x / align) * align;
  let p = 0;
  while (p < data.length) {
    if (p + 12 > data.length) fail(`truncated note header in ${what} at +${p}`);
    const namesz = data.readUInt32LE(p);
    const descsz = data.readUInt32LE(p + 4);
    const type = data.readUInt32LE(p + 8);
    const nameStart = p + 12;
    // Padding aligns the absolute position of the descriptor and of the next note.
    const descStart = up(nameStart + namesz);
    const next = up(descStart + descsz);
    if (descStart + descsz > data.length) fail(`note out of range in ${what} at +${p} (namesz ${namesz}, descsz ${descsz}, section size ${data.length})`);
    let nameEnd = nameStart + namesz;
    if (namesz > 0 && data[nameEnd - 1] === 0) nameEnd--;
    out.push({
      name: data.toString('latin1', nameStart, nameEnd),
      type,
      desc: data.subarray(descStart, descStart + descsz),
      descOffset: baseOffset + descStart,
    });
    p = next; // strictly increases: next >= p + 12
  }
  return out;
}

/** The GNU build-id among notes, as lowercase hex; undefined when there is none. */
export function gnuBuildId(notes: readonly ElfNote[]): string | undefined {
  const n = notes.find((x) => x.name === 'GNU' && x.type === NT_GNU_BUILD_ID && x.desc.length > 0);
  return n?.desc.toString('hex');
}

/**
 * Translates a file offset to the ELF virtual address through the PT_LOAD segment whose file
 * range contains it: vaddr = off - p_offset + p_vaddr. Undefined when no segment holds it.
 */
export function fileOffsetToVaddr(loads: readonly ProgramHeader[], off: bigint): bigint | undefined {
  for (const p of loads) {
    if (p.type !== PT_LOAD) continue;
    const start = BigInt(p.offset);
    if (off >= start && off < start + BigInt(p.filesz)) return off - start + p.vaddr;
  }
  return undefined;
}

/** Opens a file, runs `fn`, always closes. */
export function withElfFile<T>(path: string, fn: (elf: ElfFile) => T): T {
  const elf = ElfFile.open(path);
  try {
    return fn(elf);
  } finally {
    elf.close();
  }
}

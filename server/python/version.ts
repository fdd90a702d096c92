/**
 * Is a process a CPython interpreter, which version, and where are its runtime symbols?
 *
 * 1. /proc/PID/maps names the candidate binary: a mapped `libpython3.X….so` (the interpreter
 *    lives there when the executable links it) or else an executable named `python3.X`. The
 *    name is only a hint; the version is read from the binary.
 * 2. The binary (through /proc/PID/root, so a container's file is read, by `openRegularFile`)
 *    is searched for `Py_Version` (exported since 3.11, `const unsigned long = PY_VERSION_HEX`)
 *    and its value read from the file. Without it, the `PY_VERSION` string ("3.11.2") is looked
 *    for in .rodata, and accepted only if its major.minor agrees with the file name.
 * 3. Anything else is `unknown-version` with the reason: never a guess.
 *
 * No function here throws: failures become a result saying why.
 */
import { basename } from 'node:path';
import { ElfFile, PT_LOAD, SHT_NOBITS, type ProgramHeader } from '../symbolizer/elf.ts';
import { isFileBacked, parseProcMaps, type MapEntry } from '../symbolizer/proc-maps.ts';
import { offsetsFor, type CPythonOffsets } from './offsets.ts';
import { MAX_MAPS_BYTES, readProcText } from './proc.ts';

export interface CPythonVersion {
  major: number;
  minor: number;
  micro: number;
  /** PY_VERSION_HEX: 0xMMmmuuLS (level: 0xA alpha, 0xB beta, 0xC candidate, 0xF final; S serial). */
  hex: number;
  /** Where the version came from. */
  source: 'Py_Version' | 'version string';
}

/** Addresses of interpreter globals in the target process (load bias applied); absent when not exported. */
export interface CPythonSymbols {
  /** `_PyRuntime`: the `_PyRuntimeState` the thread walk starts from. */
  runtime?: bigint;
  /** `PyCode_Type`: the type of every code object (checks that an address holds one). */
  codeType?: bigint;
  /** `PyUnicode_Type`. */
  unicodeType?: bigint;
  /** `PyBytes_Type`. */
  bytesType?: bigint;
}

export type PythonDetection =
  /** No interpreter mapped (or the process is gone: `reason`). */
  | { kind: 'not-python'; reason: string }
  /** An interpreter whose version could not be read: shown as unknown, never guessed. */
  | { kind: 'unknown-version'; binary: string; reason: string }
  /** A CPython; `offsets` undefined when the version has no table (unsupported, say so). */
  | { kind: 'cpython'; binary: string; version: CPythonVersion; offsets: CPythonOffsets | undefined; symbols: CPythonSymbols };

/** `libpython3.11.so.1.0`, `libpython3.11d.so`, `libpython3.13t.so.1.0`. */
const LIBPYTHON = /^libpython(\d+)\.(\d+)[a-z]*\.so(\.|$)/;
/** `python3.11`, `python3.11d`; not `python3` (a symlink target always carries the minor). */
const PYTHON_EXE = /^python(\d+)\.(\d+)[a-z]*$/;

/** The binary of `entries` holding the interpreter, with the version its name claims. */
export function interpreterMapping(entries: readonly MapEntry[]): { entry: MapEntry; nameMajor: number; nameMinor: number } | undefined {
  let exe: { entry: MapEntry; nameMajor: number; nameMinor: number } | undefined;
  for (const entry of entries) {
    if (!isFileBacked(entry)) continue;
    const name = basename(entry.path);
    const lib = LIBPYTHON.exec(name);
    if (lib) return { entry, nameMajor: Number(lib[1]), nameMinor: Number(lib[2]) };
    const m = PYTHON_EXE.exec(name);
    if (m && !exe) exe = { entry, nameMajor: Number(m[1]), nameMinor: Number(m[2]) };
  }
  return exe;
}

/** Decodes a PY_VERSION_HEX value. */
export function decodeVersionHex(hex: number): { major: number; minor: number; micro: number } {
  return { major: (hex >>> 24) & 0xff, minor: (hex >>> 16) & 0xff, micro: (hex >>> 8) & 0xff };
}

/** Detects the interpreter of process `pid`. Never throws. */
export function detectPython(pid: number, procRoot = '/proc'): PythonDetection {
  let entries: MapEntry[];
  try {
    entries = parseProcMaps(readProcText(pid, 'maps', MAX_MAPS_BYTES, procRoot)).entries;
  } catch (e) {
    return { kind: 'not-python', reason: `cannot read ${procRoot}/${pid}/maps: ${(e as Error).message}` };
  }
  const found = interpreterMapping(entries);
  if (!found) return { kind: 'not-python', reason: 'no python3.X executable or libpython3.X mapped' };
  const binary = found.entry.path;
  let elf: ElfFile;
  try {
    elf = ElfFile.open(`${procRoot}/${pid}/root${binary}`);
  } catch (e) {
    return { kind: 'unknown-version', binary, reason: `cannot open the binary: ${(e as Error).message}` };
  }
  try {
    const symbols = objectSymbols(elf, ['Py_Version', '_PyRuntime', 'PyCode_Type', 'PyUnicode_Type', 'PyBytes_Type']);
    let version: CPythonVersion | undefined;
    const pyVersion = symbols.get('Py_Version');
    if (pyVersion !== undefined) {
      const bytes = readAtVaddr(elf, pyVersion, 8);
      if (bytes) {
        const hex = Number(bytes.readBigUInt64LE(0) & 0xffffffffn);
        version = { ...decodeVersionHex(hex), hex, source: 'Py_Version' };
      }
    }
    version ??= versionFromString(elf, found.nameMajor, found.nameMinor);
    if (!version) return { kind: 'unknown-version', binary, reason: `no Py_Version symbol and no ${found.nameMajor}.${found.nameMinor}.N version string in ${basename(binary)}` };
    const bias = loadBias(elf.loadSegments(), entries, found.entry);
    const inProcess = (name: string): bigint | undefined => {
      const v = symbols.get(name);
      return v === undefined || bias === undefined ? undefined : v + bias;
    };
    return {
      kind: 'cpython',
      binary,
      version,
      offsets: offsetsFor(version),
      symbols: { runtime: inProcess('_PyRuntime'), codeType: inProcess('PyCode_Type'), unicodeType: inProcess('PyUnicode_Type'), bytesType: inProcess('PyBytes_Type') },
    };
  } catch (e) {
    return { kind: 'unknown-version', binary, reason: `cannot read the binary: ${(e as Error).message}` };
  } finally {
    elf.close();
  }
}

/** ELF symbol entry size (Elf64_Sym), bytes. */
const SYM_SIZE = 24;
const STT_OBJECT = 1;

/**
 * st_value of the defined data symbols among `names`, from .symtab and .dynsym (the tables are
 * scanned once; names compared as bytes, only the wanted ones are decoded).
 */
function objectSymbols(elf: ElfFile, names: readonly string[]): Map<string, bigint> {
  const wanted = names.map((n) => Buffer.from(`${n}\0`, 'latin1'));
  const out = new Map<string, bigint>();
  for (const table of elf.symbolTableSections()) {
    const syms = elf.sectionContents(table.symbols);
    const strs = elf.sectionContents(table.strings);
    for (let b = SYM_SIZE; b + SYM_SIZE <= syms.length; b += SYM_SIZE) {
      if ((syms[b + 4] & 0xf) !== STT_OBJECT || syms.readUInt16LE(b + 6) === 0 /* SHN_UNDEF */) continue;
      const nameOff = syms.readUInt32LE(b);
      for (let i = 0; i < wanted.length; i++) {
        const w = wanted[i];
        if (nameOff + w.length <= strs.length && strs.compare(w, 0, w.length, nameOff, nameOff + w.length) === 0 && !out.has(names[i])) {
          out.set(names[i], syms.readBigUInt64LE(b + 8));
        }
      }
    }
  }
  return out;
}

/** `length` bytes of initialised data at virtual address `vaddr`, from the section holding it. */
function readAtVaddr(elf: ElfFile, vaddr: bigint, length: number): Buffer | undefined {
  for (const s of elf.sections) {
    if (s.type === SHT_NOBITS || s.addr === 0n) continue;
    const start = s.addr;
    if (vaddr >= start && vaddr + BigInt(length) <= start + BigInt(s.size)) {
      return elf.readSectionInto(s, Number(vaddr - start), length, Buffer.alloc(length));
    }
  }
  return undefined;
}

/** Sections larger than this are not scanned for the version string (bytes). */
const MAX_RODATA_SCAN = 64 * 1024 * 1024;

/**
 * The PY_VERSION string ("3.11.2", "3.13.0rc1") in .rodata, NUL-delimited on both sides, with
 * the major.minor the file name claims; undefined unless exactly one distinct such string exists.
 */
export function versionFromString(elf: ElfFile, major: number, minor: number): CPythonVersion | undefined {
  const rodata = elf.section('.rodata');
  if (!rodata || rodata.type === SHT_NOBITS || rodata.size > MAX_RODATA_SCAN) return undefined;
  const data = elf.sectionContents(rodata);
  const prefix = Buffer.from(`\0${major}.${minor}.`, 'latin1');
  const pattern = new RegExp(`^${major}\\.${minor}\\.(\\d+)((a|b|rc)(\\d+))?\\+?$`);
  const seen = new Set<string>();
  for (let at = data.indexOf(prefix); at >= 0; at = data.indexOf(prefix, at + 1)) {
    const end = data.indexOf(0, at + 1);
    if (end < 0 || end - at > 24) continue;
    const text = data.toString('latin1', at + 1, end);
    if (pattern.test(text)) seen.add(text);
  }
  if (seen.size !== 1) return undefined;
  const m = pattern.exec([...seen][0]);
  if (!m) return undefined;
  const micro = Number(m[1]);
  const level = m[3] === 'a' ? 0xa : m[3] === 'b' ? 0xb : m[3] === 'rc' ? 0xc : 0xf;
  const serial = m[4] !== undefined ? Number(m[4]) & 0xf : 0;
  const hex = ((major << 24) | (minor << 16) | (micro << 8) | (level << 4) | serial) >>> 0;
  return { major, minor, micro, hex, source: 'version string' };
}

/**
 * Where the binary is loaded: process address = ELF vaddr + bias. From a mapping of the same
 * file (dev, inode) and the PT_LOAD segment holding that mapping's file offset. Undefined when
 * none matches (then symbol addresses are not reported).
 */
function loadBias(loads: readonly ProgramHeader[], entries: readonly MapEntry[], of: MapEntry): bigint | undefined {
  for (const m of entries) {
    if (m.inode !== of.inode || m.dev !== of.dev) continue;
    for (const p of loads) {
      if (p.type !== PT_LOAD) continue;
      const fileStart = BigInt(p.offset);
      if (m.offset >= fileStart && m.offset < fileStart + BigInt(p.filesz)) return m.start - m.offset - (p.vaddr - fileStart);
    }
  }
  return undefined;
}

/**
 * What a uprobe or a kprobe/fentry could attach to:
 *   - function symbols of a user binary (.symtab + .dynsym, deduplicated, C++/Rust names
 *     demangled for display, the mangled name kept for attaching and accepted by the glob);
 *   - kernel functions (tracefs available_filter_functions, else /proc/kallsyms text symbols),
 *     only when this kernel has kprobes or fentry — otherwise KfuncsUnavailable says why.
 */
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { compileGlob } from '../../lib/probe-spec.ts';
import { ElfError, ElfFile, PT_LOAD, STT_GNU_IFUNC, type ElfSymbol } from '../symbolizer/elf.ts';
import { demangleMany, isMangled } from '../symbolizer/demangle.ts';
import { ProbeInputError } from './binaries.ts';
import { isFileBacked, readProcMaps } from '../symbolizer/proc-maps.ts';
import { probeFeature } from '../libbpf/features.ts';
import { tracefsRoot } from './tracefs.ts';
import { vaddrToFileOffset } from './usdt-notes.ts';

/** A function a uprobe can attach to. */
export interface FunctionSymbol {
  /** Demangled name (same as `symbol` for C). */
  name: string;
  /** The name in the ELF file: what a uprobe spec may use. */
  symbol: string;
  /** Virtual address, hex (`0x1139`). */
  address: string;
  /** Bytes; 0 when unknown. */
  size: number;
  /** File offset of the first instruction (what the kernel's uprobe takes), when a PT_LOAD holds it. */
  offset?: number;
  bind: 'local' | 'global' | 'weak' | 'other';
  /** STT_GNU_IFUNC resolver rather than a plain function. */
  ifunc: boolean;
}

const BINDS = ['local', 'global', 'weak'] as const;

/** Matches a glob against either the demangled or the mangled name. Also matches `name(...)`-less C++ names. */
export function symbolMatcher(glob: string | undefined): (s: { name: string; symbol: string }) => boolean {
  if (glob === undefined || glob === '' || glob === '*') return () => true;
  const re = compileGlob(glob);
  return (s) => re.test(s.symbol) || re.test(s.name) || re.test(s.name.replace(/\(.*$/, ''));
}

/** Function symbols of an open ELF file, deduplicated by (name, address), sorted by name. */
export function functionSymbolsOfElf(elf: ElfFile, glob?: string): FunctionSymbol[] {
  const match = symbolMatcher(glob);
  const seen = new Set<string>();
  const unique: ElfSymbol[] = [];
  for (const s of elf.functionSymbols()) {
    const key = `${s.name}@${s.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(s);
  }
  // One demangler pass for every mangled name (one c++filt process, not one per symbol).
  const mangled = unique.filter((s) => isMangled(s.name)).map((s) => s.name);
  const demangled = new Map<string, string>();
  demangleMany(mangled).forEach((name, i) => demangled.set(mangled[i], name));
  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD);
  const out: FunctionSymbol[] = [];
  for (const s of unique) {
    const entry: FunctionSymbol = {
      name: demangled.get(s.name) ?? s.name,
      symbol: s.name,
      address: `0x${s.value.toString(16)}`,
      size: s.size,
      bind: BINDS[s.bind] ?? 'other',
      ifunc: s.type === STT_GNU_IFUNC,
    };
    if (!match(entry)) continue;
    const off = loads.length > 0 ? vaddrToFileOffset(elf, s.value) : undefined;
    if (off !== undefined) entry.offset = Number(off);
    out.push(entry);
  }
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/** The symbol name without its ELF version suffix (`memcpy@GLIBC_2.14` → `memcpy`). */
function unversioned(symbol: string): string {
  const at = symbol.indexOf('@');
  return at > 0 ? symbol.slice(0, at) : symbol;
}

/** A function a uprobe attaches to: a FunctionSymbol whose file offset is known. */
export type UprobeFunction = FunctionSymbol & { offset: number };

/**
 * The functions of an open ELF file a uprobe spec's symbol names, by the one set of rules every
 * collector (latency, events) uses:
 * - a glob (`glob: true`) matches the ELF name, the ELF name without its version suffix, or the
 *   demangled name (with or without its parameter list);
 * - an exact name is tried as the ELF name, then without version suffixes, then as the
 *   demangled name (with or without its parameter list) — the first rule with a hit wins, so a
 *   mangled name is never shadowed by a demangled one;
 * - one function per address (aliases and versioned copies count once); functions outside any
 *   loadable segment (no file offset) cannot take a uprobe and are left out.
 * More than `max` functions is refused: `ambiguous` says what to tell the user for an exact
 * name (events need one function), the glob message says to narrow it.
 * Errors are ProbeInputError with `field` 'symbol'.
 */
export function uprobeFunctionsOfElf(elf: ElfFile, path: string, wanted: string, options: { glob: boolean; max: number }): UprobeFunction[] {
  const all = functionSymbolsOfElf(elf).filter((f): f is UprobeFunction => f.offset !== undefined);
  const bareName = (f: FunctionSymbol) => f.name.replace(/\(.*$/, '');
  let hits: UprobeFunction[];
  if (options.glob) {
    const re = compileGlob(unversioned(wanted));
    hits = all.filter((f) => re.test(f.symbol) || re.test(unversioned(f.symbol)) || re.test(f.name) || re.test(bareName(f)));
  } else {
    const rules: ((f: FunctionSymbol) => boolean)[] = [
      (f) => f.symbol === wanted,
      (f) => unversioned(f.symbol) === unversioned(wanted),
      (f) => f.name === wanted || bareName(f) === wanted,
    ];
    hits = [];
    for (const rule of rules) {
      hits = all.filter(rule);
      if (hits.length > 0) break;
    }
  }
  if (hits.length === 0) {
    const what = options.glob ? `no function matches "${wanted}"` : `symbol "${wanted}" not found`;
    const stripped = all.length === 0 ? ': the binary is stripped' : '';
    const similar = options.glob ? '' : `; probeboard list symbols ${path} '*${wanted.replace(/[^A-Za-z0-9_]/g, '*')}*' shows similar ones`;
    throw new ProbeInputError(`${what} in ${path} (${all.length} function symbols${stripped})${similar}`, 'symbol');
  }
  const byOffset = new Map<number, UprobeFunction>();
  // .symtab names come first in functionSymbols order; sorting by name keeps the result stable.
  for (const f of [...hits].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0))) if (!byOffset.has(f.offset)) byOffset.set(f.offset, f);
  const unique = [...byOffset.values()];
  if (unique.length > options.max) {
    if (options.glob) throw new ProbeInputError(`symbol glob "${wanted}" matches ${unique.length} functions in ${path}; at most ${options.max} are allowed: narrow it`, 'symbol');
    throw new ProbeInputError(`"${wanted}" names ${unique.length} functions in ${path}: ${unique.slice(0, 5).map((f) => `${f.symbol} at ${f.address}`).join(', ')} — give the mangled name, or a glob to take them all`, 'symbol');
  }
  return unique;
}

/** uprobeFunctionsOfElf of the ELF file at `path` (opened here, refused unless a regular ELF file). */
export function resolveUprobeFunctions(path: string, wanted: string, options: { glob: boolean; max: number }): UprobeFunction[] {
  let elf: ElfFile;
  try {
    elf = ElfFile.open(path);
  } catch (error) {
    if (error instanceof ElfError) throw new ProbeInputError(`${path} is not an ELF file (${error.message.replace(`${path}: `, '').replace(/^not an ELF file \((.*)\)$/, '$1')})`, 'binary');
    throw new ProbeInputError(`cannot read binary ${path}: ${(error as Error).message}`, 'binary');
  }
  try {
    if (elf.sections.length === 0) throw new ProbeInputError(`${path} has no section headers, so no symbol tables`, 'symbol');
    return uprobeFunctionsOfElf(elf, path, wanted, options);
  } catch (error) {
    if (error instanceof ElfError) throw new ProbeInputError(`${path} is not a readable ELF file (${error.message})`, 'binary');
    throw error;
  } finally {
    elf.close();
  }
}

/** Function symbols of the ELF file at `path` matching `glob`. Throws ElfError / fs errors. */
export function readFunctionSymbols(path: string, glob?: string): FunctionSymbol[] {
  const elf = ElfFile.open(path);
  try {
    if (elf.sections.length === 0) throw new Error(`${path}: no section headers, so no symbol tables`);
    return functionSymbolsOfElf(elf, glob);
  } finally {
    elf.close();
  }
}

/** One ELF object mapped by a process (executable or shared library). */
export interface MappedObject {
  /** Path as the process sees it. */
  path: string;
  /** Path to open from here (through /proc/PID/root when the process is in another mount namespace). */
  openPath: string;
  /** Has an executable mapping. */
  executable: boolean;
  deleted: boolean;
}

/** File-backed objects a process has mapped, executable ones first, deduplicated. Throws when the pid does not exist. */
export function processObjects(pid: number): MappedObject[] {
  let maps;
  try {
    maps = readProcMaps(pid);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') throw new Error(`no process with pid ${pid}`);
    throw new Error(`cannot read the mappings of pid ${pid}: ${(error as Error).message}`);
  }
  const byPath = new Map<string, MappedObject>();
  for (const e of maps.entries) {
    if (!isFileBacked(e)) continue;
    const prev = byPath.get(e.path);
    const executable = e.perms[2] === 'x';
    if (prev) {
      prev.executable ||= executable;
      continue;
    }
    const viaRoot = `/proc/${pid}/root${e.path}`;
    byPath.set(e.path, { path: e.path, openPath: existsSync(viaRoot) ? viaRoot : e.path, executable, deleted: e.deleted });
  }
  return [...byPath.values()].sort((a, b) => Number(b.executable) - Number(a.executable));
}

// --- kernel functions ----------------------------------------------------------------------

export class KfuncsUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KfuncsUnavailable';
  }
}

export interface KernelFunction {
  name: string;
  /** Module name for functions of a loadable module. */
  module?: string;
}

/** Which attach mechanisms this kernel offers for kernel functions. */
export interface KfuncSupport {
  kprobe: boolean;
  fentry: boolean;
  /** Reasons for the ones missing. */
  reasons: string[];
}

export function kfuncSupport(): KfuncSupport {
  const kp = probeFeature('kprobes');
  const fe = probeFeature('fentry');
  const reasons: string[] = [];
  if (!kp.available) reasons.push(kp.notSupported.message);
  if (!fe.available) reasons.push(fe.notSupported.message);
  return { kprobe: kp.available, fentry: fe.available, reasons };
}

/**
 * Streams kernel functions matching `glob` to `onEach` (and returns how many). Source:
 * tracefs `available_filter_functions` (exactly what kprobe/fentry can attach to), else
 * /proc/kallsyms text symbols. Throws KfuncsUnavailable when the kernel has neither kprobes nor fentry.
 */
export async function forEachKernelFunction(glob: string | undefined, onEach: (f: KernelFunction) => void, support: KfuncSupport = kfuncSupport()): Promise<number> {
  if (!support.kprobe && !support.fentry) {
    throw new KfuncsUnavailable(`not available on this kernel: neither kprobes nor fentry can attach here (${support.reasons.join('; ')})`);
  }
  const re = glob ? compileGlob(glob) : undefined;
  let source: string | undefined;
  try {
    const candidate = join(tracefsRoot(), 'available_filter_functions');
    if (existsSync(candidate)) source = candidate;
  } catch {
    // no tracefs: kallsyms below
  }
  let n = 0;
  const seen = new Set<string>();
  const emit = (name: string, module?: string) => {
    if (re && !re.test(name)) return;
    const key = module ? `${name} [${module}]` : name;
    if (seen.has(key)) return;
    seen.add(key);
    n++;
    onEach(module ? { name, module } : { name });
  };
  const lines = createInterface({ input: createReadStream(source ?? '/proc/kallsyms'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (source) {
      const m = /^(\S+)(?:\s+\[(\S+)\])?/.exec(line);
      if (m && !m[1].startsWith('__ftrace_invalid_address__')) emit(m[1], m[2]);
    } else {
      const m = /^[0-9a-f]+ ([tT]) (\S+)(?:\s+\[(\S+)\])?/.exec(line);
      if (m) emit(m[2], m[3]);
    }
  }
  return n;
}

/** Array form for the dashboard. */
export async function listKernelFunctions(glob?: string): Promise<KernelFunction[]> {
  const out: KernelFunction[] = [];
  await forEachKernelFunction(glob, (f) => out.push(f));
  return out;
}

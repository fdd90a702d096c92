/**
 * Probe discovery as plain async functions returning plain, serializable arrays (for the
 * dashboard's picker and the `list` CLI). Each takes an optional `onEach` that receives
 * items as they are found, so a caller can stream them instead of waiting for the array.
 *
 * Errors: ProbeInputError for bad input the user must fix (unknown binary, not an ELF file,
 * no such pid, unknown tracepoint); KfuncsUnavailable when the kernel cannot attach to kernel
 * functions at all; anything else is unexpected.
 */
import { UnsafeFileError, withRegularFile } from '../fs/safe-file.ts';
import { ProbeInputError, resolveBinary } from './binaries.ts';
import { ElfError, ElfFile } from '../symbolizer/elf.ts';
import { forEachKernelFunction, functionSymbolsOfElf, processObjects, type FunctionSymbol, type KernelFunction, type MappedObject } from './symbols.ts';
import { listTracepointsSync, readTracepointFormat, TracefsError, type TracepointField } from './tracefs.ts';
import { usdtProbesOfElf, UsdtError, type UsdtProbe } from './usdt-notes.ts';

export { KfuncsUnavailable } from './symbols.ts';
export type { FunctionSymbol, KernelFunction, MappedObject } from './symbols.ts';

export { ProbeInputError } from './binaries.ts';

export interface ListedTracepoint {
  /** `category:name`. */
  id: string;
  category: string;
  name: string;
  /** With `verbose`: the tracepoint's own fields (common_* left out). */
  fields?: { name: string; type: string; offset: number; size: number; signed: boolean }[];
  /** With `verbose`, when its format file could not be read or parsed. */
  error?: string;
}

/** Kernel tracepoints whose `category:name` (or name) matches `glob`. */
export async function listTracepoints(glob?: string, options: { verbose?: boolean; onEach?: (t: ListedTracepoint) => void } = {}): Promise<ListedTracepoint[]> {
  const out: ListedTracepoint[] = [];
  try {
    listTracepointsSync(glob, undefined, (t) => {
      const item: ListedTracepoint = { ...t };
      if (options.verbose) {
        try {
          item.fields = readTracepointFormat(t.id).fields.filter((f) => !f.common).map(fieldInfo);
        } catch (error) {
          item.error = (error as Error).message;
        }
      }
      out.push(item);
      options.onEach?.(item);
    });
  } catch (error) {
    if (error instanceof TracefsError) throw new ProbeInputError(error.message);
    throw error;
  }
  return out;
}

function fieldInfo(f: TracepointField) {
  return { name: f.name, type: f.type, offset: f.offset, size: f.size, signed: f.signed };
}

/** One USDT probe site, as listed. */
export interface ListedUsdt {
  /** The ELF file holding the probe (as the process sees it for --pid). */
  binary: string;
  provider: string;
  name: string;
  /** Probe address in the file, hex. */
  address: string;
  /** Semaphore address in the file, hex; absent when the probe has none. */
  semaphore?: string;
  /** Argument specs, e.g. ['-4@%eax', '8@-16(%rbp)']. */
  args: string[];
  /** Spec to use with `events` (usdt:BINARY:PROVIDER:NAME). */
  spec: string;
}

function listedUsdt(binary: string, p: UsdtProbe): ListedUsdt {
  const item: ListedUsdt = {
    binary,
    provider: p.provider,
    name: p.name,
    address: `0x${p.pc.toString(16)}`,
    args: p.args.map((a) => a.text),
    spec: `usdt:${binary}:${p.provider}:${p.name}`,
  };
  if (p.semaphore !== 0n) item.semaphore = `0x${p.semaphore.toString(16)}`;
  return item;
}

/** Resolves a binary argument (path or library name like `c`) to a real path, or ProbeInputError. */
export const resolveBinaryPath = resolveBinary;

/**
 * True when the file starts with the ELF magic (checked before parsing so a short text file is
 * "not ELF", not "truncated"). Opened by openRegularFile: a FIFO or device is refused, never read.
 */
function hasElfMagic(path: string, shownAs: string): boolean {
  try {
    return withRegularFile(path, {}, (file) => {
      const b = file.readUpTo(0, 4);
      return b.length === 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
    });
  } catch (error) {
    if (error instanceof UnsafeFileError) throw new ProbeInputError(`${shownAs} is not an ELF file: ${error.message.slice(path.length + 2)}`);
    return true; // let ElfFile.open report the real error
  }
}

function openElf(path: string, shownAs = path): ElfFile {
  if (!hasElfMagic(path, shownAs)) throw new ProbeInputError(`${shownAs} is not an ELF file (no ELF magic)`);
  try {
    return ElfFile.open(path);
  } catch (error) {
    if (error instanceof ElfError) throw new ProbeInputError(`${shownAs} is not a usable ELF file: ${error.message.replace(`${path}: `, '')}`);
    throw new ProbeInputError(`cannot read ${shownAs}: ${(error as Error).message}`);
  }
}

/** Warnings about objects that were skipped (for --pid); the CLI prints them on stderr. */
export type Warn = (message: string) => void;

/**
 * USDT probes of a binary (path or library name), or, with `{ pid }`, of every ELF object the
 * process has mapped. Probes that share provider:name at several sites are listed once per site.
 */
export async function listUsdt(target: string | { pid: number }, options: { onEach?: (p: ListedUsdt) => void; warn?: Warn } = {}): Promise<ListedUsdt[]> {
  const out: ListedUsdt[] = [];
  const emit = (binary: string, probes: UsdtProbe[]) => {
    for (const p of probes) {
      const item = listedUsdt(binary, p);
      out.push(item);
      options.onEach?.(item);
    }
  };
  if (typeof target === 'string') {
    const path = resolveBinaryPath(target);
    const elf = openElf(path);
    try {
      emit(path, usdtProbesOfElf(elf));
    } catch (error) {
      if (error instanceof UsdtError || error instanceof ElfError) throw new ProbeInputError(error.message);
      throw error;
    } finally {
      elf.close();
    }
    return out;
  }
  for (const obj of listProcessObjects(target.pid)) {
    let elf: ElfFile;
    try {
      elf = ElfFile.open(obj.openPath);
    } catch {
      continue; // a mapped non-ELF file (locale archive, fonts, …)
    }
    try {
      if (elf.sections.length > 0) emit(obj.path, usdtProbesOfElf(elf, (e, i) => options.warn?.(`${obj.path}: note ${i} skipped: ${e.message}`)));
    } catch (error) {
      options.warn?.(`${obj.path}: skipped: ${(error as Error).message}`);
    } finally {
      elf.close();
    }
  }
  return out;
}

/** File-backed objects mapped by a process (for the picker: "choosing a process lists its binaries and libraries"). */
export function listProcessObjects(pid: number): MappedObject[] {
  try {
    return processObjects(pid);
  } catch (error) {
    throw new ProbeInputError((error as Error).message);
  }
}

/** Function symbols of a binary (path or library name) matching `glob` (demangled or mangled name). */
export async function listSymbols(binary: string, glob?: string, options: { onEach?: (s: FunctionSymbol) => void } = {}): Promise<(FunctionSymbol & { binary: string })[]> {
  const path = resolveBinaryPath(binary);
  const elf = openElf(path);
  try {
    if (elf.sections.length === 0) throw new ProbeInputError(`${path} has no section headers, so no symbol tables`);
    let symbols: FunctionSymbol[];
    try {
      symbols = functionSymbolsOfElf(elf, glob);
    } catch (error) {
      if (error instanceof ElfError) throw new ProbeInputError(error.message);
      throw error;
    }
    return symbols.map((s) => {
      const item = { binary: path, ...s };
      options.onEach?.(item);
      return item;
    });
  } finally {
    elf.close();
  }
}

/** Kernel functions kprobe/fentry could attach to, matching `glob`. Throws KfuncsUnavailable when neither exists. */
export async function listKfuncs(glob?: string, options: { onEach?: (f: KernelFunction) => void } = {}): Promise<KernelFunction[]> {
  const out: KernelFunction[] = [];
  await forEachKernelFunction(glob, (f) => {
    out.push(f);
    options.onEach?.(f);
  });
  return out;
}

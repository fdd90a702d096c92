/**
 * The symbolizer: (pid, addresses) -> frame names.
 *
 * User frames: address -> executable mapping of the process (/proc/PID/maps, snapshotted the
 * first time the pid is seen so an exited process is still named) -> file offset -> ELF
 * virtual address through the PT_LOAD segment holding that offset (handles PIE and shared
 * library load bias) -> nearest function symbol at or below, within its size when known.
 * Anonymous executable memory is looked up in /tmp/perf-PID.map (JIT). Kernel frames come
 * from /proc/kallsyms.
 *
 * Caches: ELF symbol tables per binary, keyed by device+inode (and shared by build-id), LRU;
 * process snapshots, LRU; a per-process address cache. Nothing is read per sample.
 * Non-leaf frames are return addresses, so `addr - 1` is looked up (the call instruction),
 * as perf does. No method throws: failures become `[unknown]` frames (in a binary:
 * `file+0xOFFSET`, see offsetFrameName) and are counted.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { FlameModule } from '../../lib/protocol.ts';
import type { Frame } from './types.ts';
import { ElfError, ElfFile, fileOffsetToVaddr, gnuBuildId, parseNoteData, SHT_SYMTAB, type ProgramHeader } from './elf.ts';
import { readRegularFile } from '../fs/safe-file.ts';
import { debugFilePath, openDebuglinkFile, type DebugLookup } from './debug-file.ts';
import { FunctionIndex, type ExtraSymbol, type IndexSource } from './function-index.ts';
import { functionStartAt, functionStartsOf } from './function-starts.ts';
import { resolveKernelAddresses, sharedKallsyms, type KallsymsTable } from './kallsyms.ts';
import { findMapping, isFileBacked, parseExecutableMappings, parseProcMaps, type MapEntry } from './proc-maps.ts';
import { PerfMap } from './perf-map.ts';
import { demangledIfKnown, demangleMany, isMangled } from './demangle.ts';

export type { Frame } from './types.ts';
export { debugFilePath } from './debug-file.ts';

export interface SymbolizerOptions {
  /** Root of procfs. Default '/proc'. */
  procRoot?: string;
  /** Kernel symbol file. Default '/proc/kallsyms'. */
  kallsymsPath?: string;
  /** The running kernel's ELF notes, for its build-id (kernel frames' FlameModule). Default '/sys/kernel/notes'; null: none. */
  kernelNotesPath?: string | null;
  /** Directory holding perf-PID.map files. Default '/tmp'. */
  perfMapDir?: string;
  /** Most process snapshots kept (LRU). Default 4096. */
  maxProcesses?: number;
  /** Most binaries whose symbol tables are kept (LRU). Default 512. */
  maxBinaries?: number;
  /**
   * Most bytes of symbol indexes kept (FunctionIndex.byteSize summed over distinct binaries).
   * Over it, binaries that no tracked process maps go first (least recently used first), then
   * the least recently used of the rest; the binary just looked up always stays. Default 32 MiB
   * (node's own index is ~7.5 MiB, libc's ~0.15 MiB).
   */
  maxBinaryBytes?: number;
  /** Most cached addresses per process. Default 20000. */
  maxAddressesPerProcess?: number;
  /**
   * Most cached addresses over all processes (~100–150 bytes each: key, frame, map slot). Over
   * it, the caches of the least recently sampled processes are cleared until at most half are
   * left. Default 50000.
   */
  maxCachedAddresses?: number;
  /** Minimum ms between checks of a perf map's size/mtime, and between maps re-reads on a miss. Default 1000. */
  recheckMs?: number;
  /** How long (ms) the snapshot of an exited process is kept after `forgetExited` first sees it gone. Default 30000. */
  exitedGraceMs?: number;
  /**
   * Root under which detached debug files are looked up for binaries without .symtab, by
   * build-id (`ROOT/usr/lib/debug/.build-id/…`) and by .gnu_debuglink (`ROOT/usr/lib/debug/DIR/NAME`,
   * after DIR/NAME and DIR/.debug/NAME beside the binary); null disables both. Default ''.
   */
  debugRoot?: string | null;
  /**
   * `symbolizeUser` runs `forgetExited` itself at most this often (ms), so memory stays bounded
   * and reused pids are noticed even if nobody calls it. 0 disables. Default 10000.
   */
  housekeepingMs?: number;
  /** A kernel address that matches no symbol re-reads kallsyms (modules loaded since) at most this often (ms). Default 60000. */
  kallsymsReloadMs?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
  /**
   * One-shot use (the CLI's `profile`): addresses in binaries are not looked up when first
   * seen but collected per binary and named together by `settle()`, from a partial index of
   * just those addresses (FunctionIndex.build's `only`): a binary with 100k+ symbols costs one
   * pass over its symbol table instead of a sorted index of all of it. Until `settle()` such
   * frames are named `[pending]` (kind 'u'), and `settle()` renames them in place (the same
   * objects); frames that match no symbol then count as unknown. Process snapshots are taken
   * as usual when a pid is first seen. Default false (a long-running server keeps full indexes).
   */
  deferLookups?: boolean;
}

/** Counters describing how well symbolization went (cumulative). */
export interface SymbolizerStats {
  /** Frames that matched no symbol (returned as `[unknown]`, or `file+0xOFFSET` in a binary). */
  unknownFrames: number;
  /** Process snapshots held. */
  processes: number;
  /** Binaries whose symbol tables are held. */
  binaries: number;
  /** Bytes of the symbol indexes held (FunctionIndex.byteSize of each distinct binary). */
  binaryBytes: number;
  /** Addresses cached over all processes. */
  cachedAddresses: number;
  /** Binaries that could not be read or parsed (kept as negative cache entries). */
  binaryErrors: number;
  /** Lines skipped in /proc/PID/maps files. */
  badMapsLines: number;
}

/** One binary's function symbols: an address-sorted index whose names are decoded on first hit. */
interface SymbolTable {
  /** Basename of the file, for the names of frames no symbol matches (`name+0xOFFSET`). */
  file: string;
  buildId?: string;
  /** What its frames carry as Frame.module: path (as the first process that mapped it saw it) and build-id. */
  module?: FlameModule;
  loads: ProgramHeader[];
  index: FunctionIndex;
  /**
   * Binaries without .symtab (from the file or a debug file): the sorted first addresses of its
   * functions (function-starts.ts), so that code no symbol names is named after the start of its
   * function, one frame per function; null when it has no .eh_frame_hdr.
   */
  functionStarts?: Float64Array | null;
  /** When reading failed: why. */
  error?: string;
  /**
   * deferLookups: the open file and the frame per wanted address (ELF virtual address), until
   * settle(); `offsets`: the file offset each of those addresses came from (for the name of a
   * frame no symbol matches).
   */
  deferred?: { elf: ElfFile; frames: Map<number, Frame>; offsets: Map<number, bigint>; module?: FlameModule; debugLookup?: DebugLookup };
}

/** Most binaries held open for deferred lookups; later ones are indexed at once (each holds a file descriptor). */
const MAX_DEFERRED_BINARIES = 256;

interface ProcessState {
  pid: number;
  /** Executable mappings, sorted by start. */
  maps: MapEntry[];
  /** ms of the last read of /proc/PID/maps. */
  mapsReadAt: number;
  /** Whether the process was alive at the last check. */
  alive: boolean;
  /** Process start time (clock ticks since boot, /proc/PID/stat field 22) when snapshotted: tells a reused pid. */
  startTime?: string;
  /** When `forgetExited` first found it gone. */
  exitedAt?: number;
  perfMap?: PerfMap;
  perfMapCheckedAt: number;
  /** address (already adjusted) -> frame. */
  cache: Map<bigint, Frame>;
}

const UNKNOWN: Frame = Object.freeze({ name: '[unknown]', kind: 'x' }) as Frame;

/**
 * The name of code in a binary that no symbol names: `libfoo.so+0x1a2b3`, the basename and the
 * FILE offset of the address (lowercase hex; for a return address, of the call instruction's
 * last byte, `addr - 1`, the address looked up). A file offset, not a virtual address, because
 * that is what `addr2line -e libfoo.so`, `objdump --start-address` (after the PT_LOAD
 * translation) and perf's `dso+0xoff` take, whatever the load bias; and one name per address,
 * so two functions of a stripped binary never merge into one frame, as `[unknown] (libfoo.so)`
 * made them. Such frames stay kind 'x' and are counted as unknown.
 */
export function offsetFrameName(file: string, fileOffset: bigint): string {
  return `${file}+0x${fileOffset.toString(16)}`;
}

/**
 * Indexes a binary's function symbols (plus those of a separate debug file, when the binary has
 * no .symtab: by build-id, else by .gnu_debuglink; server/symbolizer/debug-file.ts). Only the
 * symbol and string tables are read; names are decoded when a lookup first returns them.
 */
function buildTable(elf: ElfFile, file: string, debugLookup?: DebugLookup, only?: Float64Array): SymbolTable {
  const buildId = elf.buildId();
  const sources: IndexSource[] = elf.symbolTableSections().map((table) => ({ elf, table }));
  let debug: ElfFile | undefined;
  try {
    if (debugLookup !== undefined && !elf.sections.some((x) => x.type === SHT_SYMTAB)) {
      if (buildId) {
        try {
          debug = ElfFile.open(debugFilePath(buildId, debugLookup.root));
          if (debug.buildId() !== buildId) {
            debug.close();
            debug = undefined;
          }
        } catch {
          debug = undefined; // no debug file by build-id
        }
      }
      // The CRC names one file exactly; its build-id, when both have one, must agree too.
      debug ??= openDebuglinkFile(elf, debugLookup);
      if (debug && buildId && debug.buildId() !== undefined && debug.buildId() !== buildId) {
        debug.close();
        debug = undefined;
      }
      if (debug) {
        for (const table of debug.symbolTableSections()) if (table.source === 'symtab') sources.push({ elf: debug, table });
      }
    }
    const loads = elf.loadSegments();
    const plt = pltStubs(elf);
    let index: FunctionIndex;
    try {
      index = FunctionIndex.build(sources, loads, only, plt);
    } catch (e) {
      // An unreadable debug file must not cost the binary's own symbols.
      if (!debug) throw e;
      index = FunctionIndex.build(sources.filter((x) => x.elf === elf), loads, only, plt);
    }
    const hasSymtab = sources.some((x) => x.table.source === 'symtab');
    const functionStarts = hasSymtab ? undefined : functionStartsOf(elf);
    return { file, buildId, loads, index, functionStarts };
  } finally {
    debug?.close();
  }
}

/**
 * The file offset to name code no symbol matches by (offsetFrameName): that of the start of its
 * function when the binary's function starts are known, else the address's own.
 */
function unnamedOffset(table: Pick<SymbolTable, 'loads' | 'functionStarts'> | undefined, vaddr: number | undefined, off: bigint): bigint {
  if (!table?.functionStarts || vaddr === undefined) return off;
  const start = functionStartAt(table.functionStarts, vaddr);
  if (start === undefined) return off;
  for (const p of table.loads) {
    const begin = Number(p.vaddr);
    if (start >= begin && start < begin + p.filesz) return BigInt(start - begin + p.offset);
  }
  return off;
}

/**
 * The binary's PLT stubs (`puts@plt`; ElfFile.pltStubs), which no symbol table names: without
 * them an address in a stub took the name of the nearest symbol before it (`_init`). Malformed
 * relocation tables cost only these names: [] then.
 */
function pltStubs(elf: ElfFile): ExtraSymbol[] {
  try {
    return elf.pltStubs();
  } catch {
    return [];
  }
}

/** What a held table costs: its index and its function starts. */
function tableBytes(t: SymbolTable): number {
  return t.index.byteSize + (t.functionStarts?.byteLength ?? 0);
}

function lookupTable(t: SymbolTable, vaddr: number): string | undefined {
  return t.index.lookup(vaddr);
}

export class Symbolizer {
  private readonly procRoot: string;
  private readonly kallsymsPath: string;
  private readonly kernelNotesPath: string | null;
  /** Frame.module of kernel frames, made on first use (one read of the kernel's notes). */
  private kernelModuleValue: FlameModule | undefined;
  private readonly perfMapDir: string;
  private readonly maxProcesses: number;
  private readonly maxBinaries: number;
  private readonly maxAddresses: number;
  private readonly maxBinaryBytes: number;
  private readonly maxCachedAddresses: number;
  /** Addresses added to per-process caches since the last recount: an upper bound of what they hold. */
  private cachedAddressesBound = 0;
  private readonly recheckMs: number;
  private readonly exitedGraceMs: number;
  private readonly now: () => number;
  private readonly debugRoot: string | undefined;
  private readonly housekeepingMs: number;
  private readonly kallsymsReloadMs: number;
  private lastHousekeeping: number;
  private kallsymsLoadedAt = 0;

  private readonly processes = new Map<number, ProcessState>();
  /** 'dev:inode' -> table (LRU by insertion order). */
  private readonly binaries = new Map<string, SymbolTable>();
  private readonly byBuildId = new Map<string, SymbolTable>();
  private kallsyms: KallsymsTable | null = null;
  private kallsymsError: string | null = null;
  private kernelCache = new Map<bigint, Frame>();
  private vdso: SymbolTable | null | undefined;
  /**
   * User frames named by a mangled symbol not demangled yet: demangled together (one c++filt
   * process) at the end of `symbolizeUser`, or of the outermost `batch` (then for all its calls).
   */
  private pendingDemangle: Frame[] = [];
  private batchDepth = 0;
  private readonly deferLookups: boolean;
  /** Binaries whose lookups wait for settle() (deferLookups). */
  private deferredTables: SymbolTable[] = [];
  /** Kernel addresses waiting for settle() (deferLookups): one frame each. */
  private deferredKernel = new Map<bigint, Frame>();

  /** Frames that matched no symbol, cumulative. */
  unknownFrames = 0;
  private binaryErrors = 0;
  private badMapsLines = 0;

  constructor(options: SymbolizerOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.kallsymsPath = options.kallsymsPath ?? '/proc/kallsyms';
    this.kernelNotesPath = options.kernelNotesPath === undefined ? '/sys/kernel/notes' : options.kernelNotesPath;
    this.perfMapDir = options.perfMapDir ?? '/tmp';
    this.maxProcesses = options.maxProcesses ?? 4096;
    this.maxBinaries = options.maxBinaries ?? 512;
    this.maxAddresses = options.maxAddressesPerProcess ?? 20000;
    this.maxBinaryBytes = options.maxBinaryBytes ?? 32 * 1024 * 1024;
    this.maxCachedAddresses = options.maxCachedAddresses ?? 50_000;
    this.recheckMs = options.recheckMs ?? 1000;
    this.exitedGraceMs = options.exitedGraceMs ?? 30000;
    this.now = options.now ?? Date.now;
    this.debugRoot = options.debugRoot === null ? undefined : (options.debugRoot ?? '');
    this.housekeepingMs = options.housekeepingMs ?? 10000;
    this.kallsymsReloadMs = options.kallsymsReloadMs ?? 60000;
    this.lastHousekeeping = this.now();
    this.deferLookups = options.deferLookups ?? false;
  }

  /**
   * deferLookups: names every frame returned so far as `[pending]`, binary by binary (one
   * partial index each, then the file is closed), and demangles the new names together. The
   * binaries are forgotten afterwards (their indexes are partial): later lookups read them
   * again. Never throws; an address no symbol matches (or of a binary that cannot be read) is
   * named `file+0xOFFSET`, kind 'x'.
   */
  settle(): void {
    const tables = this.deferredTables;
    this.deferredTables = [];
    for (const table of tables) {
      const deferred = table.deferred;
      if (!deferred) continue;
      table.deferred = undefined;
      let index = FunctionIndex.empty;
      let built: SymbolTable | undefined;
      try {
        const wanted = Float64Array.from(deferred.frames.keys()).sort();
        built = buildTable(deferred.elf, table.file, deferred.debugLookup, wanted);
        index = built.index;
      } catch (e) {
        this.binaryErrors++;
        table.error = e instanceof Error ? e.message : String(e);
      } finally {
        deferred.elf.close();
      }
      for (const [vaddr, frame] of deferred.frames) {
        let name: string | undefined;
        try {
          name = index.lookup(vaddr);
        } catch {
          name = undefined;
        }
        if (name === undefined) {
          frame.name = offsetFrameName(table.file, unnamedOffset(built, vaddr, deferred.offsets.get(vaddr) ?? 0n));
          frame.kind = 'x';
          this.unknownFrames++;
          continue;
        }
        const known = isMangled(name) ? demangledIfKnown(name) : name;
        frame.name = known ?? name;
        if (known === undefined) this.pendingDemangle.push(frame);
      }
      // Partial: never used for another lookup.
      for (const [key, held] of this.binaries) if (held === table) this.binaries.delete(key);
      if (table.buildId && this.byBuildId.get(table.buildId) === table) this.byBuildId.delete(table.buildId);
    }
    this.settleKernel();
    this.flushDemangling();
  }

  /** deferLookups: names the kernel frames returned so far with one pass over kallsyms (no table kept). */
  private settleKernel(): void {
    if (this.deferredKernel.size === 0) return;
    const frames = this.deferredKernel;
    this.deferredKernel = new Map();
    const addrs = [...frames.keys()];
    let names: (string | undefined)[] = [];
    try {
      names = resolveKernelAddresses(addrs, this.kallsymsPath);
    } catch (e) {
      this.kallsymsError = e instanceof Error ? e.message : String(e);
    }
    addrs.forEach((addr, i) => {
      const frame = frames.get(addr)!;
      const name = names[i];
      if (name === undefined) {
        frame.name = UNKNOWN.name;
        frame.kind = 'x';
        delete frame.module; // as an immediate lookup's UNKNOWN: no binary
        this.unknownFrames++;
      } else frame.name = name;
    });
    // The frames stay in kernelCache, now named: a later lookup of the same address reuses them.
  }

  /** The frame for `vaddr` of a deferred binary: one object per address, named by settle(). */
  private deferredFrame(deferred: NonNullable<SymbolTable['deferred']>, vaddr: number, fileOffset: bigint): Frame {
    let frame = deferred.frames.get(vaddr);
    if (!frame) {
      frame = { name: '[pending]', kind: 'u' };
      if (deferred.module) frame.module = deferred.module;
      deferred.frames.set(vaddr, frame);
      deferred.offsets.set(vaddr, fileOffset);
    }
    return frame;
  }

  /** Cumulative counters and cache sizes. */
  stats(): SymbolizerStats {
    return {
      unknownFrames: this.unknownFrames,
      processes: this.processes.size,
      binaries: this.binaries.size,
      binaryBytes: this.binaryBytes(),
      cachedAddresses: this.cachedAddresses(),
      binaryErrors: this.binaryErrors,
      badMapsLines: this.badMapsLines,
    };
  }

  /** Why kernel frames cannot be named (kptr_restrict, unreadable kallsyms), or null. */
  kernelSymbolsError(): string | null {
    this.loadKallsyms();
    return this.kallsymsError;
  }

  /**
   * Snapshots /proc/PID/maps the first time `pid` is seen, so its frames can still be named
   * after it exits. Cheap for a known pid. Never throws.
   */
  notePid(pid: number): void {
    this.process(pid);
  }

  /**
   * Housekeeping. Drops what is held for processes that have exited: a gone pid is marked and
   * its snapshot is dropped `exitedGraceMs` later (so samples taken just before the exit, and
   * symbolized after it, are still named). A pid now used by a different process (other start
   * time) is dropped at once, to be snapshotted anew. Returns the number of snapshots dropped.
   * One small procfs read per tracked process.
   */
  forgetExited(): number {
    const now = this.now();
    this.lastHousekeeping = now;
    let dropped = 0;
    for (const [pid, st] of this.processes) {
      const started = this.startTime(pid);
      if (started !== undefined) {
        if (st.startTime !== undefined && started !== st.startTime) {
          this.processes.delete(pid);
          dropped++;
          continue;
        }
        st.alive = true;
        st.exitedAt = undefined;
        continue;
      }
      st.alive = false;
      st.exitedAt ??= now;
      if (now - st.exitedAt >= this.exitedGraceMs) {
        this.processes.delete(pid);
        dropped++;
      }
    }
    return dropped;
  }

  /**
   * Names user-space addresses of one process. `addrs` is leaf first; the result has the
   * same length and order. Never throws.
   */
  symbolizeUser(pid: number, comm: string, addrs: bigint[]): Frame[] {
    void comm; // Thread names differ within a process; not used to detect pid reuse.
    if (this.housekeepingMs > 0 && this.now() - this.lastHousekeeping >= this.housekeepingMs) {
      try {
        this.forgetExited();
      } catch {
        /* housekeeping must not cost a frame */
      }
    }
    const out: Frame[] = new Array(addrs.length);
    let st: ProcessState | undefined;
    try {
      st = this.process(pid);
    } catch {
      st = undefined;
    }
    for (let i = 0; i < addrs.length; i++) {
      const addr = i === 0 || addrs[i] === 0n ? addrs[i] : addrs[i] - 1n;
      let f: Frame;
      try {
        f = st ? this.userFrame(st, addr) : UNKNOWN;
      } catch (e) {
        f = this.frameFromAddressFailure(e);
      }
      if (f.kind === 'x') this.unknownFrames++;
      out[i] = f;
    }
    if (this.batchDepth === 0) this.flushDemangling();
    return out;
  }

  /**
   * Runs `work` (calls of symbolizeUser/symbolizeKernel) with the demangling of new mangled
   * names deferred to its end, so a whole batch of samples costs one demangler call rather
   * than one per stack. The frames returned inside `work` carry their demangled names once
   * `batch` returns (they are the same objects). Returns what `work` returns.
   */
  batch<T>(work: () => T): T {
    this.batchDepth++;
    try {
      return work();
    } finally {
      this.batchDepth--;
      if (this.batchDepth === 0) this.flushDemangling();
    }
  }

  /** Demangles the pending frames' names in place. Never throws (a failure leaves the mangled names). */
  private flushDemangling(): void {
    if (this.pendingDemangle.length === 0) return;
    const frames = this.pendingDemangle;
    this.pendingDemangle = [];
    try {
      const names = demangleMany(frames.map((f) => f.name));
      for (let i = 0; i < frames.length; i++) frames[i].name = names[i];
    } catch {
      /* keep the mangled names */
    }
  }

  /** A user frame for a symbol name: demangled now when known, else queued for flushDemangling. */
  private functionFrame(name: string, module: FlameModule | undefined): Frame {
    const frame: Frame = { name, kind: 'u' };
    if (module) frame.module = module;
    if (!isMangled(name)) return frame;
    const known = demangledIfKnown(name);
    if (known !== undefined) {
      frame.name = known;
      return frame;
    }
    this.pendingDemangle.push(frame);
    return frame;
  }

  /** Names kernel addresses (leaf first; same order out). Never throws. */
  symbolizeKernel(addrs: bigint[]): Frame[] {
    const out: Frame[] = new Array(addrs.length);
    if (!this.deferLookups) this.loadKallsyms();
    for (let i = 0; i < addrs.length; i++) {
      const addr = i === 0 || addrs[i] === 0n ? addrs[i] : addrs[i] - 1n;
      let f = this.kernelCache.get(addr);
      if (!f && this.deferLookups) {
        // Named by settle(), with every other kernel address, in one pass over kallsyms.
        f = { name: '[pending]', kind: 'k', module: this.kernelModule() };
        this.deferredKernel.set(addr, f);
        if (this.kernelCache.size >= 100_000) this.kernelCache.clear();
        this.kernelCache.set(addr, f);
      }
      if (!f) {
        try {
          let hit = this.kallsyms?.lookup(addr);
          if (!hit && this.kallsyms && this.now() - this.kallsymsLoadedAt >= this.kallsymsReloadMs) {
            // Perhaps a module loaded since: read kallsyms again (rarely), unless another
            // Symbolizer of this process already did (the table is shared).
            const stale = this.kallsyms;
            this.kernelCache.clear();
            try {
              this.kallsymsLoadedAt = this.now();
              const latest = sharedKallsyms(this.kallsymsPath);
              this.kallsyms = latest !== stale ? latest : sharedKallsyms(this.kallsymsPath, true);
            } catch (e) {
              this.kallsyms = null;
              this.kallsymsError = e instanceof Error ? e.message : String(e);
            }
            hit = (this.kallsyms as KallsymsTable | null)?.lookup(addr);
          }
          f = hit ? { name: hit.name, kind: 'k', module: this.kernelModule() } : UNKNOWN;
        } catch (e) {
          f = this.frameFromAddressFailure(e);
        }
        if (this.kernelCache.size >= 100_000) this.kernelCache.clear();
        this.kernelCache.set(addr, f);
      }
      if (f.kind === 'x') this.unknownFrames++;
      out[i] = f;
    }
    return out;
  }

  /**
   * The binary of kernel frames: `[kernel]`, with the running kernel's build-id when
   * /sys/kernel/notes has one (what `perf buildid-list -k` reports). One object, shared.
   */
  kernelModule(): FlameModule {
    if (this.kernelModuleValue) return this.kernelModuleValue;
    const buildId = this.kernelNotesPath === null ? undefined : kernelBuildId(this.kernelNotesPath);
    this.kernelModuleValue = buildId === undefined ? { file: '[kernel]' } : { file: '[kernel]', buildId };
    return this.kernelModuleValue;
  }

  /** The frame used when looking an address up failed unexpectedly. Never throws. */
  frameFromAddressFailure(_error?: unknown): Frame {
    return UNKNOWN;
  }

  // ---- internals ----

  private loadKallsyms(): void {
    if (this.kallsyms || this.kallsymsError) return;
    try {
      this.kallsymsLoadedAt = this.now();
      this.kallsyms = sharedKallsyms(this.kallsymsPath);
    } catch (e) {
      this.kallsymsError = e instanceof Error ? e.message : String(e);
    }
  }

  /** Start time field of /proc/PID/stat, or undefined when the process is gone. */
  private startTime(pid: number): string | undefined {
    try {
      const stat = readFileSync(`${this.procRoot}/${pid}/stat`, 'latin1');
      // comm (field 2) may contain spaces and parentheses: fields resume after the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return rest[19] ?? '';
    } catch {
      return undefined;
    }
  }

  /** The state for `pid`, creating (and snapshotting) it on first sight. LRU-touches it. */
  private process(pid: number): ProcessState {
    let st = this.processes.get(pid);
    if (st) {
      this.processes.delete(pid);
      this.processes.set(pid, st);
      return st;
    }
    st = { pid, maps: [], mapsReadAt: 0, alive: false, perfMapCheckedAt: -Infinity, cache: new Map() };
    this.readMaps(st);
    this.processes.set(pid, st);
    while (this.processes.size > this.maxProcesses) {
      const oldest = this.processes.keys().next().value as number;
      this.processes.delete(oldest);
    }
    return st;
  }

  /** (Re)reads the maps of a process; keeps the old snapshot if the process is gone. */
  private readMaps(st: ProcessState): boolean {
    st.mapsReadAt = this.now();
    try {
      const parsed = parseExecutableMappings(readFileSync(`${this.procRoot}/${st.pid}/maps`, 'utf8'));
      this.badMapsLines += parsed.badLines;
      st.maps = parsed.entries;
      st.alive = true;
      st.startTime ??= this.startTime(st.pid);
      st.cache.clear();
      return true;
    } catch {
      st.alive = false;
      return false;
    }
  }

  private userFrame(st: ProcessState, addr: bigint): Frame {
    const cached = st.cache.get(addr);
    if (cached) return cached;
    let f = this.resolveUser(st, addr);
    if (f === null) {
      // Maybe new code was mapped (dlopen) since the snapshot: re-read, at most once per recheckMs.
      if (st.alive && this.now() - st.mapsReadAt >= this.recheckMs && this.readMaps(st)) f = this.resolveUser(st, addr);
    }
    f ??= UNKNOWN;
    // Unknown JIT addresses may be named once the perf map grows: do not cache them.
    if (f !== UNKNOWN) {
      if (st.cache.size >= this.maxAddresses) st.cache.clear();
      st.cache.set(addr, f);
      if (++this.cachedAddressesBound > this.maxCachedAddresses) this.trimAddressCaches();
    }
    return f;
  }

  private cachedAddresses(): number {
    let total = 0;
    for (const p of this.processes.values()) total += p.cache.size;
    return total;
  }

  /**
   * Keeps the per-process address caches within maxCachedAddresses in all: recounts (the bound
   * only grows between recounts, so this runs at most once per maxCachedAddresses / 4 new
   * addresses) and, when over 3/4 of it, clears the caches of the least recently sampled
   * processes (the one being sampled is the most recent: last) until at most half is left.
   */
  private trimAddressCaches(): void {
    let total = this.cachedAddresses();
    if (total > (this.maxCachedAddresses * 3) / 4) {
      for (const p of this.processes.values()) {
        if (total <= this.maxCachedAddresses / 2) break;
        total -= p.cache.size;
        p.cache.clear();
      }
    }
    this.cachedAddressesBound = total;
  }

  /** A frame, or null when no mapping holds the address and no perf map names it. */
  private resolveUser(st: ProcessState, addr: bigint): Frame | null {
    const m = findMapping(st.maps, addr);
    if (m && isFileBacked(m)) {
      const table = this.binaryFor(st, m);
      const module = table?.module;
      const off = addr - m.start + m.offset;
      const unknown = (vaddr?: number): Frame => {
        const name = offsetFrameName(basename(m.path), unnamedOffset(table, vaddr, off));
        return module ? { name, kind: 'x', module } : { name, kind: 'x' };
      };
      // An unreadable binary: the offset is still known from the mapping, and names the code as well.
      if (!table || table.error) return unknown();
      const vaddr = fileOffsetToVaddr(table.loads, off);
      if (table.deferred && vaddr !== undefined) return this.deferredFrame(table.deferred, Number(vaddr), off);
      const name = vaddr === undefined ? undefined : lookupTable(table, Number(vaddr));
      if (name === undefined) return unknown(vaddr === undefined ? undefined : Number(vaddr));
      return this.functionFrame(name, module);
    }
    if (m && m.path === '[vdso]') {
      const v = this.vdsoTable();
      const name = v ? lookupTable(v, Number(addr - m.start + (v.loads[0]?.vaddr ?? 0n) - BigInt(v.loads[0]?.offset ?? 0))) : undefined;
      return { name: name ?? '[vdso]', kind: name ? 'u' : 'x' };
    }
    // Anonymous executable memory (or no mapping at all): JIT code.
    const jit = this.perfMapLookup(st, addr);
    if (jit !== undefined) return { name: jit, kind: 'j' };
    // Other pseudo mappings ([vsyscall], [uprobes]) are named as perf names them.
    if (m) return m.path.startsWith('[') && !m.path.startsWith('[anon') ? { name: m.path, kind: 'x' } : UNKNOWN;
    return null;
  }

  private perfMapLookup(st: ProcessState, addr: bigint): string | undefined {
    if (!st.perfMap) {
      const where = this.perfMapPath(st);
      // No owner known (the process is gone): no perf map rather than one anybody could have planted.
      st.perfMap = new PerfMap(where.path, { within: where.dir, ownerUid: where.ownerUid ?? -1 });
    }
    let hit = st.perfMap.lookup(addr);
    if (!hit && this.now() - st.perfMapCheckedAt >= this.recheckMs) {
      st.perfMapCheckedAt = this.now();
      if (st.perfMap.refresh()) hit = st.perfMap.lookup(addr);
    }
    return hit?.name;
  }

  /**
   * /tmp/perf-PID.map, or for a process in another pid namespace (a container) the file it
   * wrote under its own pid inside its own root: /proc/PID/root/tmp/perf-NSPID.map.
   * `dir` is where no symlink is followed below; `ownerUid` is the process's effective uid
   * (the only owner whose perf map is believed), undefined when the process is gone.
   */
  private perfMapPath(st: ProcessState): { path: string; dir: string; ownerUid?: number } {
    const host = { path: `${this.perfMapDir}/perf-${st.pid}.map`, dir: this.perfMapDir };
    if (!st.alive) return host;
    try {
      const status = readFileSync(`${this.procRoot}/${st.pid}/status`, 'latin1');
      const euid = /^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1];
      const ownerUid = euid === undefined ? undefined : Number(euid);
      const ns = /^NSpid:\s+([\d\s]+)$/m.exec(status)?.[1].trim().split(/\s+/);
      const inner = ns && ns.length > 1 ? ns[ns.length - 1] : undefined;
      if (inner && inner !== String(st.pid)) {
        const root = `${this.procRoot}/${st.pid}/root`;
        return { path: `${root}/tmp/perf-${inner}.map`, dir: root, ownerUid };
      }
      return { ...host, ownerUid };
    } catch {
      /* gone: host path, owner unknown */
    }
    return host;
  }

  /** The symbol table of a mapping's binary: cache by dev:inode, else read it (via /proc/PID/root when alive). */
  private binaryFor(st: ProcessState, m: MapEntry): SymbolTable | undefined {
    const key = `${m.dev}:${m.inode}`;
    const hit = this.binaries.get(key);
    if (hit) {
      this.binaries.delete(key);
      this.binaries.set(key, hit);
      return hit;
    }
    // Each place the binary may be read from, and the directory its .gnu_debuglink file would be
    // beside as seen from there (map_files has none of its own: the process's view of the path's).
    const mappedDir = dirname(m.path);
    const candidates: { path: string; dir: string }[] = [];
    if (st.alive) {
      const root = `${this.procRoot}/${st.pid}/root`;
      candidates.push({ path: `${root}${m.path}`, dir: `${root}${mappedDir}` });
      candidates.push({ path: `${this.procRoot}/${st.pid}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`, dir: `${root}${mappedDir}` });
    }
    candidates.push({ path: m.path, dir: mappedDir });
    let table: SymbolTable | undefined;
    let lastError = 'not found';
    for (const { path, dir } of candidates) {
      let elf: ElfFile | undefined;
      const debugLookup: DebugLookup | undefined = this.debugRoot === undefined ? undefined : { root: this.debugRoot, binaryDir: dir, mappedDir };
      try {
        elf = ElfFile.open(path);
        const id = elf.buildId();
        const shared = id ? this.byBuildId.get(id) : undefined;
        if (shared) table = shared;
        else if (this.deferLookups && this.deferredTables.length < MAX_DEFERRED_BINARIES) {
          // Kept open until settle(), which reads its symbols for the addresses wanted by then.
          const module: FlameModule = id === undefined ? { file: m.path } : { file: m.path, buildId: id };
          table = { file: basename(m.path), buildId: id, module, loads: elf.loadSegments(), index: FunctionIndex.empty, deferred: { elf, frames: new Map(), offsets: new Map(), module, debugLookup } };
          this.deferredTables.push(table);
          elf = undefined;
        } else {
          table = buildTable(elf, basename(m.path), debugLookup);
          table.module = table.buildId === undefined ? { file: m.path } : { file: m.path, buildId: table.buildId };
        }
        break;
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
      } finally {
        elf?.close();
      }
    }
    if (!table) {
      this.binaryErrors++;
      table = { file: basename(m.path), module: { file: m.path }, loads: [], index: FunctionIndex.empty, error: lastError };
    }
    this.binaries.set(key, table);
    if (table.buildId) this.byBuildId.set(table.buildId, table);
    this.evictBinaries(table);
    return table;
  }

  /** Bytes of the distinct symbol indexes held. */
  private binaryBytes(): number {
    let bytes = 0;
    for (const t of new Set(this.binaries.values())) bytes += tableBytes(t);
    return bytes;
  }

  /**
   * Keeps the binary cache within maxBinaries entries and maxBinaryBytes: drops, least recently
   * used first, the binaries that no tracked process maps (exited ones past their grace, or a
   * binary replaced on disk), then if still over, the least recently used of the rest (read
   * again on their next miss). `keep`, the table just looked up, always stays, so a binary
   * larger than the whole budget still names its frames. Runs when a binary is added.
   */
  private evictBinaries(keep: SymbolTable): void {
    let bytes = this.binaryBytes();
    if (this.binaries.size <= this.maxBinaries && bytes <= this.maxBinaryBytes) return;
    const mappedKeys = new Set<string>();
    for (const p of this.processes.values()) for (const m of p.maps) if (isFileBacked(m)) mappedKeys.add(`${m.dev}:${m.inode}`);
    const mapped = new Set<SymbolTable>();
    for (const [key, t] of this.binaries) if (mappedKeys.has(key)) mapped.add(t);
    for (const pass of ['unmapped', 'mapped'] as const) {
      for (const t of [...new Set(this.binaries.values())]) {
        if (this.binaries.size <= this.maxBinaries && bytes <= this.maxBinaryBytes) return;
        if (t === keep || mapped.has(t) !== (pass === 'mapped')) continue;
        for (const [key, held] of this.binaries) if (held === t) this.binaries.delete(key);
        if (t.buildId && this.byBuildId.get(t.buildId) === t) this.byBuildId.delete(t.buildId);
        bytes -= tableBytes(t);
      }
    }
  }

  /**
   * Symbols of the vDSO, read once from this process's own vDSO image (the kernel maps the
   * same image into every 64-bit process). Null when it cannot be read.
   */
  private vdsoTable(): SymbolTable | null {
    if (this.vdso !== undefined) return this.vdso;
    this.vdso = null;
    try {
      const own = parseProcMaps(readFileSync('/proc/self/maps', 'utf8')).entries.find((e) => e.path === '[vdso]');
      if (!own) return null;
      const len = Number(own.end - own.start);
      const buf = Buffer.alloc(len);
      const fd = openSync('/proc/self/mem', 'r');
      try {
        if (readSync(fd, buf, 0, len, Number(own.start)) !== len) return null;
      } finally {
        closeSync(fd);
      }
      this.vdso = buildTable(ElfFile.fromBuffer(buf, '[vdso]'), '[vdso]');
    } catch {
      this.vdso = null;
    }
    return this.vdso;
  }
}

/**
 * The GNU build-id of the running kernel, from its ELF notes (/sys/kernel/notes: the kernel's
 * .notes section), lowercase hex; undefined when unreadable or absent. Read like every other
 * file the symbolizer opens (server/fs/safe-file.ts: a regular file, no symlink games).
 */
export function kernelBuildId(path = '/sys/kernel/notes'): string | undefined {
  try {
    // A few notes of a few dozen bytes each; 64 KiB is far more than any kernel has.
    const { data } = readRegularFile(path, { maxBytes: 64 * 1024 });
    return gnuBuildId(parseNoteData(data, 0, 4, path, (message) => {
      throw new ElfError(path, message);
    }));
  } catch {
    return undefined;
  }
}

/**
 * Feeds the BPF stack walker (bpf/unwind.bpf.c): for a process, reads /proc/PID/maps, compiles
 * the call-frame information of each executable file mapping's binary (compile.ts), loads the
 * rows into pb_unwind_rows, and writes the process's sorted mapping list (runtime range -> table
 * id + bias) into pb_unwind_procs, which is also the walker's target filter.
 *
 * Tables are shared: one per binary (keyed by GNU build-id, else by dev:inode), loaded once
 * however many processes map it. Rows are allocated from the start of pb_unwind_rows upwards and
 * never freed in this version (a long-running profiler of many short-lived binaries will fill
 * the map; what does not fit is counted in `stats.tablesNotFitting`, and those mappings fall
 * back to frame pointers in the walker). Nothing is silently dropped: every mapping without a
 * table is listed with the reason in the report of `addProcess`.
 *
 * Binaries are opened the way the symbolizer opens them: through /proc/PID/root (the process's
 * own view of the path), then /proc/PID/map_files, as regular files only (server/fs/safe-file.ts
 * via ElfFile.open); a file replaced since it was mapped (another dev:inode) is refused.
 */
import { ElfFile, fileOffsetToVaddr, type ProgramHeader } from '../symbolizer/elf.ts';
import { openRegularFile } from '../fs/safe-file.ts';
import { isFileBacked, parseExecutableMappings, type MapEntry } from '../symbolizer/proc-maps.ts';
import { readFileSync } from 'node:fs';
import type { BpfMap } from '../libbpf/map.ts';
import { PB_UNWIND_MAX_MAPPINGS, PB_UNWIND_MAX_TABLE_ROWS, PB_UNWIND_MAX_TABLES, encodeProc, encodeTable, type WalkerMapping } from '../abi/unwind.ts';
import { compileElf, ROW_BYTES, type CompileStats } from './compile.ts';

/** The walker's maps, from the loaded bpf/obj/unwind.bpf.o. */
export interface WalkerMaps {
  /** pb_unwind_rows: u32 index -> 16-byte row. */
  rows: BpfMap;
  /** pb_unwind_tables: u32 table id -> {first_row, row_count}. */
  tables: BpfMap;
  /** pb_unwind_procs: u32 tgid -> struct pb_unwind_proc. */
  procs: BpfMap;
}

/** One binary's table as loaded (or why it is not). */
export interface LoadedTable {
  /** Build-id (hex) or `dev:inode` when the binary has none. */
  key: string;
  /** Path it was first read from (for reports). */
  path: string;
  /** Table id in pb_unwind_tables; undefined when not loaded. */
  tableId?: number;
  firstRow?: number;
  rows: number;
  /** Why there is no table (unreadable, no CFI, did not fit). */
  error?: string;
  stats?: CompileStats;
}

/** A mapping of the process, and what the walker got for it. */
export interface MappingReport {
  start: bigint;
  end: bigint;
  path: string;
  /** Table id, or undefined with `reason` when the walker falls back to frame pointers here. */
  tableId?: number;
  reason?: string;
}

export interface ProcessReport {
  pid: number;
  mappings: MappingReport[];
  /** Mappings with a table that did not fit the walker's PB_UNWIND_MAX_MAPPINGS (frame pointers there). */
  mappingsDropped: number;
  /** Lines of /proc/PID/maps that could not be parsed. */
  badMapsLines: number;
}

export interface TablesStats {
  /** Tables loaded. */
  tables: number;
  /** Rows used / capacity of pb_unwind_rows. */
  rowsUsed: number;
  rowsCapacity: number;
  /** Binaries whose table did not fit (rows map full, too many rows for one table, or table ids exhausted). */
  tablesNotFitting: number;
  /** Binaries that could not be read or had no usable CFI. */
  binariesFailed: number;
  /** Processes in pb_unwind_procs. */
  processes: number;
}

export interface UnwindTablesOptions {
  procRoot?: string;
}

export class UnwindTables {
  readonly #maps: WalkerMaps;
  readonly #procRoot: string;
  /** Build-id or dev:inode -> table. */
  readonly #tables = new Map<string, LoadedTable>();
  /** dev:inode -> build-id key, so a binary mapped again is not reopened. */
  readonly #byInode = new Map<string, string>();
  readonly #pids = new Set<number>();
  /** Table key -> the binary's PT_LOAD segments (for each mapping's bias). */
  readonly #loads = new Map<string, ProgramHeader[]>();
  #nextRow = 0;
  #nextTableId = 0;
  #notFitting = 0;
  #failed = 0;

  constructor(maps: WalkerMaps, options: UnwindTablesOptions = {}) {
    this.#maps = maps;
    this.#procRoot = options.procRoot ?? '/proc';
  }

  get stats(): TablesStats {
    return {
      tables: this.#nextTableId,
      rowsUsed: this.#nextRow,
      rowsCapacity: this.#maps.rows.maxEntries,
      tablesNotFitting: this.#notFitting,
      binariesFailed: this.#failed,
      processes: this.#pids.size,
    };
  }

  /** Every binary seen so far, loaded or not. */
  get tables(): LoadedTable[] {
    return [...this.#tables.values()];
  }

  /**
   * Loads the tables of every executable file mapping of `pid` and writes its mapping list
   * (replacing an earlier one). Call again after the process maps new code (dlopen). Throws
   * when the process is gone (ENOENT reading its maps) or a map update fails; a binary that
   * cannot be used is reported, not thrown.
   */
  addProcess(pid: number): ProcessReport {
    const parsed = parseExecutableMappings(readFileSync(`${this.#procRoot}/${pid}/maps`, 'utf8'));
    const reports: MappingReport[] = [];
    const walker: WalkerMapping[] = [];
    for (const m of parsed.entries) {
      const report: MappingReport = { start: m.start, end: m.end, path: m.path };
      reports.push(report);
      if (!isFileBacked(m)) {
        report.reason = m.path === '' ? 'anonymous (JIT or generated code)' : `${m.path}: not a file`;
        continue;
      }
      const found = this.#tableFor(pid, m);
      if ('reason' in found) {
        report.reason = found.reason;
        continue;
      }
      report.tableId = found.table.tableId;
      walker.push({ start: m.start, end: m.end, bias: found.bias, tableId: found.table.tableId! });
    }
    // Mappings without a table are left out: the walker falls back to frame pointers for a pc
    // in no listed mapping, exactly as for one listed without a table.
    let dropped = 0;
    if (walker.length > PB_UNWIND_MAX_MAPPINGS) {
      dropped = walker.length - PB_UNWIND_MAX_MAPPINGS;
      for (const w of walker.slice(PB_UNWIND_MAX_MAPPINGS)) {
        const r = reports.find((x) => x.start === w.start);
        if (r) {
          r.reason = `more than ${PB_UNWIND_MAX_MAPPINGS} mappings with tables`;
          r.tableId = undefined;
        }
      }
      walker.length = PB_UNWIND_MAX_MAPPINGS;
    }
    const key = Buffer.alloc(4);
    key.writeUInt32LE(pid, 0);
    this.#maps.procs.update(key, encodeProc(walker));
    this.#pids.add(pid);
    return { pid, mappings: reports, mappingsDropped: dropped, badMapsLines: parsed.badLines };
  }

  /** Stops walking `pid` (its tables stay loaded for other processes and later use). */
  removeProcess(pid: number): void {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(pid, 0);
    this.#maps.procs.delete(key);
    this.#pids.delete(pid);
  }

  /** The table of a mapping's binary (loading it on first use) and the mapping's bias. */
  #tableFor(pid: number, m: MapEntry): { table: LoadedTable; bias: bigint } | { reason: string } {
    const inodeKey = `${m.dev}:${m.inode}`;
    let key = this.#byInode.get(inodeKey);
    let table = key === undefined ? undefined : this.#tables.get(key);
    if (!table || key === undefined) {
      const opened = this.#open(pid, m);
      if ('reason' in opened) {
        this.#failed++;
        return { reason: opened.reason };
      }
      const elf = opened.elf;
      try {
        key = elf.buildId() ?? inodeKey;
        table = this.#tables.get(key);
        if (!table) {
          table = this.#load(key, m.path, elf);
          this.#tables.set(key, table);
        }
        this.#byInode.set(inodeKey, key);
        if (!this.#loads.has(key)) this.#loads.set(key, elf.loadSegments());
      } finally {
        elf.close();
      }
    }
    if (table.tableId === undefined) return { reason: table.error ?? 'no table' };
    const loads = this.#loads.get(key) ?? [];
    // Table pc (ELF vaddr) = runtime pc - start + file offset - p_offset + p_vaddr.
    const vaddrAtStart = fileOffsetToVaddr(loads, m.offset);
    if (vaddrAtStart === undefined) return { reason: `file offset 0x${m.offset.toString(16)} is in no PT_LOAD segment` };
    return { table, bias: vaddrAtStart - m.start };
  }

  /** Opens the mapping's binary as the process sees it; refuses a file that is not the mapped one. */
  #open(pid: number, m: MapEntry): { elf: ElfFile } | { reason: string } {
    const candidates = [`${this.#procRoot}/${pid}/root${m.path}`, `${this.#procRoot}/${pid}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`];
    let lastError = 'not found';
    for (const path of candidates) {
      try {
        const file = openRegularFile(path);
        // The file opened is the one mapped (not one put at its path since): same inode.
        if (file.stat.ino !== m.inode) {
          file.close();
          throw new Error(`${path}: replaced since it was mapped (inode ${file.stat.ino}, mapped ${m.inode})`);
        }
        return { elf: ElfFile.fromRegularFile(file) };
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
      }
    }
    return { reason: lastError };
  }

  /** Compiles and loads one binary's table. */
  #load(key: string, path: string, elf: ElfFile): LoadedTable {
    let compiled;
    try {
      compiled = compileElf(elf);
    } catch (e) {
      this.#failed++;
      return { key, path, rows: 0, error: `no CFI: ${e instanceof Error ? e.message : String(e)}` };
    }
    const rows = compiled.count;
    if (rows === 0) {
      this.#failed++;
      return { key, path, rows: 0, error: 'no CFI rows', stats: compiled.stats };
    }
    const capacity = this.#maps.rows.maxEntries;
    let error: string | undefined;
    if (rows > PB_UNWIND_MAX_TABLE_ROWS) error = `${rows} rows, one table holds at most ${PB_UNWIND_MAX_TABLE_ROWS}`;
    else if (this.#nextRow + rows > capacity) error = `${rows} rows do not fit: ${capacity - this.#nextRow} of ${capacity} rows free`;
    else if (this.#nextTableId >= Math.min(PB_UNWIND_MAX_TABLES, this.#maps.tables.maxEntries)) error = `table ids exhausted (${PB_UNWIND_MAX_TABLES})`;
    if (error) {
      this.#notFitting++;
      return { key, path, rows, error, stats: compiled.stats };
    }
    const firstRow = this.#nextRow;
    const keys = Buffer.alloc(rows * 4);
    for (let i = 0; i < rows; i++) keys.writeUInt32LE(firstRow + i, i * 4);
    this.#maps.rows.updateBatch(keys, compiled.rows.subarray(0, rows * ROW_BYTES), rows);
    const tableId = this.#nextTableId++;
    this.#nextRow += rows;
    const id = Buffer.alloc(4);
    id.writeUInt32LE(tableId, 0);
    this.#maps.tables.update(id, encodeTable(firstRow, rows));
    return { key, path, tableId, firstRow, rows, stats: compiled.stats };
  }
}

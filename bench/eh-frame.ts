/**
 * What building an unwind table costs the collector: for each binary, the time to read and parse
 * its .eh_frame/.debug_frame (server/unwind/eh-frame.ts) and to execute every FDE and compile the
 * compact table (server/unwind/compile.ts), with the table's size and row counts.
 *
 *   node --import tsx bench/eh-frame.ts [--runs 5] [--binaries /path/a,/path/b]
 *
 * Times are wall-clock milliseconds of this process, the median of --runs, after one unmeasured
 * pass over every binary (JIT warm-up, file in the page cache): the steady cost of a new binary
 * for a collector that has been running a while.
 * On a shared machine the load moves: compare rows of one run.
 */
import { ElfFile } from '../server/symbolizer/elf.ts';
import { readElfCfi } from '../server/unwind/eh-frame.ts';
import { compileCfi, compileFile, ROW_BYTES, type CompiledTable } from '../server/unwind/compile.ts';
import { option } from './proc.ts';

const DEFAULT_BINARIES = ['/lib/x86_64-linux-gnu/libc.so.6', '/usr/bin/python3.11', process.execPath, '/usr/lib/chromium/chromium'];
const runs = Math.max(1, Number(option('runs', '5')));
const binaries = option('binaries', DEFAULT_BINARIES.join(',')).split(',').filter(Boolean);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Figures {
  parseMs: number;
  compileMs: number;
  sectionBytes: number;
  table: CompiledTable;
}

function measure(path: string): Figures {
  const parse: number[] = [];
  const compile: number[] = [];
  let last: Omit<Figures, 'parseMs' | 'compileMs'> | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    // A fresh ElfFile per run: section contents are cached per file object.
    const elf = ElfFile.open(path);
    let cfi;
    let buildId;
    let sectionBytes = 0;
    try {
      cfi = readElfCfi(elf);
      buildId = elf.buildId();
      sectionBytes = (elf.section('.eh_frame')?.size ?? 0) + (elf.section('.debug_frame')?.size ?? 0);
    } finally {
      elf.close();
    }
    const t1 = performance.now();
    const table = compileCfi(cfi, buildId);
    const t2 = performance.now();
    parse.push(t1 - t0);
    compile.push(t2 - t1);
    last = { sectionBytes, table };
  }
  return { parseMs: median(parse), compileMs: median(compile), ...last! };
}

const header = ['binary', 'CFI KB', 'FDEs', 'FDE rows', 'table rows', 'NO_CFI', 'PLT', 'unsupp.', 'rbp?', 'table KB', 'parse ms', 'compile ms', 'total ms'];
for (const path of binaries) {
  try {
    compileFile(path); // warm-up, unmeasured
  } catch {
    // reported below
  }
}
const rows: string[][] = [];
for (const path of binaries) {
  try {
    const f = measure(path);
    const s = f.table.stats;
    rows.push([
      path,
      (f.sectionBytes / 1024).toFixed(0),
      String(s.fdes),
      String(s.rowsBeforeMerge),
      String(s.rows),
      String(s.byType.NO_CFI),
      String(s.byType.PLT),
      String(s.unsupported),
      String(s.rbpUnknown),
      ((s.rows * ROW_BYTES) / 1024).toFixed(0),
      f.parseMs.toFixed(1),
      f.compileMs.toFixed(1),
      (f.parseMs + f.compileMs).toFixed(1),
    ]);
    if (s.unsupported > 0) console.error(`${path}: unsupported rows by reason: ${JSON.stringify(s.unsupportedReasons)}`);
    if (s.malformed > 0) console.error(`${path}: ${s.malformed} malformed entries, e.g. ${s.malformedExamples[0]}`);
  } catch (e) {
    console.error(`${path}: ${(e as Error).message}`);
  }
}
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`median of ${runs} runs; times in ms, sizes in KB (1024 bytes); ${ROW_BYTES}-byte rows`);
console.log(line(header));
for (const r of rows) console.log(line(r));

/**
 * FunctionIndex: one binary's function symbols as an address-sorted index, built once and kept
 * compact: start and end addresses in Float64Arrays and the kept names in one byte buffer, each
 * decoded to a string the first time a lookup returns it (and kept). A binary with 100k+
 * symbols (node, libc with debug symbols) costs typed arrays and its names' bytes, not 100k
 * strings and objects, and its symbol and string tables are dropped once the index is built.
 *
 * Which symbols, and which name among aliases, are exactly what ElfFile.functionSymbols gave
 * the old full table: STT_FUNC and STT_GNU_IFUNC, defined (st_shndx != SHN_UNDEF), non-empty
 * name, non-zero value below 2^53; one name per address, ranked as perf ranks aliases (global
 * over weak over local, then fewer leading underscores, then sized over unsized, then .symtab
 * over .dynsym, then table order). Where the old reader refused the whole binary (a name offset
 * past its string table), the index skips that one symbol.
 */
import type { ElfFile, ProgramHeader, SectionHeader, SymbolTableSections } from './elf.ts';

const SYM_SIZE = 24;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const STB_GLOBAL = 1;
const STB_WEAK = 2;
const UNDERSCORE = 0x5f;
/** 2^32, to assemble 64-bit fields from two 32-bit reads (no bigint per symbol). */
const HIGH = 0x1_0000_0000;
/** High 32 bits above this make a value exceed Number.MAX_SAFE_INTEGER. */
const MAX_SAFE_HIGH = 0x1fffff;
/** Longest name kept (bytes); a longer (or unterminated) one is cut there. Mangled C++ names stay far below. */
export const MAX_NAME_BYTES = 64 * 1024;
/** Leading underscores counted for the alias rank (as many as the rank can tell apart). */
const MAX_UNDERSCORES = 9;

/**
 * An entry that is in no symbol table, made by the caller (PLT stubs, `puts@plt`, from
 * ElfFile.pltStubs): `size` bytes (> 0) at virtual address `address`, named `name`. A real
 * symbol at the same address wins over it. An empty name marks code known to be no function of
 * the symbol tables (a PLT header): it ends the unsized symbol before it, and lookups inside it
 * answer undefined instead of that symbol's name.
 */
export interface ExtraSymbol {
  address: number;
  size: number;
  name: string;
}

/** Alias rank of a named extra entry: below every symbol-table symbol (their ranks stay under 3000). */
const EXTRA_RANK = 3000;
/** Alias rank of an unnamed extra entry: chosen only where nothing else starts. (0xffff: unusable.) */
const EXTRA_UNNAMED_RANK = 0xfffe;

/** One symbol table of one ELF file, as the index reads it. */
export interface IndexSource {
  elf: ElfFile;
  table: SymbolTableSections;
}

/** Candidate symbols while an index is built: parallel arrays, one row per defined function symbol. */
interface Candidates {
  n: number;
  addr: Float64Array;
  size: Float64Array;
  /** Alias rank without the underscore part (bind, sized, source); 0xffff = not a usable symbol. */
  rank: Uint16Array;
  nameOffset: Uint32Array;
  source: Uint8Array;
  maxAddr: number;
}

export class FunctionIndex {
  /** Distinct start addresses (ELF virtual addresses), ascending. */
  private readonly starts: Float64Array;
  /** Exclusive end of each: start + size, or the next start (the segment's end for the last) when the size is unknown. */
  private readonly ends: Float64Array;
  /** Name of entry k: names[nameStart[k], nameEnd[k]) (UTF-8), decoded on first use. */
  private readonly nameStart: Uint32Array;
  private readonly nameEnd: Uint32Array;
  private readonly names: Buffer;
  /** Names decoded so far, by symbol index. */
  private readonly decoded = new Map<number, string>();
  /** Estimated bytes of `decoded` (see byteSize). */
  private decodedBytes = 0;

  private constructor(starts: Float64Array, ends: Float64Array, nameStart: Uint32Array, nameEnd: Uint32Array, names: Buffer) {
    this.starts = starts;
    this.ends = ends;
    this.nameStart = nameStart;
    this.nameEnd = nameEnd;
    this.names = names;
  }

  static readonly empty = new FunctionIndex(new Float64Array(0), new Float64Array(0), new Uint32Array(0), new Uint32Array(0), Buffer.alloc(0));

  /**
   * Builds the index from symbol tables (`.symtab` ones first, as ElfFile.functionSymbols lists
   * them) and the PT_LOAD segments (which bound an unsized last symbol). The tables are read
   * whole for the build and dropped after it: what stays is typed arrays and the kept names,
   * copied into one buffer. Throws (an ElfError from the reader, or an Error) on tables that
   * cannot be read.
   *
   * `only` (ascending virtual addresses): a partial index that answers `lookup` exactly as the
   * full one does for those addresses, and for no others. It keeps only the symbol starts a
   * lookup of one of them can reach (the four nearest distinct starts at or below each, and the
   * next start above, which ends an unsized symbol), so nothing of the size of the whole table
   * is sorted or copied: for a one-shot profile, which looks up a few hundred addresses of a
   * binary with 100k+ symbols.
   */
  static build(sources: readonly IndexSource[], loads: readonly ProgramHeader[], only?: Float64Array, extra: readonly ExtraSymbol[] = []): FunctionIndex {
    if (sources.length > 254) throw new Error(`too many symbol tables (${sources.length})`);
    const extras = new ExtraNames(extra);
    if (only) return buildPartial(sources, loads, only, extras);
    const tables = sources.map(loadTable);
    tables.push(extras.table);
    const c = readCandidates(tables, extras);
    const order = sortByAddress(c);
    const { starts, ends, chosen } = onePerAddress(c, order, loads);
    const names = copyNames(tables, c, chosen, sources[0]?.elf.name ?? 'ELF file');
    return new FunctionIndex(starts, ends, names.start, names.end, names.bytes);
  }

  /** Assembles an index from parts built elsewhere in this module (buildPartial). */
  static fromParts(starts: Float64Array, ends: Float64Array, nameStart: Uint32Array, nameEnd: Uint32Array, names: Buffer): FunctionIndex {
    return new FunctionIndex(starts, ends, nameStart, nameEnd, names);
  }

  /** Number of distinct addresses. */
  get size(): number {
    return this.starts.length;
  }

  /**
   * Bytes held (approximate): the typed arrays, the names buffer (its own bytes, not the pool a
   * small Buffer may be cut from) and the names decoded so far (2 bytes a character plus ~48 for
   * the string and its map slot). What the Symbolizer's per-binary cache budget counts.
   */
  get byteSize(): number {
    return this.starts.byteLength + this.ends.byteLength + this.nameStart.byteLength + this.nameEnd.byteLength + this.names.byteLength + this.decodedBytes;
  }

  /**
   * The name of the function holding `vaddr`: the nearest symbol at or below it, or (nested or
   * overlapping symbols) one of the three before that, whose range holds it. Undefined when none
   * (or when that entry is an unnamed ExtraSymbol).
   */
  lookup(vaddr: number): string | undefined {
    const a = this.starts;
    let lo = 0;
    let hi = a.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] <= vaddr) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (let i = found; i >= 0 && i > found - 4; i--) {
      if (vaddr < this.ends[i]) return this.nameStart[i] === this.nameEnd[i] ? undefined : this.name(i);
    }
    return undefined;
  }

  /** Every entry as [start, end, name] in address order (decodes every name: tests only). */
  entries(): [number, number, string][] {
    return Array.from(this.starts, (start, i) => [start, this.ends[i], this.name(i)] as [number, number, string]);
  }

  private name(i: number): string {
    let name = this.decoded.get(i);
    if (name === undefined) {
      name = this.names.toString('utf8', this.nameStart[i], this.nameEnd[i]);
      this.decoded.set(i, name);
      this.decodedBytes += 2 * name.length + 48;
    }
    return name;
  }
}

/**
 * One entry per address of `order` (usable candidates by address): the best-ranked name
 * (earliest in table order among equals) and the size of the best-ranked sized alias when the
 * chosen one has none; an unsized symbol extends to the next start, the last one to the end of
 * its segment. `chosen`: the candidate whose name each entry takes.
 */
function onePerAddress(c: Candidates, order: Uint32Array, loads: readonly ProgramHeader[]): { starts: Float64Array; ends: Float64Array; chosen: Uint32Array } {
  // One entry per address: the best-ranked name (earliest in table order among equals), and
  // the size of the best-ranked sized alias when the chosen one has none.
  const { addr, size, rank } = c;
  const n = order.length;
  const starts = new Float64Array(n);
  const sizes = new Float64Array(n);
  const chosen = new Uint32Array(n);
  let u = 0;
  for (let g = 0; g < n; ) {
    const a = addr[order[g]];
    let best = order[g];
    let sized = size[best] > 0 ? best : -1;
    let h = g + 1;
    for (; h < n && addr[order[h]] === a; h++) {
      const i = order[h];
      if (rank[i] < rank[best]) best = i;
      if (size[i] > 0 && (sized < 0 || rank[i] < rank[sized])) sized = i;
    }
    starts[u] = a;
    sizes[u] = size[best] > 0 ? size[best] : sized >= 0 ? size[sized] : 0;
    chosen[u] = best;
    u++;
    g = h;
  }

  // An unsized symbol extends to the next symbol, or (the last one) to the end of its segment.
  const ends = new Float64Array(u);
  for (let k = 0; k < u; k++) {
    ends[k] = sizes[k] > 0 ? starts[k] + sizes[k] : k + 1 < u ? starts[k + 1] : segmentEnd(loads, starts[k]);
  }
  return { starts: starts.slice(0, u), ends, chosen: chosen.subarray(0, u) };
}

function segmentEnd(loads: readonly ProgramHeader[], a: number): number {
  for (const p of loads) {
    const start = Number(p.vaddr);
    const end = start + Number(p.memsz);
    if (a >= start && a < end) return end;
  }
  return a + 1;
}

/** One source's tables in memory while the index is built (dropped afterwards). */
interface LoadedTable {
  /** The Elf64_Sym entries as 32-bit words (6 per entry) and as bytes. */
  words: Uint32Array;
  bytes: Uint8Array;
  strings: Uint8Array;
  sourceRank: number;
}

/** Reads a section whole, as 4-byte aligned bytes (the symbol table is read as 32-bit words). */
function readAligned(elf: ElfFile, section: SectionHeader): Uint8Array {
  const read = elf.readSectionInto(section, 0, section.size, Buffer.allocUnsafe(section.size));
  // A plain Uint8Array view: its subarray (one per kept name in copyNames) is far cheaper than a Buffer's.
  const bytes = new Uint8Array(read.buffer, read.byteOffset, read.length);
  if (bytes.byteOffset % 4 === 0) return bytes;
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

function loadTable({ elf, table }: IndexSource): LoadedTable {
  const bytes = readAligned(elf, table.symbols);
  return {
    words: new Uint32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 4)),
    bytes,
    strings: readAligned(elf, table.strings),
    sourceRank: table.source === 'symtab' ? 0 : 1,
  };
}

/**
 * Every defined function symbol with a name, and its full alias rank (bind, leading
 * underscores of its name, sized, source). One plain loop per table over 32-bit words: this
 * runs once per binary, often before V8 has optimized it, so it avoids calls per symbol.
 */
function readCandidates(tables: readonly LoadedTable[], extras: ExtraNames): Candidates {
  let capacity = extras.count;
  for (const t of tables) capacity += Math.max(0, Math.floor(t.bytes.length / SYM_SIZE) - 1);
  const c: Candidates = {
    n: 0,
    addr: new Float64Array(capacity),
    size: new Float64Array(capacity),
    rank: new Uint16Array(capacity),
    nameOffset: new Uint32Array(capacity),
    source: new Uint8Array(capacity),
    maxAddr: 0,
  };
  for (let t = 0; t < tables.length; t++) readTableCandidates(tables[t], t, c);
  // The extras' table is the last one (no symbol entries: their rows come from here).
  for (let e = 0; e < extras.count; e++) {
    const n = c.n++;
    c.addr[n] = extras.address[e];
    c.size[n] = extras.size[e];
    c.rank[n] = extras.rank[e];
    c.nameOffset[n] = extras.nameOffset[e];
    c.source[n] = tables.length - 1;
    if (extras.address[e] > c.maxAddr) c.maxAddr = extras.address[e];
  }
  return c;
}

/**
 * ExtraSymbols as the index builders read them: usable ones only (size > 0, address a positive
 * safe integer), their names NUL-terminated in one string table (a LoadedTable without symbol
 * entries, so names are copied like any other), and their alias ranks.
 */
class ExtraNames {
  readonly count: number;
  readonly address: Float64Array;
  readonly size: Float64Array;
  readonly rank: Uint16Array;
  readonly nameOffset: Uint32Array;
  readonly table: LoadedTable;

  constructor(extra: readonly ExtraSymbol[]) {
    const usable = extra.filter((x) => Number.isSafeInteger(x.address) && x.address > 0 && Number.isSafeInteger(x.size) && x.size > 0);
    this.count = usable.length;
    this.address = Float64Array.from(usable, (x) => x.address);
    this.size = Float64Array.from(usable, (x) => x.size);
    this.rank = new Uint16Array(this.count);
    this.nameOffset = new Uint32Array(this.count);
    // Offset 0 is the empty name (unnamed entries), as in an ELF string table.
    const parts: Buffer[] = [Buffer.alloc(1)];
    let used = 1;
    usable.forEach((x, i) => {
      const bytes = Buffer.from(x.name.slice(0, MAX_NAME_BYTES), 'utf8');
      if (bytes.length === 0 || bytes.includes(0)) {
        this.rank[i] = EXTRA_UNNAMED_RANK;
        return;
      }
      let underscores = 0;
      while (underscores < MAX_UNDERSCORES && bytes[underscores] === UNDERSCORE) underscores++;
      this.rank[i] = EXTRA_RANK + underscores * 100;
      this.nameOffset[i] = used;
      parts.push(bytes, Buffer.alloc(1));
      used += bytes.length + 1;
    });
    const strings = Buffer.concat(parts);
    this.table = { words: new Uint32Array(0), bytes: new Uint8Array(0), strings: new Uint8Array(strings.buffer, strings.byteOffset, strings.length), sourceRank: 2 };
  }

  /** The names as buildPartial reads names: `name(offset, limit)`, a view without the terminator. */
  name(offset: number, limit: number): Uint8Array {
    const strings = this.table.strings;
    if (offset >= strings.length) return strings.subarray(0, 0);
    const stop = Math.min(strings.length, offset + limit);
    const nul = strings.subarray(offset, stop).indexOf(0);
    return strings.subarray(offset, nul < 0 ? stop : offset + nul);
  }
}

function readTableCandidates(table: LoadedTable, sourceIndex: number, c: Candidates): void {
  const { words, bytes, strings, sourceRank } = table;
  const count = Math.floor(bytes.length / SYM_SIZE);
  const stringsSize = strings.length;
  const { addr, size, rank, nameOffset, source } = c;
  let n = c.n;
  let maxAddr = c.maxAddr;
  for (let i = 1; i < count; i++) {
    const b = i * SYM_SIZE;
    const w = i * 6;
    const info = bytes[b + 4];
    const type = info & 0xf;
    if (type !== STT_FUNC && type !== STT_GNU_IFUNC) continue;
    if (bytes[b + 6] === 0 && bytes[b + 7] === 0) continue; // SHN_UNDEF: imported
    const off = words[w];
    if (off >= stringsSize || strings[off] === 0) continue; // no name (or out of range)
    const valueHigh = words[w + 3];
    if (valueHigh > MAX_SAFE_HIGH) continue;
    const value = valueHigh * HIGH + words[w + 2];
    if (value === 0) continue;
    const sizeHigh = words[w + 5];
    const symbolSize = sizeHigh > MAX_SAFE_HIGH ? 0 : sizeHigh * HIGH + words[w + 4];
    const bind = info >> 4;
    const bindRank = bind === STB_GLOBAL ? 0 : bind === STB_WEAK ? 1 : 2;
    let underscores = 0;
    while (underscores < MAX_UNDERSCORES && off + underscores < stringsSize && strings[off + underscores] === UNDERSCORE) underscores++;
    addr[n] = value;
    size[n] = symbolSize;
    rank[n] = bindRank * 1000 + underscores * 100 + (symbolSize > 0 ? 0 : 10) + sourceRank;
    nameOffset[n] = off;
    source[n] = sourceIndex;
    if (value > maxAddr) maxAddr = value;
    n++;
  }
  c.n = n;
  c.maxAddr = maxAddr;
}

/**
 * The names of the kept entries, copied out of the string tables into one exactly sized buffer
 * (the tables are dropped after the build). Names are cut at MAX_NAME_BYTES; all names together
 * may not exceed four times the string tables' size (legit tables share only suffixes), so no
 * table can make this balloon.
 */
function copyNames(tables: readonly LoadedTable[], c: Candidates, chosen: Uint32Array, fileName: string): { start: Uint32Array; end: Uint32Array; bytes: Buffer } {
  const k = chosen.length;
  const start = new Uint32Array(k);
  const end = new Uint32Array(k);
  let budget = 65536;
  for (const t of tables) budget += 4 * t.strings.length;
  // First the lengths (so the buffer is allocated once), then the bytes.
  let total = 0;
  for (let j = 0; j < k; j++) {
    const i = chosen[j];
    const strings = tables[c.source[i]].strings;
    const from = c.nameOffset[i];
    const limit = Math.min(strings.length, from + MAX_NAME_BYTES);
    // Native search for the terminator (a JS byte loop here ran mostly unoptimized: this runs once per binary).
    // (Searched within the name's limit: an unterminated table must not make each search run to its end.)
    const nul = strings.subarray(from, limit).indexOf(0);
    const stop = nul < 0 ? limit : from + nul;
    start[j] = from;
    end[j] = stop;
    total += stop - from;
    if (total > budget) throw new Error(`${fileName}: names read from its string tables exceed ${budget} bytes (overlapping names)`);
  }
  const names = Buffer.allocUnsafe(total);
  let used = 0;
  for (let j = 0; j < k; j++) {
    const strings = tables[c.source[chosen[j]]].strings;
    const from = start[j];
    const stop = end[j];
    start[j] = used;
    names.set(strings.subarray(from, stop), used);
    used += stop - from;
    end[j] = used;
  }
  return { start, end, bytes: names };
}

/** Index of the first element of `sorted` that is >= `x` (sorted.length when none is). */
function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Distinct starts at or below an address that a lookup may inspect (FunctionIndex.lookup looks 4 deep). */
const LOOKUP_DEPTH = 4;

/**
 * The symbol starts that a lookup of `wanted` (ascending) can reach, fed one start at a time
 * (aliases and repeats allowed). Per address v: the LOOKUP_DEPTH largest distinct starts <= v,
 * and the smallest start > v. Every start kept that a lookup may return then has its successor
 * of the full table kept too (the next larger one of the same v, or v's smallest start above),
 * so ends (the next start, for an unsized symbol) and names come out as in the full index.
 * O(log k) per start, O(k) memory: nothing the size of the symbol table.
 */
class ReachableStarts {
  private readonly k: number;
  /** Bucket j holds the starts in (wanted[j-1], wanted[j]]; bucket k those above wanted[k-1]. Its LOOKUP_DEPTH largest distinct starts, descending (NaN = none). */
  private readonly top: Float64Array;
  /** Each bucket's smallest start. */
  private readonly least: Float64Array;

  constructor(private readonly wanted: Float64Array) {
    this.k = wanted.length;
    this.top = new Float64Array((this.k + 1) * LOOKUP_DEPTH).fill(NaN);
    this.least = new Float64Array(this.k + 1).fill(Infinity);
  }

  /** The previous start's bucket: symbol tables are mostly in address order, so usually this one again. */
  private lastBucket = 0;

  add(a: number): void {
    const wanted = this.wanted;
    let j = this.lastBucket;
    if ((j < this.k && a > wanted[j]) || (j > 0 && a <= wanted[j - 1])) j = this.lastBucket = lowerBound(wanted, a);
    const { top, least } = this;
    if (a < least[j]) least[j] = a;
    const base = j * LOOKUP_DEPTH;
    // Insert into the bucket's descending distinct top list (shift smaller ones down).
    for (let d = 0; d < LOOKUP_DEPTH; d++) {
      const t = top[base + d];
      if (t === a) break;
      if (Number.isNaN(t) || a > t) {
        for (let e = LOOKUP_DEPTH - 1; e > d; e--) top[base + e] = top[base + e - 1];
        top[base + d] = a;
        break;
      }
    }
  }

  finish(): Set<number> {
    const { k, top, least } = this;
    const keep = new Set<number>();
    // Forward: the LOOKUP_DEPTH largest distinct starts <= wanted[j] are bucket j's, then bucket j-1's, ...
    const carry: number[] = [];
    for (let j = 0; j < k; j++) {
      const merged: number[] = [];
      for (let d = 0; d < LOOKUP_DEPTH && !Number.isNaN(top[j * LOOKUP_DEPTH + d]); d++) merged.push(top[j * LOOKUP_DEPTH + d]);
      for (const x of carry) if (merged.length < LOOKUP_DEPTH) merged.push(x);
      carry.length = 0;
      for (const x of merged) {
        carry.push(x);
        keep.add(x);
      }
    }
    // Backward: the smallest start above wanted[j] is the least of buckets j+1, j+2, ...
    let above = Infinity;
    for (let j = k; j >= 1; j--) {
      if (least[j] < above) above = least[j];
      if (above !== Infinity) keep.add(above);
    }
    return keep;
  }
}

/** Symbol table entries read at a time by buildPartial (~64 KB). */
const SYMBOLS_PER_CHUNK = 2730;
/** Bytes of a string table read at a time by buildPartial: at least one longest name. */
const STRINGS_WINDOW = 256 * 1024;

/**
 * Reads a string table through one bounded window (buildPartial never holds a table whole).
 * Names are asked for in increasing offset order mostly, so each window is read about once.
 */
class StringWindow {
  private window: Uint8Array = new Uint8Array(0);
  private from = 0;
  private readonly buffer = Buffer.allocUnsafe(STRINGS_WINDOW);

  constructor(
    private readonly elf: ElfFile,
    private readonly section: SectionHeader,
  ) {}

  get size(): number {
    return this.section.size;
  }

  /**
   * The bytes of the name at `offset`, without its terminator, cut at `limit` bytes (a view
   * valid until the next call). Empty when `offset` is past the table.
   */
  name(offset: number, limit: number): Uint8Array {
    const tableSize = this.section.size;
    if (offset >= tableSize) return this.window.subarray(0, 0);
    const want = Math.min(tableSize, offset + limit);
    if (offset < this.from || want > this.from + this.window.length) {
      const length = Math.min(tableSize - offset, STRINGS_WINDOW);
      this.window = this.elf.readSectionInto(this.section, offset, length, this.buffer);
      this.from = offset;
    }
    const at = offset - this.from;
    const stop = Math.min(this.window.length, at + limit);
    const nul = this.window.subarray(at, stop).indexOf(0);
    return this.window.subarray(at, nul < 0 ? stop : at + nul);
  }
}

/**
 * FunctionIndex.build with `only`: the symbol tables are read in bounded chunks (64 KB at a
 * time, never whole) and nothing the size of a table is kept: a first pass feeds every
 * function symbol's start to ReachableStarts, a second keeps the symbols at reachable starts
 * (a few per wanted address). Names are read only for those: first their leading bytes
 * (nameless symbols are not symbols; leading underscores rank aliases), then the chosen ones in
 * full. When a nameless symbol held a reachable start, both passes run again without it (rare).
 */
function buildPartial(sources: readonly IndexSource[], loads: readonly ProgramHeader[], wanted: Float64Array, extras: ExtraNames): FunctionIndex {
  const chunk = Buffer.allocUnsafe(SYMBOLS_PER_CHUNK * SYM_SIZE);
  // The extras' names are the last "table" (source index sources.length).
  const extraSource = sources.length;
  const strings: { name(offset: number, limit: number): Uint8Array }[] = sources.map(({ elf, table }) => new StringWindow(elf, table.strings));
  strings.push(extras);
  /** Symbols found nameless: sourceIndex * 2^32 + index in its table. */
  const nameless = new Set<number>();
  let kept: KeptSymbols;
  for (;;) {
    const reach = new ReachableStarts(wanted);
    for (let t = 0; t < sources.length; t++) scanFunctionSymbols(sources[t], t, chunk, nameless, reach, null);
    for (let e = 0; e < extras.count; e++) reach.add(extras.address[e]);
    kept = new KeptSymbols(reach.finish());
    for (let t = 0; t < sources.length; t++) scanFunctionSymbols(sources[t], t, chunk, nameless, null, kept);
    for (let e = 0; e < extras.count; e++) {
      if (kept.starts.has(extras.address[e])) kept.add(extras.address[e], extras.size[e], extras.rank[e], extras.nameOffset[e], extraSource, extraSource * HIGH + e);
    }
    const c = kept.c;
    const order = Array.from({ length: c.n }, (_, i) => i).sort((x, y) => c.source[x] - c.source[y] || c.nameOffset[x] - c.nameOffset[y]);
    let dropped = false;
    for (const i of order) {
      if (c.source[i] === extraSource) continue; // ranked already; '' is a legitimate (unnamed) extra
      const head = strings[c.source[i]].name(c.nameOffset[i], MAX_UNDERSCORES);
      if (head.length === 0) {
        nameless.add(kept.keys[i]);
        dropped = true;
        continue;
      }
      let underscores = 0;
      while (underscores < head.length && head[underscores] === UNDERSCORE) underscores++;
      c.rank[i] += underscores * 100;
    }
    if (!dropped) break;
  }
  const c = kept.c;
  const { starts, ends, chosen } = onePerAddress(c, sortByAddress(c), loads);

  // The chosen names, read through the windows in offset order, into one exact buffer.
  const k = chosen.length;
  const byOffset = Array.from(chosen.keys()).sort((x, y) => c.source[chosen[x]] - c.source[chosen[y]] || c.nameOffset[chosen[x]] - c.nameOffset[chosen[y]]);
  const parts: Uint8Array[] = new Array(k);
  let budget = 65536 + 4 * extras.table.strings.length;
  for (const { table } of sources) budget += 4 * table.strings.size;
  let total = 0;
  for (const j of byOffset) {
    const i = chosen[j];
    parts[j] = Uint8Array.from(strings[c.source[i]].name(c.nameOffset[i], MAX_NAME_BYTES));
    total += parts[j].length;
    if (total > budget) throw new Error(`${sources[0]?.elf.name ?? 'ELF file'}: names read from its string tables exceed ${budget} bytes (overlapping names)`);
  }
  const names = Buffer.allocUnsafe(total);
  const nameStart = new Uint32Array(k);
  const nameEnd = new Uint32Array(k);
  let used = 0;
  for (let j = 0; j < k; j++) {
    nameStart[j] = used;
    names.set(parts[j], used);
    used += parts[j].length;
    nameEnd[j] = used;
  }
  return FunctionIndex.fromParts(starts, ends, nameStart, nameEnd, names);
}

/** The symbols at reachable starts (buildPartial's second pass), in table order; arrays grow by doubling. */
class KeptSymbols {
  c: Candidates;
  /** Per kept symbol: sourceIndex * 2^32 + its index in its table. */
  keys: number[] = [];

  constructor(readonly starts: Set<number>) {
    this.c = KeptSymbols.candidates(Math.max(16, starts.size * 2));
  }

  private static candidates(capacity: number): Candidates {
    return { n: 0, addr: new Float64Array(capacity), size: new Float64Array(capacity), rank: new Uint16Array(capacity), nameOffset: new Uint32Array(capacity), source: new Uint8Array(capacity), maxAddr: 0 };
  }

  add(value: number, symbolSize: number, rank: number, nameOffset: number, sourceIndex: number, key: number): void {
    let c = this.c;
    if (c.n === c.addr.length) {
      const bigger = KeptSymbols.candidates(c.n * 2);
      bigger.addr.set(c.addr);
      bigger.size.set(c.size);
      bigger.rank.set(c.rank);
      bigger.nameOffset.set(c.nameOffset);
      bigger.source.set(c.source);
      bigger.n = c.n;
      bigger.maxAddr = c.maxAddr;
      this.c = c = bigger;
    }
    const n = c.n++;
    c.addr[n] = value;
    c.size[n] = symbolSize;
    c.rank[n] = rank;
    c.nameOffset[n] = nameOffset;
    c.source[n] = sourceIndex;
    if (value > c.maxAddr) c.maxAddr = value;
    this.keys.push(key);
  }
}

/**
 * One source's function symbols, read `chunk` by chunk, with readTableCandidates' filters
 * except the name checks (buildPartial reads names only where needed), skipping `nameless`
 * ones: each start goes to `reach` (first pass), or each symbol at a kept start to `kept`
 * (second pass), with its rank without the underscore part (bind, sized, source).
 */
function scanFunctionSymbols({ elf, table }: IndexSource, sourceIndex: number, chunk: Buffer, nameless: Set<number>, reach: ReachableStarts | null, kept: KeptSymbols | null): void {
  const count = Math.floor(table.symbols.size / SYM_SIZE);
  const sourceRank = table.source === 'symtab' ? 0 : 1;
  const keyBase = sourceIndex * HIGH;
  const checkNameless = nameless.size > 0;
  for (let first = 1; first < count; first += SYMBOLS_PER_CHUNK) {
    const entries = Math.min(SYMBOLS_PER_CHUNK, count - first);
    const read = elf.readSectionInto(table.symbols, first * SYM_SIZE, entries * SYM_SIZE, chunk);
    const bytes = read.byteOffset % 4 === 0 ? read : Uint8Array.from(read);
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, (entries * SYM_SIZE) / 4);
    for (let e = 0; e < entries; e++) {
      const b = e * SYM_SIZE;
      const w = e * 6;
      const info = bytes[b + 4];
      const type = info & 0xf;
      if (type !== STT_FUNC && type !== STT_GNU_IFUNC) continue;
      if (bytes[b + 6] === 0 && bytes[b + 7] === 0) continue; // SHN_UNDEF: imported
      const valueHigh = words[w + 3];
      if (valueHigh > MAX_SAFE_HIGH) continue;
      const value = valueHigh * HIGH + words[w + 2];
      if (value === 0) continue;
      if (checkNameless && nameless.has(keyBase + first + e)) continue;
      if (reach) {
        reach.add(value);
        continue;
      }
      if (!kept || !kept.starts.has(value)) continue;
      const sizeHigh = words[w + 5];
      const symbolSize = sizeHigh > MAX_SAFE_HIGH ? 0 : sizeHigh * HIGH + words[w + 4];
      const bind = info >> 4;
      const bindRank = bind === STB_GLOBAL ? 0 : bind === STB_WEAK ? 1 : 2;
      kept.add(value, symbolSize, bindRank * 1000 + (symbolSize > 0 ? 0 : 10) + sourceRank, words[w], sourceIndex, keyBase + first + e);
    }
  }
}

/**
 * Usable candidates ordered by address, then index. When every address times 2^bits (bits
 * enough for n) stays below 2^53 (user-space ELF addresses always do), the pair is packed into
 * one double and sorted natively, with no comparator call per comparison; otherwise a comparator sort.
 */
function sortByAddress(c: Candidates): Uint32Array {
  const { addr, rank } = c;
  let n = 0;
  for (let i = 0; i < c.n; i++) if (rank[i] !== 0xffff) n++;
  const order = new Uint32Array(n);
  let bits = 1;
  while (2 ** bits < c.n) bits++;
  const scale = 2 ** bits;
  if (c.maxAddr * scale + scale <= Number.MAX_SAFE_INTEGER) {
    const keys = new Float64Array(n);
    for (let i = 0, k = 0; i < c.n; i++) if (rank[i] !== 0xffff) keys[k++] = addr[i] * scale + i;
    keys.sort();
    for (let i = 0; i < n; i++) order[i] = keys[i] % scale;
    return order;
  }
  for (let i = 0, k = 0; i < c.n; i++) if (rank[i] !== 0xffff) order[k++] = i;
  order.sort((x, y) => addr[x] - addr[y] || x - y);
  return order;
}

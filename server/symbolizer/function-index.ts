/**
 * FunctionIndex: one binary's function symbols as an address-sorted index, built once from the
 * raw bytes of its symbol tables and kept compact: start and end addresses in Float64Arrays and,
 * per symbol, only where its name sits in the string table. A name is decoded to a string the
 * first time a lookup returns it (and kept), so a binary with 100k+ symbols (node, libc with
 * debug symbols) costs typed arrays plus its string tables, not 100k strings and objects.
 *
 * Which symbols, and which name among aliases, are exactly what ElfFile.functionSymbols gave
 * the old full table: STT_FUNC and STT_GNU_IFUNC, defined (st_shndx != SHN_UNDEF), non-empty
 * name, non-zero value below 2^53; one name per address, ranked as perf ranks aliases (global
 * over weak over local, then fewer leading underscores, then sized over unsized, then .symtab
 * over .dynsym, then table order). Where the old reader refused the whole binary (a name offset
 * past its string table), the index skips that one symbol.
 */
import type { ElfFile, ProgramHeader, SymbolTableSections } from './elf.ts';

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
/** Symbol and string tables are read this many bytes at a time into one reused buffer (a multiple of SYM_SIZE). */
const CHUNK_BYTES = 24 * 8192;
/** Leading underscores counted for the alias rank (as many as the rank can tell apart). */
const MAX_UNDERSCORES = 9;

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
   * them) and the PT_LOAD segments (which bound an unsized last symbol). Reads each table in
   * chunks into one reused buffer, never whole: the symbols once, the string tables twice (the
   * first bytes of names for the alias rank, then the names kept, copied into one buffer).
   * Throws (an ElfError from the reader, or an Error) on tables that cannot be read.
   */
  static build(sources: readonly IndexSource[], loads: readonly ProgramHeader[]): FunctionIndex {
    if (sources.length > 255) throw new Error(`too many symbol tables (${sources.length})`);
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES + MAX_UNDERSCORES + 1);
    const c = readCandidates(sources, chunk);
    addUnderscoreRanks(sources, c, chunk);
    const order = sortByAddress(c);

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
    const names = copyNames(sources, c, chosen.subarray(0, u), chunk);
    return new FunctionIndex(starts.slice(0, u), ends, names.start, names.end, names.bytes);
  }

  /** Number of distinct addresses. */
  get size(): number {
    return this.starts.length;
  }

  /**
   * The name of the function holding `vaddr`: the nearest symbol at or below it, or (nested or
   * overlapping symbols) one of the three before that, whose range holds it. Undefined when none.
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
      if (vaddr < this.ends[i]) return this.name(i);
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
    }
    return name;
  }
}

function segmentEnd(loads: readonly ProgramHeader[], a: number): number {
  for (const p of loads) {
    const start = Number(p.vaddr);
    const end = start + Number(p.memsz);
    if (a >= start && a < end) return end;
  }
  return a + 1;
}

/** Pass 1: every defined, named-looking function symbol of every table, read in chunks. */
function readCandidates(sources: readonly IndexSource[], chunk: Buffer): Candidates {
  let capacity = 0;
  for (const { table } of sources) capacity += Math.max(0, table.symbols.size / SYM_SIZE - 1);
  const c: Candidates = {
    n: 0,
    addr: new Float64Array(capacity),
    size: new Float64Array(capacity),
    rank: new Uint16Array(capacity),
    nameOffset: new Uint32Array(capacity),
    source: new Uint8Array(capacity),
    maxAddr: 0,
  };
  for (let sourceIndex = 0; sourceIndex < sources.length; sourceIndex++) {
    const { elf, table } = sources[sourceIndex];
    const total = table.symbols.size;
    for (let offset = 0; offset < total; offset += CHUNK_BYTES) {
      const length = Math.min(CHUNK_BYTES, total - offset);
      const bytes = elf.readSectionInto(table.symbols, offset, length, chunk);
      // Entry 0 of a symbol table is the reserved null symbol.
      readSymbolChunk(bytes, offset === 0 ? 1 : 0, table.strings.size, table.source === 'symtab' ? 0 : 1, sourceIndex, c);
    }
  }
  return c;
}

function readSymbolChunk(syms: Buffer, first: number, stringsSize: number, sourceRank: number, sourceIndex: number, c: Candidates): void {
  const count = syms.length / SYM_SIZE;
  for (let i = first; i < count; i++) {
    const b = i * SYM_SIZE;
    const info = syms[b + 4];
    const type = info & 0xf;
    if (type !== STT_FUNC && type !== STT_GNU_IFUNC) continue;
    if (syms[b + 6] === 0 && syms[b + 7] === 0) continue; // SHN_UNDEF: imported
    const off = syms.readUInt32LE(b);
    if (off === 0 || off >= stringsSize) continue; // no name (or out of range)
    const valueHigh = syms.readUInt32LE(b + 12);
    if (valueHigh > MAX_SAFE_HIGH) continue;
    const value = valueHigh * HIGH + syms.readUInt32LE(b + 8);
    if (value === 0) continue;
    const sizeHigh = syms.readUInt32LE(b + 20);
    const bytes = sizeHigh > MAX_SAFE_HIGH ? 0 : sizeHigh * HIGH + syms.readUInt32LE(b + 16);
    const bind = info >> 4;
    const bindRank = bind === STB_GLOBAL ? 0 : bind === STB_WEAK ? 1 : 2;
    const n = c.n++;
    c.addr[n] = value;
    c.size[n] = bytes;
    c.rank[n] = bindRank * 1000 + (bytes > 0 ? 0 : 10) + sourceRank;
    c.nameOffset[n] = off;
    c.source[n] = sourceIndex;
    if (value > c.maxAddr) c.maxAddr = value;
  }
}

/**
 * Candidate indices of one source grouped by the chunk of its string table their name starts
 * in (a counting sort): `order[first[k] .. first[k + 1])` are those of chunk k.
 */
function byStringChunk(c: Candidates, sourceIndex: number, stringsSize: number, only?: Uint32Array): { order: Uint32Array; first: Uint32Array } {
  const chunks = Math.ceil(stringsSize / CHUNK_BYTES) + 1;
  const first = new Uint32Array(chunks + 1);
  const rows = only ?? null;
  const total = rows ? rows.length : c.n;
  for (let j = 0; j < total; j++) {
    const i = rows ? rows[j] : j;
    if (c.source[i] === sourceIndex) first[Math.floor(c.nameOffset[i] / CHUNK_BYTES) + 1]++;
  }
  for (let k = 1; k <= chunks; k++) first[k] += first[k - 1];
  const fill = first.slice(0, chunks);
  const order = new Uint32Array(first[chunks]);
  for (let j = 0; j < total; j++) {
    const i = rows ? rows[j] : j;
    if (c.source[i] === sourceIndex) order[fill[Math.floor(c.nameOffset[i] / CHUNK_BYTES)]++] = i;
  }
  return { order, first };
}

/** Pass 2: the underscore part of each alias rank (and the empty names dropped), from the first bytes of each name. */
function addUnderscoreRanks(sources: readonly IndexSource[], c: Candidates, chunk: Buffer): void {
  for (let sourceIndex = 0; sourceIndex < sources.length; sourceIndex++) {
    const { elf, table } = sources[sourceIndex];
    const strings = table.strings;
    const { order, first } = byStringChunk(c, sourceIndex, strings.size);
    for (let k = 0; k + 1 < first.length; k++) {
      if (first[k] === first[k + 1]) continue;
      const base = k * CHUNK_BYTES;
      // A few bytes past the chunk, so that a name starting at its end is still counted.
      const bytes = elf.readSectionInto(strings, base, Math.min(CHUNK_BYTES + MAX_UNDERSCORES + 1, strings.size - base), chunk);
      for (let j = first[k]; j < first[k + 1]; j++) {
        const i = order[j];
        const at = c.nameOffset[i] - base;
        if (bytes[at] === 0) {
          c.rank[i] = 0xffff; // empty name: not a symbol to show
          continue;
        }
        let underscores = 0;
        while (underscores < MAX_UNDERSCORES && at + underscores < bytes.length && bytes[at + underscores] === UNDERSCORE) underscores++;
        c.rank[i] += underscores * 100;
      }
    }
  }
}

/**
 * Pass 3: the names of the kept entries, copied from the string tables into one buffer.
 * Names are cut at MAX_NAME_BYTES; all copied names together may not exceed four times the
 * string tables' size (legit tables share only suffixes), so no table can make this balloon.
 */
function copyNames(sources: readonly IndexSource[], c: Candidates, chosen: Uint32Array, chunk: Buffer): { start: Uint32Array; end: Uint32Array; bytes: Buffer } {
  const start = new Uint32Array(chosen.length);
  const end = new Uint32Array(chosen.length);
  // Entry k of the index is candidate chosen[k]: where each candidate's name lands.
  const slot = new Int32Array(c.n);
  for (let k = 0; k < chosen.length; k++) slot[chosen[k]] = k;
  let budget = 65536;
  for (const { table } of sources) budget += 4 * table.strings.size;
  // Sized from the tables so that it rarely grows (growing leaves garbage that counts towards the
  // peak until V8 collects it); the slack left over is kept rather than copied away.
  let stringsSize = 0;
  for (const { table } of sources) stringsSize += table.strings.size;
  let names = Buffer.allocUnsafe(Math.max(1024, Math.min(stringsSize, chosen.length * 80)));
  let used = 0;
  // Plain loops and locals only: this copies megabytes byte by byte, and variables a closure
  // captured would live in its context instead of registers.
  for (let sourceIndex = 0; sourceIndex < sources.length; sourceIndex++) {
    const { elf, table } = sources[sourceIndex];
    const strings = table.strings;
    const { order, first } = byStringChunk(c, sourceIndex, strings.size, chosen);
    for (let k = 0; k + 1 < first.length; k++) {
      if (first[k] === first[k + 1]) continue;
      const base = k * CHUNK_BYTES;
      const chunkBytes = elf.readSectionInto(strings, base, Math.min(CHUNK_BYTES, strings.size - base), chunk);
      const chunkIsTableEnd = base + chunkBytes.length === strings.size;
      for (let j = first[k]; j < first[k + 1]; j++) {
        const i = order[j];
        const offset = c.nameOffset[i];
        let src = chunkBytes;
        let at = offset - base;
        let stop = src.indexOf(0, at);
        if (stop < 0 && !chunkIsTableEnd) {
          // The name runs past this chunk: read it on its own.
          const length = Math.min(MAX_NAME_BYTES, strings.size - offset);
          src = elf.readSectionInto(strings, offset, length, Buffer.allocUnsafe(length));
          at = 0;
          stop = src.indexOf(0);
        }
        if (stop < 0) stop = src.length;
        if (stop - at > MAX_NAME_BYTES) stop = at + MAX_NAME_BYTES;
        const length = stop - at;
        if (used + length > budget) throw new Error(`${elf.name}: names read from its string tables exceed ${budget} bytes (overlapping names)`);
        if (used + length > names.length) {
          const bigger = Buffer.allocUnsafe(Math.max(names.length * 2, used + length));
          names.copy(bigger, 0, 0, used);
          names = bigger;
        }
        const entry = slot[i];
        start[entry] = used;
        used += src.copy(names, used, at, stop);
        end[entry] = used;
      }
    }
  }
  return { start, end, bytes: names.subarray(0, used) };
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

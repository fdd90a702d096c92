/**
 * /proc/kallsyms: kernel text symbols (types t, T, w, W), sorted by address for binary search.
 *
 * Addresses are bigint (kernel addresses exceed 2^53). Module symbols carry their module
 * name separately; the frame name is the bare symbol name, as perf and bcc print it.
 * When kptr_restrict hides the addresses (all zero), `load` throws an Error saying so.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

export interface KernelSymbol {
  /** Start address. */
  addr: bigint;
  name: string;
  /** Module the symbol belongs to (`[mod]` in kallsyms), undefined for the core kernel. */
  module?: string;
}

export interface KernelSymbolHit extends KernelSymbol {
  /** Bytes from the symbol start to the looked-up address. */
  offset: bigint;
}

/** Past the last symbol, an address is attributed to it only within this many bytes. */
const LAST_SYMBOL_SPAN = 0x10000n;

const NEWLINE = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const UNDERSCORE = 0x5f;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const NOT_HEX = 255;

/** Byte -> hex digit value, NOT_HEX for anything else. */
const HEX_VALUE = (() => {
  const table = new Uint8Array(256).fill(NOT_HEX);
  for (let c = 0; c < 10; c++) table[48 + c] = c;
  for (let c = 0; c < 6; c++) table[97 + c] = table[65 + c] = 10 + c;
  return table;
})();

/** Bytes that end a symbol name on the fast path: newline, tab, space, CR. */
const NAME_STOP = (() => {
  const table = new Uint8Array(256);
  for (const c of [NEWLINE, TAB, SPACE, CR]) table[c] = 1;
  return table;
})();

/** t, T, w, W: text (code) symbols; everything else (data, rodata, bss, absolute) is not a frame. */
function isTextType(c: number): boolean {
  return c === 0x74 || c === 0x54 || c === 0x77 || c === 0x57;
}

function leadingUnderscores(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end && bytes[i] === UNDERSCORE) i++;
  return i - start;
}

const INITIAL_ROWS = 160 * 1024;

/** Where scanLines delivers the lines it parsed. */
interface LineSink {
  /** Lines that were not `ADDR TYPE NAME [MOD]`. */
  bad: number;
  moduleId(bytes: Buffer, start: number, end: number): number;
  add(bytes: Buffer, hi: number, lo: number, type: number, nameStart: number, nameEnd: number, module: number): void;
}

/**
 * Text symbols of the file in file order. Their names are copied into `names` as lines are read
 * (the file itself is read in chunks and never held whole); arrays grow by doubling.
 */
class RawRows implements LineSink {
  // Sized for a typical kernel (120k-200k symbols, ~22 bytes of name each) so that growing is rare.
  hi = new Uint32Array(INITIAL_ROWS);
  lo = new Uint32Array(INITIAL_ROWS);
  nameStart = new Uint32Array(INITIAL_ROWS);
  nameEnd = new Uint32Array(INITIAL_ROWS);
  module = new Uint32Array(INITIAL_ROWS);
  global = new Uint8Array(INITIAL_ROWS);
  names = Buffer.allocUnsafe(INITIAL_ROWS * 24);
  namesUsed = 0;
  n = 0;
  readonly moduleIds = new Map<string, number>();
  bad = 0;
  seen = 0;
  nonZero = false;

  moduleId(bytes: Buffer, start: number, end: number): number {
    const module = bytes.toString('utf8', start, end);
    let id = this.moduleIds.get(module);
    if (id === undefined) {
      id = this.moduleIds.size + 1;
      this.moduleIds.set(module, id);
    }
    return id;
  }

  /** Counts one well-formed line; keeps it when it is a text symbol. */
  add(bytes: Buffer, hi: number, lo: number, type: number, nameStart: number, nameEnd: number, module: number): void {
    this.seen++;
    if (hi !== 0 || lo !== 0) this.nonZero = true;
    if (!isTextType(type)) return;
    if (this.n === this.hi.length) this.grow();
    const length = nameEnd - nameStart;
    if (this.namesUsed + length > this.names.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.names.length * 2, this.namesUsed + length));
      this.names.copy(bigger, 0, 0, this.namesUsed);
      this.names = bigger;
    }
    const n = this.n++;
    this.hi[n] = hi;
    this.lo[n] = lo;
    // A loop, not Buffer#copy: names are ~20 bytes and a native call per name costs more.
    const names = this.names;
    let at = this.namesUsed;
    this.nameStart[n] = at;
    for (let i = nameStart; i < nameEnd; i++) names[at++] = bytes[i];
    this.namesUsed = at;
    this.nameEnd[n] = at;
    this.module[n] = module;
    this.global[n] = type === 0x54 || type === 0x57 ? 1 : 0;
  }

  private grow(): void {
    const size = this.hi.length * 2;
    const bigger = <T extends Uint32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const out = make(size);
      out.set(old);
      return out;
    };
    this.hi = bigger(this.hi, (n) => new Uint32Array(n));
    this.lo = bigger(this.lo, (n) => new Uint32Array(n));
    this.nameStart = bigger(this.nameStart, (n) => new Uint32Array(n));
    this.nameEnd = bigger(this.nameEnd, (n) => new Uint32Array(n));
    this.module = bigger(this.module, (n) => new Uint32Array(n));
    this.global = bigger(this.global, (n) => new Uint8Array(n));
  }
}

/**
 * Parses the complete lines of `bytes[0, length)`; with `final`, the last line may lack its
 * newline. Returns where the first incomplete line starts (`length` when none is left over).
 * The fast path takes the lines the kernel writes (`HEX TYPE NAME` or `HEX TYPE NAME\t[MODULE]`,
 * nothing after); any other line goes to `parseLineSlow`, which applies the full rules. Each
 * phase of the parse is its own small function so that V8 optimizes each hot loop on its own.
 */
function scanLines(bytes: Buffer, length: number, final: boolean, rows: LineSink): number {
  let i = 0;
  while (i < length) {
    const lineStart = i;
    let hi = 0;
    let lo = 0;
    let c = NEWLINE;
    while (i < length) {
      c = bytes[i];
      const v = HEX_VALUE[c];
      if (v === NOT_HEX) break;
      hi = ((hi << 4) | (lo >>> 28)) >>> 0;
      lo = ((lo << 4) | v) >>> 0;
      i++;
    }
    const digits = i - lineStart;
    const fast = digits > 0 && digits <= 16 && c === SPACE && i + 3 <= length && bytes[i + 2] === SPACE && bytes[i + 1] !== NEWLINE;
    if (fast) {
      const type = bytes[i + 1];
      const nameBegin = i + 3;
      i = nameBegin;
      while (i < length && NAME_STOP[bytes[i]] === 0) i++;
      if (i === length && !final) return lineStart;
      const nameEnd = i;
      if (nameEnd > nameBegin) {
        if (i === length || bytes[i] === NEWLINE) {
          rows.add(bytes, hi, lo, type, nameBegin, nameEnd, 0);
          i++;
          continue;
        }
        if (bytes[i] === TAB && bytes[i + 1] === OPEN_BRACKET) {
          let end = i + 2;
          while (end < length && bytes[end] !== NEWLINE) end++;
          if (end === length && !final) return lineStart;
          if (end - 1 >= i + 2 && bytes[end - 1] === CLOSE_BRACKET) {
            rows.add(bytes, hi, lo, type, nameBegin, nameEnd, rows.moduleId(bytes, i + 2, end - 1));
            i = end + 1;
            continue;
          }
        }
      }
    }
    let end = i;
    while (end < length && bytes[end] !== NEWLINE) end++;
    if (end === length && !final) return lineStart;
    if (end > lineStart) parseLineSlow(bytes, lineStart, end, rows);
    i = end + 1;
  }
  return length;
}

/**
 * One line `[start, end)` by the full rules: `ADDR TYPE NAME[\t[MODULE]]`, ADDR 1-16 hex
 * digits, trailing spaces and CRs ignored, no space in NAME. Anything else counts as a bad line.
 */
function parseLineSlow(bytes: Buffer, start: number, end: number, rows: LineSink): void {
  let sp1 = start;
  while (sp1 < end && bytes[sp1] !== SPACE) sp1++;
  if (sp1 === end || sp1 === start || sp1 + 3 > end || bytes[sp1 + 2] !== SPACE || sp1 - start > 16) {
    rows.bad++;
    return;
  }
  let hi = 0;
  let lo = 0;
  for (let i = start; i < sp1; i++) {
    const v = HEX_VALUE[bytes[i]];
    if (v === NOT_HEX) {
      rows.bad++;
      return;
    }
    hi = ((hi << 4) | (lo >>> 28)) >>> 0;
    lo = ((lo << 4) | v) >>> 0;
  }
  const type = bytes[sp1 + 1];
  const nameBegin = sp1 + 3;
  let nameEnd = end;
  while (nameEnd > nameBegin && (bytes[nameEnd - 1] === SPACE || bytes[nameEnd - 1] === CR)) nameEnd--;
  let tab = nameBegin;
  while (tab < end && bytes[tab] !== TAB) tab++;
  let module = 0;
  if (tab < nameEnd) {
    if (bytes[tab + 1] !== OPEN_BRACKET || bytes[nameEnd - 1] !== CLOSE_BRACKET) {
      rows.bad++;
      return;
    }
    module = rows.moduleId(bytes, tab + 2, nameEnd - 1);
    nameEnd = tab;
  }
  let space = nameBegin;
  while (space < nameEnd && bytes[space] !== SPACE) space++;
  if (nameEnd <= nameBegin || space < nameEnd) {
    rows.bad++;
    return;
  }
  rows.add(bytes, hi, lo, type, nameBegin, nameEnd, module);
}

/** Bytes read from the file at a time: /proc/kallsyms (~5 MB) is never held whole. */
const READ_CHUNK = 256 * 1024;

/** Reads and parses a kallsyms file chunk by chunk. Throws when it cannot be opened or read. */
function readRows(path: string): RawRows {
  return readInto(path, new RawRows());
}

/** Reads a kallsyms file chunk by chunk into `rows`. Throws when it cannot be opened or read. */
function readInto<T extends LineSink>(path: string, rows: T): T {
  let buffer = Buffer.allocUnsafe(READ_CHUNK);
  let filled = 0;
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      if (filled === buffer.length) {
        // One line longer than the buffer (not something the kernel writes): make room.
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, filled);
        buffer = bigger;
      }
      const got = readSync(fd, buffer, filled, buffer.length - filled, null);
      filled += got;
      const consumed = scanLines(buffer, filled, got === 0, rows);
      if (got === 0) break;
      buffer.copy(buffer, 0, consumed, filled);
      filled -= consumed;
    }
  } finally {
    closeSync(fd);
  }
  return rows;
}

/** Row indices in address order (file order among equal addresses). /proc/kallsyms is normally sorted already. */
function addressOrder(rows: RawRows): Uint32Array {
  const { hi, lo, n } = rows;
  const order = new Uint32Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    order[i] = i;
    if (i > 0 && (hi[i] < hi[i - 1] || (hi[i] === hi[i - 1] && lo[i] < lo[i - 1]))) sorted = false;
  }
  if (!sorted) order.sort((a, b) => hi[a] - hi[b] || lo[a] - lo[b] || a - b);
  return order;
}

/**
 * One row per address, in address order: among aliases, global (T, W) over local, then fewer
 * leading underscores, then the first listed.
 */
function keepOnePerAddress(rows: RawRows, order: Uint32Array): Uint32Array {
  const { hi, lo, nameStart, nameEnd, global, names: bytes } = rows;
  const kept = new Uint32Array(order.length);
  let k = 0;
  for (let j = 0; j < order.length; j++) {
    const i = order[j];
    if (k > 0) {
      const last = kept[k - 1];
      if (hi[last] === hi[i] && lo[last] === lo[i]) {
        const better =
          global[i] !== global[last]
            ? global[i] === 1
            : leadingUnderscores(bytes, nameStart[i], nameEnd[i]) < leadingUnderscores(bytes, nameStart[last], nameEnd[last]);
        if (better) kept[k - 1] = i;
        continue;
      }
    }
    kept[k++] = i;
  }
  return kept.subarray(0, k);
}

/**
 * The kernel's text symbols in a compact sorted form: two 32-bit halves per address in typed
 * arrays, every name in one byte buffer (decoded to a string only when a lookup returns it), a
 * module index per symbol. ~120k symbols take 16 bytes each plus their names' exact bytes
 * (~4.5 MB in all), built in one pass over /proc/kallsyms, read in chunks, without a string per line.
 */
export class KallsymsTable {
  /** High and low 32 bits of each distinct start address, ascending. */
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  /** Name of symbol k: names[nameStart[k], nameStart[k + 1]) (UTF-8); size + 1 entries. */
  private readonly nameStart: Uint32Array;
  /** Every kept name, in address order, back to back: exactly their bytes. */
  private readonly names: Buffer;
  /** Module of symbol k: moduleNames[moduleIndex[k] - 1]; 0 for the core kernel. */
  private readonly moduleIndex: Uint32Array;
  private readonly moduleNames: string[];
  /** Lines that were not `ADDR TYPE NAME [MOD]`. */
  readonly badLines: number;
  /** True when every address read was zero (kptr_restrict). */
  readonly hidden: boolean;

  private constructor(parts: {
    hi: Uint32Array;
    lo: Uint32Array;
    nameStart: Uint32Array;
    names: Buffer;
    moduleIndex: Uint32Array;
    moduleNames: string[];
    badLines: number;
    hidden: boolean;
  }) {
    this.hi = parts.hi;
    this.lo = parts.lo;
    this.nameStart = parts.nameStart;
    this.names = parts.names;
    this.moduleIndex = parts.moduleIndex;
    this.moduleNames = parts.moduleNames;
    this.badLines = parts.badLines;
    this.hidden = parts.hidden;
  }

  /**
   * Parses kallsyms text (a string, or its bytes as read from the file). Never throws; see
   * `hidden` and `badLines`. Aliases at one address keep one name: global (T, W) over local,
   * then fewer leading underscores, then the first listed.
   */
  static parse(text: string | Uint8Array): KallsymsTable {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
    const rows = new RawRows();
    scanLines(bytes, bytes.length, true, rows);
    return KallsymsTable.fromRows(rows);
  }

  private static fromRows(rows: RawRows): KallsymsTable {
    const kept = keepOnePerAddress(rows, addressOrder(rows));
    const k = kept.length;
    const hi = new Uint32Array(k);
    const lo = new Uint32Array(k);
    const nameStart = new Uint32Array(k + 1);
    const moduleIndex = new Uint32Array(k);
    let nameBytes = 0;
    for (let j = 0; j < k; j++) nameBytes += rows.nameEnd[kept[j]] - rows.nameStart[kept[j]];
    // The kept names copied back to back into a buffer of their exact size: the read buffer
    // (sized by doubling, holding aliases too) is dropped, and one offset per name is enough.
    const names = Buffer.allocUnsafeSlow(nameBytes);
    let at = 0;
    for (let j = 0; j < k; j++) {
      const i = kept[j];
      hi[j] = rows.hi[i];
      lo[j] = rows.lo[i];
      moduleIndex[j] = rows.module[i];
      nameStart[j] = at;
      at += rows.names.copy(names, at, rows.nameStart[i], rows.nameEnd[i]);
    }
    nameStart[k] = at;
    return new KallsymsTable({
      hi,
      lo,
      nameStart,
      names,
      moduleIndex,
      moduleNames: [...rows.moduleIds.keys()],
      badLines: rows.bad,
      hidden: rows.seen > 0 && !rows.nonZero,
    });
  }

  /** Reads /proc/kallsyms (or `path`). Throws when unreadable, empty, or when addresses are hidden. */
  static load(path = '/proc/kallsyms'): KallsymsTable {
    const table = KallsymsTable.fromRows(readRows(path));
    if (table.hidden) {
      let restrict = '?';
      try {
        restrict = readFileSync('/proc/sys/kernel/kptr_restrict', 'utf8').trim();
      } catch {
        /* not readable */
      }
      throw new Error(
        `${path} shows every kernel address as 0 (kernel.kptr_restrict=${restrict}): kernel frames cannot be named. ` +
          'Run as root (with CAP_SYSLOG) or set `sysctl kernel.kptr_restrict=0`.',
      );
    }
    if (table.size === 0) throw new Error(`${path} has no kernel text symbols`);
    return table;
  }

  /** Number of distinct symbol addresses. */
  get size(): number {
    return this.hi.length;
  }

  /** Start address of symbol k. */
  private addressOf(k: number): bigint {
    return (BigInt(this.hi[k]) << 32n) | BigInt(this.lo[k]);
  }

  /** The nearest symbol at or below `addr` (bounded by the next symbol), or undefined. */
  lookup(addr: bigint): KernelSymbolHit | undefined {
    if (addr < 0n || addr > 0xffffffffffffffffn) return undefined;
    const wantHi = Number(addr >> 32n);
    const wantLo = Number(addr & 0xffffffffn);
    const { hi, lo } = this;
    let low = 0;
    let high = hi.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (hi[mid] < wantHi || (hi[mid] === wantHi && lo[mid] <= wantLo)) {
        found = mid;
        low = mid + 1;
      } else high = mid - 1;
    }
    if (found < 0) return undefined;
    const start = this.addressOf(found);
    const offset = addr - start;
    if (found === hi.length - 1 && offset >= LAST_SYMBOL_SPAN) return undefined;
    const moduleIndex = this.moduleIndex[found];
    return {
      addr: start,
      name: this.names.toString('utf8', this.nameStart[found], this.nameStart[found + 1]),
      module: moduleIndex === 0 ? undefined : this.moduleNames[moduleIndex - 1],
      offset,
    };
  }
}

/** Longest name kept in a bucket's slot (the kernel's KSYM_NAME_LEN); a longer one is decoded to a string. */
const SLOT_BYTES = 512;

/**
 * For kernel addresses known in advance (a one-shot profile): per address, the nearest text
 * symbol at or below it, chosen among aliases as KallsymsTable chooses. Symbols are bucketed
 * between consecutive wanted addresses (bucket j: starts in (wanted[j-1], wanted[j]]), each
 * bucket keeps only its greatest start and that start's best name (copied into a fixed slot),
 * so nothing the size of the whole table is held or sorted.
 */
class WantedSymbols implements LineSink {
  bad = 0;
  seen = 0;
  nonZero = false;
  /** Greatest start of any text symbol (the last symbol: an address far past it is unknown). */
  maxHi = -1;
  maxLo = -1;
  private readonly k: number;
  /** High half of bucket j's greatest start (-1: empty bucket); a double, as halves reach 2^32 - 1. */
  readonly bestHi: Float64Array;
  readonly bestLo: Uint32Array;
  private readonly bestGlobal: Uint8Array;
  private readonly bestUnderscores: Uint16Array;
  private readonly slotLength: Uint16Array;
  private readonly slots: Buffer;
  private readonly longNames = new Map<number, string>();
  /** The bucket of the previous text symbol (kallsyms is mostly sorted: usually this one again). */
  private lastBucket = 0;

  constructor(
    private readonly wantedHi: Uint32Array,
    private readonly wantedLo: Uint32Array,
  ) {
    this.k = wantedHi.length;
    this.bestHi = new Float64Array(this.k).fill(-1);
    this.bestLo = new Uint32Array(this.k);
    this.bestGlobal = new Uint8Array(this.k);
    this.bestUnderscores = new Uint16Array(this.k);
    this.slotLength = new Uint16Array(this.k);
    this.slots = Buffer.allocUnsafe(this.k * SLOT_BYTES);
  }

  moduleId(): number {
    return 0; // only names are wanted
  }

  add(bytes: Buffer, hi: number, lo: number, type: number, nameStart: number, nameEnd: number): void {
    this.seen++;
    if (hi !== 0 || lo !== 0) this.nonZero = true;
    if (!isTextType(type)) return;
    if (hi > this.maxHi || (hi === this.maxHi && lo > this.maxLo)) {
      this.maxHi = hi;
      this.maxLo = lo;
    }
    // First wanted address >= this start: kallsyms is sorted but for its modules, so the
    // previous line's bucket is tried first (O(1)), then a binary search.
    const { wantedHi, wantedLo } = this;
    let j = this.lastBucket;
    const aboveBucketEnd = j < this.k && (wantedHi[j] < hi || (wantedHi[j] === hi && wantedLo[j] < lo));
    const atOrBelowPrevious = j > 0 && (wantedHi[j - 1] > hi || (wantedHi[j - 1] === hi && wantedLo[j - 1] >= lo));
    if (aboveBucketEnd || atOrBelowPrevious) {
      let low = 0;
      let high = this.k;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (wantedHi[mid] < hi || (wantedHi[mid] === hi && wantedLo[mid] < lo)) low = mid + 1;
        else high = mid;
      }
      j = this.lastBucket = low;
    }
    if (j === this.k) return; // above every wanted address
    const bh = this.bestHi[j];
    const bl = this.bestLo[j];
    if (bh !== -1 && (hi < bh || (hi === bh && lo < bl))) return;
    const global = type === 0x54 || type === 0x57 ? 1 : 0;
    const underscores = leadingUnderscores(bytes, nameStart, nameEnd);
    if (bh !== -1) {
      if (hi === bh && lo === bl) {
        // An alias: global over local, then fewer leading underscores, then the first listed.
        const better = global !== this.bestGlobal[j] ? global === 1 : underscores < this.bestUnderscores[j];
        if (!better) return;
      }
    }
    this.bestHi[j] = hi;
    this.bestLo[j] = lo;
    this.bestGlobal[j] = global;
    this.bestUnderscores[j] = underscores;
    const length = nameEnd - nameStart;
    if (length <= SLOT_BYTES) {
      this.longNames.delete(j);
      const slots = this.slots;
      let at = j * SLOT_BYTES;
      for (let i = nameStart; i < nameEnd; i++) slots[at++] = bytes[i];
      this.slotLength[j] = length;
    } else {
      this.longNames.set(j, bytes.toString('utf8', nameStart, nameEnd));
      this.slotLength[j] = 0;
    }
  }

  name(j: number): string {
    return this.longNames.get(j) ?? this.slots.toString('utf8', j * SLOT_BYTES, j * SLOT_BYTES + this.slotLength[j]);
  }
}

/**
 * Names kernel addresses with one pass over `path` (/proc/kallsyms), without building a
 * KallsymsTable: what a one-shot profile needs. The result has one entry per address of
 * `addrs` (same order; undefined when no symbol holds it), with the same name KallsymsTable's
 * lookup gives. Throws when the file cannot be read, hides its addresses, or has no text symbols.
 */
export function resolveKernelAddresses(addrs: readonly bigint[], path = '/proc/kallsyms'): (string | undefined)[] {
  const valid = addrs.filter((a) => a >= 0n && a <= 0xffffffffffffffffn);
  const sorted = [...new Set(valid)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const wantedHi = Uint32Array.from(sorted, (a) => Number(a >> 32n));
  const wantedLo = Uint32Array.from(sorted, (a) => Number(a & 0xffffffffn));
  const sink = readInto(path, new WantedSymbols(wantedHi, wantedLo));
  if (sink.seen > 0 && !sink.nonZero) throw new Error(`${path} shows every kernel address as 0 (kernel.kptr_restrict): kernel frames cannot be named`);
  if (sink.maxHi < 0) throw new Error(`${path} has no kernel text symbols`);
  const maxStart = (BigInt(sink.maxHi) << 32n) | BigInt(sink.maxLo >>> 0);
  const named = new Map<bigint, string | undefined>();
  // The nearest start at or below wanted[j]: bucket j's, else the nearest non-empty bucket before it.
  let nearest = -1;
  for (let j = 0; j < sorted.length; j++) {
    if (sink.bestHi[j] !== -1) nearest = j;
    if (nearest < 0) {
      named.set(sorted[j], undefined);
      continue;
    }
    const start = (BigInt(sink.bestHi[nearest]) << 32n) | BigInt(sink.bestLo[nearest]);
    named.set(sorted[j], start === maxStart && sorted[j] - start >= LAST_SYMBOL_SPAN ? undefined : sink.name(nearest));
  }
  return addrs.map((a) => named.get(a));
}

/** One table per kallsyms path for the whole process, shared by every Symbolizer (see `sharedKallsyms`). */
const shared = new Map<string, KallsymsTable>();

/**
 * The kallsyms table of `path`, read once per process and then shared (a server's collector
 * and a CLI command each parse /proc/kallsyms once, however many Symbolizers they make).
 * `reload` reads the file again (modules loaded since) and replaces the shared table.
 * Throws as `KallsymsTable.load` does; a failure is not cached.
 */
export function sharedKallsyms(path = '/proc/kallsyms', reload = false): KallsymsTable {
  let table = reload ? undefined : shared.get(path);
  if (!table) {
    table = KallsymsTable.load(path);
    shared.set(path, table);
  }
  return table;
}

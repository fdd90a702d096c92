/**
 * /proc/kallsyms: kernel text symbols (types t, T, w, W), sorted by address for binary search.
 *
 * Addresses are bigint (kernel addresses exceed 2^53). Module symbols carry their module
 * name separately; the frame name is the bare symbol name, as perf and bcc print it.
 * When kptr_restrict hides the addresses (all zero), `load` throws an Error saying so.
 */
import { readFileSync } from 'node:fs';

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

function countLines(text: string): number {
  let lines = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
  return lines;
}

function isHex(text: string, from: number, to: number): boolean {
  if (to - from > 16) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  return true;
}

function isText(t: string): boolean {
  return t === 't' || t === 'T' || t === 'w' || t === 'W';
}

/** Prefer global over local, then names with fewer leading underscores, when several share an address. */
function better(a: { name: string; global: boolean }, b: { name: string; global: boolean }): boolean {
  if (a.global !== b.global) return a.global;
  const ua = a.name.length - a.name.replace(/^_+/, '').length;
  const ub = b.name.length - b.name.replace(/^_+/, '').length;
  return ua < ub;
}

export class KallsymsTable {
  private readonly addrs: BigUint64Array;
  private readonly names: string[];
  private readonly modules: (string | undefined)[];
  /** Lines that were not `ADDR TYPE NAME [MOD]`. */
  readonly badLines: number;
  /** True when every address read was zero (kptr_restrict). */
  readonly hidden: boolean;

  private constructor(addrs: BigUint64Array, names: string[], modules: (string | undefined)[], badLines: number, hidden: boolean) {
    this.addrs = addrs;
    this.names = names;
    this.modules = modules;
    this.badLines = badLines;
    this.hidden = hidden;
  }

  /**
   * Parses kallsyms text. Never throws; see `hidden` and `badLines`.
   * Single pass without a regex or an object per line: the file has ~120k lines and a server
   * keeps its peak memory low (the table itself is typed arrays plus one string per symbol).
   */
  static parse(text: string): KallsymsTable {
    const capacity = countLines(text);
    const rawAddrs = new BigUint64Array(capacity);
    // The same addresses as two 32-bit halves: sorting compares numbers, not bigints.
    const hiHalf = new Uint32Array(capacity);
    const loHalf = new Uint32Array(capacity);
    const rawNames: string[] = [];
    const rawModules = new Map<number, string>();
    const rawGlobal = new Uint8Array(capacity);
    let bad = 0;
    let nonZero = false;
    let seen = 0;
    let n = 0;
    for (let start = 0; start < text.length; ) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const lineStart = start;
      start = end + 1;
      if (end === lineStart) continue;
      // ADDR TYPE NAME[\t[MODULE]] — searched within the line only (a search that runs past it
      // would make the parse quadratic in the file size).
      const line = text.slice(lineStart, end);
      const sp1 = line.indexOf(' ');
      if (sp1 <= 0 || sp1 + 3 > line.length || line[sp1 + 2] !== ' ' || !isHex(line, 0, sp1)) {
        bad++;
        continue;
      }
      const type = line[sp1 + 1];
      let nameEnd = line.length;
      while (nameEnd > sp1 + 3 && (line[nameEnd - 1] === ' ' || line[nameEnd - 1] === '\r')) nameEnd--;
      const tab = line.indexOf('\t', sp1 + 3);
      let module: string | undefined;
      if (tab >= 0 && tab < nameEnd) {
        if (line[tab + 1] !== '[' || line[nameEnd - 1] !== ']') {
          bad++;
          continue;
        }
        module = line.slice(tab + 2, nameEnd - 1);
        nameEnd = tab;
      }
      const space = line.indexOf(' ', sp1 + 3);
      if (nameEnd <= sp1 + 3 || (space >= 0 && space < nameEnd)) {
        bad++;
        continue;
      }
      seen++;
      const hex = line.slice(0, sp1);
      const hi = hex.length > 8 ? parseInt(hex.slice(0, hex.length - 8), 16) : 0;
      const lo = parseInt(hex.slice(-8), 16);
      if (hi !== 0 || lo !== 0) nonZero = true;
      if (!isText(type)) continue;
      hiHalf[n] = hi;
      loHalf[n] = lo;
      rawAddrs[n] = BigInt('0x' + hex);
      rawNames.push(line.slice(sp1 + 3, nameEnd));
      if (module !== undefined) rawModules.set(n, module);
      rawGlobal[n] = type === 'T' || type === 'W' ? 1 : 0;
      n++;
    }
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => hiHalf[a] - hiHalf[b] || loHalf[a] - loHalf[b] || a - b);
    // One name per address.
    const kept: number[] = [];
    const row = (i: number) => ({ name: rawNames[i], global: rawGlobal[i] === 1 });
    for (const i of order) {
      const last = kept.length > 0 ? kept[kept.length - 1] : -1;
      if (last >= 0 && hiHalf[last] === hiHalf[i] && loHalf[last] === loHalf[i]) {
        if (better(row(i), row(last))) kept[kept.length - 1] = i;
      } else kept.push(i);
    }
    const addrs = new BigUint64Array(kept.length);
    const names = new Array<string>(kept.length);
    const modules = new Array<string | undefined>(kept.length);
    kept.forEach((i, k) => {
      addrs[k] = rawAddrs[i];
      names[k] = rawNames[i];
      modules[k] = rawModules.get(i);
    });
    return new KallsymsTable(addrs, names, modules, bad, seen > 0 && !nonZero);
  }

  /** Reads /proc/kallsyms (or `path`). Throws when unreadable, empty, or when addresses are hidden. */
  static load(path = '/proc/kallsyms'): KallsymsTable {
    const table = KallsymsTable.parse(readFileSync(path, 'utf8'));
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
    return this.addrs.length;
  }

  /** The nearest symbol at or below `addr` (bounded by the next symbol), or undefined. */
  lookup(addr: bigint): KernelSymbolHit | undefined {
    const a = this.addrs;
    let lo = 0;
    let hi = a.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] <= addr) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return undefined;
    const offset = addr - a[found];
    if (found === a.length - 1 && offset >= LAST_SYMBOL_SPAN) return undefined;
    return { addr: a[found], name: this.names[found], module: this.modules[found], offset };
  }
}

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

  /** Parses kallsyms text. Never throws; see `hidden` and `badLines`. */
  static parse(text: string): KallsymsTable {
    const rows: { addr: bigint; name: string; module?: string; global: boolean }[] = [];
    let bad = 0;
    let nonZero = false;
    let seen = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const m = /^([0-9a-fA-F]+) (\S) (\S+)(?:\t\[(\S+)\])?\s*$/.exec(line);
      if (!m) {
        bad++;
        continue;
      }
      seen++;
      const addr = BigInt('0x' + m[1]);
      if (addr !== 0n) nonZero = true;
      if (!isText(m[2])) continue;
      rows.push({ addr, name: m[3], module: m[4], global: m[2] === 'T' || m[2] === 'W' });
    }
    rows.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    // One name per address.
    const kept: typeof rows = [];
    for (const r of rows) {
      const last = kept[kept.length - 1];
      if (last && last.addr === r.addr) {
        if (better(r, last)) kept[kept.length - 1] = r;
      } else kept.push(r);
    }
    const addrs = new BigUint64Array(kept.length);
    kept.forEach((r, i) => (addrs[i] = r.addr));
    return new KallsymsTable(
      addrs,
      kept.map((r) => r.name),
      kept.map((r) => r.module),
      bad,
      seen > 0 && !nonZero,
    );
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

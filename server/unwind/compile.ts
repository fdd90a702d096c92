/**
 * Compiles the call-frame information of one binary into the compact, sorted row table the BPF
 * stack walker will binary-search (one table per build-id, shared by every process that maps
 * the binary). Each row says, from its pc until the next row's pc, how to find the CFA and the
 * caller's RBP; the return address is always at CFA-8 (checked here: a row where it is not
 * is classified UNSUPPORTED, never emitted as if it were).
 *
 * Row layout: ROW_BYTES = 16 bytes, little-endian, meant to be mirrored by a C struct:
 *
 *   offset size field        meaning
 *   0      u64  pc           first ELF virtual address the row covers (p_vaddr space, as in
 *                            the file: the walker maps a runtime pc to it through the mapping's
 *                            file offset and the PT_LOAD segment); the row ends where the next
 *                            row starts, and the last row of a table is always NO_CFI
 *   8      i32  cfa_offset   bytes: RSP: CFA = RSP + cfa_offset; RBP: CFA = RBP + cfa_offset;
 *                            PLT: CFA = RSP + cfa_offset + ((RIP & 15) >= plt_threshold ? 8 : 0);
 *                            0 for the other types
 *   12     i16  rbp_offset   bytes: RBP_AT_CFA: caller's RBP = [CFA + rbp_offset];
 *                            PLT rows: plt_threshold (the DW_OP_litN of the PLT expression);
 *                            0 otherwise
 *   14     u8   cfa_type     CfaType
 *   15     u8   rbp_type     RbpType
 *
 * Rows are sorted by pc, strictly increasing, and a row never equals its predecessor (adjacent
 * identical rows are merged). Address ranges without CFI (gaps between FDEs, and after the
 * last one) get a NO_CFI row, so a lookup never applies a neighbouring function's rule; a pc
 * below the first row's pc has no row at all.
 */
import { ElfFile } from '../symbolizer/elf.ts';
import { CfiError, executeFde, readElfCfi, X86_64_RBP, X86_64_RSP, type CfaRule, type ElfCfi, type Fde, type RegisterRule, type UnwindRow } from './eh-frame.ts';

export const ROW_BYTES = 16;

/** How the walker computes the CFA (and whether it can continue at all). */
export const CfaType = {
  /** CFA = RSP + cfa_offset. */
  RSP: 1,
  /** CFA = RBP + cfa_offset. */
  RBP: 2,
  /** A PLT stub (the expression GCC/binutils emit for .plt): see the layout. */
  PLT: 3,
  /** The return address is undefined: this is the outermost frame (_start, clone's child). The stack is complete. */
  END_OF_STACK: 4,
  /** A signal trampoline (CIE augmentation 'S', e.g. glibc's __restore_rt): the caller's registers are in the kernel's rt_sigframe at RSP. */
  SIGNAL_FRAME: 5,
  /** CFI exists but is not expressible here (another CFA register, an unknown expression, the return address elsewhere): stop, counted. */
  UNSUPPORTED: 6,
  /** No FDE covers this range (or its FDE was malformed): fall back (frame pointers). */
  NO_CFI: 7,
} as const;
export type CfaTypeName = keyof typeof CfaType;
const CFA_TYPE_NAMES = Object.fromEntries(Object.entries(CfaType).map(([k, v]) => [v, k])) as Record<number, CfaTypeName>;

/** Where the caller's RBP is. */
export const RbpType = {
  /** RBP was not saved (or DW_CFA_same_value): the caller's RBP is the current RBP. */
  UNCHANGED: 0,
  /** Saved at [CFA + rbp_offset]. */
  AT_CFA: 1,
  /** Saved somewhere we cannot express (another register, an expression): unknown after this frame. */
  UNKNOWN: 2,
} as const;

/** One decoded row (for tests, debugging, and the user-space side of lookups). */
export interface CompiledRow {
  pc: number;
  cfaType: number;
  cfaOffset: number;
  rbpType: number;
  rbpOffset: number;
}

export interface CompileStats {
  /** FDEs whose rows went into the table. */
  fdes: number;
  /** Rows produced by the FDEs before merging (excluding NO_CFI gap rows). */
  rowsBeforeMerge: number;
  /** Rows in the table. */
  rows: number;
  /** Rows of each type in the table. */
  byType: Record<CfaTypeName, number>;
  /** Rows (before merging) classified UNSUPPORTED, and why. */
  unsupported: number;
  unsupportedReasons: Record<string, number>;
  /** Rows (before merging) where the caller's RBP cannot be recovered (RbpType.UNKNOWN). */
  rbpUnknown: number;
  /** CIEs/FDEs the parser skipped as malformed, plus FDEs whose instructions failed to execute. */
  malformed: number;
  /** First few malformed-entry messages, for logs. */
  malformedExamples: string[];
  /** FDEs dropped because they overlap an earlier FDE (e.g. .debug_frame repeating .eh_frame). */
  overlapping: number;
  /** FDEs covering no bytes (pc_begin == pc_end). */
  empty: number;
}

export interface CompiledTable {
  /** GNU build-id (hex) of the binary, the table's key; undefined when it has none. */
  buildId?: string;
  /** count * ROW_BYTES bytes, layout above. */
  rows: Buffer;
  count: number;
  stats: CompileStats;
}

// ---------------------------------------------------------------------------------------------
// Classifying one row

interface Classified {
  cfaType: number;
  cfaOffset: number;
  rbpType: number;
  rbpOffset: number;
  /** Why the row is UNSUPPORTED. */
  reason?: string;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const fitsI32 = (n: number) => n >= INT32_MIN && n <= INT32_MAX;
const fitsI16 = (n: number) => n >= -32768 && n <= 32767;

/** Reads one SLEB128 from `b` at `pos`; undefined when truncated or too long. */
function sleb(b: Buffer, pos: number): { value: number; next: number } | undefined {
  let result = 0;
  let scale = 1;
  for (let i = pos; i < b.length && i < pos + 5; i++) {
    const byte = b[i];
    result += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return { value: byte & 0x40 ? result - scale : result, next: i + 1 };
  }
  return undefined;
}

const DW_OP_breg0 = 0x70;
const DW_OP_lit0 = 0x30;

/**
 * Recognises the CFA expression binutils' ld writes for x86-64 PLT entries:
 *   DW_OP_breg7 (rsp) N; DW_OP_breg16 (rip) 0; DW_OP_lit15; DW_OP_and; DW_OP_litT; DW_OP_ge;
 *   DW_OP_lit3; DW_OP_shl; DW_OP_plus
 * i.e. CFA = RSP + N + (((RIP & 15) >= T) << 3): before an entry's `push` (the first T bytes of
 * the 16-byte entry) RSP points at the return address; after it, 8 more bytes are on the stack.
 * T is 11 for the classic .plt and 10 for the IBT/.plt.sec form (endbr64 shifts the push).
 */
export function matchPltExpression(expr: Buffer): { offset: number; threshold: number } | undefined {
  if (expr[0] !== DW_OP_breg0 + X86_64_RSP) return undefined;
  const n = sleb(expr, 1);
  if (!n) return undefined;
  const tail = expr.subarray(n.next);
  // breg16 0, lit15, and, litT, ge, lit3, shl, plus
  if (tail.length !== 9) return undefined;
  const t = tail[4] - DW_OP_lit0;
  const expected = [DW_OP_breg0 + 16, 0x00, DW_OP_lit0 + 15, 0x1a, tail[4], 0x2a, DW_OP_lit0 + 3, 0x24, 0x22];
  if (t < 0 || t > 15 || !expected.every((v, i) => tail[i] === v)) return undefined;
  return { offset: n.value, threshold: t };
}

/** A CFA expression that is only `DW_OP_bregN offset` (N = RSP or RBP) is the same as a register rule. */
function matchBregOnly(expr: Buffer): { register: number; offset: number } | undefined {
  const reg = expr[0] - DW_OP_breg0;
  if (reg !== X86_64_RSP && reg !== X86_64_RBP) return undefined;
  const n = sleb(expr, 1);
  if (!n || n.next !== expr.length) return undefined;
  return { register: reg, offset: n.value };
}

function describeRule(rule: RegisterRule): string {
  switch (rule.type) {
    case 'offset':
    case 'valOffset':
      return `${rule.type} ${rule.offset}`;
    case 'register':
      return `register r${rule.register}`;
    default:
      return rule.type;
  }
}

function unsupported(reason: string): Classified {
  return { cfaType: CfaType.UNSUPPORTED, cfaOffset: 0, rbpType: RbpType.UNCHANGED, rbpOffset: 0, reason };
}

function classifyCfa(cfa: CfaRule): { type: number; offset: number; threshold?: number } | string {
  if (cfa.type === 'undefined') return 'no CFA rule';
  let register: number;
  let offset: number;
  if (cfa.type === 'expression') {
    const plt = matchPltExpression(cfa.expression);
    if (plt) return fitsI32(plt.offset) ? { type: CfaType.PLT, offset: plt.offset, threshold: plt.threshold } : 'PLT offset out of range';
    const breg = matchBregOnly(cfa.expression);
    if (!breg) return 'CFA expression';
    ({ register, offset } = breg);
  } else {
    ({ register, offset } = cfa);
  }
  if (register !== X86_64_RSP && register !== X86_64_RBP) return `CFA based on r${register}`;
  if (!fitsI32(offset)) return 'CFA offset out of range';
  return { type: register === X86_64_RSP ? CfaType.RSP : CfaType.RBP, offset };
}

/** Classifies one row of an FDE whose CIE has (or not) the signal-frame augmentation. */
export function classifyRow(row: Pick<UnwindRow, 'cfa' | 'rbp' | 'ra'>, signalFrame = false): Classified {
  if (signalFrame) return { cfaType: CfaType.SIGNAL_FRAME, cfaOffset: 0, rbpType: RbpType.UNCHANGED, rbpOffset: 0 };
  if (row.ra.type === 'undefined') return { cfaType: CfaType.END_OF_STACK, cfaOffset: 0, rbpType: RbpType.UNCHANGED, rbpOffset: 0 };
  if (row.ra.type !== 'offset' || row.ra.offset !== -8) return unsupported(`return address ${describeRule(row.ra)}`);
  const cfa = classifyCfa(row.cfa);
  if (typeof cfa === 'string') return unsupported(cfa);
  if (cfa.type === CfaType.PLT) return { cfaType: CfaType.PLT, cfaOffset: cfa.offset, rbpType: RbpType.UNCHANGED, rbpOffset: cfa.threshold! };
  switch (row.rbp.type) {
    case 'unset':
    case 'same':
      return { cfaType: cfa.type, cfaOffset: cfa.offset, rbpType: RbpType.UNCHANGED, rbpOffset: 0 };
    case 'offset':
      if (fitsI16(row.rbp.offset)) return { cfaType: cfa.type, cfaOffset: cfa.offset, rbpType: RbpType.AT_CFA, rbpOffset: row.rbp.offset };
      return { cfaType: cfa.type, cfaOffset: cfa.offset, rbpType: RbpType.UNKNOWN, rbpOffset: 0 };
    default:
      return { cfaType: cfa.type, cfaOffset: cfa.offset, rbpType: RbpType.UNKNOWN, rbpOffset: 0 };
  }
}

// ---------------------------------------------------------------------------------------------
// Building the table

/** Growable typed columns (no per-row objects: node has ~400k rows); packed into the row layout at the end. */
class RowColumns {
  private capacity = 1024;
  length = 0;
  pc = new Float64Array(this.capacity);
  cfaType = new Uint8Array(this.capacity);
  cfaOffset = new Int32Array(this.capacity);
  rbpType = new Uint8Array(this.capacity);
  rbpOffset = new Int16Array(this.capacity);

  /** Appends a row unless it equals the last one (merge); replaces the last one when it starts at the same pc. */
  push(pc: number, c: Omit<Classified, 'reason'>): void {
    let n = this.length;
    // The previous row covered nothing (the NO_CFI row at the end of a contiguous FDE): replace it.
    if (n > 0 && this.pc[n - 1] === pc) n = --this.length;
    if (n > 0 && this.cfaType[n - 1] === c.cfaType && this.cfaOffset[n - 1] === c.cfaOffset && this.rbpType[n - 1] === c.rbpType && this.rbpOffset[n - 1] === c.rbpOffset) return;
    if (n === this.capacity) this.grow();
    this.pc[n] = pc;
    this.cfaType[n] = c.cfaType;
    this.cfaOffset[n] = c.cfaOffset;
    this.rbpType[n] = c.rbpType;
    this.rbpOffset[n] = c.rbpOffset;
    this.length = n + 1;
  }

  private grow(): void {
    this.capacity *= 2;
    const grown = <T extends Float64Array | Uint8Array | Int32Array | Int16Array>(a: T, make: (n: number) => T): T => {
      const b = make(this.capacity);
      b.set(a);
      return b;
    };
    this.pc = grown(this.pc, (n) => new Float64Array(n));
    this.cfaType = grown(this.cfaType, (n) => new Uint8Array(n));
    this.cfaOffset = grown(this.cfaOffset, (n) => new Int32Array(n));
    this.rbpType = grown(this.rbpType, (n) => new Uint8Array(n));
    this.rbpOffset = grown(this.rbpOffset, (n) => new Int16Array(n));
  }

  pack(): Buffer {
    const n = this.length;
    const out = Buffer.alloc(n * ROW_BYTES);
    for (let i = 0; i < n; i++) {
      const b = i * ROW_BYTES;
      const pc = this.pc[i];
      out.writeUInt32LE(pc % 2 ** 32, b);
      out.writeUInt32LE(Math.floor(pc / 2 ** 32), b + 4);
      out.writeInt32LE(this.cfaOffset[i], b + 8);
      out.writeInt16LE(this.rbpOffset[i], b + 12);
      out[b + 14] = this.cfaType[i];
      out[b + 15] = this.rbpType[i];
    }
    return out;
  }
}

const NO_CFI_ROW = { cfaType: CfaType.NO_CFI, cfaOffset: 0, rbpType: RbpType.UNCHANGED, rbpOffset: 0 };
const MAX_EXAMPLES = 5;

/**
 * Compiles parsed CFI into a table. `.eh_frame` FDEs take precedence over `.debug_frame` ones
 * for the same code (the loaded section is what the toolchain keeps accurate for unwinding).
 */
export function compileCfi(cfi: ElfCfi, buildId?: string): CompiledTable {
  const stats: CompileStats = {
    fdes: 0,
    rowsBeforeMerge: 0,
    rows: 0,
    byType: Object.fromEntries(Object.keys(CfaType).map((k) => [k, 0])) as Record<CfaTypeName, number>,
    unsupported: 0,
    unsupportedReasons: {},
    rbpUnknown: 0,
    malformed: 0,
    malformedExamples: [],
    overlapping: 0,
    empty: 0,
  };
  const noteMalformed = (e: CfiError) => {
    stats.malformed++;
    if (stats.malformedExamples.length < MAX_EXAMPLES) stats.malformedExamples.push(e.message);
  };
  // Sources in precedence order; a stable sort keeps .eh_frame first among FDEs starting at one pc.
  const candidates: Fde[] = [];
  for (const section of [cfi.ehFrame, cfi.debugFrame]) {
    if (!section) continue;
    for (const e of section.errors) noteMalformed(e);
    for (const fde of section.fdes) {
      if (fde.pcEnd <= fde.pcBegin) stats.empty++;
      else candidates.push(fde);
    }
  }
  candidates.sort((a, b) => a.pcBegin - b.pcBegin);

  const columns = new RowColumns();
  let coveredEnd = -1;
  for (const fde of candidates) {
    if (fde.pcBegin < coveredEnd) {
      stats.overlapping++;
      continue;
    }
    let rows: UnwindRow[];
    try {
      rows = executeFde(fde);
    } catch (e) {
      if (!(e instanceof CfiError)) throw e;
      // Its range stays NO_CFI (the gap row below): never the previous function's rule.
      noteMalformed(e);
      continue;
    }
    stats.fdes++;
    for (const row of rows) {
      const c = classifyRow(row, fde.cie.signalFrame);
      stats.rowsBeforeMerge++;
      if (c.reason) {
        stats.unsupported++;
        stats.unsupportedReasons[c.reason] = (stats.unsupportedReasons[c.reason] ?? 0) + 1;
      }
      if (c.rbpType === RbpType.UNKNOWN) stats.rbpUnknown++;
      columns.push(row.start, c);
    }
    // A gap row at the FDE's end; the next FDE's first row replaces it when contiguous.
    columns.push(fde.pcEnd, NO_CFI_ROW);
    coveredEnd = fde.pcEnd;
  }
  const packed = columns.pack();
  stats.rows = columns.length;
  for (let i = 0; i < columns.length; i++) stats.byType[CFA_TYPE_NAMES[columns.cfaType[i]]]++;
  return { buildId, rows: packed, count: columns.length, stats };
}

/** Reads, parses and compiles the CFI of an opened ELF file. Throws CfiError / ElfError for a broken file. */
export function compileElf(elf: ElfFile): CompiledTable {
  return compileCfi(readElfCfi(elf), elf.buildId());
}

/** Opens a binary by path and compiles its table. */
export function compileFile(path: string): CompiledTable {
  const elf = ElfFile.open(path);
  try {
    return compileElf(elf);
  } finally {
    elf.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Reading a table (user-space lookups, tests)

export function rowAt(table: Pick<CompiledTable, 'rows' | 'count'>, i: number): CompiledRow {
  if (!Number.isInteger(i) || i < 0 || i >= table.count) throw new RangeError(`row ${i} out of range (${table.count} rows)`);
  const b = i * ROW_BYTES;
  const r = table.rows;
  return {
    pc: r.readUInt32LE(b) + r.readUInt32LE(b + 4) * 2 ** 32,
    cfaOffset: r.readInt32LE(b + 8),
    rbpOffset: r.readInt16LE(b + 12),
    cfaType: r[b + 14],
    rbpType: r[b + 15],
  };
}

/** Index of the row covering `pc` (the last row whose pc ≤ `pc`), or -1 when `pc` is below the first row. */
export function findRowIndex(table: Pick<CompiledTable, 'rows' | 'count'>, pc: number): number {
  let lo = 0;
  let hi = table.count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const b = mid * ROW_BYTES;
    const rowPc = table.rows.readUInt32LE(b) + table.rows.readUInt32LE(b + 4) * 2 ** 32;
    if (rowPc <= pc) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

export function cfaTypeName(t: number): string {
  return CFA_TYPE_NAMES[t] ?? `type ${t}`;
}

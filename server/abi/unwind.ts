/**
 * TypeScript mirror of bpf/unwind.h: constants, struct layouts, encoders and the event decoder.
 * server/abi/unwind.test.ts compiles a C program against bpf/unwind.h and checks every offset,
 * size and constant below, so a change to the header that is not mirrored here fails the tests.
 */

export const PB_UNWIND_MAX_DEPTH = 127;
export const PB_UNWIND_MAX_MAPPINGS = 64;
export const PB_UNWIND_MAX_PROCS = 1024;
export const PB_UNWIND_MAX_TABLES = 4096;
export const PB_UNWIND_ROW_SEARCH_STEPS = 24;
/** Rows one table may have: the walker's binary search takes at most PB_UNWIND_ROW_SEARCH_STEPS steps. */
export const PB_UNWIND_MAX_TABLE_ROWS = 2 ** 24 - 1;
/** Default capacity of pb_unwind_rows (rows of 16 bytes: 16 MiB). */
export const PB_UNWIND_DEFAULT_ROWS = 2 ** 20;
export const PB_UNWIND_NO_TABLE = 0xffffffff;
/** Entries of each kernel stack trace map (pb_unwind_kstacks0/1). */
export const PB_UNWIND_KSTACKS_MAX_ENTRIES = 16384;
/** kernel_stack_id of a sample taken in user mode (no kernel stack, nothing lost): INT32_MIN. Other negative ids are -errno. */
export const PB_UNWIND_KSTACK_NONE = -2147483648;

/** enum pb_unwind_end: why a walk ended. */
export const PB_END = {
  COMPLETE: 0,
  TRUNCATED: 1,
  NO_TABLE: 2,
  READ_FAULT: 3,
  UNSUPPORTED: 4,
  BAD_FRAME: 5,
} as const;
export const PB_END_MAX = 6;
export type EndReason = Lowercase<keyof typeof PB_END>;
const END_NAMES = Object.fromEntries(Object.entries(PB_END).map(([k, v]) => [v, k.toLowerCase()])) as Record<number, EndReason>;

/** enum pb_unwind_stat: indexes into the per-CPU pb_unwind_stats array (cumulative since load). */
export const PB_USTAT = {
  SAMPLES: 0,
  END_COMPLETE: 1,
  END_TRUNCATED: 2,
  END_NO_TABLE: 3,
  END_READ_FAULT: 4,
  END_UNSUPPORTED: 5,
  END_BAD_FRAME: 6,
  EVENTS_LOST: 7,
  CFI_FRAMES: 8,
  FP_FRAMES: 9,
  NO_REGS: 10,
} as const;
export const PB_USTAT_MAX = 11;

export const PB_UNWIND_F_KERNEL_REGS = 1;
export const PB_UNWIND_F_FP_ONLY = 2;

/** struct pb_unwind_table layout (bytes). */
export const PB_UNWIND_TABLE = { size: 8, offsets: { first_row: 0, row_count: 4 } } as const;
/** struct pb_unwind_mapping layout (bytes). */
export const PB_UNWIND_MAPPING = { size: 32, offsets: { start: 0, end: 8, bias: 16, table_id: 24 } } as const;
/** struct pb_unwind_proc layout (bytes). */
export const PB_UNWIND_PROC = { size: 8 + 32 * PB_UNWIND_MAX_MAPPINGS, offsets: { count: 0, mappings: 8 } } as const;
/** struct pb_unwind_event layout (bytes); a record is `ips` + n × 8 bytes long. */
export const PB_UNWIND_EVENT = {
  size: 24 + 8 * PB_UNWIND_MAX_DEPTH,
  offsets: { pid: 0, tid: 4, end_reason: 8, cfi_frames: 9, fp_frames: 10, flags: 11, n: 12, kernel_stack_id: 16, kernel_buffer: 20, ips: 24 },
} as const;
/** struct pb_unwind_control layout (bytes). */
export const PB_UNWIND_CONTROL = { size: 4, offsets: { active_kstacks: 0 } } as const;

/** Encodes struct pb_unwind_control: samples write kernel stacks to pb_unwind_kstacks<active>. */
export function encodeControl(active: 0 | 1): Buffer {
  const bytes = Buffer.alloc(PB_UNWIND_CONTROL.size);
  bytes.writeUInt32LE(active, PB_UNWIND_CONTROL.offsets.active_kstacks);
  return bytes;
}

/** One executable mapping as the walker sees it. */
export interface WalkerMapping {
  /** Runtime addresses, [start, end). */
  start: bigint;
  end: bigint;
  /** Table pc (ELF vaddr) = runtime pc + bias. */
  bias: bigint;
  /** Index into pb_unwind_tables, or PB_UNWIND_NO_TABLE. */
  tableId: number;
}

/** Encodes struct pb_unwind_proc; `mappings` sorted by start, at most PB_UNWIND_MAX_MAPPINGS. */
export function encodeProc(mappings: readonly WalkerMapping[]): Buffer {
  if (mappings.length > PB_UNWIND_MAX_MAPPINGS) throw new RangeError(`${mappings.length} mappings, the walker holds ${PB_UNWIND_MAX_MAPPINGS}`);
  const bytes = Buffer.alloc(PB_UNWIND_PROC.size);
  bytes.writeUInt32LE(mappings.length, PB_UNWIND_PROC.offsets.count);
  const o = PB_UNWIND_MAPPING.offsets;
  mappings.forEach((m, i) => {
    const at = PB_UNWIND_PROC.offsets.mappings + i * PB_UNWIND_MAPPING.size;
    bytes.writeBigUInt64LE(m.start, at + o.start);
    bytes.writeBigUInt64LE(m.end, at + o.end);
    bytes.writeBigInt64LE(BigInt.asIntN(64, m.bias), at + o.bias);
    bytes.writeUInt32LE(m.tableId, at + o.table_id);
  });
  return bytes;
}

/** Encodes struct pb_unwind_table. */
export function encodeTable(firstRow: number, rowCount: number): Buffer {
  const bytes = Buffer.alloc(PB_UNWIND_TABLE.size);
  bytes.writeUInt32LE(firstRow, PB_UNWIND_TABLE.offsets.first_row);
  bytes.writeUInt32LE(rowCount, PB_UNWIND_TABLE.offsets.row_count);
  return bytes;
}

/** A decoded pb_unwind_event. */
export interface UnwindEvent {
  pid: number;
  tid: number;
  end: EndReason;
  /** Steps taken with a table row / with the frame-pointer fallback. */
  cfiFrames: number;
  fpFrames: number;
  /** Sampled in kernel mode: the walk began at the task's saved user registers. */
  kernelRegs: boolean;
  fpOnly: boolean;
  /** >= 0: id in pb_unwind_kstacks<kernelBuffer>; PB_UNWIND_KSTACK_NONE (sampled in user mode); else -errno of bpf_get_stackid. */
  kernelStackId: number;
  kernelBuffer: 0 | 1;
  /** Leaf first: the sampled pc, then return addresses. */
  ips: bigint[];
}

/** Decodes one ring buffer record. Throws RangeError on a record shorter than its `n` says. */
export function decodeEvent(bytes: Buffer): UnwindEvent {
  const o = PB_UNWIND_EVENT.offsets;
  if (bytes.length < o.ips) throw new RangeError(`pb_unwind_event needs at least ${o.ips} bytes, got ${bytes.length}`);
  const n = bytes.readUInt16LE(o.n);
  if (n > PB_UNWIND_MAX_DEPTH || bytes.length < o.ips + n * 8) throw new RangeError(`pb_unwind_event with n=${n} in ${bytes.length} bytes`);
  const ips: bigint[] = new Array(n);
  for (let i = 0; i < n; i++) ips[i] = bytes.readBigUInt64LE(o.ips + i * 8);
  const flags = bytes[o.flags];
  return {
    pid: bytes.readUInt32LE(o.pid),
    tid: bytes.readUInt32LE(o.tid),
    end: END_NAMES[bytes[o.end_reason]] ?? 'unsupported',
    cfiFrames: bytes[o.cfi_frames],
    fpFrames: bytes[o.fp_frames],
    kernelRegs: (flags & PB_UNWIND_F_KERNEL_REGS) !== 0,
    fpOnly: (flags & PB_UNWIND_F_FP_ONLY) !== 0,
    kernelStackId: bytes.readInt32LE(o.kernel_stack_id),
    kernelBuffer: bytes.readUInt32LE(o.kernel_buffer) === 1 ? 1 : 0,
    ips,
  };
}

/** Counters of pb_unwind_stats, summed over CPUs. */
export interface UnwindStats {
  samples: number;
  ends: Record<EndReason, number>;
  eventsLost: number;
  cfiFrames: number;
  fpFrames: number;
  noRegs: number;
}

/** Sums the per-CPU slots of each counter: `values[i]` is the lookup value of index i. */
export function decodeStats(values: readonly Buffer[]): UnwindStats {
  const sum = (i: number): number => {
    let total = 0n;
    const b = values[i];
    for (let off = 0; b && off + 8 <= b.length; off += 8) total += b.readBigUInt64LE(off);
    return Number(total);
  };
  const ends = Object.fromEntries(Object.entries(PB_END).map(([k, v]) => [k.toLowerCase(), sum(PB_USTAT.END_COMPLETE + v)])) as Record<EndReason, number>;
  return { samples: sum(PB_USTAT.SAMPLES), ends, eventsLost: sum(PB_USTAT.EVENTS_LOST), cfiFrames: sum(PB_USTAT.CFI_FRAMES), fpFrames: sum(PB_USTAT.FP_FRAMES), noRegs: sum(PB_USTAT.NO_REGS) };
}

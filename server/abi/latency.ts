/**
 * TypeScript mirror of bpf/latency.h: struct layouts and decoders for the latency
 * histogram maps. Checked against the C header by latency.test.ts.
 */

export const LAT_COMM_LEN = 16;
/** log2 slots per histogram (bcc convention, see lib/histogram.ts). */
export const LAT_SLOTS = 64;
/** Most linear parts per log2 slot, and the shift of the slot in a bucket number (slot << 4 | sub). */
export const LAT_SUB_MAX = 16;
export const LAT_SUB_SHIFT = 4;
/** Highest slot split into parts; slots above hold durations >= 2^59 ns in one part. */
export const LAT_SUB_LAST_SLOT = 59;
export const LAT_HIST_MAX_ENTRIES = 10240;
export const LAT_BUCKET_MAX_ENTRIES = 65536;
/** Syscall numbers a syscall probe can select or count. */
export const LAT_SYSCALL_SLOTS = 512;
export const LAT_START_MAX_ENTRIES = 10240;

/** enum lat_stat: indexes of the per-CPU lat_stats array. */
export const LAT_STAT = { NO_ENTRY: 0, START_FULL: 1, HIST_FULL: 2 } as const;
export const LAT_STAT_MAX = 3;

/** struct lat_hist_key layout. */
export const HIST_KEY = { size: 28, probe: 0, pid: 4, id: 8, comm: 12 } as const;
/** struct lat_hist layout. */
export const HIST_VALUE = { size: 32, count: 0, sum: 8, minInverted: 16, max: 24 } as const;
/** struct lat_bucket_key layout: a lat_hist_key, then the bucket number. */
export const BUCKET_KEY = { size: 32, hist: 0, bucket: 28 } as const;
/** struct lat_start layout. */
export const START_VALUE = { size: 32, ts: 0, pid: 8, id: 12, comm: 16 } as const;

/** A decoded histogram key. Fields not keyed on are 0 / ''. */
export interface LatHistKey {
  /** Probe index (attach cookie): which function of a glob; 0 for single probes. */
  probe: number;
  /** tgid when keyed by pid, else 0. */
  pid: number;
  /** syscall nr (syscall probes), dev = major << 20 | minor (block), else 0. */
  id: number;
  /** comm when keyed by comm, else ''. */
  comm: string;
}

/** A decoded cumulative histogram value (since load). Durations in ns. */
export interface LatHistValue {
  count: number;
  sum: number;
  /** Shortest and longest duration recorded; null while count is 0. */
  min: number | null;
  max: number | null;
}

function cstr(buf: Buffer, offset: number, len: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString('utf8', offset, end < 0 || end > offset + len ? offset + len : end);
}

export function decodeHistKey(buf: Buffer): LatHistKey {
  return {
    probe: buf.readUInt32LE(HIST_KEY.probe),
    pid: buf.readUInt32LE(HIST_KEY.pid),
    id: buf.readUInt32LE(HIST_KEY.id),
    comm: cstr(buf, HIST_KEY.comm, LAT_COMM_LEN),
  };
}

export function encodeHistKey(key: LatHistKey): Buffer {
  const buf = Buffer.alloc(HIST_KEY.size);
  buf.writeUInt32LE(key.probe, HIST_KEY.probe);
  buf.writeUInt32LE(key.pid, HIST_KEY.pid);
  buf.writeUInt32LE(key.id, HIST_KEY.id);
  buf.write(key.comm.slice(0, LAT_COMM_LEN - 1), HIST_KEY.comm, 'utf8');
  return buf;
}

/** A u64 as a number (exact below 2^53), without a BigInt allocation. */
function u64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * 4294967296;
}

export function decodeHistValue(buf: Buffer): LatHistValue {
  const count = u64(buf, HIST_VALUE.count);
  const minInverted = buf.readBigUInt64LE(HIST_VALUE.minInverted);
  return {
    count,
    sum: u64(buf, HIST_VALUE.sum),
    min: count > 0 && minInverted !== 0n ? Number(~minInverted & 0xffffffffffffffffn) : null,
    max: count > 0 ? u64(buf, HIST_VALUE.max) : null,
  };
}

/** A bucket map key: which histogram, and the bucket (slot << LAT_SUB_SHIFT | sub). */
export function decodeBucketKey(buf: Buffer): { hist: Buffer; slot: number; sub: number } {
  const bucket = buf.readUInt32LE(BUCKET_KEY.bucket);
  return { hist: buf.subarray(BUCKET_KEY.hist, HIST_KEY.size), slot: bucket >>> LAT_SUB_SHIFT, sub: bucket & (LAT_SUB_MAX - 1) };
}

/** A bucket map value: the count, cumulative since load. */
export function decodeBucketValue(buf: Buffer): number {
  return u64(buf, 0);
}

/** Block device number as the BPF program builds it (major << 20 | first_minor). */
export function decodeDev(id: number): { major: number; minor: number } {
  return { major: id >>> 20, minor: id & 0xfffff };
}

/** Settings written to the object's .rodata before load (names of the const volatile globals). */
export interface LatencyRodata {
  targ_pid: number;
  filter_pid: boolean;
  targ_comm: string;
  filter_comm: boolean;
  key_by_pid: boolean;
  key_by_comm: boolean;
  /** Syscall probes: measure only the syscalls set in targ_syscalls. */
  filter_syscall: boolean;
  /** Bitmap of syscall numbers (bit nr % 64 of word nr / 64), LAT_SYSCALL_SLOTS / 64 words. */
  targ_syscalls: Uint8Array;
  /** Syscall probes: count every syscall of the wanted tasks by number (lat_sys_counts). */
  count_syscalls: boolean;
  /** Linear parts per log2 slot, 1..LAT_SUB_MAX. */
  sub_buckets: number;
}

/**
 * The targ_syscalls bitmap of a set of syscall numbers (each 0..LAT_SYSCALL_SLOTS-1): bit
 * nr % 64 of little-endian u64 word nr / 64, i.e. bit nr % 8 of byte nr / 8.
 */
export function syscallBitmap(numbers: Iterable<number>): Buffer {
  const bytes = Buffer.alloc(LAT_SYSCALL_SLOTS / 8);
  for (const nr of numbers) {
    if (!Number.isInteger(nr) || nr < 0 || nr >= LAT_SYSCALL_SLOTS) throw new RangeError(`syscall number ${nr} is outside 0..${LAT_SYSCALL_SLOTS - 1}`);
    bytes[nr >> 3] |= 1 << (nr & 7);
  }
  return bytes;
}

/** Every program in bpf/latency.bpf.c, by probe kind. */
export const LATENCY_PROGRAMS = {
  uprobe: ['lat_uprobe_entry', 'lat_uprobe_return'],
  usdt: ['lat_usdt_start', 'lat_usdt_end'],
  syscall: ['lat_sys_enter', 'lat_sys_exit'],
  block: ['lat_block_issue', 'lat_block_complete'],
  runq: ['lat_sched_wakeup', 'lat_sched_wakeup_new', 'lat_sched_switch'],
  kprobe: ['lat_kprobe_entry', 'lat_kprobe_return'],
  kfunc: ['lat_fentry', 'lat_fexit'],
} as const;

export const ALL_LATENCY_PROGRAMS: readonly string[] = Object.values(LATENCY_PROGRAMS).flat();

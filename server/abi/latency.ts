/**
 * TypeScript mirror of bpf/latency.h: struct layouts and decoders for the latency
 * histogram maps. Checked against the C header by latency.test.ts.
 */

export const LAT_COMM_LEN = 16;
/** log2 slots per histogram (bcc convention, see lib/histogram.ts). */
export const LAT_SLOTS = 64;
export const LAT_HIST_MAX_ENTRIES = 10240;
export const LAT_START_MAX_ENTRIES = 10240;

/** enum lat_stat: indexes of the per-CPU lat_stats array. */
export const LAT_STAT = { NO_ENTRY: 0, START_FULL: 1, HIST_FULL: 2 } as const;
export const LAT_STAT_MAX = 3;

/** struct lat_hist_key layout. */
export const HIST_KEY = { size: 28, probe: 0, pid: 4, id: 8, comm: 12 } as const;
/** struct lat_hist layout. */
export const HIST_VALUE = { size: 16 + 8 * LAT_SLOTS, count: 0, sum: 8, slots: 16 } as const;
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
  /** LAT_SLOTS log2 slots. */
  slots: number[];
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
  const slots: number[] = new Array(LAT_SLOTS);
  for (let i = 0; i < LAT_SLOTS; i++) slots[i] = u64(buf, HIST_VALUE.slots + 8 * i);
  return { count: u64(buf, HIST_VALUE.count), sum: u64(buf, HIST_VALUE.sum), slots };
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
  /** syscall nr, or -1 for every syscall. */
  targ_syscall: number;
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

/**
 * TypeScript mirror of bpf/offcpu.h: constants, struct layouts and decoders for the off-CPU
 * profiler's maps. server/abi/offcpu.test.ts compiles a C program against bpf/offcpu.h and checks
 * every offset and size below.
 */
export const OC_COMM_LEN = 16;
export const OC_MAX_STACK_DEPTH = 127;
export const OC_COUNTS_MAX_ENTRIES = 32768;
export const OC_STACKS_MAX_ENTRIES = 32768;
export const OC_START_MAX_ENTRIES = 32768;
/** Stack id sentinel: no such half (not an error). INT32_MIN. */
export const OC_STACK_NONE = -2147483648;

/** enum oc_stat: indexes into the per-CPU oc_stats array (cumulative since load). */
export const OC_STAT = {
  SWITCHES: 0,
  FILTERED: 1,
  START_FULL: 2,
  RECORDED: 3,
  BLOCK_FILTERED: 4,
  COUNTS_FULL: 5,
  USER_STACK_LOST: 6,
  KERN_STACK_LOST: 7,
  WAKEUPS: 8,
  EXITED: 9,
  OVERWRITTEN: 10,
} as const;
export const OC_STAT_MAX = 11;

/** struct oc_key layout (bytes). */
export const OC_KEY = {
  size: 64,
  offsets: {
    pid: 0,
    tid: 4,
    user_stack_id: 8,
    kernel_stack_id: 12,
    waker_pid: 16,
    waker_tid: 20,
    waker_user_stack_id: 24,
    waker_kernel_stack_id: 28,
    comm: 32,
    waker_comm: 48,
  },
} as const;

/** struct oc_value layout (bytes). */
export const OC_VALUE = { size: 16, offsets: { blocked_ns: 0, count: 8 } } as const;
/** struct oc_start layout (bytes). */
export const OC_START = { size: 40, offsets: { ts: 0, user_stack_id: 8, kernel_stack_id: 12, pid: 16, comm: 24 } } as const;

/** Settings written to the object's .rodata before load (names of the const volatile globals). */
export interface OffCpuRodata {
  targ_pid: number;
  filter_pid: boolean;
  targ_comm: string;
  filter_comm: boolean;
  /** 0 (every switch-out), 1 TASK_INTERRUPTIBLE, 2 TASK_UNINTERRUPTIBLE; used when filter_state. */
  targ_state: number;
  filter_state: boolean;
  min_block_ns: bigint;
  max_block_ns: bigint;
  key_by_tid: boolean;
  with_wakers: boolean;
}

/** Programs of bpf/offcpu.bpf.c: the BTF-typed tracepoint and its raw-tracepoint fallback. */
export const OFFCPU_PROGRAMS = {
  switch: { btf: 'oc_switch_btf', raw: 'oc_switch_raw' },
  waking: { btf: 'oc_waking_btf', raw: 'oc_waking_raw' },
} as const;

/** Decoded struct oc_key. */
export interface OffCpuKey {
  pid: number;
  tid: number;
  userStackId: number;
  kernelStackId: number;
  wakerPid: number;
  wakerTid: number;
  wakerUserStackId: number;
  wakerKernelStackId: number;
  comm: string;
  wakerComm: string;
}

function cstr(bytes: Buffer, offset: number): string {
  const slice = bytes.subarray(offset, offset + OC_COMM_LEN);
  const nul = slice.indexOf(0);
  return slice.toString('utf8', 0, nul < 0 ? OC_COMM_LEN : nul);
}

export function decodeOffCpuKey(bytes: Buffer): OffCpuKey {
  if (bytes.length < OC_KEY.size) throw new RangeError(`oc_key needs ${OC_KEY.size} bytes, got ${bytes.length}`);
  const o = OC_KEY.offsets;
  return {
    pid: bytes.readUInt32LE(o.pid),
    tid: bytes.readUInt32LE(o.tid),
    userStackId: bytes.readInt32LE(o.user_stack_id),
    kernelStackId: bytes.readInt32LE(o.kernel_stack_id),
    wakerPid: bytes.readUInt32LE(o.waker_pid),
    wakerTid: bytes.readUInt32LE(o.waker_tid),
    wakerUserStackId: bytes.readInt32LE(o.waker_user_stack_id),
    wakerKernelStackId: bytes.readInt32LE(o.waker_kernel_stack_id),
    comm: cstr(bytes, o.comm),
    wakerComm: cstr(bytes, o.waker_comm),
  };
}

/** Encodes an oc_key (tests). */
export function encodeOffCpuKey(key: OffCpuKey): Buffer {
  const bytes = Buffer.alloc(OC_KEY.size);
  const o = OC_KEY.offsets;
  bytes.writeUInt32LE(key.pid, o.pid);
  bytes.writeUInt32LE(key.tid, o.tid);
  bytes.writeInt32LE(key.userStackId, o.user_stack_id);
  bytes.writeInt32LE(key.kernelStackId, o.kernel_stack_id);
  bytes.writeUInt32LE(key.wakerPid, o.waker_pid);
  bytes.writeUInt32LE(key.wakerTid, o.waker_tid);
  bytes.writeInt32LE(key.wakerUserStackId, o.waker_user_stack_id);
  bytes.writeInt32LE(key.wakerKernelStackId, o.waker_kernel_stack_id);
  Buffer.from(key.comm).copy(bytes, o.comm, 0, OC_COMM_LEN - 1);
  Buffer.from(key.wakerComm).copy(bytes, o.waker_comm, 0, OC_COMM_LEN - 1);
  return bytes;
}

/** Decoded struct oc_value: cumulative blocked time (ns) and blocking events since load. */
export function decodeOffCpuValue(bytes: Buffer): { blockedNs: bigint; count: number } {
  return { blockedNs: bytes.readBigUInt64LE(OC_VALUE.offsets.blocked_ns), count: Number(bytes.readBigUInt64LE(OC_VALUE.offsets.count)) };
}

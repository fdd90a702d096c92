/**
 * TypeScript mirror of bpf/profile.h: constants, struct layouts and decoders.
 * server/abi/profile.test.ts compiles a C program against bpf/profile.h and checks every
 * offset and size below, so a change to the header that is not mirrored here fails the tests.
 */
import type { StackErrorKind } from '../symbolizer/types.ts';

export const PB_COMM_LEN = 16;
export const PB_MAX_STACK_DEPTH = 127;
export const PB_COUNTS_MAX_ENTRIES = 16384;
export const PB_STACKS_MAX_ENTRIES = 16384;
/** Stack id sentinel: no stack exists for this half of the sample (not an error). INT32_MIN. */
export const PB_STACK_NONE = -2147483648;

/** enum pb_stat: indexes into the per-CPU pb_stats array (cumulative since load). */
export const PB_STAT = {
  SAMPLES: 0,
  DROPPED: 1,
  USER_EEXIST: 2,
  USER_EFAULT: 3,
  USER_OTHER: 4,
  KERN_EEXIST: 5,
  KERN_EFAULT: 6,
  KERN_OTHER: 7,
} as const;
export const PB_STAT_MAX = 8;

/** struct pb_stack_key layout (bytes). */
export const PB_STACK_KEY = {
  size: 32,
  offsets: { pid: 0, tid: 4, user_stack_id: 8, kernel_stack_id: 12, comm: 16 },
} as const;

/** struct pb_control layout (bytes). */
export const PB_CONTROL = {
  size: 4,
  offsets: { active_buffer: 0 },
} as const;

/** Value size of one stack trace map entry: PB_MAX_STACK_DEPTH u64 addresses. */
export const PB_STACK_VALUE_SIZE = PB_MAX_STACK_DEPTH * 8;

/** Decoded struct pb_stack_key. */
export interface StackKey {
  /** tgid; 0 for the idle task. */
  pid: number;
  /** Thread id when the program counts threads apart (rodata key_by_tid); 0 otherwise. */
  tid: number;
  /** >= 0: stack map id; PB_STACK_NONE; or a negative errno. */
  userStackId: number;
  kernelStackId: number;
  comm: string;
}

/** Decodes a 32-byte pb_stack_key. */
export function decodeStackKey(bytes: Buffer): StackKey {
  if (bytes.length < PB_STACK_KEY.size) throw new RangeError(`pb_stack_key needs ${PB_STACK_KEY.size} bytes, got ${bytes.length}`);
  const o = PB_STACK_KEY.offsets;
  const commBytes = bytes.subarray(o.comm, o.comm + PB_COMM_LEN);
  const nul = commBytes.indexOf(0);
  return {
    pid: bytes.readUInt32LE(o.pid),
    tid: bytes.readUInt32LE(o.tid),
    userStackId: bytes.readInt32LE(o.user_stack_id),
    kernelStackId: bytes.readInt32LE(o.kernel_stack_id),
    comm: commBytes.toString('utf8', 0, nul < 0 ? PB_COMM_LEN : nul),
  };
}

/** Encodes a pb_stack_key (tests, and lookups by key). */
export function encodeStackKey(key: StackKey): Buffer {
  const bytes = Buffer.alloc(PB_STACK_KEY.size);
  const o = PB_STACK_KEY.offsets;
  bytes.writeUInt32LE(key.pid, o.pid);
  bytes.writeUInt32LE(key.tid, o.tid);
  bytes.writeInt32LE(key.userStackId, o.user_stack_id);
  bytes.writeInt32LE(key.kernelStackId, o.kernel_stack_id);
  const comm = Buffer.from(key.comm, 'utf8');
  comm.copy(bytes, o.comm, 0, Math.min(comm.length, PB_COMM_LEN - 1));
  return bytes;
}

/** Encodes struct pb_control. */
export function encodeControl(activeBuffer: 0 | 1): Buffer {
  const bytes = Buffer.alloc(PB_CONTROL.size);
  bytes.writeUInt32LE(activeBuffer, PB_CONTROL.offsets.active_buffer);
  return bytes;
}

/** Decodes one stack trace map value: addresses leaf first, up to the first zero. */
export function decodeStack(bytes: Buffer): bigint[] {
  const frames: bigint[] = [];
  for (let offset = 0; offset + 8 <= bytes.length; offset += 8) {
    const ip = bytes.readBigUInt64LE(offset);
    if (ip === 0n) break;
    frames.push(ip);
  }
  return frames;
}

/** Sums one u64 slot per possible CPU (a per-CPU array value). */
export function sumPerCpuU64(bytes: Buffer): number {
  let total = 0n;
  for (let offset = 0; offset + 8 <= bytes.length; offset += 8) total += bytes.readBigUInt64LE(offset);
  return Number(total);
}

const EEXIST = 17;
const EFAULT = 14;

/** What a stack id means: a stack to read, none expected, or lost with a cause. */
export type StackIdMeaning = { kind: 'stack'; id: number } | { kind: 'none' } | { kind: 'lost'; cause: StackErrorKind };

export function classifyStackId(id: number): StackIdMeaning {
  if (id >= 0) return { kind: 'stack', id };
  if (id === PB_STACK_NONE) return { kind: 'none' };
  if (id === -EEXIST) return { kind: 'lost', cause: 'collision' };
  if (id === -EFAULT) return { kind: 'lost', cause: 'fault' };
  return { kind: 'lost', cause: 'other' };
}

/**
 * The frames a stack id stands for, read through `stack` (a stack trace map lookup, leaf
 * first): none for PB_STACK_NONE, a lost stack's cause for a negative errno, and 'other' for an
 * id whose entry is gone or empty (lost after the fact). Shared by the CPU and off-CPU collectors.
 */
export function resolveStack(id: number, stack: (id: number) => bigint[] | null): { frames: bigint[]; error?: StackErrorKind } {
  const meaning = classifyStackId(id);
  if (meaning.kind === 'none') return { frames: [] };
  if (meaning.kind === 'lost') return { frames: [], error: meaning.cause };
  const frames = stack(meaning.id);
  return frames && frames.length > 0 ? { frames } : { frames: [], error: 'other' };
}

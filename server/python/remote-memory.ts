/**
 * Reading another process's memory with process_vm_readv(2), through koffi (as server/libbpf
 * binds libc).
 *
 * Why process_vm_readv and not pread on /proc/PID/mem: one system call per read with no file
 * descriptor to open, keep and close per target (a profiler sees thousands of pids), and the
 * same permission check (PTRACE_MODE_ATTACH_REALCREDS; the collector is root). A read into
 * unmapped memory fails with EFAULT, or stops short at the first unmapped page: both are
 * reported, never thrown. A pid is not a stable name for a process: callers pair it with the
 * start time and executable (`processIdentity`) and drop what they cached when it changes.
 */
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

/**
 * `ssize_t process_vm_readv(pid_t pid, const struct iovec *local_iov, unsigned long liovcnt,
 *  const struct iovec *remote_iov, unsigned long riovcnt, unsigned long flags)`. The iovecs are
 * passed as raw 16-byte buffers (`{ void *iov_base; size_t iov_len; }`, x86_64/aarch64) since
 * the remote base is an address in another process, not a pointer koffi could check.
 */
const processVmReadv = libc.func('intptr_t process_vm_readv(int pid, void *local_iov, unsigned long liovcnt, void *remote_iov, unsigned long riovcnt, unsigned long flags)') as (
  pid: number,
  local: Buffer,
  liovcnt: number,
  remote: Buffer,
  riovcnt: number,
  flags: number,
) => number | bigint;

/** Largest single read, bytes: larger requests are refused (callers bound what they read from the target). */
export const MAX_REMOTE_READ = 4 * 1024 * 1024;
/** Lowest address read: page 0 is never mapped in a normal process, so small values are garbage. */
const MIN_ADDRESS = 0x1000n;
/** First address above the x86_64/aarch64 user half (47/48-bit): anything at or above is not user memory. */
const USER_ADDRESS_END = 1n << 48n;

export type RemoteRead = { ok: true; data: Buffer } | { ok: false; reason: string };

const ERRNO_NAMES: Record<number, string> = { 1: 'EPERM', 3: 'ESRCH', 12: 'ENOMEM', 14: 'EFAULT', 22: 'EINVAL', 38: 'ENOSYS' };

/** Exactly `length` bytes at `address` in process `pid`, or why not. Never throws. */
export function readRemote(pid: number, address: bigint, length: number): RemoteRead {
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid > 0x3fffffff) return { ok: false, reason: `bad pid ${pid}` };
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_REMOTE_READ) return { ok: false, reason: `bad length ${length}` };
  if (address < MIN_ADDRESS || address + BigInt(length) > USER_ADDRESS_END) return { ok: false, reason: `address 0x${address.toString(16)} outside user memory` };
  const data = Buffer.alloc(length);
  if (length === 0) return { ok: true, data };
  const local = Buffer.alloc(16);
  local.writeBigUInt64LE(BigInt(koffi.address(data)), 0);
  local.writeBigUInt64LE(BigInt(length), 8);
  const remote = Buffer.alloc(16);
  remote.writeBigUInt64LE(address, 0);
  remote.writeBigUInt64LE(BigInt(length), 8);
  const n = Number(processVmReadv(pid, local, 1, remote, 1, 0));
  if (n < 0) {
    const errno = koffi.errno();
    return { ok: false, reason: `process_vm_readv(${pid}, 0x${address.toString(16)}, ${length}): ${ERRNO_NAMES[errno] ?? `errno ${errno}`}` };
  }
  if (n !== length) return { ok: false, reason: `process_vm_readv(${pid}, 0x${address.toString(16)}, ${length}): short read of ${n} bytes (unmapped memory)` };
  return { ok: true, data };
}

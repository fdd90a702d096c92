/**
 * Dropping the web process's privileges once the collector process is started.
 *
 * As root: supplementary groups cleared, then gid, then uid set to the user who ran sudo
 * (SUDO_UID / SUDO_GID) or, without sudo, to `nobody` (65534). setuid from root to another user
 * clears the permitted and effective capability sets of every thread (glibc applies it to all
 * threads), and the kernel marks the process non-dumpable, so other processes of that user
 * cannot ptrace it. Afterwards every thread's CapEff is checked to be 0; if not, serving stops.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const NOBODY = 65534;

export class PrivilegeError extends Error {}

export interface DropResult {
  /** Whether anything was dropped (false: the process was not root). */
  dropped: boolean;
  uid: number;
  gid: number;
}

/** A status field's capability set (`CapEff`, `CapPrm`, …) of a task, from /proc. */
export function capabilities(statusPath: string, field = 'CapEff'): bigint {
  const match = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(readFileSync(statusPath, 'utf8'));
  if (!match) throw new PrivilegeError(`${statusPath} has no ${field} line`);
  return BigInt(`0x${match[1]}`);
}

/** Effective capabilities of every thread of this process that has any, as "tid: hex". */
export function threadsWithCapabilities(): string[] {
  const out: string[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    let caps: bigint;
    try {
      caps = capabilities(`/proc/self/task/${tid}/status`);
    } catch {
      continue; // the thread ended
    }
    if (caps !== 0n) out.push(`${tid}: ${caps.toString(16)}`);
  }
  return out;
}

function idFromEnv(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,10}$/.test(value)) return null;
  const id = Number(value);
  return id > 0 && id < 2 ** 32 - 1 ? id : null;
}

/** Whom to become: the sudo user, else nobody. */
export function dropTarget(env: NodeJS.ProcessEnv = process.env): { uid: number; gid: number } {
  const uid = idFromEnv(env.SUDO_UID);
  const gid = idFromEnv(env.SUDO_GID);
  return uid !== null ? { uid, gid: gid ?? uid } : { uid: NOBODY, gid: NOBODY };
}

/** Throws PrivilegeError unless this process runs as a non-root user with no effective capability on any thread. */
export function assertUnprivileged(): void {
  if (process.geteuid!() === 0 || process.getuid!() === 0) throw new PrivilegeError('the web process still runs as root');
  const left = threadsWithCapabilities();
  if (left.length > 0) {
    throw new PrivilegeError(
      `the web process still has capabilities (CapEff of thread ${left.join(', ')}): refusing to serve; ` +
        'run probeboard serve as root (sudo npm start) so it can drop them, or as a user without capabilities',
    );
  }
}

/**
 * Drops root for good (see the file comment), then checks the result. Not root: nothing to drop,
 * but the process must have no capabilities either. Throws PrivilegeError when it cannot.
 */
export function dropPrivileges(env: NodeJS.ProcessEnv = process.env): DropResult {
  if (process.geteuid!() !== 0) {
    assertUnprivileged();
    return { dropped: false, uid: process.getuid!(), gid: process.getgid!() };
  }
  const { uid, gid } = dropTarget(env);
  try {
    process.setgroups!([]);
    process.setgid!(gid);
    process.setuid!(uid);
  } catch (error) {
    throw new PrivilegeError(`cannot drop root to uid ${uid} gid ${gid}: ${(error as Error).message}`);
  }
  assertUnprivileged();
  return { dropped: true, uid, gid };
}

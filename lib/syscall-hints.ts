/**
 * Which syscall a C library issues for a function named like another syscall, and the hint a
 * `syscall:` probe shows when it saw no calls but the traced tasks made the neighbouring call.
 * The one table of these cases; pure, isomorphic.
 *
 * "glibc … uses it" entries were checked with bpftrace on Debian 12 (glibc 2.36, x86_64): a
 * program calling nanosleep(), usleep(), open(), stat(), lstat(), fstat(), fork(), select()
 * and pipe() entered clock_nanosleep, openat, newfstatat, clone, pselect6 and pipe2, never
 * the syscall of the same name. The others say "may": libcs differ by version and architecture.
 */
import { syscallNumber } from './syscalls.ts';

export interface SyscallAlternative {
  /** The syscall the library issues instead. */
  syscall: string;
  /** Why, for the hint: e.g. "glibc's nanosleep() uses it". */
  why: string;
}

const AT_FORM = 'libcs and programs often use the *at form';

/** Probe name -> the syscalls a program may enter instead, most likely first. */
export const SYSCALL_ALTERNATIVES: Readonly<Record<string, readonly SyscallAlternative[]>> = {
  nanosleep: [{ syscall: 'clock_nanosleep', why: "glibc's nanosleep() and usleep() use it" }],
  open: [{ syscall: 'openat', why: "glibc's open() uses it" }],
  creat: [{ syscall: 'openat', why: "glibc's creat() may use it" }],
  stat: [
    { syscall: 'newfstatat', why: "glibc's stat() uses it" },
    { syscall: 'statx', why: 'newer programs call statx directly' },
  ],
  lstat: [
    { syscall: 'newfstatat', why: "glibc's lstat() uses it" },
    { syscall: 'statx', why: 'newer programs call statx directly' },
  ],
  fstat: [
    { syscall: 'newfstatat', why: "glibc's fstat() uses it" },
    { syscall: 'statx', why: 'newer programs call statx directly' },
  ],
  fork: [
    { syscall: 'clone', why: "glibc's fork() uses it" },
    { syscall: 'clone3', why: 'newer libcs may use it' },
  ],
  vfork: [{ syscall: 'clone', why: 'some libcs implement vfork() with it' }],
  select: [{ syscall: 'pselect6', why: "glibc's select() uses it" }],
  poll: [{ syscall: 'ppoll', why: "some libcs' poll() use it" }],
  pipe: [{ syscall: 'pipe2', why: "glibc's pipe() uses it" }],
  epoll_wait: [{ syscall: 'epoll_pwait', why: "some libcs' epoll_wait() use it" }],
  epoll_create: [{ syscall: 'epoll_create1', why: 'programs often call epoll_create1' }],
  access: [
    { syscall: 'faccessat', why: AT_FORM },
    { syscall: 'faccessat2', why: AT_FORM },
  ],
  unlink: [{ syscall: 'unlinkat', why: AT_FORM }],
  rmdir: [{ syscall: 'unlinkat', why: AT_FORM }],
  mkdir: [{ syscall: 'mkdirat', why: AT_FORM }],
  rename: [
    { syscall: 'renameat2', why: AT_FORM },
    { syscall: 'renameat', why: AT_FORM },
  ],
  readlink: [{ syscall: 'readlinkat', why: AT_FORM }],
  chmod: [{ syscall: 'fchmodat', why: AT_FORM }],
  chown: [{ syscall: 'fchownat', why: AT_FORM }],
  getdents: [{ syscall: 'getdents64', why: 'current libcs read directories with it' }],
  wait4: [{ syscall: 'waitid', why: 'some programs wait with waitid' }],
  eventfd: [{ syscall: 'eventfd2', why: "glibc's eventfd() uses it" }],
  signalfd: [{ syscall: 'signalfd4', why: "glibc's signalfd() uses it" }],
  inotify_init: [{ syscall: 'inotify_init1', why: 'programs often call inotify_init1' }],
  dup2: [{ syscall: 'dup3', why: 'some libcs implement dup2() with it' }],
};

/** The alternatives worth counting for a probe measuring `names` (those not already measured), with their numbers. */
export function alternativesFor(names: readonly string[]): { probe: string; alternative: SyscallAlternative; nr: number }[] {
  const out: { probe: string; alternative: SyscallAlternative; nr: number }[] = [];
  for (const probe of names) {
    for (const alternative of SYSCALL_ALTERNATIVES[probe] ?? []) {
      if (names.includes(alternative.syscall)) continue;
      const nr = syscallNumber(alternative.syscall);
      if (nr !== undefined) out.push({ probe, alternative, nr });
    }
  }
  return out;
}

/**
 * The hint for an interval where the probe saw no calls: one sentence per alternative the
 * tasks entered, e.g. `0 calls to nanosleep; this process called clock_nanosleep 300 times
 * (glibc's nanosleep() and usleep() use it) — try syscall:clock_nanosleep`. null when none.
 * `who` names the traced tasks ("this process", "threads named x", "the system").
 */
export function syscallHint(
  names: readonly string[],
  alternativeCounts: ReadonlyMap<string, number>,
  who: string,
): string | null {
  const parts: string[] = [];
  for (const { probe, alternative } of alternativesFor(names)) {
    const n = alternativeCounts.get(alternative.syscall) ?? 0;
    if (n <= 0) continue;
    parts.push(`0 calls to ${probe}; ${who} called ${alternative.syscall} ${n} time${n === 1 ? '' : 's'} (${alternative.why}) — try syscall:${alternative.syscall}`);
  }
  return parts.length > 0 ? parts.join('; ') : null;
}

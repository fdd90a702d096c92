/**
 * The descriptor-relative libc calls Node's fs module does not offer: openat and mkdirat.
 * Used where root must walk a path one component at a time without following symlinks
 * (a local user can replace any component they own with a symlink between a check by path
 * and a use by path). Descriptors returned here are plain fds: Node's fstatSync, readSync,
 * fchownSync and closeSync accept them.
 *
 * Linux only (the flag values are the generic Linux ones, same on x86_64 and arm64).
 */
import { constants as fsc, lstatSync, type Stats } from 'node:fs';
import { constants as osc } from 'node:os';
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');
const c_openat = libc.func('int openat(int dirfd, const char *path, int flags, ...)') as unknown as (dirfd: number, path: string, flags: number, ...rest: unknown[]) => number;
const c_mkdirat = libc.func('int mkdirat(int dirfd, const char *path, uint32_t mode)') as unknown as (dirfd: number, path: string, mode: number) => number;

/** Linux O_CLOEXEC (not in Node's fs.constants, which only lists what libuv exposes). */
export const O_CLOEXEC = 0o2000000;
export const O_RDONLY = fsc.O_RDONLY;
export const O_DIRECTORY = fsc.O_DIRECTORY;
export const O_NOFOLLOW = fsc.O_NOFOLLOW;
export const O_NONBLOCK = fsc.O_NONBLOCK;
/** `AT_FDCWD`: a relative path in openat is taken from the working directory. */
export const AT_FDCWD = -100;

/** An errno-style failure of openat/mkdirat: `code` is the errno name (ENOENT, ELOOP, ...), as in Node's fs errors. */
export class AtError extends Error {
  readonly code: string;
  readonly errno: number;
  constructor(call: string, path: string, errno: number) {
    const code = errnoName(errno);
    super(`${call} ${JSON.stringify(path)}: ${code}`);
    this.name = 'AtError';
    this.code = code;
    this.errno = errno;
  }
}

function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(osc.errno)) if (value === errno) return name;
  return `errno ${errno}`;
}

/** openat(2): `name` relative to `dirfd`. Throws AtError. The caller closes the result (closeSync). */
export function openAt(dirfd: number, name: string, flags: number): number {
  const fd = c_openat(dirfd, name, flags | O_CLOEXEC, 'uint32', 0);
  if (fd < 0) throw new AtError('openat', name, koffi.errno());
  return fd;
}

/** mkdirat(2): creates `name` in `dirfd` with `mode` (before umask). Throws AtError (EEXIST when present, symlinks included). */
export function mkdirAt(dirfd: number, name: string, mode: number): void {
  if (c_mkdirat(dirfd, name, mode) < 0) throw new AtError('mkdirat', name, koffi.errno());
}

/**
 * lstat of `name` in the directory `dirfd` (through /proc/self/fd, so the walked components
 * cannot change under it), or null when it is gone. For error messages: openat with
 * O_DIRECTORY|O_NOFOLLOW reports a symlink as ENOTDIR, like any other non-directory.
 */
export function lstatAt(dirfd: number, name: string): Stats | null {
  try {
    return lstatSync(`/proc/self/fd/${dirfd}/${name}`);
  } catch {
    return null;
  }
}

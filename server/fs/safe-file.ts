/**
 * Opening a file that someone else named (a path from /proc/PID/maps, /tmp, or a request)
 * from the root collector, without letting the name's owner hang, redirect or flood it.
 *
 * Guarantees of `openRegularFile`:
 * - The path is stat'ed first (lstat with `noFollow`) and anything but a regular file is
 *   refused WITHOUT opening it: opening a FIFO blocks, opening some devices has side effects
 *   (a watchdog arms, a tape rewinds).
 * - It is then opened O_RDONLY|O_NONBLOCK|O_CLOEXEC (|O_NOFOLLOW with `noFollow`), so even a
 *   FIFO swapped in after the stat cannot block the open, and the descriptor is fstat'ed: it
 *   must be a regular file, the same inode the stat saw, and owned by `ownerUid` when given.
 * - With `within`, every component below that directory is opened with openat(O_NOFOLLOW):
 *   no symlink anywhere under it is followed (for /proc/PID/root/tmp/..., where an absolute
 *   symlink inside a container's root would resolve against the collector's root).
 * - Reads are bounded: `readRegularFile` never reads more than `maxBytes` and says when it
 *   stopped short; `RegularFile.read` reads exactly the range asked for, no more.
 *
 * Every refusal is an UnsafeFileError naming the path and what was found there.
 */
import { closeSync, fstatSync, lstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { AtError, lstatAt, openAt, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_RDONLY } from './at.ts';

/** A file refused because of what it is (type, owner, identity), not because it is missing. */
export class UnsafeFileError extends Error {
  readonly code = 'EUNSAFE';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: refused: ${reason}`);
    this.name = 'UnsafeFileError';
  }
}

export interface RegularFileOptions {
  /** Refuse a symlink as the last component (O_NOFOLLOW). For paths where a symlink is never legitimate. */
  noFollow?: boolean;
  /**
   * A directory `path` must lie inside; every component of `path` after it (the last one
   * included) is opened without following symlinks. The directory itself is reached normally.
   */
  within?: string;
  /** Refuse the file unless its owner (st_uid) is this uid. */
  ownerUid?: number;
}

/** What a stat describes, for error messages: 'a FIFO', 'a directory', ... */
export function describeFileType(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function requireRegular(path: string, st: Stats): void {
  if (!st.isFile()) {
    const what = describeFileType(st);
    throw new UnsafeFileError(path, `${what}, not a regular file${st.isSymbolicLink() ? ' (symlinks are not followed here)' : ''}`);
  }
}

/** An open regular file: checked, positioned reads only. Close it (or use `withRegularFile`). */
export class RegularFile {
  private fdOrNull: number | null;

  constructor(
    readonly path: string,
    fd: number,
    /** fstat of the descriptor at open time. */
    readonly stat: Stats,
  ) {
    this.fdOrNull = fd;
  }

  /** Size in bytes at open time. */
  get size(): number {
    return this.stat.size;
  }

  get fd(): number {
    if (this.fdOrNull === null) throw new Error(`${this.path}: used after close`);
    return this.fdOrNull;
  }

  /** Current size (fstat of the descriptor): for files that grow while open. */
  currentSize(): number {
    return fstatSync(this.fd).size;
  }

  /** Exactly `length` bytes at `offset`; throws if the file ends first. */
  read(offset: number, length: number): Buffer {
    const out = this.readUpTo(offset, length);
    if (out.length < length) throw new Error(`${this.path}: truncated: file ended at ${offset + out.length} while reading ${length} bytes at ${offset}`);
    return out;
  }

  /** Up to `maxLength` bytes at `offset`, fewer when the file ends first. Never reads past `maxLength`. */
  readUpTo(offset: number, maxLength: number): Buffer {
    const out = Buffer.allocUnsafe(maxLength);
    let done = 0;
    while (done < maxLength) {
      const n = readSync(this.fd, out, done, maxLength - done, offset + done);
      if (n <= 0) break;
      done += n;
    }
    return done === maxLength ? out : out.subarray(0, done);
  }

  close(): void {
    if (this.fdOrNull !== null) {
      closeSync(this.fdOrNull);
      this.fdOrNull = null;
    }
  }
}

/**
 * Opens `path` as a regular file under the guarantees above. Throws UnsafeFileError for a
 * file of the wrong type/owner, or the usual Node/AtError (code ENOENT, ELOOP, EACCES, ...)
 * when it cannot be opened at all.
 */
export function openRegularFile(path: string, options: RegularFileOptions = {}): RegularFile {
  const fd = options.within !== undefined ? openWithin(options.within, path) : openByPath(path, options.noFollow === true);
  try {
    const st = fstatSync(fd);
    requireRegular(path, st);
    if (options.ownerUid !== undefined && st.uid !== options.ownerUid) {
      throw new UnsafeFileError(path, `owned by uid ${st.uid}, expected uid ${options.ownerUid}`);
    }
    return new RegularFile(path, fd, st);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function openByPath(path: string, noFollow: boolean): number {
  const before = noFollow ? lstatSync(path) : statSync(path);
  requireRegular(path, before);
  const fd = openSync(path, O_RDONLY | O_NONBLOCK | (noFollow ? O_NOFOLLOW : 0));
  try {
    const after = fstatSync(fd);
    if (after.ino !== before.ino || after.dev !== before.dev) {
      throw new UnsafeFileError(path, 'replaced by another file while being opened');
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/** Walks `path` below `dir` with openat(O_NOFOLLOW) per component; returns the final descriptor. */
function openWithin(dir: string, path: string): number {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  if (!path.startsWith(prefix)) throw new UnsafeFileError(path, `not inside ${dir}`);
  const parts = path.slice(prefix.length).split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) throw new UnsafeFileError(path, `empty, '.' or '..' component below ${dir}`);
  let dirfd = openSync(dir, O_RDONLY | O_DIRECTORY);
  try {
    for (let i = 0; i < parts.length - 1; i++) {
      let next: number;
      try {
        next = openAt(dirfd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      } catch (e) {
        // O_DIRECTORY|O_NOFOLLOW reports a symlink as ENOTDIR: say which it was.
        const st = e instanceof AtError && e.code === 'ENOTDIR' ? lstatAt(dirfd, parts[i]) : null;
        if (st) throw new UnsafeFileError(path, `${parts[i]} below ${dir} is ${describeFileType(st)}${st.isSymbolicLink() ? ' (symlinks are not followed here)' : ', not a directory'}`);
        throw e;
      }
      closeSync(dirfd);
      dirfd = next;
    }
    const last = parts[parts.length - 1];
    // Advisory type check before the open (devices with open side effects), through the
    // descriptor's /proc/self/fd entry so the already-walked components cannot change.
    requireRegular(path, lstatSync(`/proc/self/fd/${dirfd}/${last}`));
    return openAt(dirfd, last, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
  } catch (e) {
    if (e instanceof Error && 'code' in e && e.code === 'ELOOP') throw new UnsafeFileError(path, `a symbolic link below ${dir} (symlinks are not followed here)`);
    throw e;
  } finally {
    closeSync(dirfd);
  }
}

/** Runs `fn` with the file open, closing it afterwards. */
export function withRegularFile<T>(path: string, options: RegularFileOptions, fn: (file: RegularFile) => T): T {
  const file = openRegularFile(path, options);
  try {
    return fn(file);
  } finally {
    file.close();
  }
}

export interface ReadResult {
  data: Buffer;
  /** File size at open time. */
  size: number;
  /** True when the file was larger than `maxBytes` and only the first `maxBytes` were read. */
  truncated: boolean;
}

/** Reads the first `maxBytes` (at most) of a regular file opened under the guarantees above. */
export function readRegularFile(path: string, options: RegularFileOptions & { maxBytes: number }): ReadResult {
  return withRegularFile(path, options, (file) => {
    const data = file.readUpTo(0, Math.min(options.maxBytes, Math.max(file.size, 0)));
    return { data, size: file.size, truncated: file.size > options.maxBytes };
  });
}

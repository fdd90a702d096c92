/**
 * Separate debug files for binaries whose own tables lack their symbols (stripped):
 * - by build-id: ROOT/usr/lib/debug/.build-id/ab/cdef….debug (Debian's -dbgsym packages);
 * - by `.gnu_debuglink` (a file name and the CRC32 of that file, written by
 *   `objcopy --add-gnu-debuglink`), looked up where gdb looks: the binary's directory, its
 *   `.debug/` subdirectory, and ROOT/usr/lib/debug/ + the binary's directory; the first file
 *   whose CRC32 matches is used.
 *
 * Security: the collector runs as root and the directory of a binary is often not root's (a
 * user's build tree, /tmp). A binary is read because a process maps it: it names only that
 * process's frames. A debug file is found by NAME in a directory, so whoever can write there
 * chooses what root opens: a symlink to a root-only file would put that file's symbol names (and,
 * through the CRC, a yes/no on its contents) in everyone's flame graph. So a debug file beside a
 * binary is read only when its directory (and `.debug/`) is owned by root or by the binary's
 * owner and not writable by group or others, no symlink below the binary's directory is followed
 * (openat with O_NOFOLLOW), and the file itself (checked on the open descriptor: regular, owner
 * root or the binary's owner, not writable by group or others) is what is parsed. The trees
 * under ROOT/usr/lib/debug are the system's (root's), opened like binaries (server/fs/safe-file.ts:
 * regular files only, symlinks followed: the .build-id links of debug packages are symlinks).
 */
import { lstatSync, readSync, statSync, type Stats } from 'node:fs';
import * as zlib from 'node:zlib';
import { openRegularFile, type RegularFile } from '../fs/safe-file.ts';
import { ElfFile } from './elf.ts';
import { crc32 as crc32InJs } from '../../lib/crc32.ts';

/**
 * Where Debian's -dbgsym packages (and most distributions) put detached debug info for a
 * build-id: /usr/lib/debug/.build-id/ab/cdef….debug. Its .symtab names the local functions
 * that the stripped binary lost.
 */
export function debugFilePath(buildId: string, root = ''): string {
  return `${root}/usr/lib/debug/.build-id/${buildId.slice(0, 2)}/${buildId.slice(2)}.debug`;
}

/** CRC-32 (the zlib/IEEE 802.3 polynomial, reflected, 0xedb88320), one table entry per byte value. */
/** zlib.crc32 where Node has it (20.15+, native), else lib/crc32.ts's plain JS. */
const crc32: (data: Uint8Array, crc?: number) => number = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32 ?? crc32InJs;

/** Bytes read at a time while computing a debug file's CRC. */
const CRC_CHUNK = 1 << 20;

/** CRC-32 of a whole open file (its size at open time), read in 1 MiB chunks. */
export function fileCrc32(file: RegularFile): number {
  let crc = 0;
  const buf = Buffer.allocUnsafe(Math.min(CRC_CHUNK, Math.max(file.size, 1)));
  for (let at = 0; at < file.size; ) {
    const n = readSync(file.fd, buf, 0, Math.min(buf.length, file.size - at), at);
    if (n <= 0) break; // shrank since open: the CRC will not match
    crc = crc32(buf.subarray(0, n), crc);
    at += n;
  }
  return crc;
}

/** Why a directory beside a binary may not hold its debug file, or null when it may. */
function untrustedDirectory(st: Stats, trusted: ReadonlySet<number>): string | null {
  if (!st.isDirectory()) return 'not a directory';
  if (!trusted.has(st.uid)) return `owned by uid ${st.uid}`;
  if ((st.mode & 0o022) !== 0) return `writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`;
  return null;
}

/** Where to look for a binary's debug files. */
export interface DebugLookup {
  /** Root of the system's debug trees (`ROOT/usr/lib/debug/…`); '' for the host's. */
  root: string;
  /** Directory holding the binary as the collector reaches it (`/proc/PID/root/usr/bin`, or `/usr/bin`). */
  binaryDir?: string;
  /** The binary's directory as the process sees it (`/usr/bin`): the path under ROOT/usr/lib/debug. */
  mappedDir?: string;
}

/**
 * The separate debug file that `binary`'s `.gnu_debuglink` names, opened, when one of the
 * places gdb looks holds a file whose CRC32 matches and that passes the checks above; else
 * undefined (never throws). The caller closes it.
 */
export function openDebuglinkFile(binary: ElfFile, where: DebugLookup): ElfFile | undefined {
  let link: { file: string; crc: number } | undefined;
  try {
    link = binary.gnuDebuglink();
  } catch {
    return undefined;
  }
  if (!link || link.file.includes('/') || link.file === '.' || link.file === '..' || link.file.length > 255) return undefined;
  const owner = binary.ownerUid;
  const trusted = new Set<number>([0]);
  if (owner !== undefined) trusted.add(owner);
  const candidates: (() => RegularFile)[] = [];
  const dir = where.binaryDir;
  if (dir !== undefined && dir.startsWith('/')) {
    const besideBinary = (sub: string | null) => (): RegularFile => {
      // The binary's own directory is reached as the process's view of it (symlinks above it followed).
      const problem = untrustedDirectory(statSync(dir), trusted) ?? (sub === null ? null : untrustedDirectory(lstatSync(`${dir}/${sub}`), trusted));
      if (problem) throw new Error(`${sub === null ? dir : `${dir}/${sub}`}: ${problem}`);
      const file = openRegularFile(`${dir === '/' ? '' : dir}/${sub === null ? '' : `${sub}/`}${link.file}`, { within: dir });
      const st = file.stat;
      if (!trusted.has(st.uid) || (st.mode & 0o022) !== 0) {
        file.close();
        throw new Error(`${file.path}: owned by uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8)}`);
      }
      return file;
    };
    candidates.push(besideBinary(null), besideBinary('.debug'));
  }
  if (where.mappedDir !== undefined && where.mappedDir.startsWith('/')) {
    const global = `${where.root}/usr/lib/debug${where.mappedDir === '/' ? '' : where.mappedDir}/${link.file}`;
    candidates.push(() => openRegularFile(global));
  }
  for (const open of candidates) {
    let file: RegularFile | undefined;
    try {
      file = open();
      if (fileCrc32(file) !== link.crc) continue;
      const elf = ElfFile.fromRegularFile(file);
      file = undefined; // owned by elf now
      return elf;
    } catch {
      /* missing, refused or not ELF: the next place */
    } finally {
      file?.close();
    }
  }
  return undefined;
}

/**
 * The two /proc files the Python readers need, opened through `openRegularFile` (a /proc entry
 * is a regular file of size 0: it is read until EOF, bounded by `maxBytes`).
 */
import { readlinkSync } from 'node:fs';
import { withRegularFile } from '../fs/safe-file.ts';

/** Maps text larger than this is cut (a process with ~100k mappings); bytes. */
export const MAX_MAPS_BYTES = 16 * 1024 * 1024;
/** /proc/PID/stat is one line of at most a few hundred bytes; bytes. */
const MAX_STAT_BYTES = 4096;

/** Up to `maxBytes` of `/proc/PID/<name>` as text. Throws ENOENT/ESRCH when the process is gone. */
export function readProcText(pid: number, name: string, maxBytes: number, procRoot = '/proc'): string {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new RangeError(`not a pid: ${pid}`);
  return withRegularFile(`${procRoot}/${pid}/${name}`, {}, (file) => file.readUpTo(0, maxBytes).toString('utf8'));
}

/**
 * The process's start time (field 22 of /proc/PID/stat, in clock ticks since boot): with the
 * pid, it names one process, since a reused pid gets a later start time. Undefined when the
 * process is gone or the line cannot be parsed.
 */
export function processStartTime(pid: number, procRoot = '/proc'): bigint | undefined {
  let line: string;
  try {
    line = readProcText(pid, 'stat', MAX_STAT_BYTES, procRoot);
  } catch {
    return undefined;
  }
  // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so split after the last ')'.
  const close = line.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = line.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): field 22 is fields[19].
  const start = fields[19];
  return start !== undefined && /^\d+$/.test(start) ? BigInt(start) : undefined;
}

/**
 * What names one program run: the start time (a reused pid gets another) and the executable
 * (`/proc/PID/exe`, which exec changes while the pid and start time stay). Undefined when the
 * process is gone. A readlink opens nothing, so no safe-file helper is needed for it.
 */
export function processIdentity(pid: number, procRoot = '/proc'): string | undefined {
  const start = processStartTime(pid, procRoot);
  if (start === undefined) return undefined;
  let exe = '';
  try {
    exe = readlinkSync(`${procRoot}/${pid}/exe`);
  } catch {
    // Kernel threads have no exe; a zombie loses it: the start time alone then.
  }
  return `${start} ${exe}`;
}

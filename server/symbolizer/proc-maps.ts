/**
 * /proc/PID/maps parsing. Bad lines are skipped and counted, never thrown.
 */
import { readFileSync } from 'node:fs';

export interface MapEntry {
  /** Mapping start, inclusive. */
  start: bigint;
  /** Mapping end, exclusive. */
  end: bigint;
  /** e.g. 'r-xp'. */
  perms: string;
  /** File offset of `start`, in bytes. */
  offset: bigint;
  /** Device as printed, 'MAJ:MIN' in hex. */
  dev: string;
  inode: number;
  /** Path or pseudo name (`[vdso]`, `[heap]`, `[anon:…]`); '' for anonymous. ` (deleted)` removed. */
  path: string;
  /** The file was deleted after it was mapped. */
  deleted: boolean;
}

export interface ParsedMaps {
  entries: MapEntry[];
  /** Lines that could not be parsed (skipped). */
  badLines: number;
}

const LINE = /^([0-9a-fA-F]+)-([0-9a-fA-F]+) ([r-][w-][x-][ps-]) ([0-9a-fA-F]+) ([0-9a-fA-F]+:[0-9a-fA-F]+) (\d+)(?: +(.*))?$/;

export function parseProcMaps(text: string): ParsedMaps {
  const entries: MapEntry[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = LINE.exec(line);
    if (!m) {
      badLines++;
      continue;
    }
    const start = BigInt('0x' + m[1]);
    const end = BigInt('0x' + m[2]);
    if (end <= start) {
      badLines++;
      continue;
    }
    let path = m[7] ?? '';
    let deleted = false;
    if (path.endsWith(' (deleted)')) {
      deleted = true;
      path = path.slice(0, -' (deleted)'.length);
    }
    entries.push({ start, end, perms: m[3], offset: BigInt('0x' + m[4]), dev: m[5], inode: Number(m[6]), path, deleted });
  }
  return { entries, badLines };
}

/**
 * Only the executable mappings of maps text, sorted by start: what the symbolizer keeps. Lines
 * whose permissions say not executable are skipped without being parsed (a process has several
 * times more of them), so bad lines are counted among the others only.
 */
export function parseExecutableMappings(text: string): ParsedMaps {
  const entries: MapEntry[] = [];
  let badLines = 0;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const lineStart = start;
    start = end + 1;
    if (end === lineStart) continue;
    // `START-END PERMS …`: the third permission character is `x` or `-`.
    const space = text.indexOf(' ', lineStart);
    if (space > lineStart && space + 3 < end && text.charCodeAt(space + 3) === 45 /* - */) continue;
    const one = parseProcMaps(text.slice(lineStart, end));
    badLines += one.badLines;
    for (const e of one.entries) if (e.perms[2] === 'x') entries.push(e);
  }
  entries.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return { entries, badLines };
}

/** Reads and parses /proc/PID/maps. Throws (ENOENT) when the process is gone. */
export function readProcMaps(pid: number, procRoot = '/proc'): ParsedMaps {
  return parseProcMaps(readFileSync(`${procRoot}/${pid}/maps`, 'utf8'));
}

/** Executable mappings, sorted by start. */
export function executableMappings(entries: readonly MapEntry[]): MapEntry[] {
  return entries.filter((e) => e.perms[2] === 'x').sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** The mapping containing `addr` in a list sorted by start (binary search). */
export function findMapping(sorted: readonly MapEntry[], addr: bigint): MapEntry | undefined {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const e = sorted[mid];
    if (addr < e.start) hi = mid - 1;
    else if (addr >= e.end) lo = mid + 1;
    else return e;
  }
  return undefined;
}

/** A mapping backed by a regular file (not anonymous, not a `[pseudo]` mapping). */
export function isFileBacked(e: MapEntry): boolean {
  return e.inode !== 0 && e.path.startsWith('/');
}

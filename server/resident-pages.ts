/**
 * Gives back the clean file-backed pages a long-running process touched once and no longer uses.
 *
 * Why: about 40 MB of each probeboard process's RSS is node's own binary (its code, its
 * read-only data, its symbol tables), mapped from the page cache and touched while the process
 * starts (module loading, compilation, the first profile start). Most of those pages are not
 * used again in steady state, but they stay mapped, and counted in the process's RSS, until the
 * kernel needs the memory. madvise(MADV_DONTNEED) unmaps them from this process now: the
 * pages stay in the page cache (shared with every other node process) and the ones still in use
 * come back on their next access through a minor fault (no I/O). Anonymous memory (heaps, the
 * V8 heap, copied-on-write pages) is never touched.
 *
 * Which mappings: private mappings of a file (path starting with `/`), not writable, and with
 * no anonymous (copied-on-write) page in them: those hold only pages identical to the file, so
 * dropping them loses nothing. A mapping that ever had a page written (relocations, RELRO) keeps
 * that copy: MADV_DONTNEED on it would revert the page to the file's bytes, so such mappings are
 * skipped whole. The check and the call are on the same thread, and a non-writable mapping can
 * gain a copied page only through mprotect, which nothing in this process does to file mappings.
 *
 * `startReleasingPages()` releases once after `firstMs` (start-up done) and then every `everyMs`
 * (pages touched by occasional work: a profile restart, a discovery request). Each release reads
 * /proc/self/smaps (a few ms) and makes one madvise call per mapping; what steady state uses
 * comes back within its next second (a few hundred minor faults). PROBEBOARD_KEEP_PAGES=1 in the
 * environment turns it off (to compare).
 */
import { readFileSync } from 'node:fs';
import koffi from 'koffi';

/** MADV_DONTNEED (<sys/mman.h>): drop the mapping's pages from this process; file pages are read back on access. */
const MADV_DONTNEED = 4;

/** A private, read-only file mapping holding no copied page: [start, end) in bytes. */
export interface CleanFileMapping {
  start: number;
  end: number;
  path: string;
  /** Resident kB (smaps `Rss`). */
  rssKb: number;
}

/**
 * The mappings of an smaps text that may be released: private (`p`), not writable, backed by a
 * file (path starting with `/`, not ` (deleted)`), with `Anonymous: 0 kB` and some resident page.
 */
export function cleanFileMappings(smaps: string): CleanFileMapping[] {
  const out: CleanFileMapping[] = [];
  let current: (CleanFileMapping & { eligible: boolean; anonymousKb: number }) | null = null;
  const finish = () => {
    if (current && current.eligible && current.anonymousKb === 0 && current.rssKb > 0) {
      out.push({ start: current.start, end: current.end, path: current.path, rssKb: current.rssKb });
    }
  };
  for (const line of smaps.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) ([-rwxsp]{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      finish();
      const perms = header[3];
      const path = header[4];
      current = {
        start: parseInt(header[1], 16),
        end: parseInt(header[2], 16),
        path,
        rssKb: 0,
        anonymousKb: -1, // unknown until its line: not eligible without it
        eligible: perms[1] === '-' && perms[3] === 'p' && path.startsWith('/') && !path.endsWith(' (deleted)'),
      };
      continue;
    }
    if (!current) continue;
    const field = /^(Rss|Anonymous):\s+(\d+) kB$/.exec(line);
    if (field) {
      if (field[1] === 'Rss') current.rssKb = Number(field[2]);
      else current.anonymousKb = Number(field[2]);
    }
  }
  finish();
  return out;
}

let madvise: ((address: number, length: number, advice: number) => number) | null | undefined;

function madviseFunction(): ((address: number, length: number, advice: number) => number) | null {
  if (madvise === undefined) {
    try {
      madvise = koffi.load('libc.so.6').func('int madvise(uintptr_t addr, size_t length, int advice)') as (address: number, length: number, advice: number) => number;
    } catch {
      madvise = null;
    }
  }
  return madvise;
}

/**
 * Releases this process's clean file-backed pages (see the module). Returns the resident kB of
 * the mappings released (what RSS drops by, less what is touched again at once); 0 when
 * /proc/self/smaps or madvise is not available. Never throws.
 */
export function releaseCleanFilePages(): number {
  const call = madviseFunction();
  if (!call) return 0;
  let smaps: string;
  try {
    smaps = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return 0;
  }
  let releasedKb = 0;
  for (const mapping of cleanFileMappings(smaps)) {
    if (call(mapping.start, mapping.end - mapping.start, MADV_DONTNEED) === 0) releasedKb += mapping.rssKb;
  }
  return releasedKb;
}

/** Environment variable that turns the periodic release off (`1`). */
export const KEEP_PAGES_ENV = 'PROBEBOARD_KEEP_PAGES';

/**
 * Releases clean file pages after `firstMs` (default 10 s: start-up and a first profile start
 * are done) and then every `everyMs` (default 60 s). The timers never keep the process alive.
 */
export function startReleasingPages(options: { firstMs?: number; everyMs?: number } = {}): void {
  if (process.env[KEEP_PAGES_ENV] === '1') return;
  const everyMs = options.everyMs ?? 60_000;
  const first = setTimeout(() => {
    releaseCleanFilePages();
    setInterval(releaseCleanFilePages, everyMs).unref();
  }, options.firstMs ?? 10_000);
  first.unref();
}

/**
 * /tmp/perf-PID.map: symbols for JIT-compiled code, one `START SIZE name` line per function
 * (hex START and SIZE, with or without 0x; the name runs to the end of the line and may
 * contain spaces). Written by `node --perf-basic-prof`, the JVM's perf-map-agent, etc.
 *
 * The file grows while the runtime JITs: `PerfMap.refresh()` checks size and mtime (not the
 * contents) and parses only the appended complete lines; a file that shrank or was replaced
 * is read again from the start. Later lines win over earlier ones at the same start address
 * (code regions get reused).
 *
 * The file is named by a pid and sits in /tmp (or a container's /tmp), where its owner can
 * put anything: it is opened through `openRegularFile` (no symlink, no FIFO or device, owner
 * checked by the caller's options) and read in bounded chunks.
 */
import { openRegularFile, UnsafeFileError, type RegularFile, type RegularFileOptions } from '../fs/safe-file.ts';

export interface PerfMapEntry {
  start: bigint;
  size: bigint;
  name: string;
}

const LINE = /^(?:0x)?([0-9a-fA-F]+) (?:0x)?([0-9a-fA-F]+) (.+)$/;

/** Parses perf-map text; bad lines are skipped and counted. Entries are in file order. */
export function parsePerfMap(text: string): { entries: PerfMapEntry[]; badLines: number } {
  const entries: PerfMapEntry[] = [];
  let badLines = 0;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const m = LINE.exec(line);
    if (!m || m[1].length > 16 || m[2].length > 16) {
      badLines++;
      continue;
    }
    const size = BigInt('0x' + m[2]);
    const name = m[3].trim();
    if (size === 0n || name === '') {
      badLines++;
      continue;
    }
    entries.push({ start: BigInt('0x' + m[1]), size, name });
  }
  return { entries, badLines };
}

/** How far back lookup scans for an enclosing entry when the nearest one does not contain the address. */
const BACKSCAN = 32;

/** Bytes read from one perf map per refresh: a fast-growing file is taken in chunks, never all at once. */
export const PERF_MAP_CHUNK_BYTES = 16 << 20;
/** Bytes of one perf map read in total; entries past this are not read (about 600,000 JIT functions). */
export const PERF_MAP_MAX_BYTES = 64 << 20;

export class PerfMap {
  private entries: PerfMapEntry[] = [];
  /** Sorted view; rebuilt lazily after new lines. */
  private sorted: PerfMapEntry[] = [];
  private dirty = false;
  private readOffset = 0;
  private seenSize = -1;
  private mtimeMs = -1;
  private ino = -1;
  /** Bad lines seen so far. */
  badLines = 0;
  /** Why the file was last refused or cut short (not a regular file, wrong owner, too large), if it was. */
  error: string | undefined;

  /**
   * `path` is opened by `openRegularFile` with `open` (default: no symlink as the last
   * component): a FIFO, device, symlink or a file of the wrong owner is refused, never read.
   */
  constructor(
    readonly path: string,
    private readonly open: RegularFileOptions = { noFollow: true },
    private readonly maxBytes = PERF_MAP_MAX_BYTES,
  ) {}

  /** Number of entries. */
  get size(): number {
    return this.entries.length;
  }

  /**
   * Brings the table up to date with the file if its size, mtime or inode changed.
   * Returns true when new entries were read. Never throws (a missing or refused file means
   * no new entries; a refusal is kept in `error`).
   */
  refresh(): boolean {
    let file: RegularFile;
    try {
      file = openRegularFile(this.path, this.open);
    } catch (e) {
      if (e instanceof UnsafeFileError) this.error = e.message;
      return false;
    }
    try {
      const st = file.stat;
      if (st.ino === this.ino && st.size === this.seenSize && st.mtimeMs === this.mtimeMs) return false;
      if (st.ino !== this.ino || st.size < this.readOffset) this.reset();
      this.ino = st.ino;
      this.mtimeMs = st.mtimeMs;
      this.seenSize = st.size;
      const limit = Math.min(st.size, this.maxBytes);
      if (st.size > this.maxBytes) this.error = `${this.path}: larger than ${this.maxBytes} bytes; entries past that are not read`;
      const len = Math.min(limit - this.readOffset, PERF_MAP_CHUNK_BYTES);
      if (len <= 0) return false;
      const buf = file.readUpTo(this.readOffset, len);
      // Consume complete lines only; an unterminated last line is re-read once the writer finishes it.
      const lastNl = buf.lastIndexOf(0x0a);
      if (lastNl < 0) {
        // A full chunk without a newline is no line of a perf map: skip it rather than stall on it.
        if (buf.length === PERF_MAP_CHUNK_BYTES) {
          this.readOffset += buf.length;
          this.badLines++;
        }
        return false;
      }
      this.readOffset += lastNl + 1;
      // More complete chunks may follow: look again at the next refresh even if nothing changes.
      if (this.readOffset < limit) this.seenSize = -1;
      const { entries, badLines } = parsePerfMap(buf.toString('utf8', 0, lastNl));
      this.badLines += badLines;
      for (const e of entries) this.entries.push(e);
      if (entries.length > 0) this.dirty = true;
      return entries.length > 0;
    } finally {
      file.close();
    }
  }

  private reset(): void {
    this.entries = [];
    this.sorted = [];
    this.readOffset = 0;
    this.dirty = false;
  }

  private build(): void {
    // Stable sort by start; for equal starts keep the last-written entry.
    const idx = this.entries.map((e, i) => ({ e, i }));
    idx.sort((a, b) => (a.e.start < b.e.start ? -1 : a.e.start > b.e.start ? 1 : a.i - b.i));
    const out: PerfMapEntry[] = [];
    for (const { e } of idx) {
      if (out.length > 0 && out[out.length - 1].start === e.start) out[out.length - 1] = e;
      else out.push(e);
    }
    this.sorted = out;
    this.dirty = false;
  }

  /** The JIT symbol containing `addr`, or undefined. */
  lookup(addr: bigint): PerfMapEntry | undefined {
    if (this.dirty) this.build();
    const a = this.sorted;
    let lo = 0;
    let hi = a.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid].start <= addr) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (let i = found; i >= 0 && i > found - BACKSCAN; i--) {
      if (addr < a[i].start + a[i].size) return a[i];
    }
    return undefined;
  }
}

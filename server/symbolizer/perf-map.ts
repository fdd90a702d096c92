/**
 * /tmp/perf-PID.map: symbols for JIT-compiled code, one `START SIZE name` line per function
 * (hex START and SIZE, with or without 0x; the name runs to the end of the line and may
 * contain spaces). Written by `node --perf-basic-prof`, the JVM's perf-map-agent, etc.
 *
 * The file grows while the runtime JITs: `PerfMap.refresh()` checks size and mtime (not the
 * contents) and parses only the appended complete lines; a file that shrank or was replaced
 * is read again from the start. Later lines win over earlier ones at the same start address
 * (code regions get reused).
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

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

  constructor(readonly path: string) {}

  /** Number of entries. */
  get size(): number {
    return this.entries.length;
  }

  /**
   * Brings the table up to date with the file if its size, mtime or inode changed.
   * Returns true when new entries were read. Never throws (a missing file means no entries).
   */
  refresh(): boolean {
    let st;
    try {
      st = statSync(this.path);
    } catch {
      return false;
    }
    if (st.ino === this.ino && st.size === this.seenSize && st.mtimeMs === this.mtimeMs) return false;
    if (st.ino !== this.ino || st.size < this.readOffset) this.reset();
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return false;
    }
    try {
      const size = fstatSync(fd).size;
      this.ino = st.ino;
      this.mtimeMs = st.mtimeMs;
      this.seenSize = size;
      const len = size - this.readOffset;
      if (len <= 0) return false;
      const buf = Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        const n = readSync(fd, buf, got, len - got, this.readOffset + got);
        if (n <= 0) break;
        got += n;
      }
      // Consume complete lines only; an unterminated last line is re-read once the writer finishes it.
      const lastNl = buf.subarray(0, got).lastIndexOf(0x0a);
      if (lastNl < 0) return false;
      this.readOffset += lastNl + 1;
      const { entries, badLines } = parsePerfMap(buf.toString('utf8', 0, lastNl));
      this.badLines += badLines;
      for (const e of entries) this.entries.push(e);
      if (entries.length > 0) this.dirty = true;
      return entries.length > 0;
    } finally {
      closeSync(fd);
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

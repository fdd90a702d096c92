/**
 * The CPython 3.11 location table (`co_linetable`, described in the interpreter's
 * Objects/locations.md; PEP 626 line semantics, PEP 657 columns): which source line each
 * instruction belongs to. Written from the format description; columns are skipped.
 *
 * The table is a sequence of entries, each covering 1..8 code units (a code unit is 2 bytes):
 * - first byte: bit 7 set; bits 3..6 a code; bits 0..2 the number of code units minus 1;
 * - code 15: no location (line none); no more bytes;
 * - code 14 (long form): signed varint line delta, varint end-line delta, varint start column+1,
 *   varint end column+1;
 * - code 13 (no columns): signed varint line delta;
 * - codes 10..12 (one line): line delta = code - 10, then two bytes (start and end column);
 * - codes 0..9 (short form): line delta 0, then one byte of columns.
 * A varint is 6-bit chunks, least significant first, bit 6 set when another chunk follows; a
 * signed varint is an unsigned one `u` meaning `-(u >> 1)` when `u & 1`, else `u >> 1`.
 * The line starts at `co_firstlineno` and each delta applies to it (code 15 leaves it as is).
 *
 * Untrusted input (read from another process): decoding stops at the end of the table, after
 * `codeUnits` units, at a byte that does not start an entry, or at a varint longer than 5 chunks;
 * what was decoded until then stays usable. Time is linear in the table's length.
 */

/** Line ranges of one code object: `starts[i]` (code units) up to `starts[i+1]` run line `lines[i]`. */
export interface LineRanges {
  /** First code unit of each range, increasing. */
  starts: Uint32Array;
  /** Line of each range; -1 for instructions without a line (code 15). */
  lines: Int32Array;
  /** Code units covered (the end of the last range). */
  end: number;
  /** True when decoding stopped before the table's end on malformed data. */
  malformed: boolean;
}

/** Varints longer than this many 6-bit chunks (30 bits) are malformed. */
const MAX_VARINT_CHUNKS = 5;

export function decodeLineTable311(table: Uint8Array, firstLineNo: number, codeUnits: number): LineRanges {
  // Each entry takes at least one byte and covers at least one code unit: either bounds the count.
  const capacity = Math.max(0, Math.min(table.length, codeUnits));
  const starts = new Uint32Array(capacity);
  const lines = new Int32Array(capacity);
  let count = 0;
  let unit = 0;
  let line = firstLineNo;
  let p = 0;
  let malformed = false;

  const varint = (): number | undefined => {
    let value = 0;
    for (let chunk = 0; chunk < MAX_VARINT_CHUNKS; chunk++) {
      if (p >= table.length) return undefined;
      const b = table[p++];
      if (b & 0x80) return undefined; // the next entry's first byte: truncated varint
      value += (b & 0x3f) * 2 ** (6 * chunk);
      if ((b & 0x40) === 0) return value;
    }
    return undefined;
  };
  const signedVarint = (): number | undefined => {
    const u = varint();
    if (u === undefined) return undefined;
    return u % 2 === 1 ? -Math.floor(u / 2) : u / 2;
  };

  while (p < table.length && unit < codeUnits && count < capacity) {
    const first = table[p++];
    if ((first & 0x80) === 0) {
      malformed = true;
      break;
    }
    const code = (first >> 3) & 0xf;
    const length = (first & 7) + 1;
    let delta = 0;
    let noLine = false;
    if (code === 15) {
      noLine = true;
    } else if (code === 14) {
      const d = signedVarint();
      // end line delta, start column + 1, end column + 1: read to move past them.
      const rest = d === undefined ? undefined : [varint(), varint(), varint()];
      if (d === undefined || rest === undefined || rest.includes(undefined)) {
        malformed = true;
        break;
      }
      delta = d;
    } else if (code === 13) {
      const d = signedVarint();
      if (d === undefined) {
        malformed = true;
        break;
      }
      delta = d;
    } else if (code >= 10) {
      delta = code - 10;
      p += 2;
    } else {
      p += 1;
    }
    if (p > table.length) {
      malformed = true;
      break;
    }
    line += delta;
    starts[count] = unit;
    lines[count] = noLine ? -1 : line;
    count++;
    unit += length;
  }
  return { starts: starts.slice(0, count), lines: lines.slice(0, count), end: Math.min(unit, codeUnits), malformed };
}

/** The line of the instruction at `byteOffset` (bytes into the bytecode), or undefined when none is known. */
export function lineAt(ranges: LineRanges, byteOffset: number): number | undefined {
  if (!Number.isSafeInteger(byteOffset) || byteOffset < 0) return undefined;
  const unit = Math.floor(byteOffset / 2);
  if (unit >= ranges.end || ranges.starts.length === 0) return undefined;
  // The last range starting at or before `unit`.
  let lo = 0;
  let hi = ranges.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (ranges.starts[mid] <= unit) lo = mid;
    else hi = mid - 1;
  }
  const line = ranges.lines[lo];
  return line < 0 ? undefined : line;
}

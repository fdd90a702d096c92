/**
 * Test helpers for the CFI parser: runs binutils' `readelf --debug-dump=frames-interp` (the
 * reference) and parses its text, and renders our rules in readelf's notation so the two can be
 * compared row by row. readelf's interpretation lives in binutils/dwarf.c (display_debug_frames);
 * the notation, observed on this machine's binutils: CFA `rsp+8` (register name, signed offset)
 * or `exp`; a register's rule `u` (undefined, or not yet given a rule), `s` (same value),
 * `c-16` (saved at CFA-16), `v-16` (value is CFA-16), `r1 (rdx)` (in another register), `exp`, `vexp`.
 */
import { spawnSync } from 'node:child_process';
import type { CfaRule, RegisterRule, UnwindRow } from './eh-frame.ts';

/** readelf's names of DWARF registers 0..16 on x86-64. */
const X86_64_REGISTER_NAMES = ['rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'];

export function registerName(reg: number): string {
  return X86_64_REGISTER_NAMES[reg] ?? `r${reg}`;
}

/** One row in readelf's notation. */
export interface TextRow {
  loc: number;
  cfa: string;
  rbp: string;
  ra: string;
}

export interface ReadelfEntry {
  section: string;
  kind: 'CIE' | 'FDE';
  /** Offset of the entry in its section. */
  offset: number;
  /** FDEs: the CIE's offset and the pc range. */
  cieOffset?: number;
  pcBegin?: number;
  pcEnd?: number;
  /** The interpreted table; empty when readelf printed none (an FDE of only DW_CFA_nop). */
  rows: TextRow[];
}

/** Runs readelf on `path` and parses every CIE and FDE of .eh_frame and .debug_frame. */
export function readelfFrames(path: string): ReadelfEntry[] {
  // readelf exits 1 without a word on stderr for some binaries (libc.so.6 here: it follows
  // .gnu_debuglink and finds no debug file), yet prints the whole dump: judge by the output.
  const run = spawnSync('readelf', ['--debug-dump=frames-interp', path], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (run.error) throw run.error;
  if (!run.stdout.includes('Contents of the')) throw new Error(`readelf ${path} printed no frame sections (status ${run.status}): ${run.stderr.slice(0, 500)}`);
  return parseReadelfFrames(run.stdout);
}

export function parseReadelfFrames(text: string): ReadelfEntry[] {
  const out: ReadelfEntry[] = [];
  let section = '';
  let current: ReadelfEntry | undefined;
  let columns: string[] = [];
  let rbpColumn = -1;
  let raColumn = -1;
  // Tens of MB for node: cheap character tests pick the line kind before any regex runs.
  for (const line of text.split('\n')) {
    if (line.length < 17) continue;
    if (line.startsWith('Contents of the ')) {
      section = line.slice(16).split(' ')[0];
      current = undefined;
      continue;
    }
    if (line.startsWith('   LOC')) {
      // "   LOC           CFA      rbx   rbp   ra"
      columns = line.trim().split(/\s+/).slice(2);
      rbpColumn = columns.indexOf('rbp');
      raColumn = columns.indexOf('ra');
      continue;
    }
    if (line.charCodeAt(16) === 32 /* ' ' */ && current) {
      // A row: 16 hex digits of location, the CFA, then one field per column. A register rule
      // prints as two words, `r9 (r9)` / `r1 (rdx)`: keep the name.
      const body = line.includes('(') ? line.slice(17).replace(/\br\d+ \((\w+)\)/g, '$1') : line.slice(17);
      const fields = body.trim().split(/\s+/);
      current.rows.push({
        loc: parseInt(line.slice(0, 16), 16),
        cfa: fields[0],
        rbp: rbpColumn < 0 ? 'u' : (fields[rbpColumn + 1] ?? 'u'),
        ra: raColumn < 0 ? 'u' : (fields[raColumn + 1] ?? 'u'),
      });
      continue;
    }
    const entry = /^([0-9a-f]{8,16}) [0-9a-f]{8,16} [0-9a-f]{8,16} (CIE|FDE)(?: cie=([0-9a-f]+) pc=([0-9a-f]+)\.\.([0-9a-f]+))?/.exec(line);
    if (entry) {
      current = { section, kind: entry[2] as 'CIE' | 'FDE', offset: parseInt(entry[1], 16), rows: [] };
      if (entry[2] === 'FDE') {
        current.cieOffset = parseInt(entry[3], 16);
        current.pcBegin = parseInt(entry[4], 16);
        current.pcEnd = parseInt(entry[5], 16);
      }
      out.push(current);
      columns = [];
      rbpColumn = raColumn = -1;
    }
  }
  return out;
}

export function cfaText(cfa: CfaRule): string {
  if (cfa.type === 'expression') return 'exp';
  if (cfa.type === 'undefined') return 'undef';
  return `${registerName(cfa.register)}${cfa.offset >= 0 ? '+' : ''}${cfa.offset}`;
}

export function ruleText(rule: RegisterRule): string {
  const signed = (n: number) => (n >= 0 ? `+${n}` : `${n}`);
  switch (rule.type) {
    case 'unset':
    case 'undefined':
      return 'u';
    case 'same':
      return 's';
    case 'offset':
      return `c${signed(rule.offset)}`;
    case 'valOffset':
      return `v${signed(rule.offset)}`;
    case 'register':
      return registerName(rule.register);
    case 'expression':
      return 'exp';
    case 'valExpression':
      return 'vexp';
  }
}

export function rowsAsText(rows: readonly UnwindRow[]): TextRow[] {
  return rows.map((r) => ({ loc: r.start, cfa: cfaText(r.cfa), rbp: ruleText(r.rbp), ra: ruleText(r.ra) }));
}

/**
 * Puts a table in a canonical form both sides can be compared in: rows at or past `pcEnd`
 * dropped (they describe no code), of rows at one location only the last kept (a zero-length
 * advance), and a row equal to its predecessor merged into it (readelf prints a row at every
 * advance, even when nothing changed).
 */
export function normalizeRows(rows: readonly TextRow[], pcEnd: number): TextRow[] {
  const out: TextRow[] = [];
  for (const r of rows) {
    if (r.loc >= pcEnd) continue;
    const last = out[out.length - 1];
    if (last && last.loc === r.loc) out.pop();
    const prev = out[out.length - 1];
    if (prev && prev.cfa === r.cfa && prev.rbp === r.rbp && prev.ra === r.ra) continue;
    out.push(r);
  }
  return out;
}

export function formatRows(rows: readonly TextRow[]): string {
  return rows.map((r) => `${r.loc.toString(16)} ${r.cfa} rbp=${r.rbp} ra=${r.ra}`).join('\n');
}

export interface ReadelfComparison {
  /** FDEs compared, per section name. */
  fdes: Record<string, number>;
  /** Rows compared (after normalisation). */
  rows: number;
  /** FDEs whose rows readelf did not print and whose CIE row it did not print either (not comparable). */
  uncomparable: number;
  /** Human-readable differences; empty when everything agrees. */
  mismatches: string[];
}

/**
 * Parses `path` with our parser and with readelf and compares every CIE and FDE: the same
 * entries at the same offsets, the same pc ranges and CIE, and the same CFA, RBP and
 * return-address rules at every row. `sample` (0 < sample ≤ 1) compares only that fraction of
 * the FDEs (deterministically, by FDE index) for very large binaries. Differences are listed
 * (up to `maxMismatches`), not thrown, so a test can show several at once.
 */
export function compareWithReadelf(
  path: string,
  parse: (path: string) => Partial<Record<'ehFrame' | 'debugFrame', import('./eh-frame.ts').CfiSection>>,
  execute: (fde: import('./eh-frame.ts').Fde) => UnwindRow[],
  cieRow: (cie: import('./eh-frame.ts').Cie) => Omit<UnwindRow, 'start' | 'end'>,
  { sample = 1, maxMismatches = 20 } = {},
): ReadelfComparison {
  const reference = readelfFrames(path);
  const ours = parse(path);
  const result: ReadelfComparison = { fdes: {}, rows: 0, uncomparable: 0, mismatches: [] };
  const note = (m: string) => {
    if (result.mismatches.length < maxMismatches) result.mismatches.push(`${path}: ${m}`);
  };
  const bySection = new Map<string, import('./eh-frame.ts').CfiSection>();
  if (ours.ehFrame) bySection.set('.eh_frame', ours.ehFrame);
  if (ours.debugFrame) bySection.set('.debug_frame', ours.debugFrame);
  const readelfSections = new Set(reference.map((e) => e.section));
  for (const name of bySection.keys()) if (!readelfSections.has(name)) note(`we parsed ${name}, readelf printed nothing for it`);

  for (const [name, section] of bySection) {
    if (section.errors.length > 0) note(`${name}: ${section.errors.length} entries failed to parse, first: ${section.errors[0].message}`);
    const entries = reference.filter((e) => e.section === name);
    const refFdes = entries.filter((e) => e.kind === 'FDE');
    const refCies = new Map(entries.filter((e) => e.kind === 'CIE').map((e) => [e.offset, e]));
    const ourFdes = new Map(section.fdes.map((f) => [f.offset, f]));
    if (refFdes.length !== section.fdes.length) note(`${name}: readelf lists ${refFdes.length} FDEs, we parsed ${section.fdes.length}`);
    if (refCies.size !== section.cies.size) note(`${name}: readelf lists ${refCies.size} CIEs, we parsed ${section.cies.size}`);
    // Each CIE's own row (its initial instructions) as readelf interpreted it.
    for (const [offset, ref] of refCies) {
      const cie = section.cies.get(offset);
      if (!cie) {
        note(`${name}: CIE at 0x${offset.toString(16)} missing from ours`);
        continue;
      }
      if (ref.rows.length === 0) continue;
      const mine = rowsAsText([{ start: 0, end: 1, ...cieRow(cie) }])[0];
      const theirs = ref.rows[ref.rows.length - 1];
      if (mine.cfa !== theirs.cfa || mine.rbp !== theirs.rbp || mine.ra !== theirs.ra) {
        note(`${name}: CIE 0x${offset.toString(16)}: ours ${formatRows([mine])} readelf ${formatRows([theirs])}`);
      }
    }
    let compared = 0;
    refFdes.forEach((ref, index) => {
      if (sample < 1 && Math.floor((index + 1) * sample) === Math.floor(index * sample)) return;
      compared++;
      const fde = ourFdes.get(ref.offset);
      const where = `${name} FDE 0x${ref.offset.toString(16)} pc=${ref.pcBegin!.toString(16)}..${ref.pcEnd!.toString(16)}`;
      if (!fde) return note(`${where}: missing from ours`);
      if (fde.pcBegin !== ref.pcBegin || fde.pcEnd !== ref.pcEnd) return note(`${where}: our range ${fde.pcBegin.toString(16)}..${fde.pcEnd.toString(16)}`);
      if (fde.cie.offset !== ref.cieOffset) return note(`${where}: our CIE 0x${fde.cie.offset.toString(16)}, readelf's 0x${ref.cieOffset!.toString(16)}`);
      let rows: UnwindRow[];
      try {
        rows = execute(fde);
      } catch (e) {
        return note(`${where}: ${(e as Error).message}`);
      }
      let expected = ref.rows;
      if (expected.length === 0) {
        // readelf prints no table for an FDE of only DW_CFA_nop: the CIE's row covers it.
        const cieRef = refCies.get(ref.cieOffset!);
        if (!cieRef || cieRef.rows.length === 0) {
          result.uncomparable++;
          return;
        }
        expected = [{ ...cieRef.rows[cieRef.rows.length - 1], loc: ref.pcBegin! }];
      }
      const want = normalizeRows(expected, ref.pcEnd!);
      const got = normalizeRows(rowsAsText(rows), ref.pcEnd!);
      result.rows += want.length;
      const same = want.length === got.length && want.every((w, i) => w.loc === got[i].loc && w.cfa === got[i].cfa && w.rbp === got[i].rbp && w.ra === got[i].ra);
      if (!same) note(`${where}:\n  readelf:\n${formatRows(want).replace(/^/gm, '    ')}\n  ours:\n${formatRows(got).replace(/^/gm, '    ')}`);
    });
    result.fdes[name] = compared;
  }
  for (const name of readelfSections) if (!bySection.has(name)) note(`readelf printed ${name}, we did not parse it`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Assembling synthetic CFI by hand

/** Byte encoders for hand-assembled CFI. */
export const uleb = (v: number): number[] => {
  const out: number[] = [];
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return out;
};
export const sleb = (v: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
export const u16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
export const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
export const u64 = (v: number) => [...u32(v % 2 ** 32), ...u32(Math.floor(v / 2 ** 32))];

/** Assembles .eh_frame entries; each entry's body is given without its length; pads to 8. */
export class EhFrameBuilder {
  bytes: number[] = [];
  /** Appends a CIE, returns its offset. */
  cie(augmentation: string, augData: number[], initial: number[], { caf = 1, daf = -8, ra = 16, version = 1 } = {}): number {
    const at = this.bytes.length;
    const body = [...u32(0), version, ...Buffer.from(augmentation + '\0'), ...uleb(caf), ...sleb(daf), ...(version === 1 ? [ra] : uleb(ra))];
    if (augmentation.startsWith('z')) body.push(...uleb(augData.length), ...augData);
    this.entry([...body, ...initial]);
    return at;
  }
  /** Appends an FDE for `cieOffset` whose pointer fields are `pointers` (already encoded). */
  fde(cieOffset: number, pointers: number[], instructions: number[], augData: number[] | undefined = []): number {
    const at = this.bytes.length;
    const ciePointer = at + 4 - cieOffset;
    const body = [...u32(ciePointer), ...pointers];
    if (augData) body.push(...uleb(augData.length), ...augData);
    this.entry([...body, ...instructions]);
    return at;
  }
  private entry(body: number[]): void {
    while ((body.length + 4) % 8 !== 0) body.push(0); // DW_CFA_nop padding
    this.bytes.push(...u32(body.length), ...body);
  }
  buffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}

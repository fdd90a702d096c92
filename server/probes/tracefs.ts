/**
 * Kernel tracepoints from tracefs: the list (`events/CATEGORY/NAME`), their `format` files
 * parsed into fields (name, type, offset, size, signed, kind), and a decoder that turns a raw
 * tracepoint record (the bytes a BPF tracepoint program sees) into named values.
 *
 * The format parser is strict (a malformed file raises TracepointFormatError naming the line)
 * and bounded (no input can make it loop or allocate beyond its input's size). The decoder
 * never throws on a short or corrupt record: a field that does not fit becomes an error value.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileGlob } from '../../lib/probe-spec.ts';
import { ensureTracefs } from '../libbpf/features.ts';

/** Where tracefs is usually mounted, newest first. */
export const TRACEFS_CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

export class TracefsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TracefsError';
  }
}

export class TracepointFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TracepointFormatError';
  }
}

/** How a field's bytes are decoded. */
export type FieldKind =
  /** Integer of 1, 2, 4 or 8 bytes (signedness from `signed:`). */
  | 'int'
  /** Pointer: printed as hex. */
  | 'pointer'
  /** Fixed char array (`char comm[16]`): a NUL-terminated string. */
  | 'chars'
  /** `__data_loc char[]`: u32 holding (length << 16 | offset from record start) of a string. */
  | 'data_loc_string'
  /** `__rel_loc char[]`: like data_loc, offset relative to the end of the field. */
  | 'rel_loc_string'
  /** `__data_loc` of something else: the bytes as hex. */
  | 'data_loc_bytes'
  /** Fixed array of integers (`u64 args[6]`). */
  | 'int_array'
  /** Anything else: the bytes as hex. */
  | 'bytes';

export interface TracepointField {
  name: string;
  /** The C type as written, e.g. `unsigned short`, `char[16]`, `__data_loc char[]`, `const char *`. */
  type: string;
  /** Byte offset in the record. */
  offset: number;
  /** Bytes. */
  size: number;
  signed: boolean;
  /** Element count for arrays (`[16]` -> 16); undefined for scalars. */
  arrayLength?: number;
  kind: FieldKind;
  /** A common_* header field shared by every tracepoint. */
  common: boolean;
}

export interface TracepointFormat {
  /** `category:name`. */
  id: string;
  category: string;
  name: string;
  /** The tracepoint's numeric id (`ID:`), as the perf event config. */
  eventId: number;
  fields: TracepointField[];
  printFmt: string;
}

export interface TracepointInfo {
  category: string;
  name: string;
  /** `category:name`. */
  id: string;
}

let cachedRoot: string | undefined;

/**
 * The tracefs mount point. When none is found, mounts it at /sys/kernel/tracing through
 * features.ts' ensureTracefs (works as root). Throws TracefsError saying what to do otherwise.
 */
export function tracefsRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  const find = () => TRACEFS_CANDIDATES.find((dir) => existsSync(join(dir, 'events')));
  let root = find();
  if (root === undefined) {
    const state = ensureTracefs();
    if (!state.mounted) throw new TracefsError(`tracefs is not available: ${state.reason} (fix: ${state.command})`);
    root = find() ?? state.path;
  }
  cachedRoot = root;
  return root;
}

/** For tests: forget the cached mount point. */
export function resetTracefsRoot(): void {
  cachedRoot = undefined;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** Splits `category:name` (also accepts `category/name`). Throws TracefsError on a malformed id. */
export function splitTracepointId(id: string): { category: string; name: string } {
  const m = /^([^:/]+)[:/]([^:/]+)$/.exec(id);
  if (!m || !NAME.test(m[1]) || !NAME.test(m[2])) throw new TracefsError(`"${id}" is not a tracepoint name: expected CATEGORY:NAME, e.g. sched:sched_switch`);
  return { category: m[1], name: m[2] };
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Every tracepoint (`category:name`) whose id matches `glob` (shell glob on the whole
 * `category:name`; a glob without ':' also matches the name alone), sorted. Calls `onEach`
 * per match as it goes when given (streaming).
 */
export function listTracepointsSync(glob?: string, root = tracefsRoot(), onEach?: (t: TracepointInfo) => void): TracepointInfo[] {
  const re = glob ? compileGlob(glob) : undefined;
  const matchName = glob !== undefined && !glob.includes(':');
  const eventsDir = join(root, 'events');
  let categories: string[];
  try {
    categories = readdirSync(eventsDir).sort();
  } catch (error) {
    throw new TracefsError(`cannot read ${eventsDir}: ${(error as Error).message}`);
  }
  const out: TracepointInfo[] = [];
  for (const category of categories) {
    const dir = join(eventsDir, category);
    if (!isDir(dir)) continue;
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (!isDir(join(dir, name))) continue;
      const id = `${category}:${name}`;
      if (re && !re.test(id) && !(matchName && re.test(name))) continue;
      const t = { category, name, id };
      out.push(t);
      onEach?.(t);
    }
  }
  return out;
}

/** Async form for the dashboard: tracepoints matching `glob`. */
export async function listTracepoints(glob?: string): Promise<TracepointInfo[]> {
  return listTracepointsSync(glob);
}

/** Reads and parses `events/CATEGORY/NAME/format`. Throws TracefsError for an unknown tracepoint. */
export function readTracepointFormat(id: string, root = tracefsRoot()): TracepointFormat {
  const { category, name } = splitTracepointId(id);
  const path = join(root, 'events', category, name, 'format');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const sameCategory = isDir(join(root, 'events', category));
      throw new TracefsError(`unknown tracepoint ${category}:${name}${sameCategory ? '' : ` (no category "${category}")`} — probeboard list tracepoints '${sameCategory ? `${category}:*` : `*${name}*`}' shows what exists`);
    }
    throw new TracefsError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return parseTracepointFormat(text, `${category}:${name}`);
}

const FIELD_LINE = /^field:(.+);\s*offset:(\d+);\s*size:(\d+);\s*(?:signed:([01]);)?\s*$/;
const MAX_RECORD = 1 << 16;

/** Classifies a field declaration (`unsigned short common_type`, `char comm[16]`, `__data_loc char[] name`). */
export function parseFieldDeclaration(decl: string, size: number, signed: boolean, where: string): Omit<TracepointField, 'offset' | 'common'> {
  const d = decl.trim().replace(/\s+/g, ' ');
  // Name is the last identifier, possibly followed by [N] (or [] for data_loc).
  const m = /^(.*?)\s*\b([A-Za-z_][A-Za-z0-9_]*)\s*(\[\s*([A-Za-z0-9_]*)\s*\])?$/.exec(d);
  if (!m || m[1].trim() === '') throw new TracepointFormatError(`${where}: cannot read field declaration "${decl}"`);
  let base = m[1].trim();
  const name = m[2];
  const hasArray = m[3] !== undefined;
  // `__data_loc char[] name`: the [] belongs to the type.
  const dataLoc = /^__(data|rel)_loc\b/.exec(base);
  if (dataLoc) {
    const inner = base.replace(/^__(data|rel)_loc\s*/, '');
    const isString = /^(const )?(unsigned )?char\s*\[\s*\]$/.test(inner);
    if (size !== 4) throw new TracepointFormatError(`${where}: ${dataLoc[0]} field ${name} has size ${size} (expected 4)`);
    const kind: FieldKind = isString ? (dataLoc[1] === 'rel' ? 'rel_loc_string' : 'data_loc_string') : 'data_loc_bytes';
    return { name, type: base, size, signed, kind };
  }
  let arrayLength: number | undefined;
  if (hasArray) {
    const n = m[4];
    if (n !== '' && /^\d+$/.test(n)) arrayLength = Number(n);
    base = `${base}[${n}]`;
  }
  const elem = base.replace(/\[.*\]$/, '').trim();
  let kind: FieldKind;
  if (elem.includes('*')) kind = arrayLength === undefined && size === 8 ? 'pointer' : 'bytes';
  else if (arrayLength !== undefined && /^(const )?(unsigned |signed )?char$/.test(elem)) kind = 'chars';
  else if (arrayLength !== undefined && arrayLength > 0 && size % arrayLength === 0 && [1, 2, 4, 8].includes(size / arrayLength)) kind = 'int_array';
  else if (arrayLength === undefined && [1, 2, 4, 8].includes(size) && !/^(struct|union)\b/.test(elem)) kind = 'int';
  else kind = 'bytes';
  const field: Omit<TracepointField, 'offset' | 'common'> = { name, type: base, size, signed, kind };
  if (arrayLength !== undefined) field.arrayLength = arrayLength;
  return field;
}

/** Parses the text of a `format` file. Throws TracepointFormatError naming the bad line. */
export function parseTracepointFormat(text: string, id: string): TracepointFormat {
  if (text.length > 1 << 20) throw new TracepointFormatError(`${id}: format file too large (${text.length} bytes)`);
  const [category, name] = id.includes(':') ? id.split(':', 2) : ['', id];
  let declaredName: string | undefined;
  let eventId: number | undefined;
  let printFmt = '';
  let inFormat = false;
  let commonSection = true;
  const fields: TracepointField[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const line = raw.trim();
    const where = `${id}: format line ${i + 1}`;
    if (line === '') {
      if (inFormat && fields.length > 0) commonSection = false;
      continue;
    }
    if (line.startsWith('name:')) declaredName = line.slice(5).trim();
    else if (line.startsWith('ID:')) {
      const v = line.slice(3).trim();
      if (!/^\d+$/.test(v)) throw new TracepointFormatError(`${where}: ID "${v}" is not a number`);
      eventId = Number(v);
    } else if (line === 'format:') inFormat = true;
    else if (line.startsWith('print fmt:')) {
      printFmt = line.slice('print fmt:'.length).trim();
      inFormat = false;
    } else if (line.startsWith('field:')) {
      if (!inFormat) throw new TracepointFormatError(`${where}: field outside the format: section`);
      const m = FIELD_LINE.exec(line);
      if (!m) throw new TracepointFormatError(`${where}: malformed field line "${line.slice(0, 120)}"`);
      const offset = Number(m[2]);
      const size = Number(m[3]);
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset + size > MAX_RECORD) {
        throw new TracepointFormatError(`${where}: field offset ${m[2]} / size ${m[3]} out of range`);
      }
      const decl = parseFieldDeclaration(m[1], size, m[4] === '1', where);
      if (seen.has(decl.name)) throw new TracepointFormatError(`${where}: duplicate field ${decl.name}`);
      seen.add(decl.name);
      const common = decl.name.startsWith('common_') && commonSection;
      fields.push({ ...decl, offset, common });
    } else if (inFormat) {
      throw new TracepointFormatError(`${where}: unexpected line "${line.slice(0, 120)}"`);
    }
    // Other header lines (none today) are ignored.
  }
  if (eventId === undefined) throw new TracepointFormatError(`${id}: format has no ID line`);
  if (fields.length === 0) throw new TracepointFormatError(`${id}: format has no fields`);
  if (declaredName !== undefined && declaredName !== name) throw new TracepointFormatError(`${id}: format names a different tracepoint "${declaredName}"`);
  return { id: category ? `${category}:${name}` : name, category, name, eventId, fields, printFmt };
}

/** Size in bytes of the fixed part of a record (end of the last field). */
export function recordFixedSize(format: TracepointFormat): number {
  return format.fields.reduce((max, f) => Math.max(max, f.offset + f.size), 0);
}

/** A decoded field value: numbers (strings when beyond 2^53), strings, arrays, or an error. */
export type FieldValue = number | string | (number | string)[] | { error: string };

function intValue(buf: Buffer, off: number, size: number, signed: boolean): number | string {
  switch (size) {
    case 1:
      return signed ? buf.readInt8(off) : buf.readUInt8(off);
    case 2:
      return signed ? buf.readInt16LE(off) : buf.readUInt16LE(off);
    case 4:
      return signed ? buf.readInt32LE(off) : buf.readUInt32LE(off);
    default: {
      const v = signed ? buf.readBigInt64LE(off) : buf.readBigUInt64LE(off);
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    }
  }
}

function cString(buf: Buffer, start: number, end: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul >= 0 && nul < end ? nul : end);
}

/** Decodes one field of a record; never throws. */
export function decodeField(field: TracepointField, record: Buffer): FieldValue {
  const { offset, size } = field;
  if (offset + size > record.length) return { error: `record too short for ${field.name} (${record.length} bytes)` };
  switch (field.kind) {
    case 'int':
      return intValue(record, offset, size, field.signed);
    case 'pointer':
      return `0x${record.readBigUInt64LE(offset).toString(16)}`;
    case 'chars':
      return cString(record, offset, offset + size);
    case 'int_array': {
      const n = field.arrayLength ?? 0;
      const each = size / n;
      const out: (number | string)[] = [];
      for (let i = 0; i < n; i++) out.push(intValue(record, offset + i * each, each, field.signed));
      return out;
    }
    case 'data_loc_string':
    case 'rel_loc_string':
    case 'data_loc_bytes': {
      const loc = record.readUInt32LE(offset);
      const len = loc >>> 16;
      const start = (loc & 0xffff) + (field.kind === 'rel_loc_string' ? offset + size : 0);
      if (start + len > record.length) return { error: `${field.name}: data at ${start}+${len} lies outside the ${record.length}-byte record` };
      if (field.kind === 'data_loc_bytes') return record.toString('hex', start, start + len);
      return cString(record, start, start + len);
    }
    default:
      return record.toString('hex', offset, offset + size);
  }
}

/** Decodes the non-common fields of a record (or those named in `only`) into an object. */
export function decodeRecord(format: TracepointFormat, record: Buffer, only?: readonly string[]): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  const fields = only ? only.map((n) => fieldByName(format, n)) : format.fields.filter((f) => !f.common);
  for (const f of fields) out[f.name] = decodeField(f, record);
  return out;
}

/** A field by name, or a TracefsError listing the fields that exist. */
export function fieldByName(format: TracepointFormat, name: string): TracepointField {
  const f = format.fields.find((x) => x.name === name);
  if (!f) throw new TracefsError(`tracepoint ${format.id} has no field "${name}" (fields: ${format.fields.filter((x) => !x.common).map((x) => x.name).join(', ')})`);
  return f;
}

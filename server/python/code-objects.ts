/**
 * (pid, code object address, instruction offset) -> `qualname (file.py:line)`, read from outside
 * the process: the other half of a Python frame walker that records, per frame, the code object
 * (`_PyInterpreterFrame.f_code`) and how far into its bytecode the frame is (`prev_instr`).
 *
 * Everything read from the target is untrusted: every length is bounded before it is read,
 * object types are checked against the interpreter's `PyCode_Type`/`PyUnicode_Type`/
 * `PyBytes_Type` when the binary exports them, the line table decoder is linear and bounded,
 * and every failure becomes an unknown result with its reason. No public method throws.
 *
 * Caching: per process, its interpreter detection (version, offsets, symbol addresses); per
 * (pid, code address), the decoded names and line ranges, LRU-bounded by `maxCodeObjects`.
 * Failures are not cached (the address may hold a code object later). A cached code object is
 * dropped when `forgetExited()` (the owner runs it once per interval) sees its process gone,
 * its pid reused (another start time) or an exec (another executable), or `forgetProcess(pid)`
 * is called. A code object freed
 * while its process lives, its memory reused by another one (code created in a loop: CPython's
 * allocator hands the freed block to the next object of its size), is caught on the next hit:
 * each hit re-reads the object's fixed fields (one read of `IDENTITY_BYTES`) and compares its
 * type, size, first line and name/file/table pointers with what was cached (`verifyHits`).
 */
import { decodeLineTable311, lineAt, type LineRanges } from './line-table.ts';
import type { CPythonOffsets } from './offsets.ts';
import { processIdentity } from './proc.ts';
import { readRemote } from './remote-memory.ts';
import { detectPython, type CPythonSymbols, type PythonDetection } from './version.ts';

export type PythonFrameName =
  | {
      known: true;
      /** `co_name`: the bare function name (`<module>` for a module's code). */
      name: string;
      /** `co_qualname`: `Class.method`, `outer.<locals>.inner`. */
      qualname: string;
      /** `co_filename` as the interpreter has it (usually the path the module was loaded from). */
      filename: string;
      /** `co_firstlineno`: the line of the `def`. */
      firstLineNo: number;
      /** The line of the instruction at the offset; undefined when the table has none for it. */
      line: number | undefined;
    }
  | { known: false; reason: string };

/** Text of an unresolved Python frame. */
export const UNKNOWN_PYTHON_FRAME = '[unknown python frame]';

/** `qualname (file:line)`, `qualname (file)` without a line, or `[unknown python frame]`. */
export function formatPythonFrame(frame: PythonFrameName): string {
  if (!frame.known) return UNKNOWN_PYTHON_FRAME;
  return `${frame.qualname} (${frame.filename}${frame.line !== undefined ? `:${frame.line}` : ''})`;
}

/**
 * Byte offset of the current instruction from a frame's `prev_instr` (an address inside the
 * code object's inline bytecode): what `resolve` takes. Negative or absurd results are passed
 * on as they are and give `line: undefined`.
 */
export function instructionByteOffset(codeAddress: bigint, prevInstr: bigint, offsets: CPythonOffsets): number {
  const diff = prevInstr - codeAddress - BigInt(offsets.code.codeAdaptive);
  return diff < BigInt(Number.MIN_SAFE_INTEGER) || diff > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(diff);
}

/** Bounds on what is read from the target (a real name or path is far below these). */
/** Characters of a name or file name. */
const MAX_STRING_CHARS = 4096;
/** Bytes of a location table (1 MiB: a code object of ~500k instructions). */
const MAX_LINE_TABLE_BYTES = 1024 * 1024;
/** Code units of bytecode (CPython itself limits a code object to far less in practice). */
const MAX_CODE_UNITS = 1 << 24;

interface CodeObject {
  /** The header fields that identify this object (see `identityOf`), to detect a reused address. */
  identity: Buffer;
  name: string;
  qualname: string;
  filename: string;
  firstLineNo: number;
  lineRanges: LineRanges;
}

interface ProcessRecord {
  /** `processIdentity`: start time and executable, to notice a reused pid or an exec. */
  identity: string;
  detection: PythonDetection;
  /** Cache keys (see `codeKey`) of this process's code objects. */
  keys: Set<string>;
}

export interface CodeObjectReaderOptions {
  /** Code objects kept over all processes (LRU). Default 50000. */
  maxCodeObjects?: number;
  /** /proc mount (tests). */
  procRoot?: string;
  /** Re-read and compare the identifying fields on every cache hit (default true; see above). */
  verifyHits?: boolean;
}

export interface CodeObjectReaderStats {
  /** Answers from the cache. */
  hits: number;
  /** Code objects read from a process. */
  reads: number;
  /** Cache hits whose object no longer matched (address reused by another object, or the process gone), then read again. */
  reused: number;
  /** Unknown results, by reason class. */
  failures: Record<string, number>;
  /** Code objects cached now. */
  cached: number;
}

export class CodeObjectReader {
  private readonly maxCodeObjects: number;
  private readonly procRoot: string;
  private readonly verifyHits: boolean;
  private readonly processes = new Map<number, ProcessRecord>();
  /** `pid:address` -> code object, in least-recently-used-first order. */
  private readonly codes = new Map<string, CodeObject>();
  private readonly counters: CodeObjectReaderStats = { hits: 0, reads: 0, reused: 0, failures: {}, cached: 0 };

  constructor(options: CodeObjectReaderOptions = {}) {
    this.maxCodeObjects = Math.max(1, options.maxCodeObjects ?? 50000);
    this.procRoot = options.procRoot ?? '/proc';
    this.verifyHits = options.verifyHits ?? true;
  }

  /**
   * The frame running code object `codeAddress` of process `pid` at `byteOffset` bytes into its
   * bytecode (see `instructionByteOffset`). Never throws.
   */
  resolve(pid: number, codeAddress: bigint, byteOffset: number): PythonFrameName {
    try {
      const key = `${pid}:${codeAddress.toString(16)}`;
      let code = this.codes.get(key);
      if (code && this.verifyHits && !this.stillSame(pid, codeAddress, code)) {
        this.counters.reused++;
        this.codes.delete(key);
        code = undefined;
      }
      if (code) {
        this.counters.hits++;
        this.codes.delete(key); // re-insert: most recently used last
        this.codes.set(key, code);
      } else {
        const process = this.process(pid);
        if (process.detection.kind !== 'cpython') return this.fail('not-python', `pid ${pid}: ${process.detection.kind}: ${process.detection.reason}`);
        const { offsets, symbols, version } = process.detection;
        if (!offsets) return this.fail('unsupported-version', `pid ${pid}: CPython ${version.major}.${version.minor}.${version.micro} has no offsets table`);
        const read = readCodeObject(pid, codeAddress, offsets, symbols);
        if (typeof read === 'string') return this.fail('bad-code-object', `pid ${pid} code 0x${codeAddress.toString(16)}: ${read}`);
        code = read;
        this.counters.reads++;
        this.codes.set(key, code);
        process.keys.add(key);
        this.evictOverBudget();
      }
      return { known: true, name: code.name, qualname: code.qualname, filename: code.filename, firstLineNo: code.firstLineNo, line: lineAt(code.lineRanges, byteOffset) };
    } catch (e) {
      // Not expected (every read is checked); a bug here must not take the collector down.
      return this.fail('internal', `pid ${pid}: ${(e as Error).message}`);
    }
  }

  /**
   * Drops processes that exited, whose pid now names another process (other start time) or
   * that exec'd another program (other executable), with their code objects: they are detected
   * again when next seen. Returns the pids dropped. Never throws.
   */
  forgetExited(): number[] {
    const dropped: number[] = [];
    for (const [pid, record] of this.processes) {
      if (processIdentity(pid, this.procRoot) !== record.identity) {
        this.forgetProcess(pid);
        dropped.push(pid);
      }
    }
    return dropped;
  }

  /** Drops what is cached for `pid`. */
  forgetProcess(pid: number): void {
    const record = this.processes.get(pid);
    if (!record) return;
    for (const key of record.keys) this.codes.delete(key);
    this.processes.delete(pid);
  }

  stats(): CodeObjectReaderStats {
    return { ...this.counters, failures: { ...this.counters.failures }, cached: this.codes.size };
  }

  /** The process record, detecting the interpreter the first time (or after a pid reuse was noticed). */
  private process(pid: number): ProcessRecord {
    let record = this.processes.get(pid);
    if (!record) {
      const identity = processIdentity(pid, this.procRoot);
      const detection: PythonDetection =
        identity === undefined ? { kind: 'not-python', reason: `no process ${pid}` } : detectPython(pid, this.procRoot);
      record = { identity: identity ?? '', detection, keys: new Set() };
      // A pid that does not exist is not remembered: it may be the next one created.
      if (identity !== undefined) this.processes.set(pid, record);
    }
    return record;
  }

  /** Whether `address` still holds the object `code` was read from (same identifying fields). */
  private stillSame(pid: number, address: bigint, code: CodeObject): boolean {
    const detection = this.processes.get(pid)?.detection;
    if (detection?.kind !== 'cpython' || !detection.offsets) return false;
    const header = readRemote(pid, address, identityBytes(detection.offsets));
    return header.ok && identityOf(header.data, detection.offsets).equals(code.identity);
  }

  private evictOverBudget(): void {
    while (this.codes.size > this.maxCodeObjects) {
      const oldest = this.codes.keys().next().value as string;
      this.codes.delete(oldest);
      const pid = Number(oldest.slice(0, oldest.indexOf(':')));
      this.processes.get(pid)?.keys.delete(oldest);
    }
  }

  private fail(kind: string, reason: string): PythonFrameName {
    this.counters.failures[kind] = (this.counters.failures[kind] ?? 0) + 1;
    return { known: false, reason };
  }
}

/** Bytes of the code object header to read to get its identifying fields (all lie before co_linetable's end). */
function identityBytes(offsets: CPythonOffsets): number {
  const o = offsets.code;
  return Math.max(o.type, o.size, o.firstLineNo, o.filename, o.name, o.qualname, o.lineTable) + 8;
}

/**
 * The fields of a code object header that do not change while it lives (type, bytecode size,
 * first line, and the pointers to its names, file name and line table), concatenated. The
 * reference count, warm-up counter and lazily filled caches do change and are left out.
 */
function identityOf(header: Buffer, offsets: CPythonOffsets): Buffer {
  const o = offsets.code;
  return Buffer.concat([
    header.subarray(o.type, o.type + 8),
    header.subarray(o.size, o.size + 8),
    header.subarray(o.firstLineNo, o.firstLineNo + 4),
    header.subarray(o.filename, o.filename + 8),
    header.subarray(o.name, o.name + 8),
    header.subarray(o.qualname, o.qualname + 8),
    header.subarray(o.lineTable, o.lineTable + 8),
  ]);
}

/** Reads and decodes one code object; a string says why it could not. */
function readCodeObject(pid: number, address: bigint, offsets: CPythonOffsets, symbols: CPythonSymbols): CodeObject | string {
  const o = offsets.code;
  const header = readRemote(pid, address, o.codeAdaptive);
  if (!header.ok) return header.reason;
  const h = header.data;
  if (symbols.codeType !== undefined && h.readBigUInt64LE(o.type) !== symbols.codeType) return 'not a code object (type differs from PyCode_Type)';
  const codeUnits = h.readBigInt64LE(o.size);
  if (codeUnits <= 0n || codeUnits > BigInt(MAX_CODE_UNITS)) return `implausible bytecode size ${codeUnits} code units`;
  const firstLineNo = h.readInt32LE(o.firstLineNo);
  if (firstLineNo < 0) return `implausible co_firstlineno ${firstLineNo}`;
  const name = readUnicode(pid, h.readBigUInt64LE(o.name), offsets, symbols);
  if (!name.ok) return `co_name: ${name.reason}`;
  const qualname = readUnicode(pid, h.readBigUInt64LE(o.qualname), offsets, symbols);
  if (!qualname.ok) return `co_qualname: ${qualname.reason}`;
  const filename = readUnicode(pid, h.readBigUInt64LE(o.filename), offsets, symbols);
  if (!filename.ok) return `co_filename: ${filename.reason}`;
  const table = readBytes(pid, h.readBigUInt64LE(o.lineTable), offsets, symbols, MAX_LINE_TABLE_BYTES);
  if (!table.ok) return `co_linetable: ${table.reason}`;
  return { identity: identityOf(h, offsets), name: name.text, qualname: qualname.text, filename: filename.text, firstLineNo, lineRanges: decodeLineTable311(table.data, firstLineNo, Number(codeUnits)) };
}

type Read<T> = ({ ok: true } & T) | { ok: false; reason: string };

/**
 * A `str` object: compact (characters inline after the header, as every identifier and file
 * name is), ASCII or 1/2/4 bytes per code point. Legacy (non-compact) strings are refused.
 */
function readUnicode(pid: number, address: bigint, offsets: CPythonOffsets, symbols: CPythonSymbols): Read<{ text: string }> {
  const u = offsets.unicode;
  const header = readRemote(pid, address, u.asciiData);
  if (!header.ok) return header;
  const h = header.data;
  if (symbols.unicodeType !== undefined && h.readBigUInt64LE(offsets.code.type /* ob_type: same place in every object (PyObject_HEAD) */) !== symbols.unicodeType) return { ok: false, reason: 'not a str (type differs from PyUnicode_Type)' };
  const length = h.readBigInt64LE(u.length);
  if (length < 0n || length > BigInt(MAX_STRING_CHARS)) return { ok: false, reason: `implausible str length ${length}` };
  const state = h.readUInt32LE(u.state);
  if ((state & u.compactMask) === 0) return { ok: false, reason: 'not a compact str' };
  const chars = Number(length);
  if (state & u.asciiMask) {
    const data = readRemote(pid, address + BigInt(u.asciiData), chars);
    return data.ok ? { ok: true, text: data.data.toString('latin1') } : data;
  }
  const kind = (state & u.kindMask) >>> u.kindShift;
  if (kind !== 1 && kind !== 2 && kind !== 4) return { ok: false, reason: `bad str kind ${kind}` };
  const data = readRemote(pid, address + BigInt(u.compactData), chars * kind);
  if (!data.ok) return data;
  const b = data.data;
  if (kind === 1) return { ok: true, text: b.toString('latin1') };
  if (kind === 2) return { ok: true, text: b.toString('utf16le') };
  let text = '';
  for (let i = 0; i < chars; i++) {
    const cp = b.readUInt32LE(i * 4);
    text += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
  }
  return { ok: true, text };
}

/** A `bytes` object's contents, at most `maxBytes`. */
function readBytes(pid: number, address: bigint, offsets: CPythonOffsets, symbols: CPythonSymbols, maxBytes: number): Read<{ data: Buffer }> {
  const o = offsets.bytes;
  const header = readRemote(pid, address, o.data);
  if (!header.ok) return header;
  const h = header.data;
  if (symbols.bytesType !== undefined && h.readBigUInt64LE(offsets.code.type /* ob_type, PyObject_HEAD */) !== symbols.bytesType) return { ok: false, reason: 'not a bytes object (type differs from PyBytes_Type)' };
  const size = h.readBigInt64LE(o.size);
  if (size < 0n || size > BigInt(maxBytes)) return { ok: false, reason: `implausible bytes size ${size}` };
  const data = readRemote(pid, address + BigInt(o.data), Number(size));
  return data.ok ? { ok: true, data: data.data } : data;
}

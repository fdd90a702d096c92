/**
 * EventsCollector: one event stream (`exec`, `tracepoint:…`, `uprobe:…`, `usdt:…`, see
 * lib/event-spec.ts) from bpf/events.bpf.c to plain, serializable EventRecords.
 *
 *   const c = new EventsCollector('exec', { onEvent: (e) => ..., pid: 1234 });
 *   c.start();            // resolve + load + attach; throws EventsInputError for bad input
 *   ... c.stats() ...
 *   const final = c.stop();
 *
 * Transport: the BPF ring buffer, or a perf buffer when the kernel has no ring buffer
 * (features' `ringbuf` NotSupported, or `transport: 'perfbuf'`).
 *
 * Floods: the ring buffer is read on a timer, at most `batch` records per read (the rest waits
 * in the kernel's ring; when it is full the BPF program counts each record it could not send,
 * per probe: `lost`). Decoded records wait in a queue of at most `queueLimit` records for the
 * consumer (`canDeliver()` may hold them back, e.g. while stdout is congested); when that
 * queue is full new records are dropped and counted (`dropped`). Memory is bounded by
 * ringBytes + queueLimit records, whatever the event rate.
 */
import { fileURLToPath } from 'node:url';
import { formatEventSpec, parseEventSpec, type EventArg, type EventArgType, type EventSpec } from '../../lib/event-spec.ts';
import {
  decodeCallData,
  decodeEventHeader,
  decodeExecData,
  eventData,
  PB_ARG,
  PB_CALL_DATA,
  PB_EV_KIND,
  PB_EV_MAX_ARGS,
  PB_EV_STAT,
  PB_EV_STR_SIZE,
} from '../abi/events.ts';
import { BpfObject } from '../libbpf/object.ts';
import { probeFeature, requireFeature, NotSupported } from '../libbpf/features.ts';
import { attachUprobeAt, attachUsdt } from '../libbpf/attach-probes.ts';
import { attachTracepoint, BoundedRingReader, PerfBufferReader, useArrayInsteadOfRingbuf, type EventReader } from '../libbpf/event-reader.ts';
import { errnoName } from '../libbpf/errors.ts';
import { ElfError, ElfFile } from '../symbolizer/elf.ts';
import { uprobeFunctionsOfElf, type UprobeFunction } from '../probes/symbols.ts';
import { decodeRecord, fieldByName, readTracepointFormat, recordFixedSize, TracefsError, type FieldValue, type TracepointFormat } from '../probes/tracefs.ts';
import { usdtProbesOfElf, UsdtError, type UsdtProbe } from '../probes/usdt-notes.ts';
import { ProbeInputError, resolveBinary as resolveProbeBinary } from '../probes/binaries.ts';

/** Largest ring buffer an events probe may ask for (bytes); the default is 4 MiB. */
export const MAX_RING_BYTES = 1 << 26;

export const EVENTS_OBJECT_PATH = fileURLToPath(new URL('../../bpf/obj/events.bpf.o', import.meta.url));

/** Bad input the user must fix (unknown tracepoint, field, binary, symbol, USDT probe; malformed spec). */
export class EventsInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventsInputError';
  }
}

export type EventKind = 'exec' | 'tracepoint' | 'uprobe' | 'usdt';

/** One event, plain and serializable. */
export interface EventRecord {
  /** The canonical spec of the probe that fired. */
  probe: string;
  kind: EventKind;
  /** Wall-clock time of the event: ms since the epoch, µs resolution. */
  time: number;
  /** Process id (tgid). */
  pid: number;
  /** Thread id. */
  tid: number;
  /** Thread command name (at most 15 bytes). */
  comm: string;
  /**
   * The probe's data. exec: filename, argv, ppid, uid (argv_truncated when cut);
   * tracepoint: fields by name; uprobe/usdt: arg0…: numbers (decimal strings beyond 2^53,
   * `0x…` for x64), strings, or `{ error }` for a value that could not be read.
   */
  fields: Record<string, FieldValue>;
}

/** Counters since start. */
export interface EventStats {
  /** Events that passed the filter in the kernel. */
  seen: number;
  /** Events the kernel put into the ring/perf buffer. */
  sent: number;
  /** Events lost in the kernel because the buffer was full. */
  lost: number;
  /** `lost` per probe (spec -> count). */
  lostByProbe: Record<string, number>;
  /** Events dropped in user space because the consumer fell behind (queue full). */
  dropped: number;
  /** Events handed to onEvent. */
  delivered: number;
  /** Events waiting in the user-space queue now. */
  queued: number;
  /** Tracepoint records longer than the kernel-side limit (cut; their tail fields show an error). */
  truncated: number;
  transport: 'ringbuf' | 'perfbuf';
}

export interface EventsOptions {
  /** Receives each event, in order. */
  onEvent: (event: EventRecord) => void;
  /** Only this process (exec: the process or its children). */
  pid?: number;
  /** Consulted before each delivery: false holds records in the queue (e.g. stdout congested). */
  canDeliver?: () => boolean;
  /** Max records waiting for the consumer; beyond, new ones are dropped and counted (default 10000). */
  queueLimit?: number;
  /** Ring buffer bytes, a power of two multiple of the page size (default 4 MiB). */
  ringBytes?: number;
  /** Records read from the kernel per read (default 4096). */
  batch?: number;
  /** ms between reads when idle (default 20). */
  intervalMs?: number;
  /** 'auto' (ring buffer unless NotSupported), or force one. */
  transport?: 'auto' | 'ringbuf' | 'perfbuf';
  /** Compiled object (default bpf/obj/events.bpf.o). */
  objectPath?: string;
}

const PROGRAMS = ['pb_ev_exec', 'pb_ev_tracepoint', 'pb_ev_uprobe', 'pb_ev_usdt'] as const;
type Program = (typeof PROGRAMS)[number];

/** How to capture and decode one argument. */
interface ArgPlan {
  index: number;
  type: EventArgType;
  /** String slot in the record (type 'str'). */
  slot?: number;
}

/** Everything resolved from a spec before touching the kernel. */
export interface EventPlan {
  spec: EventSpec;
  probe: string;
  program: Program;
  rodata: Record<string, number | bigint | boolean | string | Uint8Array>;
  /** Attaches the loaded program. */
  attach(object: BpfObject, pid: number): void;
  decode(data: Buffer): Record<string, FieldValue>;
  /** Kernel features this needs. */
  needs: ('tracepoints' | 'uprobes')[];
}

function openElf(path: string): ElfFile {
  try {
    return ElfFile.open(path);
  } catch (error) {
    if (error instanceof ElfError) throw new EventsInputError(`${path} is not a usable ELF file: ${error.message.replace(`${path}: `, '')}`);
    throw new EventsInputError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** resolveBinary of server/probes, its refusal as this collector's input error. */
function resolveBinary(binary: string): string {
  try {
    return resolveProbeBinary(binary);
  } catch (error) {
    if (error instanceof ProbeInputError) throw new EventsInputError(error.message);
    throw error;
  }
}

function argKinds(args: ArgPlan[]): Uint8Array {
  const kinds = new Uint8Array(PB_EV_MAX_ARGS);
  for (const a of args) kinds[a.index] = a.type === 'str' ? PB_ARG.STR : PB_ARG.INT;
  return kinds;
}

/** Assigns string slots in argument-index order (the BPF program fills them that way). */
function planArgs(args: { index: number; type: EventArgType }[]): ArgPlan[] {
  const plans: ArgPlan[] = args.map((a) => ({ ...a }));
  let slot = 0;
  for (const p of [...plans].sort((a, b) => a.index - b.index)) if (p.type === 'str') p.slot = slot++;
  return plans;
}

const INT_BITS: Record<Exclude<EventArgType, 'str' | 'x64'>, [number, boolean]> = {
  u8: [8, false], u16: [16, false], u32: [32, false], u64: [64, false], s8: [8, true], s16: [16, true], s32: [32, true], s64: [64, true],
};

function intField(raw: bigint, type: EventArgType): FieldValue {
  if (type === 'x64' || type === 'str') return `0x${raw.toString(16)}`;
  const [bits, signed] = INT_BITS[type];
  const v = signed ? BigInt.asIntN(bits, raw) : BigInt.asUintN(bits, raw);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

const ARG_NAMES = Array.from({ length: PB_EV_MAX_ARGS }, (_, i) => `arg${i}`);

/** Decodes the planned arguments only (the hot path under a flood). */
function decodeCall(args: ArgPlan[], data: Buffer, hasStrings: boolean): Record<string, FieldValue> {
  const call = hasStrings ? decodeCallData(data) : null;
  if (data.length < PB_CALL_DATA.offsets.str) throw new RangeError(`call data of ${data.length} bytes is too short`);
  const out: Record<string, FieldValue> = {};
  for (const a of args) {
    const raw = data.readBigUInt64LE(PB_CALL_DATA.offsets.args + a.index * 8);
    const err = data.readInt32LE(PB_CALL_DATA.offsets.arg_err + a.index * 4);
    const name = ARG_NAMES[a.index];
    if (err < 0) {
      out[name] = { error: `cannot read arg${a.index}: ${errnoName(err)}` };
    } else if (a.type === 'str') {
      const s = call!.strings[a.slot ?? 0];
      out[name] = typeof s === 'number' ? { error: `${errnoName(s)}: cannot read a string at 0x${raw.toString(16)}` } : s;
    } else {
      out[name] = intField(raw, a.type);
    }
  }
  return out;
}

function usdtArgType(probe: UsdtProbe, index: number): EventArgType {
  const a = probe.args[index];
  return `${a.signed ? 's' : 'u'}${a.size * 8}` as EventArgType;
}

/** Resolves a spec (text or parsed) into what to load and attach. Throws EventsInputError for bad input. */
export function planEvents(specText: string | EventSpec): EventPlan {
  let spec: EventSpec;
  if (typeof specText === 'string') {
    const parsed = parseEventSpec(specText);
    if (!parsed.ok) throw new EventsInputError(`bad spec "${specText}" at character ${parsed.error.position + 1}: ${parsed.error.message}`);
    spec = parsed.spec;
  } else {
    spec = specText;
  }
  const probe = formatEventSpec(spec);
  switch (spec.kind) {
    case 'exec':
      return {
        spec, probe, program: 'pb_ev_exec', rodata: {}, needs: ['tracepoints'],
        attach: (object) => {
          object.program('pb_ev_exec').attach();
        },
        decode: (data) => {
          const e = decodeExecData(data);
          const fields: Record<string, FieldValue> = { filename: e.filename, argv: e.argv, ppid: e.ppid, uid: e.uid };
          if (e.argsTruncated) fields.argv_truncated = 1;
          return fields;
        },
      };
    case 'tracepoint': {
      let format: TracepointFormat;
      try {
        format = readTracepointFormat(`${spec.category}:${spec.name}`);
      } catch (error) {
        if (error instanceof TracefsError) throw new EventsInputError(error.message);
        throw new EventsInputError(`tracepoint ${spec.category}:${spec.name}: ${(error as Error).message}`);
      }
      const only = spec.fields;
      try {
        for (const f of only ?? []) fieldByName(format, f);
      } catch (error) {
        throw new EventsInputError((error as Error).message);
      }
      const locs = format.fields.filter((f) => f.kind === 'data_loc_string' || f.kind === 'rel_loc_string' || f.kind === 'data_loc_bytes').slice(0, 4);
      // 4 u32s each (the BPF arrays have a spare fifth: setRodata writes bytes NUL-terminated)
      const offsets = Buffer.alloc(16);
      const rel = Buffer.alloc(16);
      locs.forEach((f, i) => {
        offsets.writeUInt32LE(f.offset, i * 4);
        rel.writeUInt32LE(f.kind === 'rel_loc_string' ? 1 : 0, i * 4);
      });
      const { category, name } = spec;
      return {
        spec, probe, program: 'pb_ev_tracepoint', needs: ['tracepoints'],
        rodata: { tp_fixed_size: recordFixedSize(format), tp_loc_count: locs.length, tp_loc_offset: offsets, tp_loc_rel: rel },
        attach: (object) => {
          attachTracepoint(object, 'pb_ev_tracepoint', category, name, 0);
        },
        decode: (data) => decodeRecord(format, data, only),
      };
    }
    case 'uprobe': {
      const path = resolveBinary(spec.binary);
      const elf = openElf(path);
      let fn: UprobeFunction;
      try {
        if (elf.sections.length === 0) throw new EventsInputError(`${path} has no section headers, so no symbol tables`);
        // An event names one function: an exact name that several functions share is refused.
        [fn] = uprobeFunctionsOfElf(elf, path, spec.symbol, { glob: false, max: 1 });
      } catch (error) {
        if (error instanceof ElfError || error instanceof ProbeInputError) throw new EventsInputError(error.message);
        throw error;
      } finally {
        elf.close();
      }
      const args = planArgs((spec.args ?? [0, 1, 2, 3, 4, 5].map((index) => ({ index } as EventArg))).map((a) => ({ index: a.index, type: a.type ?? 'u64' })));
      const hasStrings = args.some((a) => a.type === 'str');
      const label = fn.symbol;
      const offset = fn.offset;
      return {
        spec, probe, program: 'pb_ev_uprobe', needs: ['uprobes'], rodata: { arg_kind: argKinds(args) },
        attach: (object, pid) => {
          attachUprobeAt(object, 'pb_ev_uprobe', { binaryPath: path, offset, pid, retprobe: false, cookie: 0, label });
        },
        decode: (data) => decodeCall(args, data, hasStrings),
      };
    }
    case 'usdt': {
      const path = resolveBinary(spec.binary);
      const elf = openElf(path);
      let probes: UsdtProbe[];
      try {
        probes = usdtProbesOfElf(elf);
      } catch (error) {
        if (error instanceof UsdtError || error instanceof ElfError) throw new EventsInputError(error.message);
        throw error;
      } finally {
        elf.close();
      }
      const { provider, name } = spec;
      const sites = probes.filter((p) => p.provider === provider && p.name === name);
      if (sites.length === 0) {
        const known = [...new Set(probes.map((p) => `${p.provider}:${p.name}`))].sort();
        throw new EventsInputError(`unknown USDT probe ${provider}:${name} in ${path}${known.length ? ` (it has ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', …' : ''})` : ' (it has no USDT probes)'}`);
      }
      const count = Math.min(...sites.map((s) => s.args.length));
      const wanted = spec.args ?? Array.from({ length: Math.min(count, PB_EV_MAX_ARGS) }, (_, index) => ({ index } as EventArg));
      for (const a of wanted) {
        if (a.index >= count) throw new EventsInputError(`USDT probe ${provider}:${name} has ${count} argument${count === 1 ? '' : 's'}: arg${a.index} does not exist`);
      }
      const args = planArgs(wanted.map((a) => ({ index: a.index, type: a.type ?? usdtArgType(sites[0], a.index) })));
      const hasStrings = args.some((a) => a.type === 'str');
      return {
        spec, probe, program: 'pb_ev_usdt', needs: ['uprobes'], rodata: { arg_kind: argKinds(args) },
        attach: (object, pid) => {
          attachUsdt(object, 'pb_ev_usdt', { binaryPath: path, provider, name, pid, cookie: 0 });
        },
        decode: (data) => decodeCall(args, data, hasStrings),
      };
    }
  }
}

/** A bounded FIFO: push fails (returns false) when full. */
class BoundedQueue<T> {
  #items: (T | undefined)[];
  #head = 0;
  #size = 0;
  constructor(readonly limit: number) {
    this.#items = new Array(limit);
  }
  get size(): number {
    return this.#size;
  }
  push(item: T): boolean {
    if (this.#size >= this.limit) return false;
    this.#items[(this.#head + this.#size) % this.limit] = item;
    this.#size++;
    return true;
  }
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.limit;
    this.#size--;
    return item;
  }
}

function sumPerCpu(value: Buffer | null): number {
  if (!value) return 0;
  let total = 0n;
  for (let off = 0; off + 8 <= value.length; off += 8) total += value.readBigUInt64LE(off);
  return Number(total);
}

export class EventsCollector {
  readonly plan: EventPlan;
  readonly #options: EventsOptions;
  #object: BpfObject | null = null;
  #reader: EventReader | null = null;
  #timer: NodeJS.Timeout | null = null;
  #queue: BoundedQueue<EventRecord>;
  #dropped = 0;
  #delivered = 0;
  #transport: 'ringbuf' | 'perfbuf' = 'ringbuf';
  #clockOffsetNs = 0n;
  #final: EventStats | null = null;
  #error: Error | null = null;

  /** Parses and resolves the spec now (throws EventsInputError); nothing touches the kernel until start(). */
  constructor(spec: string | EventSpec, options: EventsOptions) {
    this.plan = planEvents(spec);
    const ring = options.ringBytes;
    if (ring !== undefined && (!Number.isInteger(ring) || ring < 4096 || ring > MAX_RING_BYTES || (ring & (ring - 1)) !== 0)) {
      throw new EventsInputError(`ring buffer size ${ring}: must be a power of two from 4 KiB to ${MAX_RING_BYTES / (1 << 20)} MiB`);
    }
    this.#options = options;
    this.#queue = new BoundedQueue(Math.max(1, options.queueLimit ?? 10000));
  }

  /** The canonical spec. */
  get probe(): string {
    return this.plan.probe;
  }

  /** The first error met while reading (the collector stops itself), if any. */
  get error(): Error | null {
    return this.#error;
  }

  /** Loads and attaches; events flow to onEvent from now on. Throws NotSupported, BpfError or EventsInputError. */
  start(): void {
    if (this.#object) return;
    requireFeature('privileges');
    for (const need of this.plan.needs) requireFeature(need);
    const wanted = this.#options.transport ?? 'auto';
    this.#transport = wanted === 'perfbuf' || (wanted === 'auto' && !probeFeature('ringbuf').available) ? 'perfbuf' : 'ringbuf';
    if (wanted === 'ringbuf') requireFeature('ringbuf');
    const object = BpfObject.open(this.#options.objectPath ?? EVENTS_OBJECT_PATH);
    try {
      for (const name of object.programNames()) object.program(name).setAutoload(name === this.plan.program);
      object.setRodata({ ...this.plan.rodata, targ_tgid: this.#options.pid ?? 0, use_perfbuf: this.#transport === 'perfbuf' });
      // With the perf buffer the ring is unused: a one-entry array instead (loads where the kernel has no ring buffer, and saves its memory).
      if (this.#transport === 'perfbuf') useArrayInsteadOfRingbuf(object, 'pb_ev_ring');
      else object.setMaxEntries('pb_ev_ring', this.#options.ringBytes ?? 1 << 22);
      object.load();
      this.plan.attach(object, this.#options.pid ?? -1);
      const onRecord = (record: Buffer) => this.#onRecord(record);
      this.#reader = this.#transport === 'perfbuf'
        ? new PerfBufferReader(object.map('pb_ev_perf'), onRecord)
        : new BoundedRingReader(object.map('pb_ev_ring'), onRecord, this.#options.batch ?? 4096);
    } catch (error) {
      object.close();
      throw error;
    }
    this.#object = object;
    this.#clockOffsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
    this.#schedule(this.#options.intervalMs ?? 20);
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => this.#tick(), ms);
  }

  #tick(): void {
    this.#timer = null;
    if (!this.#reader) return;
    let n = 0;
    try {
      n = this.#consume();
    } catch (error) {
      this.#error = error instanceof Error ? error : new Error(String(error));
      this.stop();
      return;
    }
    this.#flush();
    const batch = this.#options.batch ?? 4096;
    // More waiting in the kernel: come back at once, but after I/O callbacks had their turn.
    this.#schedule(this.#transport === 'ringbuf' && n >= batch ? 0 : this.#options.intervalMs ?? 20);
  }

  /**
   * Perf buffer records of one consume, with their kernel times: a perf buffer is one ring per
   * CPU, read one CPU after another, so a task that migrated between two events would otherwise
   * be delivered out of order (seen under load). Sorted by time before they are queued, as perf
   * orders samples. (The ring buffer is one ring for all CPUs, in reservation order.)
   */
  #perCpuRecords: { tsNs: bigint; event: EventRecord }[] | null = null;

  /** One read of the kernel buffer; returns what the reader consumed. */
  #consume(): number {
    if (this.#transport !== 'perfbuf') return this.#reader!.consume();
    this.#perCpuRecords = [];
    try {
      return this.#reader!.consume();
    } finally {
      const records = this.#perCpuRecords;
      this.#perCpuRecords = null;
      records.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
      for (const { event } of records) if (!this.#queue.push(event)) this.#dropped++;
    }
  }

  #onRecord(record: Buffer): void {
    const header = decodeEventHeader(record);
    const data = eventData(record, header);
    const kind: EventKind = header.kind === PB_EV_KIND.EXEC ? 'exec' : header.kind === PB_EV_KIND.TRACEPOINT ? 'tracepoint' : header.kind === PB_EV_KIND.UPROBE ? 'uprobe' : 'usdt';
    const event: EventRecord = {
      probe: this.plan.probe,
      kind,
      time: Number((header.tsNs + this.#clockOffsetNs) / 1000n) / 1000,
      pid: header.pid,
      tid: header.tid,
      comm: header.comm,
      fields: this.plan.decode(data),
    };
    if (this.#perCpuRecords) this.#perCpuRecords.push({ tsNs: header.tsNs, event });
    else if (!this.#queue.push(event)) this.#dropped++;
  }

  #flush(): void {
    const can = this.#options.canDeliver;
    while (this.#queue.size > 0 && (!can || can())) {
      const event = this.#queue.shift()!;
      this.#delivered++;
      this.#options.onEvent(event);
    }
  }

  /** Delivers what is queued (when canDeliver allows); e.g. after the consumer drained. */
  flush(): void {
    this.#flush();
  }

  /** Counters since start (the kernel ones read now). */
  stats(): EventStats {
    if (this.#final) return this.#final;
    let seen = 0;
    let sent = 0;
    let lost = 0;
    let truncated = 0;
    if (this.#object) {
      const statsMap = this.#object.map('pb_ev_stats');
      const key = (i: number) => {
        const k = Buffer.alloc(4);
        k.writeUInt32LE(i);
        return k;
      };
      seen = sumPerCpu(statsMap.lookup(key(PB_EV_STAT.SEEN)));
      sent = sumPerCpu(statsMap.lookup(key(PB_EV_STAT.SENT)));
      truncated = sumPerCpu(statsMap.lookup(key(PB_EV_STAT.TRUNCATED)));
      const lostValue = this.#object.map('pb_ev_lost').lookup(key(0));
      lost = lostValue ? Number(lostValue.readBigUInt64LE(0)) : 0;
    }
    lost += this.#reader?.kernelLost ?? 0;
    return {
      seen, sent, lost, lostByProbe: { [this.plan.probe]: lost }, dropped: this.#dropped, delivered: this.#delivered,
      queued: this.#queue.size, truncated, transport: this.#transport,
    };
  }

  /** Reads what is left, delivers it (as canDeliver allows), detaches and frees everything. Returns the final counters. Idempotent. */
  stop(): EventStats {
    if (this.#final) return this.#final;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#reader && !this.#error) {
      // Read what is left in the kernel buffer (bounded: the ring holds at most ringBytes).
      const batch = this.#options.batch ?? 4096;
      try {
        for (let i = 0; i < 1000 && this.#consume() >= batch; i++);
      } catch {
        // closing anyway
      }
      this.#flush();
    }
    const final = this.#object ? this.stats() : this.stats();
    this.#reader?.close();
    this.#reader = null;
    this.#object?.close();
    this.#object = null;
    this.#final = final;
    return final;
  }
}

export { NotSupported, ProbeInputError, PB_EV_STR_SIZE };

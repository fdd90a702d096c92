/**
 * Interned profile intervals: the compact form of SymbolizedInterval that crosses the IPC
 * channel from the collector process to the web process, and that recordings store.
 *
 * Like pprof's string table and speedscope's shared frames, every distinct frame (name, kind)
 * (name, kind, binary), every distinct binary (file, build-id) and every distinct stack (pid, tid,
 * comm, user frames, kernel frames, lost halves) gets an id the
 * first time it is seen; an interval then carries only the table entries that are new since the
 * previous interval, plus one (stack id, count) pair per sample, in typed arrays (which the
 * 'advanced' IPC serialization and structuredClone copy as raw bytes). In steady state, where
 * the same stacks recur every second, an interval is a few kilobytes of numbers instead of one
 * object per frame per sample.
 *
 * Sender (collector side): IntervalInterner. Receiver (web side): IntervalMirror, which keeps
 * the same tables and rebuilds the SymbolizedInterval, sharing Frame objects and frame arrays
 * between intervals. Both tables are bounded: when the sender's table passes its limits it
 * starts over and says so (`reset`), and the receiver starts over with it.
 *
 * Pure: no I/O, no clock.
 */
import type { FlameModule, FrameKind } from '../../lib/protocol.ts';
import type { Frame, StackErrorKind, SymbolizedInterval, SymbolizedSample } from './types.ts';

/** A stack without its count: what a stack table entry stands for. */
export type SymbolizedStack = Omit<SymbolizedSample, 'count'>;

/**
 * One interval in interned form. Ids index the receiver's tables, which hold exactly the
 * entries the sender sent since its last `reset` (frames and stacks numbered from 0 in order).
 */
export interface InternedInterval {
  startMs: number;
  endMs: number;
  droppedSamples: number;
  unknownFrames: number;
  /** The receiver must empty its tables before adding this interval's entries. */
  reset: boolean;
  /** Table sizes before this interval's new entries (the receiver checks it holds exactly these). */
  frameBase: number;
  stackBase: number;
  moduleBase: number;
  /** New binaries, in id order. */
  newModules: FlameModule[];
  /** New frames, in id order: names, and one FrameKind letter each in `newFrameKinds`. */
  newFrameNames: string[];
  newFrameKinds: string;
  /** One per new frame: its binary's module id + 1, or 0 when it has none. */
  newFrameModules: Uint32Array;
  /**
   * New stacks, in id order, one record each: pid, tid (0: not known), comm frame id, user
   * error code, kernel error code (0 none, 1 collision, 2 fault, 3 other), user length U,
   * kernel length K, flags (bit 0: off-CPU time of a wall profile), waker tail length W, then U
   * user frame ids (root first), K kernel frame ids (root first), W waker tail frame ids.
   */
  newStacks: Uint32Array;
  /** One entry per sample, in the interval's sample order: its stack id and its count (samples, or µs: may pass 2^32). */
  stackIds: Uint32Array;
  counts: Float64Array;
  /** Off-CPU profiles: blocking events per sample, aligned with `counts`; absent when no sample has any. */
  events?: Float64Array;
}

/** The stack ids of an interval's samples (in sample order) and the table they index. */
export interface StackRefs {
  /** Identity of the table: a new object whenever the table starts over. */
  table: object;
  ids: Uint32Array;
}

/**
 * Default limits of a sender's tables; beyond them it starts over (`reset`), so that each side holds
 * a few MB at most (a stack record is ~6 + depth numbers plus its key) whatever runs on the machine.
 */
export const DEFAULT_MAX_FRAMES = 30_000;
export const DEFAULT_MAX_STACKS = 10_000;

const ERROR_KINDS: readonly (StackErrorKind | undefined)[] = [undefined, 'collision', 'fault', 'other'];
const FRAME_KINDS = new Set<string>(['u', 'k', 'j', 'x', 'p', 'o']);
/** Fixed fields of a stack record before its frame ids. */
const STACK_HEADER = 9;
/** Same in `interned/2` recordings: no flags, no waker tail. */
const STACK_HEADER_V2 = 7;
const FLAG_OFFCPU = 1;
/** Same in `interned/1` recordings, which had no tid (pid, comm, errors, lengths). */
const STACK_HEADER_V1 = 6;

function errorCode(kind: StackErrorKind | undefined): number {
  return kind === undefined ? 0 : ERROR_KINDS.indexOf(kind);
}

/** Collector side: turns SymbolizedIntervals into InternedIntervals, remembering what it sent. */
export class IntervalInterner {
  #frameIds = new Map<string, Map<string, number>>();
  #stackIds = new Map<string, number>();
  /** Module ids by object (the symbolizer shares one object per binary) and by content. */
  #moduleByObject = new Map<FlameModule, number>();
  #moduleByKey = new Map<string, number>();
  #frames = 0;
  #stacks = 0;
  #modules = 0;
  #reset = true;
  readonly #maxFrames: number;
  readonly #maxStacks: number;

  constructor(limits: { maxFrames?: number; maxStacks?: number } = {}) {
    this.#maxFrames = limits.maxFrames ?? DEFAULT_MAX_FRAMES;
    this.#maxStacks = limits.maxStacks ?? DEFAULT_MAX_STACKS;
  }

  /** Entries in the tables (what the receiver holds once it has taken every interval sent). */
  get frameCount(): number {
    return this.#frames;
  }
  get stackCount(): number {
    return this.#stacks;
  }

  intern(interval: SymbolizedInterval): InternedInterval {
    if (this.#frames > this.#maxFrames || this.#stacks > this.#maxStacks) this.#startOver();
    const reset = this.#reset;
    this.#reset = false;
    const frameBase = this.#frames;
    const stackBase = this.#stacks;
    const moduleBase = this.#modules;
    const newFrameNames: string[] = [];
    let newFrameKinds = '';
    const newFrameModules: number[] = [];
    const newModules: FlameModule[] = [];
    const newStacks: number[] = [];
    const moduleId = (module: FlameModule): number => {
      let id = this.#moduleByObject.get(module);
      if (id !== undefined) return id;
      const key = `${module.file}\u0000${module.buildId ?? ''}`;
      id = this.#moduleByKey.get(key);
      if (id === undefined) {
        id = this.#modules++;
        this.#moduleByKey.set(key, id);
        newModules.push(module.buildId === undefined ? { file: module.file } : { file: module.file, buildId: module.buildId });
      }
      this.#moduleByObject.set(module, id);
      return id;
    };
    // Frames are keyed by kind, then name plus module id: `main` of two binaries is two frames.
    const frameId = (name: string, kind: FrameKind, module?: FlameModule): number => {
      const moduleCode = module === undefined ? 0 : moduleId(module) + 1;
      let byName = this.#frameIds.get(kind);
      if (byName === undefined) this.#frameIds.set(kind, (byName = new Map()));
      const key = moduleCode === 0 ? name : `${name}\u0000${moduleCode}`;
      let id = byName.get(key);
      if (id === undefined) {
        id = this.#frames++;
        byName.set(key, id);
        newFrameNames.push(name);
        newFrameKinds += kind;
        newFrameModules.push(moduleCode);
      }
      return id;
    };
    const samples = interval.samples;
    const stackIds = new Uint32Array(samples.length);
    const counts = new Float64Array(samples.length);
    let events: Float64Array | undefined;
    const record: number[] = [];
    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i];
      record.length = 0;
      record.push(
        sample.pid,
        sample.tid ?? 0,
        frameId(sample.comm, 'p'),
        errorCode(sample.userStackError),
        errorCode(sample.kernelStackError),
        sample.user.length,
        sample.kernel.length,
        sample.offCpu ? FLAG_OFFCPU : 0,
        sample.waker?.length ?? 0,
      );
      for (const frame of sample.user) record.push(frameId(frame.name, frame.kind, frame.module));
      for (const frame of sample.kernel) record.push(frameId(frame.name, frame.kind, frame.module));
      for (const frame of sample.waker ?? []) record.push(frameId(frame.name, frame.kind, frame.module));
      const key = record.join(',');
      let id = this.#stackIds.get(key);
      if (id === undefined) {
        id = this.#stacks++;
        this.#stackIds.set(key, id);
        for (const value of record) newStacks.push(value);
      }
      stackIds[i] = id;
      counts[i] = sample.count;
      if (sample.events !== undefined) (events ??= new Float64Array(samples.length))[i] = sample.events;
    }
    return {
      startMs: interval.startMs,
      endMs: interval.endMs,
      droppedSamples: interval.droppedSamples,
      unknownFrames: interval.unknownFrames,
      reset,
      frameBase,
      stackBase,
      moduleBase,
      newModules,
      newFrameNames,
      newFrameKinds,
      newFrameModules: Uint32Array.from(newFrameModules),
      newStacks: Uint32Array.from(newStacks),
      stackIds,
      counts,
      ...(events && { events }),
    };
  }

  #startOver(): void {
    this.#frameIds = new Map();
    this.#stackIds = new Map();
    this.#moduleByObject = new Map();
    this.#moduleByKey = new Map();
    this.#frames = 0;
    this.#stacks = 0;
    this.#modules = 0;
    this.#reset = true;
  }
}

/**
 * Web side: the mirror of an IntervalInterner's tables. decode() adds an interval's new entries
 * and rebuilds its SymbolizedInterval; samples of the same stack share their Frame arrays.
 * Throws (naming what is wrong) on an interval that does not continue the tables it holds.
 */
export class IntervalMirror {
  #frames: Frame[] = [];
  #stacks: SymbolizedStack[] = [];
  #modules: FlameModule[] = [];
  #table: object = {};

  /** Entries held. */
  get frameCount(): number {
    return this.#frames.length;
  }
  get stackCount(): number {
    return this.#stacks.length;
  }

  decode(interned: InternedInterval): { interval: SymbolizedInterval; refs: StackRefs } {
    if (interned.reset) {
      this.#frames = [];
      this.#stacks = [];
      this.#modules = [];
      this.#table = {};
    }
    const frames = this.#frames;
    const stacks = this.#stacks;
    const modules = this.#modules;
    if (interned.frameBase !== frames.length || interned.stackBase !== stacks.length || interned.moduleBase !== modules.length) {
      throw new Error(
        `interned profile interval does not continue the frame table: it extends ${interned.frameBase} frames, ${interned.stackBase} stacks and ${interned.moduleBase} binaries, this side holds ${frames.length}, ${stacks.length} and ${modules.length}`,
      );
    }
    for (const module of interned.newModules) {
      if (typeof module?.file !== 'string' || (module.buildId !== undefined && typeof module.buildId !== 'string')) {
        throw new Error(`interned profile interval: a binary must be {file, buildId?}, got ${JSON.stringify(module)}`);
      }
      modules.push(module.buildId === undefined ? { file: module.file } : { file: module.file, buildId: module.buildId });
    }
    const { newFrameNames, newFrameKinds, newFrameModules } = interned;
    if (newFrameNames.length !== newFrameKinds.length || newFrameNames.length !== newFrameModules.length) {
      throw new Error(`interned profile interval: ${newFrameNames.length} new frame names but ${newFrameKinds.length} kinds and ${newFrameModules.length} binary ids`);
    }
    for (let i = 0; i < newFrameNames.length; i++) {
      const kind = newFrameKinds[i];
      if (!FRAME_KINDS.has(kind)) throw new Error(`interned profile interval: unknown frame kind ${JSON.stringify(kind)}`);
      const frame: Frame = { name: newFrameNames[i], kind: kind as FrameKind };
      const code = newFrameModules[i];
      if (code > 0) {
        const module = modules[code - 1];
        if (module === undefined) throw new Error(`interned profile interval: binary id ${code - 1} is not in the table (${modules.length} binaries)`);
        frame.module = module;
      }
      frames.push(frame);
    }
    const record = interned.newStacks;
    const frameAt = (id: number): Frame => {
      const frame = frames[id];
      if (frame === undefined) throw new Error(`interned profile interval: frame id ${id} is not in the table (${frames.length} frames)`);
      return frame;
    };
    for (let at = 0; at < record.length; ) {
      if (at + STACK_HEADER > record.length) throw new Error('interned profile interval: a stack record is cut short');
      const userLength = record[at + 5];
      const kernelLength = record[at + 6];
      const flags = record[at + 7];
      const wakerLength = record[at + 8];
      const end = at + STACK_HEADER + userLength + kernelLength + wakerLength;
      if (end > record.length) throw new Error('interned profile interval: a stack record is cut short');
      const userError = ERROR_KINDS[record[at + 3]];
      const kernelError = ERROR_KINDS[record[at + 4]];
      if (record[at + 3] >= ERROR_KINDS.length || record[at + 4] >= ERROR_KINDS.length) throw new Error('interned profile interval: unknown lost-stack code');
      const user: Frame[] = new Array(userLength);
      for (let i = 0; i < userLength; i++) user[i] = frameAt(record[at + STACK_HEADER + i]);
      const kernel: Frame[] = new Array(kernelLength);
      for (let i = 0; i < kernelLength; i++) kernel[i] = frameAt(record[at + STACK_HEADER + userLength + i]);
      const stack: SymbolizedStack = { pid: record[at], comm: frameAt(record[at + 2]).name, user, kernel };
      if (record[at + 1] !== 0) stack.tid = record[at + 1];
      if (flags & FLAG_OFFCPU) stack.offCpu = true;
      if (wakerLength > 0) {
        const waker: Frame[] = new Array(wakerLength);
        for (let i = 0; i < wakerLength; i++) waker[i] = frameAt(record[at + STACK_HEADER + userLength + kernelLength + i]);
        stack.waker = waker;
      }
      if (userError) stack.userStackError = userError;
      if (kernelError) stack.kernelStackError = kernelError;
      stacks.push(stack);
      at = end;
    }
    const { stackIds, counts, events } = interned;
    if (stackIds.length !== counts.length) throw new Error(`interned profile interval: ${stackIds.length} stack ids but ${counts.length} counts`);
    if (events && events.length !== counts.length) throw new Error(`interned profile interval: ${events.length} event counts for ${counts.length} samples`);
    const samples: SymbolizedSample[] = new Array(stackIds.length);
    for (let i = 0; i < stackIds.length; i++) {
      const stack = stacks[stackIds[i]];
      if (stack === undefined) throw new Error(`interned profile interval: stack id ${stackIds[i]} is not in the table (${stacks.length} stacks)`);
      const sample: SymbolizedSample = { pid: stack.pid, comm: stack.comm, user: stack.user, kernel: stack.kernel, count: counts[i] };
      if (stack.tid !== undefined) sample.tid = stack.tid;
      if (stack.userStackError) sample.userStackError = stack.userStackError;
      if (stack.kernelStackError) sample.kernelStackError = stack.kernelStackError;
      if (stack.offCpu) sample.offCpu = true;
      if (stack.waker) sample.waker = stack.waker;
      if (events && events[i] > 0) sample.events = events[i];
      samples[i] = sample;
    }
    return {
      interval: {
        startMs: interned.startMs,
        endMs: interned.endMs,
        samples,
        droppedSamples: interned.droppedSamples,
        unknownFrames: interned.unknownFrames,
      },
      refs: { table: this.#table, ids: stackIds },
    };
  }
}

// ---------------------------------------------------------------------------------------
// Recordings

/**
 * How a recording stores one interval (`profile.interval` updates): self-contained interned
 * form — each frame and stack of the interval once, samples as ids — in plain JSON arrays, so
 * that any range of a recording can be read without the intervals before it.
 */
export interface RecordedInterval {
  /**
   * `interned/3`: stack records with a tid, flags and a waker tail, frames with binaries
   * (`modules`, `frameModules`). Older recordings are still read: `interned/2` (no flags, no
   * waker tail) and `interned/1` (no tid, no binaries either).
   */
  format: 'interned/3';
  startMs: number;
  endMs: number;
  droppedSamples: number;
  unknownFrames: number;
  frameNames: string[];
  frameKinds: string;
  /** Binaries, and one module id + 1 (0: none) per frame, as in InternedInterval. */
  modules: FlameModule[];
  frameModules: number[];
  /** Stack records as in InternedInterval.newStacks. */
  stacks: number[];
  stackIds: number[];
  counts: number[];
  /** As InternedInterval.events. */
  events?: number[];
}

/** The stored form of an interval. */
export function recordedInterval(interval: SymbolizedInterval): RecordedInterval {
  const interned = new IntervalInterner().intern(interval);
  return {
    format: 'interned/3',
    startMs: interned.startMs,
    endMs: interned.endMs,
    droppedSamples: interned.droppedSamples,
    unknownFrames: interned.unknownFrames,
    frameNames: interned.newFrameNames,
    frameKinds: interned.newFrameKinds,
    modules: interned.newModules,
    frameModules: Array.from(interned.newFrameModules),
    stacks: Array.from(interned.newStacks),
    stackIds: Array.from(interned.stackIds),
    counts: Array.from(interned.counts),
    ...(interned.events && { events: Array.from(interned.events) }),
  };
}

/**
 * The interval a `profile.interval` update holds: the interned form (RecordedInterval), or a
 * plain SymbolizedInterval as recordings made before interning stored it. Throws on anything else.
 */
export function intervalOfRecord(payload: unknown): SymbolizedInterval {
  if (typeof payload !== 'object' || payload === null) throw new Error('a recorded profile interval must be an object');
  const record = payload as Partial<Omit<RecordedInterval, 'format'>> & Partial<SymbolizedInterval> & { format?: unknown };
  if (record.format === undefined && Array.isArray(record.samples)) return payload as SymbolizedInterval;
  if (record.format !== 'interned/1' && record.format !== 'interned/2' && record.format !== 'interned/3') {
    throw new Error(`unknown recorded profile interval format ${JSON.stringify(record.format)} (this probeboard reads interned/1, interned/2 and interned/3; a newer probeboard wrote it?)`);
  }
  const numbers = (values: unknown, what: string): Uint32Array => {
    if (!Array.isArray(values)) throw new Error(`recorded profile interval: ${what} must be an array`);
    return Uint32Array.from(values as number[]);
  };
  const v1 = record.format === 'interned/1';
  const frameNames = Array.isArray(record.frameNames) ? record.frameNames : [];
  let stacks = numbers(record.stacks, 'stacks');
  if (v1) stacks = stacksWithTid(stacks);
  if (record.format !== 'interned/3') stacks = stacksWithFlags(stacks);
  return new IntervalMirror().decode({
    startMs: Number(record.startMs),
    endMs: Number(record.endMs),
    droppedSamples: Number(record.droppedSamples ?? 0),
    unknownFrames: Number(record.unknownFrames ?? 0),
    reset: true,
    frameBase: 0,
    stackBase: 0,
    moduleBase: 0,
    newModules: v1 ? [] : (Array.isArray(record.modules) ? record.modules : []),
    newFrameNames: frameNames,
    newFrameKinds: typeof record.frameKinds === 'string' ? record.frameKinds : '',
    newFrameModules: v1 ? new Uint32Array(frameNames.length) : numbers(record.frameModules, 'frameModules'),
    newStacks: stacks,
    stackIds: numbers(record.stackIds, 'stackIds'),
    counts: Float64Array.from(Array.isArray(record.counts) ? (record.counts as number[]) : []),
    ...(Array.isArray(record.events) && { events: Float64Array.from(record.events as number[]) }),
  }).interval;
}

/** `interned/1` stack records (no tid) in today's layout: a tid of 0 (not known) after each pid. */
function stacksWithTid(v1: Uint32Array): Uint32Array {
  const out: number[] = [];
  for (let at = 0; at < v1.length; ) {
    if (at + STACK_HEADER_V1 > v1.length) throw new Error('recorded profile interval (interned/1): a stack record is cut short');
    const end = at + STACK_HEADER_V1 + v1[at + 4] + v1[at + 5];
    if (end > v1.length) throw new Error('recorded profile interval (interned/1): a stack record is cut short');
    out.push(v1[at], 0);
    for (let i = at + 1; i < end; i++) out.push(v1[i]);
    at = end;
  }
  return Uint32Array.from(out);
}

/** `interned/2` stack records in today's layout: flags 0 and an empty waker tail after the lengths. */
function stacksWithFlags(v2: Uint32Array): Uint32Array {
  const out: number[] = [];
  for (let at = 0; at < v2.length; ) {
    if (at + STACK_HEADER_V2 > v2.length) throw new Error('recorded profile interval (interned/2): a stack record is cut short');
    const end = at + STACK_HEADER_V2 + v2[at + 5] + v2[at + 6];
    if (end > v2.length) throw new Error('recorded profile interval (interned/2): a stack record is cut short');
    for (let i = at; i < at + STACK_HEADER_V2; i++) out.push(v2[i]);
    out.push(0, 0);
    for (let i = at + STACK_HEADER_V2; i < end; i++) out.push(v2[i]);
    at = end;
  }
  return Uint32Array.from(out);
}

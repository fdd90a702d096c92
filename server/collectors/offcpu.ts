/**
 * OffCpuCollector: where threads wait. Loads bpf/obj/offcpu.bpf.o on the scheduler switch
 * (tp_btf/sched_switch, or raw_tp/sched_switch where the kernel has no BTF-typed tracepoints;
 * `attachedVia` says which) and, with wakers, on sched_waking. The kernel adds each blocked
 * interval (switch-out to switch-in) to cumulative per-stack counters; read() returns what was
 * added since the previous read as RawStackSamples weighed in µs, with the number of blocking
 * events and the waker's stacks. A blocked interval counts when it ends (at switch-in), as in
 * bcc's offcputime: a thread asleep for a minute shows up, a minute long, when it wakes.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BpfObject, type BpfMap } from '../libbpf/object.ts';
import type { BpfLink } from '../libbpf/link.ts';
import { ensureTracefs, probeFeature } from '../libbpf/features.ts';
import { BpfError, errnoName } from '../libbpf/errors.ts';
import { decodeStack, resolveStack, sumPerCpuU64 } from '../abi/profile.ts';
import {
  OC_STACK_NONE, OC_STAT, OC_STAT_MAX, OFFCPU_PROGRAMS, decodeOffCpuKey, decodeOffCpuValue, type OffCpuRodata,
} from '../abi/offcpu.ts';
import { MAX_BLOCK_US, MAX_COMM_LEN, BLOCK_STATES, type OffCpuSettings, type ProfileTarget } from '../../lib/protocol.ts';
import type { RawStackSample, RawWaker } from './types.ts';
import { resolveKernelAddresses } from '../symbolizer/kallsyms.ts';

export const OFFCPU_OBJECT_PATH = fileURLToPath(new URL('../../bpf/obj/offcpu.bpf.o', import.meta.url));

/** Cumulative counters since the collector started (see enum oc_stat in bpf/offcpu.h). */
export interface OffCpuStats {
  /** sched_switch events seen (the idle task excluded). */
  switches: number;
  /** Switch-outs of threads outside the target or state filter. */
  filtered: number;
  /** Switch-outs lost because the start map was full. */
  startFull: number;
  /** Blocked intervals added to the counts. */
  recorded: number;
  /** Blocked intervals outside [minBlockUs, maxBlockUs]. */
  blockFiltered: number;
  /** Blocked intervals lost because the counts map was full. */
  countsFull: number;
  /** Stacks the kernel could not record (they show as `[lost stack: …]`). */
  userStacksLost: number;
  kernelStacksLost: number;
  wakeups: number;
  /** Last switch-outs of exiting threads (not counted as blocked). */
  exited: number;
  /** Starts replaced before their switch-in was seen (their blocked time is lost; none expected). */
  overwritten: number;
  /** Threads switched out and not back yet (in the start map now). */
  inFlight: number;
}

export interface OffCpuRead {
  startMs: number;
  endMs: number;
  /** One per (thread, blocked stack, waker) with time added since the previous read; count = µs. */
  samples: RawStackSample[];
  /** Blocked intervals lost since the previous read (maps full). */
  dropped: number;
  stats: OffCpuStats;
}

export interface OffCpuOpenOptions {
  /** Key stacks by thread id (default true), so a per-thread view can be drawn. */
  keyByTid?: boolean;
  /** Compiled object (default OFFCPU_OBJECT_PATH). */
  objectPath?: string;
  /** Use raw_tp even where tp_btf works (tests of the fallback). */
  forceRawTracepoint?: boolean;
}

/** Problems with off-CPU settings, for the CLI (exit 2) and the hub: null when they are fine. */
export function offCpuSettingsError(settings: OffCpuSettings): string | null {
  const whole = (name: string, value: number) => (Number.isInteger(value) && value >= 0 && value <= MAX_BLOCK_US ? null : `${name} must be a whole number of µs from 0 to ${MAX_BLOCK_US}, got ${value}`);
  const min = whole('min-block-us', settings.minBlockUs);
  if (min) return min;
  if (settings.maxBlockUs !== null) {
    const max = whole('max-block-us', settings.maxBlockUs);
    if (max) return max;
    if (settings.maxBlockUs < settings.minBlockUs) return `min-block-us (${settings.minBlockUs}) is larger than max-block-us (${settings.maxBlockUs})`;
  }
  if (!BLOCK_STATES.includes(settings.state)) return `state must be one of ${BLOCK_STATES.join(', ')}, got ${JSON.stringify(settings.state)}`;
  return null;
}

const STATE_CODE = { all: 0, interruptible: 1, uninterruptible: 2 } as const;

/** A process running BTF-typed tracepoint programs needs kernel BTF; raw tracepoints do not. */
function loadWith(objectPath: string, rodata: OffCpuRodata, flavour: 'btf' | 'raw', wakers: boolean): { object: BpfObject; links: BpfLink[] } {
  const object = BpfObject.open(objectPath);
  try {
    object.setRodata(rodata as unknown as Record<string, number | bigint | boolean | string>);
    for (const group of Object.values(OFFCPU_PROGRAMS)) {
      for (const [kind, name] of Object.entries(group)) {
        const wanted = kind === flavour && (group === OFFCPU_PROGRAMS.switch || wakers);
        object.program(name).setAutoload(wanted);
      }
    }
    object.load();
    const links = [object.program(OFFCPU_PROGRAMS.switch[flavour]).attach()];
    if (wakers) links.push(object.program(OFFCPU_PROGRAMS.waking[flavour]).attach());
    return { object, links };
  } catch (error) {
    object.close();
    throw error;
  }
}

export class OffCpuCollector {
  /** How the scheduler switch is traced: `tp_btf/sched_switch` or `raw_tp/sched_switch`. */
  readonly attachedVia: string;
  readonly settings: OffCpuSettings;
  #object: BpfObject | null;
  #links: BpfLink[];
  readonly #counts: BpfMap;
  readonly #stacks: BpfMap;
  readonly #starts: BpfMap;
  readonly #statsMap: BpfMap;
  /** Cumulative ns and events per key (hex), as of the previous read. */
  #previous = new Map<string, { ns: bigint; count: number }>();
  #lastDropped = 0;
  #lastReadMs: number;
  /** Kernel addresses near a stack's leaf, by whether they are BPF glue (see #trimGlue). */
  #glue = new Map<bigint, boolean>();

  private constructor(object: BpfObject, links: BpfLink[], via: string, settings: OffCpuSettings) {
    this.#object = object;
    this.#links = links;
    this.attachedVia = via;
    this.settings = settings;
    this.#counts = object.map('oc_counts');
    this.#stacks = object.map('oc_stacks');
    this.#starts = object.map('oc_starts');
    this.#statsMap = object.map('oc_stats');
    this.#lastReadMs = Date.now();
  }

  /**
   * Checks the settings and the target, loads and attaches. Throws an Error meant for the user
   * (bad settings, no such process, a kernel without the tracepoint); nothing stays attached.
   */
  static open(target: ProfileTarget, settings: OffCpuSettings, options: OffCpuOpenOptions = {}): OffCpuCollector {
    const bad = offCpuSettingsError(settings);
    if (bad) throw new OffCpuInputError(bad);
    if (target.kind === 'pid' && !existsSync(`/proc/${target.pid}`)) throw new OffCpuInputError(`no process with pid ${target.pid}`);
    if (target.kind === 'comm' && (target.comm.length === 0 || Buffer.byteLength(target.comm) > MAX_COMM_LEN)) {
      throw new OffCpuInputError(`command name must be 1 to ${MAX_COMM_LEN} bytes, got "${target.comm}"`);
    }
    const privileges = probeFeature('privileges');
    if (!privileges.available) throw new Error(`cannot profile off-CPU time: ${privileges.notSupported.reason}`);
    const rodata: OffCpuRodata = {
      targ_pid: target.kind === 'pid' ? target.pid : 0,
      filter_pid: target.kind === 'pid',
      targ_comm: target.kind === 'comm' ? target.comm : '',
      filter_comm: target.kind === 'comm',
      targ_state: STATE_CODE[settings.state],
      filter_state: settings.state !== 'all',
      min_block_ns: BigInt(settings.minBlockUs) * 1000n,
      max_block_ns: settings.maxBlockUs === null ? 0xffffffffffffffffn : BigInt(settings.maxBlockUs) * 1000n,
      key_by_tid: options.keyByTid ?? true,
      with_wakers: settings.wakers,
    };
    const objectPath = options.objectPath ?? OFFCPU_OBJECT_PATH;
    // BTF-typed tracepoints first (cheaper: no copy of the arguments), raw tracepoints otherwise.
    const failures: string[] = [];
    const flavours: ('btf' | 'raw')[] = options.forceRawTracepoint ? ['raw'] : probeFeature('btf').available ? ['btf', 'raw'] : ['raw'];
    for (const flavour of flavours) {
      try {
        const { object, links } = loadWith(objectPath, rodata, flavour, settings.wakers);
        return new OffCpuCollector(object, links, flavour === 'btf' ? 'tp_btf/sched_switch' : 'raw_tp/sched_switch', settings);
      } catch (error) {
        const detail = error instanceof BpfError ? `${errnoName(error.errno)}: ${error.message}` : (error as Error).message;
        failures.push(`${flavour === 'btf' ? 'tp_btf' : 'raw_tp'}/sched_switch: ${detail}`);
      }
    }
    ensureTracefs();
    throw new Error(`off-CPU profiling is not available on this kernel: ${failures.join('; ')}`);
  }

  /** Cumulative counters, summed over CPUs. */
  stats(): OffCpuStats {
    const values: number[] = [];
    const key = Buffer.alloc(4);
    for (let i = 0; i < OC_STAT_MAX; i++) {
      key.writeUInt32LE(i, 0);
      const value = this.#statsMap.lookup(key);
      values.push(value ? sumPerCpuU64(value) : 0);
    }
    return {
      switches: values[OC_STAT.SWITCHES],
      filtered: values[OC_STAT.FILTERED],
      startFull: values[OC_STAT.START_FULL],
      recorded: values[OC_STAT.RECORDED],
      blockFiltered: values[OC_STAT.BLOCK_FILTERED],
      countsFull: values[OC_STAT.COUNTS_FULL],
      userStacksLost: values[OC_STAT.USER_STACK_LOST],
      kernelStacksLost: values[OC_STAT.KERN_STACK_LOST],
      wakeups: values[OC_STAT.WAKEUPS],
      exited: values[OC_STAT.EXITED],
      overwritten: values[OC_STAT.OVERWRITTEN],
      inFlight: this.#starts.keys().length,
    };
  }

  /** What the kernel added since the previous read (or since open). Durations in µs. */
  read(nowMs: number = Date.now()): OffCpuRead {
    if (!this.#object) throw new Error('the off-CPU collector is closed');
    const entries = this.#counts.snapshot(1024);
    const stackCache = new Map<number, bigint[] | null>();
    const stackOf = (id: number): bigint[] | null => {
      let frames = stackCache.get(id);
      if (frames === undefined) {
        const key = Buffer.alloc(4);
        key.writeUInt32LE(id, 0);
        const value = this.#stacks.lookup(key);
        frames = value ? decodeStack(value) : null;
        stackCache.set(id, frames);
      }
      return frames;
    };
    const samples: RawStackSample[] = [];
    entries.keys.forEach((rawKey, i) => {
      const id = rawKey.toString('hex');
      const value = decodeOffCpuValue(entries.values[i]);
      const before = this.#previous.get(id) ?? { ns: 0n, count: 0 };
      if (value.blockedNs === before.ns && value.count === before.count) return;
      this.#previous.set(id, { ns: value.blockedNs, count: value.count });
      // µs from the cumulative ns, so sub-µs remainders are never lost between reads
      const us = Number(value.blockedNs / 1000n - before.ns / 1000n);
      const events = value.count - before.count;
      if (us <= 0 && events <= 0) return;
      const key = decodeOffCpuKey(rawKey);
      const user = resolveStack(key.userStackId, stackOf);
      const kernel = resolveStack(key.kernelStackId, stackOf);
      const sample: RawStackSample = {
        pid: key.pid,
        tid: key.tid,
        comm: key.comm,
        userStack: user.frames,
        kernelStack: kernel.frames,
        count: us,
        events,
        offCpu: true,
      };
      if (user.error) sample.userStackError = user.error;
      if (kernel.error) sample.kernelStackError = kernel.error;
      if (key.wakerUserStackId !== OC_STACK_NONE || key.wakerKernelStackId !== OC_STACK_NONE || key.wakerPid !== 0) {
        const wakerUser = resolveStack(key.wakerUserStackId, stackOf);
        const wakerKernel = resolveStack(key.wakerKernelStackId, stackOf);
        const waker: RawWaker = { pid: key.wakerPid, tid: key.wakerTid, comm: key.wakerComm, userStack: wakerUser.frames, kernelStack: wakerKernel.frames };
        if (wakerUser.error) waker.userStackError = wakerUser.error;
        if (wakerKernel.error) waker.kernelStackError = wakerKernel.error;
        sample.waker = waker;
      }
      samples.push(sample);
    });
    this.#trimGlue(samples);
    const stats = this.stats();
    const droppedTotal = stats.startFull + stats.countsFull + stats.overwritten;
    const read: OffCpuRead = { startMs: this.#lastReadMs, endMs: nowMs, samples, dropped: droppedTotal - this.#lastDropped, stats };
    this.#lastDropped = droppedTotal;
    this.#lastReadMs = nowMs;
    return read;
  }

  /**
   * A kernel stack taken inside a tracepoint program starts (leaf first) with the program itself
   * and the tracepoint's BPF glue (`bpf_trace_run4`, `__bpf_trace_sched_switch`): frames of
   * probeboard, not of the thread. Cuts each kernel stack (and waker's) after the last glue frame
   * among its first 6. Addresses are named once (one pass over /proc/kallsyms for new ones).
   */
  #trimGlue(samples: RawStackSample[]): void {
    const LEAF_FRAMES = 6;
    const stacks: bigint[][] = [];
    for (const s of samples) {
      stacks.push(s.kernelStack);
      if (s.waker) stacks.push(s.waker.kernelStack);
    }
    const unknown = new Set<bigint>();
    for (const stack of stacks) for (const ip of stack.slice(0, LEAF_FRAMES)) if (!this.#glue.has(ip)) unknown.add(ip);
    if (unknown.size > 0) {
      const addrs = [...unknown];
      let names: (string | undefined)[];
      try {
        names = resolveKernelAddresses(addrs);
      } catch {
        names = addrs.map(() => undefined); // kallsyms hidden: nothing to cut by name
      }
      addrs.forEach((ip, i) => this.#glue.set(ip, /^(bpf_trace_run\d+|__bpf_trace_\w+|__traceiter_\w+)$/.test(names[i] ?? '')));
    }
    const cut = (stack: bigint[]): bigint[] => {
      let last = -1;
      for (let i = 0; i < Math.min(stack.length, LEAF_FRAMES); i++) if (this.#glue.get(stack[i])) last = i;
      return last < 0 ? stack : stack.slice(last + 1);
    };
    for (const s of samples) {
      s.kernelStack = cut(s.kernelStack);
      if (s.waker) s.waker.kernelStack = cut(s.waker.kernelStack);
    }
  }

  /** Detaches the programs but keeps the maps readable (a final read, exact counters). Idempotent. */
  detach(): void {
    for (const link of this.#links) link.close();
    this.#links = [];
  }

  get closed(): boolean {
    return this.#object === null;
  }

  /** Detaches and unloads at once. Idempotent. */
  close(): void {
    const object = this.#object;
    this.#object = null;
    object?.close();
  }
}

/** Bad settings or target: the user's to fix (exit code 2 in the CLI). */
export class OffCpuInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OffCpuInputError';
  }
}

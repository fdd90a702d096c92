/**
 * CfiProfileCollector: the CPU profile of one process with its user stacks walked by the BPF CFI
 * walker (bpf/unwind.bpf.c, tables from server/unwind/tables.ts) instead of bpf_get_stackid's
 * frame pointers. Used by `probeboard profile --unwind cfi|auto` (server/cli/profile.ts).
 *
 * What it does: loads bpf/obj/unwind.bpf.o, loads the tables of every binary the process maps
 * (`UnwindTables.addProcess`, again every `refreshMs` so that libraries dlopen'd later get
 * tables too), attaches the walker to a cpu-clock perf event on every online CPU at `hz`, reads
 * the walker's ring buffer (one event per sample: tid, how the walk ended, return addresses), and
 * once per interval counts equal stacks, names them with the Symbolizer and hands over a
 * SymbolizedInterval (the shape the frame-pointer path produces, so every output format works)
 * with the interval's unwind outcome counts.
 *
 * Kernel frames: a sample taken in kernel mode carries the id of its kernel stack, recorded by
 * bpf_get_stackid into one of two stack trace maps (pb_unwind_kstacks0/1, the active one named
 * by pb_unwind_control). The stack is read when its event is (every 50 ms, cached per id), so
 * once per interval, after draining the ring, the map that was flipped away from an interval
 * ago — every event naming it is read by then — is cleared and becomes the active one. Kernel
 * frames go on top of the user frames and a lost kernel stack (-EEXIST collision, -EFAULT,
 * other) becomes the fp path's `[lost stack: …]` frame, both drawn by the aggregator as for fp.
 *
 * Limits (said in `probeboard profile --help` too): one process (--pid). A stack whose walk did not finish
 * (truncated, or failed: no table and no frame pointer, read fault, unsupported row, bad frame)
 * keeps the frames it got and is rooted at an `[unwind: REASON]` frame (kind 'x'), so cut stacks
 * are visible in the flame graph, never silently merged with whole ones.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BpfObject, type BpfLink, type BpfMap } from '../libbpf/object.ts';
import { PerfEvent, onlineCpus } from '../libbpf/perf-event.ts';
import { RingBuffer } from '../libbpf/ringbuf.ts';
import { probeFeature } from '../libbpf/features.ts';
import { libbpfFunction } from '../libbpf/ffi.ts';
import { PB_USTAT_MAX, decodeEvent, decodeStats, encodeControl, type EndReason, type UnwindStats } from '../abi/unwind.ts';
import { decodeStack, resolveStack } from '../abi/profile.ts';
import { UnwindTables, type ProcessReport, type TablesStats } from '../unwind/tables.ts';
import type { Symbolizer } from '../symbolizer/index.ts';
import type { Frame, StackErrorKind, SymbolizedInterval, SymbolizedSample } from '../symbolizer/types.ts';
import { validateProfileRequest } from './profile.ts';

/** Default location of the compiled walker. */
export const UNWIND_OBJECT_PATH = fileURLToPath(new URL('../../bpf/obj/unwind.bpf.o', import.meta.url));

/** uapi/linux/bpf.h: BPF_PROG_TYPE_PERF_EVENT and the bpf_loop helper's id (Linux 5.17+). */
const BPF_PROG_TYPE_PERF_EVENT = 7;
const BPF_FUNC_loop = 181;

let probeHelper: ((progType: number, helperId: number, opts: null) => number) | undefined;

/**
 * Whether this kernel can run the walker: BTF (CO-RE), BPF ring buffers (5.8+) and the bpf_loop
 * helper in perf_event programs (5.17+; both on Debian 12's 6.1). Returns null when it can, else
 * the reason in a few words. Cheap after the first call (probeFeature caches; the helper probe
 * loads one tiny program). Does not check privileges or perf events (the CLI's preflight does).
 */
export function cfiWalkerUnsupported(): string | null {
  for (const feature of ['btf', 'ringbuf'] as const) {
    const result = probeFeature(feature);
    if (!result.available) return result.notSupported.message;
  }
  try {
    probeHelper ??= libbpfFunction<[number, number, null], number>('int libbpf_probe_bpf_helper(int prog_type, int helper_id, const void *opts)');
    const answer = probeHelper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_loop, null);
    if (answer === 0) return 'the kernel has no bpf_loop helper for perf_event programs (Linux 5.17+)';
    if (answer < 0) return `probing the bpf_loop helper failed (error ${-answer})`;
  } catch (error) {
    return `probing the bpf_loop helper failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  return null;
}

/**
 * How the stacks of some samples came out (one interval's, or a run's). Every sample of the
 * target is in exactly one of: stacks (sent by the walker), lost, noRegs. Every stack is in
 * exactly one of cfi, fpFallback, truncated, noTable, readFault, unsupported, badFrame.
 */
export interface UnwindOutcome {
  /** Stacks received. */
  stacks: number;
  /** Walked to the outermost frame with table rows only. */
  cfi: number;
  /** Walked to the outermost frame, at least one step by frame pointers (code without CFI: JIT, vDSO, a binary whose table is missing). */
  fpFallback: number;
  /** 127 frames kept, more above. */
  truncated: number;
  /** Failed: a pc without a row and no frame pointer to follow. */
  noTable: number;
  /** Failed: reading the user stack faulted. */
  readFault: number;
  /** Failed: a row the walker cannot follow. */
  unsupported: number;
  /** Failed: the caller's frame was not above the callee's (garbage or a loop). */
  badFrame: number;
  /** Samples whose stack was not sent: the ring buffer was full. Also counted as dropped samples. */
  lost: number;
  /** Samples with no user registers (kernel-only moments of an exiting task): no walk. */
  noRegs: number;
}

export function emptyOutcome(): UnwindOutcome {
  return { stacks: 0, cfi: 0, fpFallback: 0, truncated: 0, noTable: 0, readFault: 0, unsupported: 0, badFrame: 0, lost: 0, noRegs: 0 };
}

export function addOutcome(into: UnwindOutcome, more: UnwindOutcome): void {
  for (const key of Object.keys(into) as (keyof UnwindOutcome)[]) into[key] += more[key];
}

/** One line: `N stacks: CFI a, frame-pointer fallback b, truncated c, failed d (no table …); lost e, no user registers f`. */
export function describeOutcome(o: UnwindOutcome): string {
  const failed = o.noTable + o.readFault + o.unsupported + o.badFrame;
  return `${o.stacks} stacks: CFI ${o.cfi}, frame-pointer fallback ${o.fpFallback}, truncated ${o.truncated}, ` +
    `failed ${failed} (no table ${o.noTable}, read fault ${o.readFault}, unsupported ${o.unsupported}, bad frame ${o.badFrame}); ` +
    `lost ${o.lost}, no user registers ${o.noRegs}`;
}

/** The root frame of a stack whose walk did not finish. */
const END_LABEL: Record<Exclude<EndReason, 'complete'>, string> = {
  truncated: '[unwind: truncated]',
  no_table: '[unwind: no table]',
  read_fault: '[unwind: read fault]',
  unsupported: '[unwind: unsupported]',
  bad_frame: '[unwind: bad frame]',
};

export interface CfiProfileOptions {
  pid: number;
  /** Samples per second per CPU. */
  hz: number;
  /** How often an interval is emitted, ms (default 1000). */
  intervalMs?: number;
  /** How often the process's mappings are re-read and new binaries get tables, ms (default 1000). */
  refreshMs?: number;
  /** Names the addresses (the CLI's, with deferred lookups). */
  symbolizer: Symbolizer;
  /** Every interval, with its outcome counts (the last one, shorter, on stop). */
  onInterval: (interval: SymbolizedInterval, outcome: UnwindOutcome) => void;
  /** Reading failed; the collector has stopped itself (everything released) by then. */
  onError?: (error: Error) => void;
  /** Compiled walker (default UNWIND_OBJECT_PATH). */
  objectPath?: string;
}

interface Pending {
  tid: number;
  end: EndReason;
  ips: bigint[];
  /** Kernel stack, leaf first; empty for a sample taken in user mode or a lost stack. */
  kernel: bigint[];
  kernelError?: StackErrorKind;
  count: number;
}

export class CfiProfileCollector {
  readonly #options: CfiProfileOptions;
  readonly #object: BpfObject;
  readonly #tables: UnwindTables;
  readonly #stats: BpfMap;
  readonly #kstacks: [BpfMap, BpfMap];
  readonly #control: BpfMap;
  /** The kernel stack map samples write to now. */
  #activeKstacks: 0 | 1 = 0;
  /** Kernel stacks read so far, per map, by id (null: the id was not in the map); emptied with the map. */
  readonly #kstackCache: [Map<number, bigint[] | null>, Map<number, bigint[] | null>] = [new Map(), new Map()];
  readonly #links: BpfLink[] = [];
  readonly #ring: RingBuffer;
  readonly #intervalTimer: NodeJS.Timeout;
  readonly #refreshTimer: NodeJS.Timeout;
  readonly #comms = new Map<number, string>();
  /** The first addProcess's report: which mappings got tables, and why others did not. */
  readonly firstReport: ProcessReport;
  readonly cpus: number;
  #stacks = new Map<string, Pending>();
  #outcome = emptyOutcome();
  #lastStats: UnwindStats | null = null;
  #intervalStartMs = Date.now();
  #stopped = false;
  /** Last error of a mappings refresh (the process exited, a map update failed), for the report. */
  refreshError: string | undefined;
  refreshes = 0;

  /**
   * Loads and attaches. Throws (with everything released) when the pid is not a live process,
   * the kernel cannot run the walker, or loading/attaching fails.
   */
  constructor(options: CfiProfileOptions) {
    this.#options = options;
    const intervalMs = options.intervalMs ?? 1000;
    validateProfileRequest(options.hz, { kind: 'pid', pid: options.pid }, intervalMs);
    const unsupported = cfiWalkerUnsupported();
    if (unsupported) throw new Error(`the kernel cannot run the CFI stack walker: ${unsupported}`);
    const object = (this.#object = BpfObject.open(options.objectPath ?? UNWIND_OBJECT_PATH));
    let ring: RingBuffer | null = null;
    try {
      object.load();
      this.#stats = object.map('pb_unwind_stats');
      this.#kstacks = [object.map('pb_unwind_kstacks0'), object.map('pb_unwind_kstacks1')];
      this.#control = object.map('pb_unwind_control');
      this.#tables = new UnwindTables({ rows: object.map('pb_unwind_rows'), tables: object.map('pb_unwind_tables'), procs: object.map('pb_unwind_procs') });
      this.firstReport = this.#tables.addProcess(options.pid);
      // Drained on each interval too; the timer keeps the ring from filling between them
      // (1 MiB holds ~1000 deep stacks; 999 Hz on many CPUs sends more per second).
      ring = new RingBuffer(object.map('pb_unwind_events'), (record) => this.#onRecord(record), {
        intervalMs: 50,
        onError: (error) => this.#fail(error),
      });
      const program = object.program('pb_unwind');
      const cpus = onlineCpus();
      for (const cpu of cpus) {
        const event = PerfEvent.openCpuClock(cpu, options.hz);
        try {
          this.#links.push(program.attachPerfEvent(event));
        } finally {
          event.close(); // no-op once the link owns it
        }
      }
      this.cpus = cpus.length;
    } catch (error) {
      ring?.close();
      object.close();
      throw error;
    }
    this.#ring = ring;
    this.#intervalStartMs = Date.now();
    this.#intervalTimer = setInterval(() => this.#guard(() => this.#emitInterval()), intervalMs);
    this.#refreshTimer = setInterval(() => this.#refresh(), options.refreshMs ?? 1000);
  }

  get tablesStats(): TablesStats {
    return this.#tables.stats;
  }

  /** Re-reads the mappings (tables for binaries mapped since, e.g. dlopen). A gone process stops the refreshes, not the sampling. */
  #refresh(): void {
    if (this.#stopped) return;
    try {
      this.#tables.addProcess(this.#options.pid);
      this.refreshes++;
    } catch (error) {
      const gone = (error as NodeJS.ErrnoException).code === 'ENOENT';
      this.refreshError = gone ? `pid ${this.#options.pid} exited` : (error instanceof Error ? error.message : String(error));
      if (gone) clearInterval(this.#refreshTimer);
    }
  }

  #onRecord(record: Buffer): void {
    const event = decodeEvent(record);
    const o = this.#outcome;
    o.stacks++;
    switch (event.end) {
      case 'complete':
        if (event.fpFrames > 0) o.fpFallback++;
        else o.cfi++;
        break;
      case 'truncated': o.truncated++; break;
      case 'no_table': o.noTable++; break;
      case 'read_fault': o.readFault++; break;
      case 'unsupported': o.unsupported++; break;
      case 'bad_frame': o.badFrame++; break;
    }
    // Read now: the map it is in is cleared only after every event naming it was read.
    const kernel = resolveStack(event.kernelStackId, (id) => this.#kernelStack(event.kernelBuffer, id));
    const key = `${event.tid} ${event.end} ${event.ips.join(',')} k${kernel.error ?? kernel.frames.join(',')}`;
    const known = this.#stacks.get(key);
    if (known) known.count++;
    else {
      const pending: Pending = { tid: event.tid, end: event.end, ips: event.ips, kernel: kernel.frames, count: 1 };
      if (kernel.error) pending.kernelError = kernel.error;
      this.#stacks.set(key, pending);
    }
  }

  /** Kernel stack `id` of map `buffer`, leaf first (null: not there), read once per id until the map is cleared. */
  #kernelStack(buffer: 0 | 1, id: number): bigint[] | null {
    const cache = this.#kstackCache[buffer];
    let frames = cache.get(id);
    if (frames === undefined) {
      const key = Buffer.alloc(4);
      key.writeUInt32LE(id, 0);
      const value = this.#kstacks[buffer].lookup(key);
      frames = value ? decodeStack(value) : null;
      cache.set(id, frames);
    }
    return frames;
  }

  /**
   * Clears the kernel stack map not in use and makes it the active one. Called right after the
   * ring is drained: the map was flipped away from one interval ago (a program that read the
   * old control value finished microseconds after the flip), so each event naming it is read.
   */
  #rotateKernelStacks(): void {
    const next: 0 | 1 = this.#activeKstacks === 0 ? 1 : 0;
    const map = this.#kstacks[next];
    for (const key of map.keys()) map.delete(key);
    this.#kstackCache[next].clear();
    this.#control.update(Buffer.alloc(4), encodeControl(next));
    this.#activeKstacks = next;
  }

  #readStats(): UnwindStats {
    const values: Buffer[] = [];
    const key = Buffer.alloc(4);
    for (let i = 0; i < PB_USTAT_MAX; i++) {
      key.writeUInt32LE(i, 0);
      values.push(this.#stats.lookup(key) ?? Buffer.alloc(8));
    }
    return decodeStats(values);
  }

  /** The thread's name as the kernel has it (/proc, 15 bytes at most); the process's if the thread is gone. */
  #comm(tid: number): string {
    let comm = this.#comms.get(tid);
    if (comm === undefined) {
      const pid = this.#options.pid;
      for (const path of [`/proc/${pid}/task/${tid}/comm`, `/proc/${pid}/comm`]) {
        try {
          comm = readFileSync(path, 'utf8').replace(/\n$/, '');
          break;
        } catch {
          // next
        }
      }
      comm ??= `pid-${pid}`;
      this.#comms.set(tid, comm);
    }
    return comm;
  }

  /** Drains the ring, reads the counters, names the interval's stacks and hands them over. */
  #emitInterval(): void {
    this.#ring.consume();
    if (!this.#stopped) this.#rotateKernelStacks();
    const stats = this.#readStats();
    const last = this.#lastStats;
    this.#lastStats = stats;
    const outcome = this.#outcome;
    this.#outcome = emptyOutcome();
    outcome.lost = stats.eventsLost - (last?.eventsLost ?? 0);
    outcome.noRegs = stats.noRegs - (last?.noRegs ?? 0);
    const stacks = [...this.#stacks.values()];
    this.#stacks = new Map();
    const startMs = this.#intervalStartMs;
    const endMs = (this.#intervalStartMs = Date.now());
    const { symbolizer, pid } = this.#options;
    const unknownBefore = symbolizer.unknownFrames;
    const samples = symbolizer.batch(() => stacks.map((s): SymbolizedSample => {
      const comm = this.#comm(s.tid);
      const user: Frame[] = symbolizer.symbolizeUser(pid, comm, s.ips).reverse();
      if (s.end !== 'complete') user.unshift({ name: END_LABEL[s.end], kind: 'x' });
      // Root first, as the fp path gives them (server/collectors/local.ts); the aggregator puts
      // them above the user frames, or a [lost stack: …] frame for kernelStackError.
      const sample: SymbolizedSample = { pid, tid: s.tid, comm, user, kernel: symbolizer.symbolizeKernel(s.kernel).reverse(), count: s.count };
      if (s.kernelError) sample.kernelStackError = s.kernelError;
      return sample;
    }));
    const interval: SymbolizedInterval = { startMs, endMs, samples, droppedSamples: outcome.lost, unknownFrames: symbolizer.unknownFrames - unknownBefore };
    try {
      this.#options.onInterval(interval, outcome);
    } catch (error) {
      process.emitWarning(`unwind interval listener threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #guard(work: () => void): void {
    if (this.#stopped) return;
    try {
      work();
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #fail(error: Error): void {
    if (this.#stopped) return;
    this.#release();
    error.message = `reading CFI-walked samples failed: ${error.message}`;
    this.#options.onError?.(error);
  }

  /**
   * Detaches every perf event first (no sample after the last read), emits the last interval,
   * then closes the ring buffer and the object (maps, fds). Idempotent; never throws.
   */
  stop(): void {
    if (this.#stopped) return;
    for (const link of this.#links) {
      try {
        link.close();
      } catch {
        // the object's close destroys what is left
      }
    }
    try {
      this.#emitInterval();
    } catch {
      // best effort: stopping must not fail
    }
    this.#release();
  }

  #release(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#intervalTimer);
    clearInterval(this.#refreshTimer);
    this.#ring.close();
    this.#object.close();
  }
}
